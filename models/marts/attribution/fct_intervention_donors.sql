-- The donor candidates of each intervention: the target's var('attribution_lookalike_depth')
-- most similar groups of its kind at the last snapshot before the start (the
-- community_lookalikes macro, as fct_community_lookalikes computes it for the latest
-- snapshot), and why a candidate cannot be a donor: the partner a cross_group_connection
-- connects the target with, targeted (or connected to, as a connection's partner) by
-- another intervention whose period overlaps this one's window, in another arm of a group or community
-- experiment running in the window, sharing members with the target, or contaminated by
-- interaction ties to the target (more than var('attribution_max_tie_share') of its
-- members' pre-period interaction weight goes to the target's members). The attribution
-- step matches the eligible ones on pre-period trend and size.
with

windows as (
    select * from {{ ref('int_intervention_windows_dated') }}
),

health as (
    select * from {{ ref('fct_community_health') }}
),

topics as (
    select * from {{ ref('fct_community_topics') }}
),

members as (
    select * from {{ ref('int_intervention_group_members_daily') }}
),

edges as (
    select * from {{ ref('int_user_edges_weekly') }}
),

group_arms as (
    select * from {{ ref('int_intervention_experiment_arms_listed') }}
),

experiment_arms as (
    -- Each group's arms in the experiments assigned by the end of a window
    -- ('exp001=treatment', sorted by experiment).
    select
        windows.intervention_id,
        group_arms.group_kind,
        group_arms.community_id,
        string_agg(
            group_arms.experiment_id || '=' || group_arms.variant, ',' order by group_arms.experiment_id
        ) as experiment_arms,
    from windows
    inner join group_arms on windows.post_end_date >= group_arms.assigned_date
    group by all
),

focal_groups as (
    select distinct
        snapshot_date,
        group_kind,
        community_id,
    from windows
    where snapshot_date is not null
),

-- Every other group ranked (the focal groups are a few targets, so this is cheap); the
-- candidates keep the first of the target's kind.
{{ community_lookalikes('health', 'topics', 'focal_groups', 1000000000) }},

candidates as (
    select
        windows.intervention_id,
        windows.snapshot_date,
        lookalikes.lookalike_group_kind as group_kind,
        lookalikes.lookalike_community_id as community_id,
        lookalikes.similarity,
        -- Ranked again among the target's kind (lookalike_rank counts both kinds).
        row_number() over (
            partition by windows.intervention_id order by lookalikes.lookalike_rank
        ) as candidate_rank,
    from windows
    inner join lookalikes
        on
            windows.snapshot_date = lookalikes.snapshot_date
            and windows.group_kind = lookalikes.group_kind
            and windows.community_id = lookalikes.community_id
    -- Donors are of the target's kind: a detected community overlapping a declared
    -- group is its members again.
    where lookalikes.lookalike_group_kind = windows.group_kind
    qualify candidate_rank <= {{ var('attribution_lookalike_depth') }}
),

other_interventions as (
    select
        candidates.intervention_id,
        candidates.community_id,
        string_agg(other.intervention_id, ',' order by other.intervention_id) as other_intervention_ids,
    from candidates
    inner join windows as this on candidates.intervention_id = this.intervention_id
    inner join windows as other
        on
            candidates.group_kind = other.group_kind
            and (
                candidates.community_id = other.community_id
                or candidates.community_id = other.related_community_id
            )
            and this.intervention_id != other.intervention_id
            and this.post_end_date >= other.started_date
            and this.pre_start_date <= other.post_end_date
    group by all
),

start_members as (
    -- Members on the last pre-period day, of targets and candidates.
    select
        windows.intervention_id,
        members.group_kind,
        members.community_id,
        members.user_id,
    from windows
    inner join members on windows.pre_end_date = members.activity_date
),

target_members as (
    select start_members.*
    from start_members
    inner join windows
        on
            start_members.intervention_id = windows.intervention_id
            and start_members.group_kind = windows.group_kind
            and start_members.community_id = windows.community_id
),

pre_edges as (
    select
        windows.intervention_id,
        edges.user_id_a,
        edges.user_id_b,
        sum(edges.interaction_weight) as weight,
    from windows
    inner join edges
        on edges.week_start_date between windows.pre_start_date - 6 and windows.pre_end_date
    group by all
),

directed_edges as (
    select
        intervention_id,
        user_id_a as user_id,
        user_id_b as partner_id,
        weight,
    from pre_edges
    union all
    select
        intervention_id,
        user_id_b as user_id,
        user_id_a as partner_id,
        weight,
    from pre_edges
),

candidate_members as (
    select
        candidates.intervention_id,
        candidates.group_kind,
        candidates.community_id,
        start_members.user_id,
        target_members.user_id is not null as is_target_member,
    from candidates
    inner join start_members
        on
            candidates.intervention_id = start_members.intervention_id
            and candidates.group_kind = start_members.group_kind
            and candidates.community_id = start_members.community_id
    left join target_members
        on
            start_members.intervention_id = target_members.intervention_id
            and start_members.user_id = target_members.user_id
),

member_ties as (
    select
        candidate_members.intervention_id,
        candidate_members.group_kind,
        candidate_members.community_id,
        count(distinct candidate_members.user_id) as count_members_at_start,
        count(distinct candidate_members.user_id) filter (
            where candidate_members.is_target_member
        ) as count_shared_members,
        coalesce(sum(directed_edges.weight), 0) as tie_weight,
        coalesce(sum(directed_edges.weight) filter (where target_members.user_id is not null), 0)
            as tie_weight_to_target,
    from candidate_members
    left join directed_edges
        on
            candidate_members.intervention_id = directed_edges.intervention_id
            and candidate_members.user_id = directed_edges.user_id
    left join target_members
        on
            directed_edges.intervention_id = target_members.intervention_id
            and directed_edges.partner_id = target_members.user_id
    group by all
),

judged as (
    select
        candidates.intervention_id,
        candidates.snapshot_date,
        candidates.candidate_rank as lookalike_rank,
        candidates.group_kind,
        candidates.community_id,
        candidates.similarity,
        coalesce(member_ties.count_members_at_start, 0) as count_members_at_start,
        coalesce(member_ties.count_shared_members, 0) as count_shared_members,
        coalesce(member_ties.tie_weight_to_target / nullif(member_ties.tie_weight, 0), 0)
            as tie_share_to_target,
        other_interventions.other_intervention_ids,
        candidate_arms.experiment_arms,
        target_arms.experiment_arms as target_experiment_arms,
        candidates.community_id = windows.related_community_id as is_connected_to_target,
    from candidates
    left join member_ties
        on
            candidates.intervention_id = member_ties.intervention_id
            and candidates.group_kind = member_ties.group_kind
            and candidates.community_id = member_ties.community_id
    left join other_interventions
        on
            candidates.intervention_id = other_interventions.intervention_id
            and candidates.community_id = other_interventions.community_id
    left join windows on candidates.intervention_id = windows.intervention_id
    left join experiment_arms as candidate_arms
        on
            candidates.intervention_id = candidate_arms.intervention_id
            and candidates.group_kind = candidate_arms.group_kind
            and candidates.community_id = candidate_arms.community_id
    left join experiment_arms as target_arms
        on
            windows.intervention_id = target_arms.intervention_id
            and windows.group_kind = target_arms.group_kind
            and windows.community_id = target_arms.community_id
),

final as (
    select
        intervention_id,
        snapshot_date,
        lookalike_rank,
        group_kind,
        community_id,
        similarity,
        count_members_at_start,
        count_shared_members,
        round(tie_share_to_target, 6) as tie_share_to_target,
        other_intervention_ids,
        experiment_arms,
        case
            when count_members_at_start = 0 then 'no_members'
            when is_connected_to_target then 'connected_to_target'
            when other_intervention_ids is not null then 'treated_by_other_intervention'
            when coalesce(experiment_arms, '') != coalesce(target_experiment_arms, '')
                then 'different_experiment_arm'
            when count_shared_members > 0 then 'shares_members'
            when tie_share_to_target > {{ var('attribution_max_tie_share') }} then 'tied_to_target'
        end as exclusion_reason,
        exclusion_reason is null as is_eligible,
    from judged
)

select * from final
