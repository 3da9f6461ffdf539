-- One row per (catalog metric, unit type, unit) of the design help (fct_experiment_power),
-- and one row with a null unit_id for a metric and unit type without units, measured over the last experiment_power_window_days of data
-- (window_start_at .. the last event) as if an experiment had been assigned at the
-- window's start. Units: users who signed up before the window (user metrics);
-- declared groups with a membership spell covering the window's start, and detected
-- communities of the last snapshot on or before it (members only), for the cluster
-- metrics. A member's outcome is over the whole window (intention to treat: a member who
-- leaves keeps counting), a group's posts are those tagged with the group (as the
-- readout counts them), a community's every post of its members. retention_d28 takes
-- the members of the cluster experiment_power_window_days + 28 days before the last
-- event (a cohort whose day 28 falls on the window's start) and counts those with an
-- event in the window; it has no pre-period value. The pre-period is the
-- experiment_pre_period_days before the window's start (shorter when the data starts
-- later). A user is a cluster of one, so the same columns serve both unit kinds: the
-- cluster's size, its members' summed outcome and sum of squared outcomes, and its
-- summed pre-period outcome.
with

users as (
    select * from {{ ref('stg_product__users') }}
),

memberships as (
    select * from {{ ref('stg_product__group_memberships') }}
),

community_members as (
    select * from {{ ref('stg_communities__assignments') }}
),

events as (
    select * from {{ ref('int_events_priced') }}
),

metrics as (
    select * from {{ ref('experiment_metrics') }}
),

windows as (
    select
        max(occurred_at) as window_end_at,
        max(occurred_at)
        - to_days({{ var('experiment_power_window_days') }}) as window_start_at,
        max(occurred_at)
        - to_days({{ var('experiment_power_window_days') }})
        - to_days({{ var('experiment_pre_period_days') }}) as pre_start_at,
        max(occurred_at)
        - to_days({{ var('experiment_power_window_days') }})
        - to_days(28) as retention_cohort_at,
    from events
),

metric_units as (
    select
        metrics.metric_name,
        unnest(string_split(metrics.unit_types, '|')) as unit_type,
    from metrics
),

