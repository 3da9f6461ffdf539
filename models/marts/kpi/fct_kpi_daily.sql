-- The product's daily KPIs, with group members set against everyone else.
--   DAU / WAU / MAU: distinct users with any accepted event that day / in the 7 / 30
--     days ending that day (computed from +1/-1 changes, so the cost is linear).
--   Group member: a user with an open declared-group membership that day.
--   Active declared group: at least 2 distinct members posted or commented inside it in
--     the 7 days ending that day. Active detected community: present in the latest
--     weekly snapshot at or before the day (a community exists only while its members
--     interact, so every detected community in a snapshot is active).
with

activity as (
    select * from {{ ref('fct_user_activity_daily') }}
),

users as (
    select * from {{ ref('dim_users') }}
),

memberships as (
    select * from {{ ref('stg_product__group_memberships') }}
),

events as (
    select * from {{ ref('stg_product__events') }}
),

snapshot_runs as (
    select * from {{ ref('stg_communities__snapshot_runs') }}
),

bounds as (
    select
        min(activity_date) as first_date,
        max(activity_date) as last_date,
    from activity
),

days as (
    select cast(series.day_start as date) as kpi_date
    from bounds
    cross join generate_series(bounds.first_date, bounds.last_date, interval 1 day) as series (day_start)
),

user_active_days as (
    select
        user_id,
        activity_date,
        lead(activity_date) over (partition by user_id order by activity_date) as next_activity_date,
    from activity
),

rolling_changes as (
    -- A user counts toward WAU from an active day until 7 days later or their next active
    -- day, whichever comes first: disjoint spans, so +1/-1 changes sum to distinct users.
    select
        activity_date as change_date,
        1 as wau_change,
        1 as mau_change,
    from user_active_days
    union all
    select
        least(activity_date + 7, coalesce(next_activity_date, activity_date + 7)) as change_date,
        -1 as wau_change,
        0 as mau_change,
    from user_active_days
    union all
    select
        least(activity_date + 30, coalesce(next_activity_date, activity_date + 30)) as change_date,
        0 as wau_change,
        -1 as mau_change,
    from user_active_days
),

rolling as (
    select
        change_date,
        sum(wau_change) as wau_change,
        sum(mau_change) as mau_change,
    from rolling_changes
    group by change_date
),

member_spells as (
    select
        user_id,
        cast(joined_at as date) as joined_date,
        coalesce(cast(left_at as date), date '9999-12-31') as left_date,
    from memberships
),

member_days as (
    select distinct
        days.kpi_date,
        member_spells.user_id,
    from days
    inner join member_spells
        on days.kpi_date >= member_spells.joined_date and days.kpi_date < member_spells.left_date
),

activity_flagged as (
    select
        activity.*,
        member_days.user_id is not null as is_group_member,
    from activity
    left join member_days
        on activity.user_id = member_days.user_id and activity.activity_date = member_days.kpi_date
),

activity_by_day as (
    select
        activity_date as kpi_date,
        count(*) as count_dau,
        count(*) filter (where is_group_member) as count_active_group_members,
        cast(sum(count_events) filter (where is_group_member) as bigint)
            as count_events_group_members,
        cast(sum(count_events) filter (where not is_group_member) as bigint)
            as count_events_non_members,
        cast(sum(count_posts + count_comments) as bigint)
            as count_contents,
        cast(sum(count_posts + count_comments) filter (where is_group_member) as bigint)
            as count_contents_by_group_members,
        cast(sum(count_purchases) as bigint)
            as count_purchases,
        cast(sum(count_purchases) filter (where is_group_member) as bigint)
            as count_purchases_by_group_members,
        sum(sum_purchase_amount_usd) as sum_purchase_amount_usd,
        sum(sum_purchase_amount_usd) filter (where is_group_member)
            as sum_purchase_amount_usd_by_group_members,
        cast(sum(count_invites_sent) as bigint)
            as count_invites_sent,
        cast(sum(count_invites_accepted) as bigint)
            as count_invites_accepted,
        count(*) filter (where count_events_in_groups > 0) as count_users_active_in_groups,
    from activity_flagged
    group by activity_date
),

contents_in_groups as (
    select
        cast(occurred_at as date) as kpi_date,
        count(*) as count_contents_in_groups,
    from events
    where event_type in ('post', 'comment') and group_id is not null
    group by all
),

group_posters as (
    select distinct
        cast(occurred_at as date) as activity_date,
        group_id,
        user_id,
    from events
    where event_type in ('post', 'comment') and group_id is not null
),

