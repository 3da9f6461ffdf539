-- The messages behind each group's text figures at every weekly snapshot: those of
-- the snapshot's window (var('text_window_days')) and of the var('trending_baseline_weeks')
-- weeks before the snapshot's week (the trending-term baseline). A message belongs to
-- its author's detected community at the snapshot and to the declared group it was
-- posted in ('group:' || group_id), so each message appears once per group kind at most.
with

runs as (
    select * from {{ ref('stg_communities__snapshot_runs') }}
),

assignments as (
    select * from {{ ref('stg_communities__assignments') }}
),

contents as (
    select * from {{ ref('stg_product__contents') }}
),

enriched as (
    select * from {{ ref('stg_text__contents_enriched') }}
),

snapshots as (
    select
        snapshot_date,
        cast(date_trunc('week', snapshot_date) as date) as week_start_date,
        snapshot_date - {{ var('text_window_days') }} + 1 as window_start_date,
        least(
            snapshot_date - {{ var('text_window_days') }} + 1,
            cast(date_trunc('week', snapshot_date) as date) - 7 * {{ var('trending_baseline_weeks') }}
        ) as first_date,
    from runs
),

messages as (
    select
        snapshots.snapshot_date,
        snapshots.week_start_date,
        snapshots.window_start_date,
        contents.content_id,
        contents.author_user_id,
        contents.group_id,
        contents.created_at,
        enriched.sentiment_score,
        enriched.sentiment_label,
        enriched.is_need_message,
        enriched.enriched_at,
    from snapshots
    inner join contents
        on
            snapshots.first_date <= contents.created_at
            and snapshots.snapshot_date + 1 > contents.created_at
    inner join enriched on contents.content_id = enriched.content_id
),

detected as (
    select
        messages.*,
        'detected' as group_kind,
        assignments.community_id,
    from messages
    inner join assignments
        on
            messages.snapshot_date = assignments.snapshot_date
            and messages.author_user_id = assignments.user_id
),

declared as (
    select
        messages.*,
        'declared' as group_kind,
        'group:' || messages.group_id as community_id,
    from messages
    where messages.group_id is not null
),

unioned as (
    select * from detected
    union all
    select * from declared
),

final as (
    select
        snapshot_date,
        group_kind,
        community_id,
        content_id,
        author_user_id,
        created_at,
        sentiment_score,
        sentiment_label,
        is_need_message,
        enriched_at,
        created_at >= window_start_date as is_in_window,
        created_at >= week_start_date as is_in_snapshot_week,
        created_at < week_start_date as is_in_baseline,
    from unioned
)

select * from final
