-- One row per (catalog metric, unit type): the sufficient statistics of the design help
-- over int_experiment_power_units_measured (the window and units are described there):
-- units, members, sums of the member outcomes and their squares, of the clusters' squared
-- totals (per member and plain), and of the pre-period totals and their products. A
-- metric and unit type without units gets zero counts.
with

units as (
    select * from {{ ref('int_experiment_power_units_measured') }}
),

final as (
    select
        metric_name,
        unit_type,
        any_value(window_start_at) as window_start_at,
        any_value(window_end_at) as window_end_at,
        count(unit_id) as count_units,
        coalesce(sum(members), 0) as sum_members,
        coalesce(sum(members * members), 0) as sum_members_squared,
        coalesce(sum(cluster_value), 0) as sum_values,
        coalesce(sum(cluster_value_squares), 0) as sum_member_value_squares,
        coalesce(sum(cluster_value * cluster_value / members), 0)
            as sum_cluster_value_squares_per_member,
        coalesce(sum(cluster_value * cluster_value), 0) as sum_cluster_value_squares,
        coalesce(sum(cluster_value * members), 0) as sum_cluster_value_members,
        sum(cluster_pre_period_value) as sum_pre_period_values,
        sum(cluster_pre_period_value * cluster_pre_period_value) as sum_pre_period_value_squares,
        sum(cluster_pre_period_value * members) as sum_pre_period_value_members,
        sum(cluster_value * cluster_pre_period_value) as sum_value_pre_period_products,
    from units
    group by metric_name, unit_type
)

select * from final
