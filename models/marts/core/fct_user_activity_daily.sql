with

events as (
    select * from {{ ref('stg_product__events') }}
),

currency_rates as (
    select * from {{ ref('currency_rates') }}
),

final as (
    select
        events.user_id,
        cast(events.occurred_at as date) as activity_date,
        count(*) as count_events,
        count(*) filter (where events.event_type = 'session_start') as count_sessions,
        count(*) filter (where events.event_type = 'post') as count_posts,
        count(*) filter (where events.event_type = 'comment') as count_comments,
        count(*) filter (where events.event_type = 'reaction') as count_reactions,
        count(*) filter (where events.event_type = 'share') as count_shares,
        count(*) filter (where events.event_type = 'mention') as count_mentions,
        count(*) filter (where events.event_type = 'invite_sent') as count_invites_sent,
        count(*) filter (where events.event_type = 'invite_accepted') as count_invites_accepted,
        count(*) filter (where events.event_type = 'group_created') as count_groups_created,
        count(*) filter (where events.event_type = 'group_joined') as count_groups_joined,
        count(*) filter (where events.event_type = 'group_left') as count_groups_left,
        count(*) filter (where events.event_type = 'purchase') as count_purchases,
        coalesce(
            sum(events.amount * currency_rates.usd_per_unit)
            filter (where events.event_type = 'purchase'),
            0
        ) as sum_purchase_amount_usd,
        count(*) filter (where events.group_id is not null) as count_events_in_groups,
        min(events.occurred_at) as first_event_at,
        max(events.occurred_at) as last_event_at,
    from events
    left join currency_rates
        on coalesce(events.currency, '{{ var("default_currency") }}') = currency_rates.currency
    group by all
)

select * from final
