-- The product's daily KPIs, with group members set against everyone else.
--   DAU / WAU / MAU: distinct users with any accepted event that day / in the 7 / 30
--     days ending that day (int_rolling_active_users_daily).
--   Group member: a user with an open declared-group membership that day.
--   Active declared group: at least var('active_declared_group_min_posters') distinct
--     members posted or commented inside it in the var('active_declared_group_window_days')
--     days ending that day. Active detected community: present in the latest
--     weekly snapshot at or before the day (a community exists only while its members
--     interact, so every detected community in a snapshot is active).
with

activity as (
    select * from {{ ref('fct_user_activity_daily') }}
),

users as (
    select * from {{ ref('dim_users') }}
),

rolling_active_users as (
    select * from {{ ref('int_rolling_active_users_daily') }}
),

member_days as (
    select * from {{ ref('int_group_member_days_spined') }}
),

declared_group_activity as (
    select * from {{ ref('int_declared_group_activity_daily') }}
),

detected_by_day as (
    select * from {{ ref('int_detected_communities_daily') }}
),

days as (
    -- WAU and MAU have a row for every day of the int_kpi_days spine: they are the spine.
    select kpi_date from rolling_active_users
),

activity_flagged as (
    select
        activity.*,
        member_days.user_id is not null as is_group_member
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
        count(*) filter (where count_events_in_groups > 0) as count_users_active_in_groups
    from activity_flagged
    group by activity_date
),

population as (
    select
        days.kpi_date,
        count(users.user_id) as count_users,
        count(users.user_id) filter (where users.signup_date = days.kpi_date) as count_new_users
    from days
    left join users on days.kpi_date >= users.signup_date
    group by days.kpi_date
),

members_by_day as (
    select
        kpi_date,
        count(*) as count_group_members
    from member_days
    group by kpi_date
),

joined as (
    select
        days.kpi_date,
        population.count_users,
        population.count_new_users,
        coalesce(activity_by_day.count_dau, 0) as count_dau,
        rolling_active_users.count_wau,
        rolling_active_users.count_mau,
        coalesce(members_by_day.count_group_members, 0) as count_group_members,
        coalesce(activity_by_day.count_active_group_members, 0) as count_active_group_members,
        declared_group_activity.count_active_declared_groups,
        coalesce(detected_by_day.count_active_detected_communities, 0)
            as count_active_detected_communities,
        coalesce(activity_by_day.count_events_group_members, 0) as count_events_group_members,
        coalesce(activity_by_day.count_events_non_members, 0) as count_events_non_members,
        coalesce(activity_by_day.count_contents, 0) as count_contents,
        coalesce(activity_by_day.count_contents_by_group_members, 0)
            as count_contents_by_group_members,
        declared_group_activity.count_contents_in_groups,
        coalesce(activity_by_day.count_purchases, 0) as count_purchases,
        coalesce(activity_by_day.count_purchases_by_group_members, 0)
            as count_purchases_by_group_members,
        coalesce(activity_by_day.sum_purchase_amount_usd, 0) as sum_purchase_amount_usd,
        coalesce(activity_by_day.sum_purchase_amount_usd_by_group_members, 0)
            as sum_purchase_amount_usd_by_group_members,
        coalesce(activity_by_day.count_invites_sent, 0) as count_invites_sent,
        coalesce(activity_by_day.count_invites_accepted, 0) as count_invites_accepted
    from days
    left join population on days.kpi_date = population.kpi_date
    left join activity_by_day on days.kpi_date = activity_by_day.kpi_date
    left join rolling_active_users on days.kpi_date = rolling_active_users.kpi_date
    left join members_by_day on days.kpi_date = members_by_day.kpi_date
    left join declared_group_activity on days.kpi_date = declared_group_activity.kpi_date
    left join detected_by_day on days.kpi_date = detected_by_day.kpi_date
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
            as share_purchase_amount_by_group_members
    from joined
)

select * from final