-- The cohort of each cluster metric: 'window' for posts and active share (members at the
-- window's start), 'retention' for retention_d28 (members 28 days before it).
cohorts as (
    select
        'window' as cohort,
        window_start_at as cohort_at,
    from windows
    union all
    select
        'retention' as cohort,
        retention_cohort_at as cohort_at,
    from windows
),

community_snapshots as (
    select
        cohorts.cohort,
        max(community_members.snapshot_date) as snapshot_date,
    from cohorts
    inner join community_members
        on community_members.snapshot_date <= cast(cohorts.cohort_at as date)
    group by cohorts.cohort
),

cluster_members as (
    select distinct
        cohorts.cohort,
        'group' as unit_type,
        memberships.group_id as unit_id,
        memberships.user_id,
    from cohorts
    inner join memberships
        on
            cohorts.cohort_at >= memberships.joined_at
            and (memberships.left_at is null or cohorts.cohort_at < memberships.left_at)
    union all
    select
        community_snapshots.cohort,
        'community' as unit_type,
        community_members.community_id as unit_id,
        community_members.user_id,
    from community_snapshots
    inner join community_members
        on community_snapshots.snapshot_date = community_members.snapshot_date
),

-- Each user's events since the pre-period's start, counted once per (user, group tagged):
-- the members' values below are looked up here instead of joining every membership to
-- the events again (a user is a member of several groups and of a community).
user_group_events as (
    select
        events.user_id,
        events.group_id,
        count(events.event_type) filter (
            where events.occurred_at >= windows.window_start_at and events.event_type = 'post'
        ) as posts_post,
        count(events.event_type) filter (
            where events.occurred_at < windows.window_start_at and events.event_type = 'post'
        ) as posts_pre,
        count(events.event_type) filter (
            where events.occurred_at >= windows.window_start_at
        ) as events_post,
        count(events.event_type) filter (
            where events.occurred_at < windows.window_start_at
        ) as events_pre,
    from events
    cross join windows
    where windows.pre_start_at <= events.occurred_at
    group by events.user_id, events.group_id
),

user_events as (
    select
        user_id,
        sum(posts_post) as posts_post,
        sum(posts_pre) as posts_pre,
        sum(events_post) as events_post,
        sum(events_pre) as events_pre,
    from user_group_events
    group by user_id
),

member_values as (
    select
        cluster_members.cohort,
        cluster_members.unit_type,
        cluster_members.unit_id,
        cluster_members.user_id,
        -- A group counts the posts tagged with it, a community every post of its members.
        coalesce(case cluster_members.unit_type
            when 'community' then user_events.posts_post else group_events.posts_post
        end, 0) as posts_post,
        coalesce(case cluster_members.unit_type
            when 'community' then user_events.posts_pre else group_events.posts_pre
        end, 0) as posts_pre,
        coalesce(user_events.events_post, 0) > 0 as is_active_post,
        coalesce(user_events.events_pre, 0) > 0 as is_active_pre,
    from (select distinct * from cluster_members) as cluster_members
    left join user_events
        on cluster_members.user_id = user_events.user_id
    left join user_group_events as group_events
        on
            cluster_members.unit_type = 'group'
            and cluster_members.user_id = group_events.user_id
            and cluster_members.unit_id = group_events.group_id
),

cluster_member_outcomes as (
    select
        metric_units.metric_name,
        metric_units.unit_type,
        member_values.unit_id,
        cast(case metric_units.metric_name
            when 'posts_per_member_day'
                then member_values.posts_post / {{ var('experiment_power_window_days') }}
            when 'active_member_share' then cast(member_values.is_active_post as integer)
            when 'retention_d28' then cast(member_values.is_active_post as integer)
        end as double) as member_value,
        cast(case metric_units.metric_name
            when 'posts_per_member_day'
                then member_values.posts_pre / {{ var('experiment_pre_period_days') }}
            when 'active_member_share' then cast(member_values.is_active_pre as integer)
        end as double) as member_pre_period_value,
    from metric_units
    inner join member_values
        on
            metric_units.unit_type = member_values.unit_type
            and member_values.cohort = case metric_units.metric_name
                when 'retention_d28' then 'retention' else 'window'
            end
    where metric_units.unit_type in ('group', 'community')
),

user_event_values as (
    select
        events.user_id,
        count(events.event_type) filter (
            where events.occurred_at >= windows.window_start_at and events.event_type = 'post'
        ) as posts_post,
        count(events.event_type) filter (
            where events.occurred_at < windows.window_start_at and events.event_type = 'post'
        ) as posts_pre,
        count(events.event_type) filter (
            where events.occurred_at >= windows.window_start_at
        ) as events_post,
        count(events.event_type) filter (
            where events.occurred_at < windows.window_start_at
        ) as events_pre,
        count(distinct events.activity_date) filter (
            where events.occurred_at >= windows.window_start_at
        ) as active_days_post,
        count(distinct events.activity_date) filter (
            where events.occurred_at < windows.window_start_at
        ) as active_days_pre,
        sum(events.amount_usd) filter (
            where events.occurred_at >= windows.window_start_at and events.event_type = 'purchase'
        ) as purchase_amount_post,
        sum(events.amount_usd) filter (
            where events.occurred_at < windows.window_start_at and events.event_type = 'purchase'
        ) as purchase_amount_pre,
        count(events.event_type) filter (
            where events.occurred_at >= windows.window_start_at and events.event_type = 'purchase'
        ) as purchases_post,
        count(events.event_type) filter (
            where events.occurred_at < windows.window_start_at and events.event_type = 'purchase'
        ) as purchases_pre,
    from events
    cross join windows
    where windows.pre_start_at <= events.occurred_at
    group by events.user_id
),

-- Aggregated before the join: one row per user with events, then every user who signed up
-- before the window (0 when they had none).
user_values as (
    select
        users.user_id,
        coalesce(user_event_values.posts_post, 0) as posts_post,
        coalesce(user_event_values.posts_pre, 0) as posts_pre,
        coalesce(user_event_values.events_post, 0) as events_post,
        coalesce(user_event_values.events_pre, 0) as events_pre,
        coalesce(user_event_values.active_days_post, 0) as active_days_post,
        coalesce(user_event_values.active_days_pre, 0) as active_days_pre,
        coalesce(user_event_values.purchase_amount_post, 0) as purchase_amount_post,
        coalesce(user_event_values.purchase_amount_pre, 0) as purchase_amount_pre,
        coalesce(user_event_values.purchases_post, 0) as purchases_post,
        coalesce(user_event_values.purchases_pre, 0) as purchases_pre,
    from users
    cross join windows
    left join user_event_values
        on users.user_id = user_event_values.user_id
    where users.signed_up_at < windows.window_start_at
),

user_outcomes as (
    select
        metric_units.metric_name,
        metric_units.unit_type,
        user_values.user_id as unit_id,
        cast(case metric_units.metric_name
            when 'posts_per_user' then user_values.posts_post
            when 'events_per_user' then user_values.events_post
            when 'active_days_per_user' then user_values.active_days_post
            when 'purchase_conversion' then least(user_values.purchases_post, 1)
            when 'purchase_amount_per_user' then user_values.purchase_amount_post
        end as double) as member_value,
        cast(case metric_units.metric_name
            when 'posts_per_user' then user_values.posts_pre
            when 'events_per_user' then user_values.events_pre
            when 'active_days_per_user' then user_values.active_days_pre
            when 'purchase_conversion' then least(user_values.purchases_pre, 1)
            when 'purchase_amount_per_user' then user_values.purchase_amount_pre
        end as double) as member_pre_period_value,
    from metric_units
    cross join user_values
    where metric_units.unit_type = 'user'
),

member_outcomes as (
    select * from cluster_member_outcomes
    union all
    select * from user_outcomes
),

clusters as (
    select
        metric_name,
        unit_type,
        unit_id,
        count(*) as members,
        sum(member_value) as cluster_value,
        sum(member_value * member_value) as cluster_value_squares,
        sum(member_pre_period_value) as cluster_pre_period_value,
    from member_outcomes
    group by metric_name, unit_type, unit_id
),

final as (
    select
        metric_units.metric_name,
        metric_units.unit_type,
        windows.window_start_at,
        windows.window_end_at,
        clusters.unit_id,
        clusters.members,
        clusters.cluster_value,
        clusters.cluster_value_squares,
        clusters.cluster_pre_period_value,
    from metric_units
    cross join windows
    left join clusters
        on
            metric_units.metric_name = clusters.metric_name
            and metric_units.unit_type = clusters.unit_type
)

select * from final
