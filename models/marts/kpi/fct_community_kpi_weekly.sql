-- The KPIs of each group (detected community or declared group) per weekly snapshot,
-- for the group leaders' view: members, activity, content share, purchases and
-- invites of its members, and growth. Activity figures cover the snapshot's week.
with

metrics as (
    select * from {{ ref('int_community_metrics_weekly') }}
),

members as (
    select * from {{ ref('int_group_members_weekly') }}
),

user_weeks as (
    select * from {{ ref('int_user_activity_weekly') }}
),

member_purchases as (
    select
        members.snapshot_date,
        members.group_kind,
        members.community_id,
        cast(coalesce(sum(user_weeks.count_purchases), 0) as bigint) as count_purchases,
        coalesce(sum(user_weeks.sum_purchase_amount_usd), 0) as sum_purchase_amount_usd,
    from members
    left join user_weeks
        on
            members.user_id = user_weeks.user_id
            and user_weeks.week_start_date = cast(date_trunc('week', members.snapshot_date) as date)
    group by all
),

all_messages as (
    select
        week_start_date,
        sum(count_messages) as count_messages,
    from user_weeks
    group by week_start_date
),

final as (
    select
        metrics.snapshot_date,
        metrics.group_kind,
        metrics.community_id,
        metrics.count_members,
        metrics.count_members_4_weeks_before,
        metrics.member_growth_rate_4_weeks,
        metrics.count_active_members,
        metrics.share_members_active,
        metrics.count_messages,
        metrics.messages_per_member,
        metrics.count_messages / nullif(all_messages.count_messages, 0)
            as share_of_all_messages,
        member_purchases.count_purchases,
        member_purchases.sum_purchase_amount_usd,
        member_purchases.count_purchases / metrics.count_members as purchases_per_member,
        metrics.count_invites_sent,
        metrics.count_invites_accepted,
        metrics.invite_acceptance_rate,
        metrics.new_member_retention,
    from metrics
    left join member_purchases
        on
            metrics.snapshot_date = member_purchases.snapshot_date
            and metrics.group_kind = member_purchases.group_kind
            and metrics.community_id = member_purchases.community_id
    left join all_messages
        on all_messages.week_start_date = cast(date_trunc('week', metrics.snapshot_date) as date)
)

select * from final
