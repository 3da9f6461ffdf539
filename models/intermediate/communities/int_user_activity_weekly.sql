-- Each user's activity per week (Monday start), including the invites of theirs that
-- were accepted that week: the per-member input of the weekly health figures. Read
-- from the priced events (as fct_user_activity_daily is), not from that mart.
with

events as (
    select * from {{ ref('int_events_priced') }}
),

activity_by_week as (
    select
        user_id,
        cast(date_trunc('week', activity_date) as date) as week_start_date,
        count(distinct activity_date) as count_active_days,
        count(*) filter (where event_type in ('post', 'comment')) as count_messages,
        count(*) filter (where event_type = 'invite_sent') as count_invites_sent,
        count(*) as count_events,
        count(*) filter (where event_type = 'purchase') as count_purchases,
        -- Decimal sum, as in fct_user_activity_daily: independent of row order.
        cast(coalesce(sum(amount_usd) filter (where event_type = 'purchase'), 0) as double)
            as sum_purchase_amount_usd,
    from events
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
