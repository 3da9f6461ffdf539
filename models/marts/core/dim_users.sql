with

users as (
    select * from {{ ref('stg_product__users') }}
),

activity as (
    select * from {{ ref('fct_user_activity_daily') }}
),

memberships as (
    select * from {{ ref('stg_product__group_memberships') }}
),

events as (
    select * from {{ ref('stg_product__events') }}
),

activity_by_user as (
    select
        user_id,
        min(first_event_at) as first_active_at,
        max(last_event_at) as last_active_at,
        count(*) as count_active_days,
        cast(sum(count_events) as bigint) as count_events,
        cast(sum(count_sessions) as bigint) as count_sessions,
        cast(sum(count_posts) as bigint) as count_posts,
        cast(sum(count_comments) as bigint) as count_comments,
        cast(sum(count_reactions) as bigint) as count_reactions,
        cast(sum(count_shares) as bigint) as count_shares,
        cast(sum(count_mentions) as bigint) as count_mentions,
        cast(sum(count_invites_sent) as bigint) as count_invites_sent,
        cast(sum(count_purchases) as bigint) as count_purchases,
        cast(sum(cast(sum_purchase_amount_usd as decimal(18, 4))) as double)
            as sum_purchase_amount_usd
    from activity
    group by user_id
),

invites_accepted_by_inviter as (
    -- invite_accepted is sent by the invitee; target_user_id is the inviter.
    select
        target_user_id as user_id,
        count(*) as count_sent_invites_accepted
    from events
    where event_type = 'invite_accepted' and target_user_id is not null
    group by target_user_id
),

invited_users as (
    select
        user_id,
        min(target_user_id) as invited_by_user_id
    from events
    where event_type = 'invite_accepted'
    group by user_id
),

memberships_by_user as (
    select
        user_id,
        count(distinct group_id) as count_groups_joined,
        count(distinct group_id) filter (where left_at is null) as count_groups_current,
        min(joined_at) as first_group_joined_at
    from memberships
    group by user_id
),

final as (
    select
        users.user_id,
        users.signed_up_at,
        cast(users.signed_up_at as date) as signup_date,
        users.country,
        users.locale,
        users.language,
        users.acquisition_channel,
        invited_users.invited_by_user_id,
        activity_by_user.first_active_at,
        activity_by_user.last_active_at,
        coalesce(activity_by_user.count_active_days, 0) as count_active_days,
        coalesce(activity_by_user.count_events, 0) as count_events,
        coalesce(activity_by_user.count_sessions, 0) as count_sessions,
        coalesce(activity_by_user.count_posts, 0) as count_posts,
        coalesce(activity_by_user.count_comments, 0) as count_comments,
        coalesce(activity_by_user.count_reactions, 0) as count_reactions,
        coalesce(activity_by_user.count_shares, 0) as count_shares,
        coalesce(activity_by_user.count_mentions, 0) as count_mentions,
        coalesce(activity_by_user.count_invites_sent, 0) as count_invites_sent,
        coalesce(invites_accepted_by_inviter.count_sent_invites_accepted, 0)
            as count_sent_invites_accepted,
        coalesce(activity_by_user.count_purchases, 0) as count_purchases,
        coalesce(activity_by_user.sum_purchase_amount_usd, 0) as sum_purchase_amount_usd,
        coalesce(memberships_by_user.count_groups_joined, 0) as count_groups_joined,
        coalesce(memberships_by_user.count_groups_current, 0) as count_groups_current,
        memberships_by_user.first_group_joined_at,
        coalesce(memberships_by_user.count_groups_current, 0) > 0 as is_group_member,
        invited_users.user_id is not null as was_invited
    from users
    left join activity_by_user on users.user_id = activity_by_user.user_id
    left join invites_accepted_by_inviter on users.user_id = invites_accepted_by_inviter.user_id
    left join invited_users on users.user_id = invited_users.user_id
    left join memberships_by_user on users.user_id = memberships_by_user.user_id
)

select * from final
