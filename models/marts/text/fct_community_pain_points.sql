-- Each group's recurring complaints and requests at every weekly snapshot, from the
-- Python pain-point step: phrases of its complaint messages (a need pattern such as
-- 希望 / 能不能 / 不好用 / "please add" / "doesn't work", or a clearly negative
-- sentiment), ranked by class-based TF-IDF against its ordinary messages and other
-- groups' complaints, with minimum support (messages and distinct authors), counts,
-- the trend of the snapshot's week against the earlier weeks, average sentiment and
-- example messages.
with

pain_points as (
    select * from {{ ref('stg_text__pain_points') }}
),

final as (
    select
        snapshot_date,
        group_kind,
        community_id,
        rank as pain_point_rank,
        phrase,
        language,
        count_messages,
        count_authors,
        round(share_of_messages, 6) as share_of_messages,
        round(share_of_need_messages, 6) as share_of_need_messages,
        count_messages_this_week,
        count_messages_earlier_weeks,
        messages_per_week_this_week,
        messages_per_week_earlier,
        trend,
        round(avg_sentiment, 6) as avg_sentiment,
        round(share_negative, 6) as share_negative,
        round(score, 8) as score,
        example_content_ids,
    from pain_points
)

select * from final
