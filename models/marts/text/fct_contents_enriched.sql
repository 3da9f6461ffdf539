-- One row per accepted message with its language, tokens, sentiment and need flag,
-- and the detected community its author belonged to at the snapshot closing the
-- message's week (null when unassigned or not computed yet), and its text (the
-- dashboard shows example messages of pain points and topics).
with

contents as (
    select * from {{ ref('stg_product__contents') }}
),

enriched as (
    select * from {{ ref('stg_text__contents_enriched') }}
),

runs as (
    select * from {{ ref('stg_communities__snapshot_runs') }}
),

assignments as (
    select * from {{ ref('stg_communities__assignments') }}
),

week_snapshots as (
    -- The snapshot of each week: its Sunday, or the provisional one of the week in progress.
    select
        cast(date_trunc('week', snapshot_date) as date) as week_start_date,
        max(snapshot_date) as snapshot_date,
    from runs
    group by all
),

final as (
    select
        contents.content_id,
        contents.author_user_id,
        contents.group_id,
        contents.parent_content_id,
        contents.created_at,
        cast(contents.created_at as date) as created_date,
        contents.language as declared_language,
        enriched.language,
        enriched.count_tokens,
        enriched.tokens,
        enriched.sentiment_score,
        enriched.sentiment_label,
        enriched.sentiment_missing_reason,
        enriched.is_need_message,
        assignments.community_id,
        week_snapshots.snapshot_date as community_snapshot_date,
        enriched.enriched_at,
        contents.body,
    from contents
    inner join enriched on contents.content_id = enriched.content_id
    left join week_snapshots
        on cast(date_trunc('week', contents.created_at) as date) = week_snapshots.week_start_date
    left join assignments
        on
            week_snapshots.snapshot_date = assignments.snapshot_date
            and contents.author_user_id = assignments.user_id
)

select * from final
