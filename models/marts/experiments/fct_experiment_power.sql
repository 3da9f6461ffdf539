with

power as (
    select * from {{ ref('stg_experiments__power') }}
),

final as (
    select
        metric_name,
        unit_type,
        window_start_at,
        window_end_at,
        count_units,
        count_members,
        avg_members_per_unit,
        cluster_size_cv,
        icc,
        design_effect,
        metric_mean,
        metric_stddev,
        pre_post_correlation,
        alpha,
        power,
        traffic_split,
        count_units_control,
        count_units_variant,
        mde_standardized,
        mde_relative,
        mde_relative_cuped,
    from power
)

select * from final
