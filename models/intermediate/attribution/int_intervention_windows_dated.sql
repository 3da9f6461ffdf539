-- Each accepted intervention with the days its attribution compares: the pre-period
-- (var('attribution_pre_days') days before the start day), the post-period (the day
-- after the start to the day before the end, or the last day with data while it is
-- open; the start day itself is partly treated and left out), and the community
-- snapshot its donors are picked at (the last one before the start day).
with

interventions as (
    select * from {{ ref('stg_product__interventions') }}
),

days as (
    select * from {{ ref('int_kpi_days') }}
),

snapshot_runs as (
    select * from {{ ref('stg_communities__snapshot_runs') }}
),

bounds as (
    select
        min(kpi_date) as first_date,
        max(kpi_date) as last_date,
    from days
),

dated as (
    select
        interventions.intervention_id,
        interventions.target_type,
        interventions.target_id,
        interventions.intervention_type,
        interventions.started_at,
        interventions.ended_at,
        case interventions.target_type when 'group' then 'declared' else 'detected' end as group_kind,
        case interventions.target_type
            when 'group' then 'group:' || interventions.target_id
            else interventions.target_id
        end as community_id,
        -- A connection's partner, named as community_id is: treated by the same
        -- intervention, so never a donor of its target.
        case interventions.target_type
            when 'group' then 'group:' || interventions.related_target_id
            else interventions.related_target_id
        end as related_community_id,
        cast(interventions.started_at as date) as started_date,
        greatest(
            cast(interventions.started_at as date) - {{ var('attribution_pre_days') }},
            bounds.first_date
        ) as pre_start_date,
        cast(interventions.started_at as date) - 1 as pre_end_date,
        cast(interventions.started_at as date) + 1 as post_start_date,
        least(
            coalesce(cast(interventions.ended_at as date) - 1, bounds.last_date), bounds.last_date
        ) as post_end_date,
    from interventions
    cross join bounds
),

final as (
    select
        dated.*,
        (
            select max(snapshot_runs.snapshot_date)
            from snapshot_runs
            where snapshot_runs.snapshot_date < dated.started_date
        ) as snapshot_date,
    from dated
)

select * from final
