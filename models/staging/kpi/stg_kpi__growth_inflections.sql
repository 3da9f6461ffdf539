with

source as (
    select * from {{ source('kpi', 'growth_inflections') }}
),

final as (
    select
        series_name,
        cast(inflection_date as date) as inflection_date,
        slope_before,
        slope_after,
        slope_change,
        direction,
        p_value,
        cast(date_low as date) as inflection_date_low,
        cast(date_high as date) as inflection_date_high,
        rss_reduction_share,
        criterion_gain,
        nullif(intervention_ids, '') as intervention_ids,
        n_interventions as count_interventions,
        nullif(experiment_ids, '') as experiment_ids,
        n_experiments as count_experiments
    from source
)

select * from final
