{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='snapshot_date',
        post_hook=[
            "delete from {{ this }} where snapshot_date not in "
            ~ "(select snapshot_date from {{ ref('stg_communities__snapshot_runs') }})"
        ],
    )
}}
-- Term counts behind topics and trending terms, per snapshot, group and term (see
-- the model's description for what an incremental refresh recomputes).
with

messages as (
    select * from {{ ref('int_group_messages_weekly') }}
),

terms as (
    select * from {{ ref('stg_text__content_terms') }}
),

runs as (
    select * from {{ ref('stg_communities__snapshot_runs') }}
),

{% if is_incremental() %}
    stored as (
        select
            snapshot_date,
            any_value(community_fingerprint) as community_fingerprint,
            max(built_at) as built_at,
        from {{ this }}
        group by all
    ),

    late as (
        select distinct messages.snapshot_date
        from messages
        inner join stored on messages.snapshot_date = stored.snapshot_date
        where messages.enriched_at > stored.built_at
    ),
{% endif %}

todo as (
    select
        runs.snapshot_date,
        runs.settings_fingerprint,
    from runs
    {% if is_incremental() %}
        left join stored on runs.snapshot_date = stored.snapshot_date
        where
            stored.snapshot_date is null
            or runs.snapshot_date >= (select max(stored_dates.snapshot_date) from stored as stored_dates)
            or runs.settings_fingerprint is distinct from stored.community_fingerprint
            or runs.snapshot_date in (select late.snapshot_date from late)
    {% endif %}
),

window_terms as (
    -- One row per message, group and term of the snapshots to build: only the columns
    -- the counts need, the snapshots filtered before the join with the terms.
    select
        messages.snapshot_date,
        messages.group_kind,
        messages.community_id,
        messages.is_in_window,
        messages.is_in_snapshot_week,
        messages.is_in_baseline,
        terms.term,
        terms.term_count,
    from messages
    inner join terms on messages.content_id = terms.content_id
    where messages.snapshot_date in (select todo.snapshot_date from todo)
),

week_terms as (
    -- The same for the snapshot's week alone (a fifth of the rows): the distinct
    -- authors, the costly part, are counted over these only. A second join rather than
    -- a filter of window_terms, so that no 60M-row intermediate is materialised.
    select
        messages.snapshot_date,
        messages.group_kind,
        messages.community_id,
        messages.author_user_id,
        terms.term,
    from messages
    inner join terms on messages.content_id = terms.content_id
    where
        messages.is_in_snapshot_week
        and messages.snapshot_date in (select todo.snapshot_date from todo)
),

counts as (
    select
        snapshot_date,
        group_kind,
        community_id,
        term,
        coalesce(sum(term_count) filter (where is_in_window), 0) as window_term_frequency,
        count(*) filter (where is_in_window) as count_window_messages,
        count(*) filter (where is_in_snapshot_week) as count_week_messages,
        count(*) filter (where is_in_baseline) as count_baseline_messages,
    from window_terms
    group by all
),

week_authors as (
    select
        snapshot_date,
        group_kind,
        community_id,
        term,
        count(distinct author_user_id) as count_week_authors,
    from week_terms
    group by all
),

final as (
    select
        counts.snapshot_date,
        counts.group_kind,
        counts.community_id,
        counts.term,
        counts.window_term_frequency,
        counts.count_window_messages,
        counts.count_week_messages,
        coalesce(week_authors.count_week_authors, 0) as count_week_authors,
        counts.count_baseline_messages,
        todo.settings_fingerprint as community_fingerprint,
        current_localtimestamp() as built_at,
    from counts
    inner join todo on counts.snapshot_date = todo.snapshot_date
    left join week_authors
        on
            counts.snapshot_date = week_authors.snapshot_date
            and counts.group_kind = week_authors.group_kind
            and counts.community_id = week_authors.community_id
            and counts.term = week_authors.term
)

select * from final
