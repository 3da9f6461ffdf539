-- Declared groups with their owner, size now, at its peak and var('growth_lookback_days')
-- before the last day of data, and their activity.
{{ require_var_value('growth_lookback_days', 28, 'count_members_28_days_before') }}
with

groups as (
    select * from {{ ref('stg_product__groups') }}
),

memberships as (
    select * from {{ ref('stg_product__group_memberships') }}
),

group_sizes as (
    select * from {{ ref('fct_group_members_daily') }}
),

events as (
    select * from {{ ref('stg_product__events') }}
),

members_by_group as (
    select
        group_id,
        count(distinct user_id) as count_members_ever,
        count(distinct user_id) filter (where left_at is null) as count_members_current,
        -- The current owner; the creator stands in when no owner row exists.
        min(user_id) filter (where role = 'owner' and left_at is null) as owner_user_id,
        count(distinct user_id) filter (where role = 'admin' and left_at is null)
            as count_admins_current
    from memberships
    group by group_id
),

size_history as (
    select
        group_id,
        max(count_members) as max_count_members,
        -- Members var('growth_lookback_days') before the last day of data, for a growth figure.
        max(count_members) filter (
            where membership_date = (
                select max(inner_sizes.membership_date) from group_sizes as inner_sizes
            ) - {{ var('growth_lookback_days') }}
        ) as count_members_28_days_before
    from group_sizes
    group by group_id
),

activity_by_group as (
    select
        group_id,
        count(*) filter (where event_type in ('post', 'comment')) as count_contents,
        count(distinct user_id) as count_active_users,
        max(occurred_at) as last_activity_at
    from events
    where group_id is not null
    group by group_id
),

final as (
    select
        groups.group_id,
        groups.name,
        groups.category,
        groups.visibility,
        groups.created_by_user_id,
        coalesce(members_by_group.owner_user_id, groups.created_by_user_id) as owner_user_id,
        groups.created_at,
        coalesce(members_by_group.count_members_current, 0) as count_members_current,
        coalesce(members_by_group.count_members_ever, 0) as count_members_ever,
        coalesce(members_by_group.count_admins_current, 0) as count_admins_current,
        cast(coalesce(size_history.max_count_members, 0) as bigint) as max_count_members,
        cast(size_history.count_members_28_days_before as bigint) as count_members_28_days_before,
        coalesce(activity_by_group.count_contents, 0) as count_contents,
        coalesce(activity_by_group.count_active_users, 0) as count_active_users,
        activity_by_group.last_activity_at
    from groups
    left join members_by_group on groups.group_id = members_by_group.group_id
    left join size_history on groups.group_id = size_history.group_id
    left join activity_by_group on groups.group_id = activity_by_group.group_id
)

select * from final
