with

spillover as (
    select * from {{ ref('stg_experiments__spillover') }}
),

final as (
    select
        experiment_id,
        metric_name,
        exposure_kind,
        exposure_level,
        exposure_low,
        exposure_high,
        units,
        mean_exposure,
        mean_outcome,
        share_units_exposed,
        spillover_baseline,
        spillover_slope,
        spillover_estimate,
        ci_low,
        ci_high,
        p_value,
        p_value_adjusted,
        spillover_share,
        lift_relative,
        has_spillover,
        is_material,
    from spillover
)

select * from final
