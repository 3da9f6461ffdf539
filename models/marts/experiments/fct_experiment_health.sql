with

experiments as (
    select * from {{ ref('stg_product__experiments') }}
),

assignments as (
    select * from {{ ref('stg_product__experiment_assignments') }}
),

health as (
    select * from {{ ref('stg_experiments__health') }}
),

spillover as (
    select * from {{ ref('stg_experiments__spillover_summary') }}
),

problems as (
    select * from {{ ref('int_experiment_problems_unioned') }}
),

community_events as (
    select * from {{ ref('stg_communities__events') }}
    where event_type in ('split', 'merged')
),

problem_counts as (
    select
        experiment_id,
        count(*) as count_problems,
    from problems
    group by experiment_id
),

-- An assigned community that split or merged (as the community or as the related one)
-- at a snapshot after its assignment day and not after the experiment's end no longer
-- is the cluster that was randomized.
changed_units as (
    select distinct
        assignments.experiment_id,
        assignments.unit_id,
    from assignments
    inner join experiments
        on assignments.experiment_id = experiments.experiment_id
    inner join community_events
        on
            (
                assignments.unit_id = community_events.community_id
                or assignments.unit_id = community_events.related_community_id
            )
            and cast(assignments.assigned_at as date) < community_events.snapshot_date
            and (
                experiments.ended_at is null
                or cast(experiments.ended_at as date) >= community_events.snapshot_date
            )
    where experiments.unit_type = 'community'
),

change_counts as (
    select
        experiment_id,
        count(*) as count_units_split_or_merged,
    from changed_units
    group by experiment_id
),

final as (
    select
        experiments.experiment_id,
        health.units_per_variant,
        health.srm_p_value,
        coalesce(health.has_srm, false) as has_srm,
        health.member_srm_p_value,
        health.has_member_srm,
        coalesce(problem_counts.count_problems, 0) as count_problems,
        health.members_per_variant,
        case
            when experiments.unit_type = 'community'
                then coalesce(change_counts.count_units_split_or_merged, 0)
        end as count_units_split_or_merged,
        case
            when experiments.unit_type = 'community'
                then coalesce(change_counts.count_units_split_or_merged, 0) > 0
        end as has_unit_split_or_merge,
        -- Interference (user experiments; null for cluster experiments).
        spillover.spillover_metric_name,
        spillover.spillover_exposure_kind,
        spillover.spillover_share,
        spillover.spillover_p_value,
        spillover.has_spillover,
        spillover.recommend_randomize_by_community,
        -- What the experiment is and when it ran (the dashboard marks it on the curves).
        experiments.name as experiment_name,
        experiments.unit_type,
        experiments.started_at,
        experiments.ended_at,
    from experiments
    left join health
        on experiments.experiment_id = health.experiment_id
    left join problem_counts
        on experiments.experiment_id = problem_counts.experiment_id
    left join change_counts
        on experiments.experiment_id = change_counts.experiment_id
    left join spillover
        on experiments.experiment_id = spillover.experiment_id
)

select * from final
