-- Each user's activity per week (Monday start), including the invites of theirs that
-- were accepted that week: the per-member input of the weekly health figures.
with

activity as (
    select * from {{ ref('fct_user_activity_daily') }}
),

events as (
    select * from {{ ref('stg_product__events') }}
),

activity_by_week as (
    select
        user_id,
        cast(date_trunc('week', activity_date) as date) as week_start_date,
        count(*) as count_active_days,
        sum(count_posts + count_comments) as count_messages,
        sum(count_invites_sent) as count_invites_sent,
        sum(count_events) as count_events,
        sum(count_purchases) as count_purchases,
        cast(sum(cast(sum_purchase_amount_usd as decimal(18, 4))) as double) as sum_purchase_amount_usd,
    from activity
    group by all
),

accepted_by_week as (
    -- invite_accepted is sent by the invitee; the inviter is target_user_id.
    select
        target_user_id as user_id,
        cast(date_trunc('week', occurred_at) as date) as week_start_date,
        count(*) as count_sent_invites_accepted,
    from events
    where event_type = 'invite_accepted' and target_user_id is not null
    group by all
),

final as (
    select
        coalesce(activity_by_week.user_id, accepted_by_week.user_id) as user_id,
        coalesce(activity_by_week.week_start_date, accepted_by_week.week_start_date)
            as week_start_date,
        coalesce(activity_by_week.count_active_days, 0) as count_active_days,
        cast(coalesce(activity_by_week.count_messages, 0) as bigint) as count_messages,
        cast(coalesce(activity_by_week.count_invites_sent, 0) as bigint) as count_invites_sent,
        cast(coalesce(activity_by_week.count_events, 0) as bigint) as count_events,
        cast(coalesce(activity_by_week.count_purchases, 0) as bigint) as count_purchases,
        coalesce(activity_by_week.sum_purchase_amount_usd, 0) as sum_purchase_amount_usd,
        coalesce(accepted_by_week.count_sent_invites_accepted, 0) as count_sent_invites_accepted,
    from activity_by_week
    full outer join accepted_by_week
        on
            activity_by_week.user_id = accepted_by_week.user_id
            and activity_by_week.week_start_date = accepted_by_week.week_start_date
)

select * from final
