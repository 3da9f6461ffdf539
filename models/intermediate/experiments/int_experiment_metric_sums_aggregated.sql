-- Sufficient statistics per (experiment, metric, variant): what the readout's
-- statistics need (orchestration/lib/experiments/stats.py), computed here so Python
-- reads a few rows per arm, never the units. Every metric is a ratio over units: a
-- user metric has denominator 1 per unit (d_sum = units), a cluster metric (group or
-- community unit) the cluster's member-days or members, and its pre-period value is a
-- ratio too (pre_sum / pre_d_sum), hence the cross products of the four per-unit values
-- that the ratio CUPED needs. members counts the members of an arm's clusters and
-- members_sum_squares sums their squares (the member-level SRM's design effect); for a
-- user experiment both are the units.
with

user_measured as (
    select * from {{ ref('int_experiment_user_metrics_measured') }}
),

cluster_measured as (
    select * from {{ ref('int_experiment_cluster_metrics_measured') }}
),

measured as (
    select
        experiment_id,
        metric_name,
        variant,
        1 as members,
        metric_value as metric_numerator,
        1.0 as metric_denominator,
        pre_period_value as pre_period_numerator,
        1.0 as pre_period_denominator,
    from user_measured
    union all
    select
        experiment_id,
        metric_name,
        variant,
        members,
        metric_numerator,
        metric_denominator,
        pre_period_numerator,
        pre_period_denominator,
    from cluster_measured
),

final as (
    select
        experiment_id,
        metric_name,
        variant,
        count(*) as units,
        sum(members) as members,
        sum(members * members) as members_sum_squares,
        sum(metric_numerator) as m_sum,
        sum(metric_numerator * metric_numerator) as m_sum_squares,
        sum(metric_denominator) as d_sum,
        sum(metric_denominator * metric_denominator) as d_sum_squares,
        sum(metric_numerator * metric_denominator) as m_d_sum_products,
        sum(pre_period_numerator) as pre_sum,
        sum(pre_period_numerator * pre_period_numerator) as pre_sum_squares,
        sum(metric_numerator * pre_period_numerator) as post_pre_sum_products,
        sum(pre_period_denominator) filter (
            where pre_period_numerator is not null
        ) as pre_d_sum,
        sum(pre_period_denominator * pre_period_denominator) filter (
            where pre_period_numerator is not null
        ) as pre_d_sum_squares,
        sum(pre_period_numerator * pre_period_denominator) as pre_m_pre_d_sum_products,
        sum(metric_numerator * pre_period_denominator) filter (
            where pre_period_numerator is not null
        ) as m_pre_d_sum_products,
        sum(metric_denominator * pre_period_numerator) as d_pre_sum_products,
        sum(metric_denominator * pre_period_denominator) filter (
            where pre_period_numerator is not null
        ) as d_pre_d_sum_products,
    from measured
    group by experiment_id, metric_name, variant
)

select * from final
