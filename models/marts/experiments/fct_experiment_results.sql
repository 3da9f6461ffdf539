with

results as (
    select * from {{ ref('stg_experiments__results') }}
),

final as (
    select
        experiment_id,
        metric_name,
        is_primary,
        variant,
        analysis_unit,
        adjustment,
        units,
        mean_control,
        mean_variant,
        lift_absolute,
        lift_relative,
        lift_relative_ci_low,
        lift_relative_ci_high,
        p_value,
        p_value_adjusted,
        variance_reduction,
    from results
)

select * from final
