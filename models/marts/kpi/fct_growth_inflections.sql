-- Where the growth curves bend: one row per KPI series and inflection, with the slopes
-- around it, how sure the fit is, and what started shortly before (interventions and
-- experiments within the context window of the growth_inflections asset), with each
-- listed intervention's attributed contribution to DAU and posts per day
-- (fct_intervention_attribution's estimate over its own post-period).
with

inflections as (
    select * from {{ ref('stg_kpi__growth_inflections') }}
),

attribution as (
    select * from {{ ref('stg_attribution__intervention_attribution') }}
),

listed as (
    select
        inflections.series_name,
        inflections.inflection_date,
        trim(listed_ids.intervention_id) as intervention_id,
    from inflections
    cross join unnest(string_split(inflections.intervention_ids, ',')) as listed_ids (intervention_id)
    where inflections.intervention_ids is not null and inflections.intervention_ids != ''
),

contributions as (
    select
        listed.series_name,
        listed.inflection_date,
        string_agg(
            listed.intervention_id || ': '
            || case
                when attribution.status = 'estimated'
                    then printf(
                        '%+.1f DAU [%+.1f, %+.1f], %+.1f posts/day [%+.1f, %+.1f]',
                        attribution.contribution_dau,
                        attribution.contribution_dau_ci_low,
                        attribution.contribution_dau_ci_high,
                        attribution.contribution_posts_per_day,
                        attribution.contribution_posts_ci_low,
                        attribution.contribution_posts_ci_high
                    )
                else coalesce(attribution.status, 'not attributed')
            end,
            '; ' order by listed.intervention_id
        ) as intervention_contributions,
        sum(attribution.contribution_dau) as contribution_dau,
        sum(attribution.contribution_posts_per_day) as contribution_posts_per_day,
        count(*) filter (where attribution.status = 'estimated') as count_interventions_attributed,
    from listed
    left join attribution on listed.intervention_id = attribution.intervention_id
    group by all
),

final as (
    select
        inflections.series_name,
        inflections.inflection_date,
        inflections.inflection_date_low,
        inflections.inflection_date_high,
        inflections.direction,
        inflections.slope_before,
        inflections.slope_after,
        inflections.slope_change,
        inflections.slope_after / nullif(inflections.slope_before, 0) as slope_ratio,
        inflections.p_value,
        1 - inflections.p_value as confidence,
        inflections.rss_reduction_share,
        inflections.criterion_gain,
        inflections.intervention_ids,
        inflections.count_interventions,
        inflections.experiment_ids,
        inflections.count_experiments,
        contributions.intervention_contributions,
        coalesce(contributions.count_interventions_attributed, 0) as count_interventions_attributed,
        contributions.contribution_dau,
        contributions.contribution_posts_per_day,
    from inflections
    left join contributions
        on
            inflections.series_name = contributions.series_name
            and inflections.inflection_date = contributions.inflection_date
)

select * from final
