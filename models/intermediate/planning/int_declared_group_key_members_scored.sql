-- Members of every declared group at the latest snapshot, scored as key-member
-- candidates the way fct_community_members scores detected communities' members: the
-- key_member_score_components seed's weights on the member's percentiles within the
-- group of in-group tie weight (in place of in-community PageRank, which only detected
-- communities have), messages and accepted invites over the detection window (the
-- var('community_window_days') / 7 weeks ending with the snapshot's week), with the
-- member's declared role (owner, admin or member) at the snapshot.
-- rpt_high_potential_key_members lists the owners and admins of the ranked groups.
{{ require_var_value('community_window_days', 28, 'count_messages_4_weeks, count_invites_accepted_4_weeks') }}
with

group_members as (
    select * from {{ ref('int_group_members_weekly') }}
    where group_kind = 'declared'
),

group_memberships as (
    select * from {{ ref('stg_product__group_memberships') }}
),

edges as (
    select * from {{ ref('int_user_edges_weekly') }}
),

user_weeks as (
    select * from {{ ref('int_user_activity_weekly') }}
),

score_components as (
    select * from {{ ref('key_member_score_components') }}
),

weights as (
    select
        max(weight) filter (where component = 'pagerank') as centrality_weight,
        max(weight) filter (where component = 'messages') as messages_weight,
        max(weight) filter (where component = 'invites_accepted') as invites_accepted_weight,
    from score_components
),

latest as (
    select
        max(snapshot_date) as snapshot_date,
        cast(date_trunc('week', max(snapshot_date)) as date) as last_week_start_date,
    from group_members
),

roster as (
    select
        group_members.snapshot_date,
        group_members.community_id,
        group_members.user_id,
        latest.last_week_start_date,
    from group_members
    inner join latest on group_members.snapshot_date = latest.snapshot_date
),

window_edges as (
    -- Both directions of every tie over the window weeks.
    select
        edges.user_id_a as user_id,
        edges.user_id_b as other_user_id,
        edges.interaction_weight,
    from edges
    cross join latest
    where
        edges.week_start_date
        between latest.last_week_start_date - 7 * ({{ community_window_weeks() }} - 1)
        and latest.last_week_start_date
    union all
    select
        edges.user_id_b as user_id,
        edges.user_id_a as other_user_id,
        edges.interaction_weight,
    from edges
    cross join latest
    where
        edges.week_start_date
        between latest.last_week_start_date - 7 * ({{ community_window_weeks() }} - 1)
        and latest.last_week_start_date
),

ties as (
    select
        roster.community_id,
        roster.user_id,
        sum(window_edges.interaction_weight) as weighted_degree,
        coalesce(sum(window_edges.interaction_weight) filter (
            where inside.user_id is not null
        ), 0) as weight_inside,
        count(distinct window_edges.other_user_id) filter (
            where inside.user_id is not null
        ) as count_neighbours_inside,
    from roster
    inner join window_edges on roster.user_id = window_edges.user_id
    left join roster as inside
        on
            roster.community_id = inside.community_id
            and window_edges.other_user_id = inside.user_id
    group by all
),

window_activity as (
    select
        roster.community_id,
        roster.user_id,
        cast(coalesce(sum(user_weeks.count_messages), 0) as bigint) as count_messages_4_weeks,
        cast(coalesce(sum(user_weeks.count_sent_invites_accepted), 0) as bigint)
            as count_invites_accepted_4_weeks,
    from roster
    left join user_weeks
        on
            roster.user_id = user_weeks.user_id
            and user_weeks.week_start_date
            between roster.last_week_start_date - 7 * ({{ community_window_weeks() }} - 1)
            and roster.last_week_start_date
    group by all
),

roles as (
    -- The member's highest declared role (owner, then admin) among its memberships open
    -- at the snapshot (int_group_members_weekly's rule).
    select
        roster.community_id,
        roster.user_id,
        case
            when bool_or(group_memberships.role = 'owner') then 'owner'
            when bool_or(group_memberships.role = 'admin') then 'admin'
            else 'member'
        end as member_role,
    from roster
    inner join group_memberships
        on
            roster.community_id = 'group:' || group_memberships.group_id
            and roster.user_id = group_memberships.user_id
            and cast(group_memberships.joined_at as date) <= roster.snapshot_date
            and (
                group_memberships.left_at is null
                or cast(group_memberships.left_at as date) > roster.snapshot_date
            )
    group by all
),

scored as (
    select
        roster.snapshot_date,
        roster.community_id,
        roster.user_id,
        coalesce(roles.member_role, 'member') as member_role,
        coalesce(ties.weight_inside, 0) as weight_inside,
        coalesce(ties.count_neighbours_inside, 0) as count_neighbours_inside,
        coalesce(ties.weight_inside, 0) / nullif(ties.weighted_degree, 0) as share_inside,
        window_activity.count_messages_4_weeks,
        window_activity.count_invites_accepted_4_weeks,
        weights.centrality_weight * percent_rank()
            over (
                partition by roster.community_id order by coalesce(ties.weight_inside, 0)
            )
        + weights.messages_weight * percent_rank()
            over (
                partition by roster.community_id order by window_activity.count_messages_4_weeks
            )
        + weights.invites_accepted_weight * percent_rank() over (
            partition by roster.community_id
            order by window_activity.count_invites_accepted_4_weeks
        ) as key_member_score,
        avg(coalesce(ties.weight_inside, 0)) over (partition by roster.community_id)
            as mean_weight_inside,
    from roster
    inner join window_activity
        on
            roster.community_id = window_activity.community_id
            and roster.user_id = window_activity.user_id
    left join ties
        on
            roster.community_id = ties.community_id
            and roster.user_id = ties.user_id
    left join roles
        on
            roster.community_id = roles.community_id
            and roster.user_id = roles.user_id
    cross join weights
),

final as (
    select
        snapshot_date,
        community_id,
        user_id,
        member_role,
        round(key_member_score, 4) as key_member_score,
        weight_inside / nullif(mean_weight_inside, 0) as centrality_in_group,
        count_neighbours_inside,
        share_inside,
        count_messages_4_weeks,
        count_invites_accepted_4_weeks,
    from scored
)

select * from final