active_declared_groups as (
    select
        days.kpi_date,
        count(*) as count_active_declared_groups,
    from days
    inner join lateral (
        select group_posters.group_id
        from group_posters
        where group_posters.activity_date between days.kpi_date - 6 and days.kpi_date
        group by group_posters.group_id
        having count(distinct group_posters.user_id) >= 2
    ) as active on true
    group by days.kpi_date
),

population as (
    select
        days.kpi_date,
        count(users.user_id) as count_users,
        count(users.user_id) filter (where users.signup_date = days.kpi_date) as count_new_users,
    from days
    left join users on days.kpi_date >= users.signup_date
    group by days.kpi_date
),

members_by_day as (
    select
        kpi_date,
        count(*) as count_group_members,
    from member_days
    group by kpi_date
),

detected_by_day as (
    select
        days.kpi_date,
        snapshot_runs.count_communities as count_active_detected_communities,
    from days
    asof left join snapshot_runs on days.kpi_date >= snapshot_runs.snapshot_date
),

joined as (
    select
        days.kpi_date,
        population.count_users,
        population.count_new_users,
        coalesce(activity_by_day.count_dau, 0) as count_dau,
        cast(sum(coalesce(rolling.wau_change, 0)) over (order by days.kpi_date) as bigint)
            as count_wau,
        cast(sum(coalesce(rolling.mau_change, 0)) over (order by days.kpi_date) as bigint)
            as count_mau,
        coalesce(members_by_day.count_group_members, 0) as count_group_members,
        coalesce(activity_by_day.count_active_group_members, 0) as count_active_group_members,
        coalesce(active_declared_groups.count_active_declared_groups, 0)
            as count_active_declared_groups,
        coalesce(detected_by_day.count_active_detected_communities, 0)
            as count_active_detected_communities,
        coalesce(activity_by_day.count_events_group_members, 0) as count_events_group_members,
        coalesce(activity_by_day.count_events_non_members, 0) as count_events_non_members,
        coalesce(activity_by_day.count_contents, 0) as count_contents,
        coalesce(activity_by_day.count_contents_by_group_members, 0)
            as count_contents_by_group_members,
        coalesce(contents_in_groups.count_contents_in_groups, 0) as count_contents_in_groups,
        coalesce(activity_by_day.count_purchases, 0) as count_purchases,
        coalesce(activity_by_day.count_purchases_by_group_members, 0)
            as count_purchases_by_group_members,
        coalesce(activity_by_day.sum_purchase_amount_usd, 0) as sum_purchase_amount_usd,
        coalesce(activity_by_day.sum_purchase_amount_usd_by_group_members, 0)
            as sum_purchase_amount_usd_by_group_members,
        coalesce(activity_by_day.count_invites_sent, 0) as count_invites_sent,
        coalesce(activity_by_day.count_invites_accepted, 0) as count_invites_accepted,
    from days
    left join population on days.kpi_date = population.kpi_date
    left join activity_by_day on days.kpi_date = activity_by_day.kpi_date
    left join rolling on days.kpi_date = rolling.change_date
    left join members_by_day on days.kpi_date = members_by_day.kpi_date
    left join active_declared_groups on days.kpi_date = active_declared_groups.kpi_date
    left join detected_by_day on days.kpi_date = detected_by_day.kpi_date
    left join contents_in_groups on days.kpi_date = contents_in_groups.kpi_date
),

final as (
    select
        *,
        count_active_declared_groups + count_active_detected_communities as count_active_groups,
        (count_active_declared_groups + count_active_detected_communities)
        / nullif(
            lag(count_active_declared_groups + count_active_detected_communities, 7)
                over (order by kpi_date),
            0
        ) - 1 as active_groups_growth_rate_wow,
        count_events_group_members / nullif(count_group_members, 0) as events_per_group_member,
        count_events_non_members / nullif(count_users - count_group_members, 0)
            as events_per_non_member,
        count_contents_by_group_members / nullif(count_contents, 0)
            as share_contents_by_group_members,
        count_contents_in_groups / nullif(count_contents, 0) as share_contents_in_groups,
        count_purchases_by_group_members / nullif(count_purchases, 0)
            as share_purchases_by_group_members,
        sum_purchase_amount_usd_by_group_members / nullif(sum_purchase_amount_usd, 0)
            as share_purchase_amount_by_group_members,
    from joined
)

select * from final
