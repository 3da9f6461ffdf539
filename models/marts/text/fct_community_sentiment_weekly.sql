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

scored as (
    -- Scores are stored with 6 decimals: as decimals their sums are exact, so averages
    -- do not depend on the order a parallel aggregation adds them in.
    select
        snapshot_date,
        group_kind,
        community_id,
        author_user_id,
        sentiment_label,
        is_need_message,
        is_in_window,
        is_in_snapshot_week,
        cast(sentiment_score as decimal(18, 6)) as sentiment_score,
    from messages
),

by_group as (
    select
        snapshot_date,
        group_kind,
        community_id,
        count(*) filter (where is_in_snapshot_week) as count_messages_week,
        count(distinct author_user_id) filter (where is_in_snapshot_week) as count_authors_week,
        avg(sentiment_score) filter (where is_in_snapshot_week) as avg_sentiment_week,
        avg(cast(sentiment_label = 'positive' as int)) filter (where is_in_snapshot_week)
            as share_positive_week,
        avg(cast(sentiment_label = 'negative' as int)) filter (where is_in_snapshot_week)
            as share_negative_week,
        avg(cast(is_need_message as int)) filter (where is_in_snapshot_week) as share_need_messages_week,
        count(*) filter (where is_in_window) as count_messages_window,
        avg(sentiment_score) filter (where is_in_window) as avg_sentiment_window,
        avg(cast(sentiment_label = 'positive' as int)) filter (where is_in_window)
            as share_positive_window,
        avg(cast(sentiment_label = 'negative' as int)) filter (where is_in_window)
            as share_negative_window,
        avg(cast(is_need_message as int)) filter (where is_in_window) as share_need_messages_window,
        avg(sentiment_score) filter (where is_in_window and not is_in_snapshot_week)
            as avg_sentiment_earlier,
    from scored
    group by all
),

final as (
    select
        snapshot_date,
        group_kind,
        community_id,
        cast(date_trunc('week', snapshot_date) as date) as week_start_date,
        count_messages_week,
        count_authors_week,
        cast(round(avg_sentiment_week, 6) as double) as avg_sentiment_week,
        round(share_positive_week, 6) as share_positive_week,
        round(share_negative_week, 6) as share_negative_week,
        round(share_positive_week - share_negative_week, 6) as net_sentiment_week,
        round(share_need_messages_week, 6) as share_need_messages_week,
        count_messages_window,
        cast(round(avg_sentiment_window, 6) as double) as avg_sentiment_window,
        round(share_positive_window - share_negative_window, 6) as net_sentiment_window,
        round(share_need_messages_window, 6) as share_need_messages_window,
        cast(round(avg_sentiment_week - avg_sentiment_earlier, 6) as double) as avg_sentiment_change,
    from by_group
    where count_messages_window > 0
)

select * from final
