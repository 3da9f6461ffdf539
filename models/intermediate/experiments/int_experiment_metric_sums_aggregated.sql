-- Sufficient statistics per (experiment, metric, variant): what the readout's
-- statistics need (orchestration/lib/experiments/stats.py), computed here so Python
-- reads a few rows per arm, never the units. A user metric is a ratio with
-- denominator 1 per unit, so d_sum = units.
with

measured as (
    select * from {{ ref('int_experiment_user_metrics_measured') }}
),

final as (
    select
        experiment_id,
        metric_name,
        variant,
        count(*) as units,
        sum(metric_value) as m_sum,
        sum(metric_value * metric_value) as m_sum_squares,
        cast(count(*) as double) as d_sum,
        cast(count(*) as double) as d_sum_squares,
        sum(metric_value) as m_d_sum_products,
        sum(pre_period_value) as pre_sum,
        sum(pre_period_value * pre_period_value) as pre_sum_squares,
        sum(metric_value * pre_period_value) as post_pre_sum_products,
    from measured
    group by experiment_id, metric_name, variant
)

select * from final
