-- The raw figures behind each health component, per group and snapshot: activity of
-- the snapshot's week, cohesion of the snapshot's window graph, growth over the
-- var('growth_lookback_days') before it. fct_community_health turns them into 0-100 scores.
{{ require_var_value(
    'growth_lookback_days', 28,
    'count_members_4_weeks_before, member_growth_rate_4_weeks (contracted in fct_community_health and fct_community_kpi_weekly)'
) }}
with

members as (
    select * from {{ ref('int_group_members_weekly') }}
),

user_weeks as (
    select * from {{ ref('int_user_activity_weekly') }}
),

stats as (
    select * from {{ ref('stg_communities__stats') }}
),

member_metrics as (
    select * from {{ ref('stg_communities__member_metrics') }}
),

group_memberships as (
    select * from {{ ref('stg_product__group_memberships') }}
),

member_weeks as (
    -- Each member row with the activity of the snapshot's week and of the detection
    -- window (the var('community_window_days') / 7 weeks ending with the snapshot's week).
    select
        members.snapshot_date,
        members.group_kind,
        members.community_id,
        members.user_id,
        members.first_snapshot_date,
        coalesce(max(user_weeks.count_active_days) filter (
            where user_weeks.week_start_date = cast(date_trunc('week', members.snapshot_date) as date)
        ), 0) as count_active_days_this_week,
        coalesce(sum(user_weeks.count_messages) filter (
            where user_weeks.week_start_date = cast(date_trunc('week', members.snapshot_date) as date)
        ), 0) as count_messages_this_week,
        coalesce(sum(user_weeks.count_invites_sent), 0) as count_invites_sent_window,
        coalesce(sum(user_weeks.count_sent_invites_accepted), 0) as count_invites_accepted_window,
    from members
    left join user_weeks
        on
            members.user_id = user_weeks.user_id
            and user_weeks.week_start_date
            between cast(date_trunc('week', members.snapshot_date) as date) - 7 * ({{ community_window_weeks() }} - 1)
            and cast(date_trunc('week', members.snapshot_date) as date)
    group by all
),

key_members as (
    -- Detected communities: high in-community PageRank; declared groups: owners and admins.
    select
        snapshot_date,
        'detected' as group_kind,
        community_id,
        user_id,
    from member_metrics
    where pagerank_in_community >= {{ var('key_member_min_pagerank') }}
    union all
    select distinct
        members.snapshot_date,
        members.group_kind,
        members.community_id,
        members.user_id,
    from members
    inner join group_memberships
        on
            members.community_id = 'group:' || group_memberships.group_id
            and members.user_id = group_memberships.user_id
            and group_memberships.role in ('owner', 'admin')
    where members.group_kind = 'declared'
),

by_group as (
    select
        member_weeks.snapshot_date,
        member_weeks.group_kind,
        member_weeks.community_id,
        count(*) as count_members,
        count(*) filter (where member_weeks.count_active_days_this_week > 0)
            as count_active_members,
        cast(sum(member_weeks.count_messages_this_week) as bigint) as count_messages,
        cast(sum(member_weeks.count_invites_sent_window) as bigint) as count_invites_sent,
        cast(sum(member_weeks.count_invites_accepted_window) as bigint) as count_invites_accepted,
        -- Members who first appeared var('new_member_retention_min_days') to
        -- var('new_member_retention_max_days') before (4 to 7 weeks) and are still here
        -- and active.
        count(*) filter (
            where member_weeks.first_snapshot_date
            between member_weeks.snapshot_date - {{ var('new_member_retention_max_days') }}
            and member_weeks.snapshot_date - {{ var('new_member_retention_min_days') }}
        ) as count_new_members_retained,
        count(*) filter (
            where
            member_weeks.first_snapshot_date
            between member_weeks.snapshot_date - {{ var('new_member_retention_max_days') }}
            and member_weeks.snapshot_date - {{ var('new_member_retention_min_days') }}
            and member_weeks.count_active_days_this_week > 0
        ) as count_new_members_retained_active,
        count(key_members.user_id) as count_key_members,
        count(key_members.user_id) filter (where member_weeks.count_active_days_this_week > 0)
            as count_key_members_active,
    from member_weeks
    left join key_members
        on
            member_weeks.snapshot_date = key_members.snapshot_date
            and member_weeks.group_kind = key_members.group_kind
            and member_weeks.community_id = key_members.community_id
            and member_weeks.user_id = key_members.user_id
    group by all
),

with_history as (
    select
        by_group.*,
        earlier.count_members as count_members_4_weeks_before,
    from by_group
    -- The latest snapshot at least var('growth_lookback_days') earlier (exactly 4 weeks
    -- for Sundays; the provisional mid-week snapshot takes the Sunday before that).
    asof left join by_group as earlier
        on
            by_group.group_kind = earlier.group_kind
            and by_group.community_id = earlier.community_id
            and by_group.snapshot_date - {{ var('growth_lookback_days') }} >= earlier.snapshot_date
),

final as (
    select
        with_history.snapshot_date,
        with_history.group_kind,
        with_history.community_id,
        with_history.count_members,
        with_history.count_active_members,
        with_history.count_messages,
        with_history.count_messages / with_history.count_members as messages_per_member,
        with_history.count_active_members / with_history.count_members as share_members_active,
        coalesce(stats.internal_density, 0) as internal_density,
        coalesce(stats.share_weight_inside, 0) as share_weight_inside,
        coalesce(stats.conductance, 1) as conductance,
        coalesce(stats.avg_clustering, 0) as avg_clustering,
        with_history.count_members_4_weeks_before,
        (with_history.count_members - with_history.count_members_4_weeks_before)
        / nullif(with_history.count_members_4_weeks_before, 0) as member_growth_rate_4_weeks,
        with_history.count_invites_sent,
        with_history.count_invites_accepted,
        least(
            with_history.count_invites_accepted / nullif(with_history.count_invites_sent, 0), 1
        ) as invite_acceptance_rate,
        with_history.count_new_members_retained,
        with_history.count_new_members_retained_active
        / nullif(with_history.count_new_members_retained, 0) as new_member_retention,
        with_history.count_key_members,
        with_history.count_key_members_active
        / nullif(with_history.count_key_members, 0) as key_member_active_share,
    from with_history
    left join stats
        on
            with_history.snapshot_date = stats.snapshot_date
            and with_history.group_kind = stats.group_kind
            and with_history.community_id = stats.community_id
)

select * from final
