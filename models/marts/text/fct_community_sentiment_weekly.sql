-- How each group feels at every weekly snapshot: the sentiment of its messages in the
-- snapshot's week and over the window (var('text_window_days')), and the change of the
-- week against the earlier weeks of the window. net_sentiment = share positive - share
-- negative. Detected communities: their members' messages; declared groups: messages
-- posted in them. net_sentiment_window feeds the sentiment component of
-- fct_community_health.
with

messages as (
    select * from {{ ref('int_group_messages_weekly') }}
),

by_group as (
    select
        snapshot_date,
        group_kind,
        community_id,
        count(*) filter (where is_in_snapshot_week) as count_messages_week,
        count(distinct author_user_id) filter (where is_in_snapshot_week) as count_authors_week,
        avg(sentiment_score) filter (where is_in_snapshot_week) as avg_sentiment_week,
        avg((sentiment_label = 'positive')::int) filter (where is_in_snapshot_week)
            as share_positive_week,
        avg((sentiment_label = 'negative')::int) filter (where is_in_snapshot_week)
            as share_negative_week,
        avg(is_need_message::int) filter (where is_in_snapshot_week) as share_need_messages_week,
        count(*) filter (where is_in_window) as count_messages_window,
        avg(sentiment_score) filter (where is_in_window) as avg_sentiment_window,
        avg((sentiment_label = 'positive')::int) filter (where is_in_window)
            as share_positive_window,
        avg((sentiment_label = 'negative')::int) filter (where is_in_window)
            as share_negative_window,
        avg(is_need_message::int) filter (where is_in_window) as share_need_messages_window,
        avg(sentiment_score) filter (where is_in_window and not is_in_snapshot_week)
            as avg_sentiment_earlier,
    from messages
    group by all
),

final as (
    select
        snapshot_date,
        group_kind,
        community_id,
        date_trunc('week', snapshot_date)::date as week_start_date,
        count_messages_week,
        count_authors_week,
        round(avg_sentiment_week, 6) as avg_sentiment_week,
        round(share_positive_week, 6) as share_positive_week,
        round(share_negative_week, 6) as share_negative_week,
        round(share_positive_week - share_negative_week, 6) as net_sentiment_week,
        round(share_need_messages_week, 6) as share_need_messages_week,
        count_messages_window,
        round(avg_sentiment_window, 6) as avg_sentiment_window,
        round(share_positive_window - share_negative_window, 6) as net_sentiment_window,
        round(share_need_messages_window, 6) as share_need_messages_window,
        round(avg_sentiment_week - avg_sentiment_earlier, 6) as avg_sentiment_change,
    from by_group
    where count_messages_window > 0
)

select * from final
