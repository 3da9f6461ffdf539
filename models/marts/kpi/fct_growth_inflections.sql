-- Where the growth curves bend: one row per KPI series and inflection, with the slopes
-- around it, how sure the fit is, and what started shortly before (interventions and
-- experiments within the context window of the growth_inflections asset).
with

inflections as (
    select * from {{ ref('stg_kpi__growth_inflections') }}
),

final as (
    select
        series_name,
        inflection_date,
        inflection_date_low,
        inflection_date_high,
        direction,
        slope_before,
        slope_after,
        slope_change,
        slope_after / nullif(slope_before, 0) as slope_ratio,
        p_value,
        1 - p_value as confidence,
        rss_reduction_share,
        criterion_gain,
        intervention_ids,
        count_interventions,
        experiment_ids,
        count_experiments,
    from inflections
)

select * from final
