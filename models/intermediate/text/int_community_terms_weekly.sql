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
--
-- Speed: one (message, group, term) row per snapshot is ~17 rows per message and
-- snapshot (67M rows, 25M groups on 30k users x 180 days). Counted in one aggregate,
-- that hash table outgrows the memory limit and spills (10x slower); so the snapshots
-- to build are counted in `batches` round-robin batches of about a third of a month's
-- snapshots each, one aggregate per batch, and the week's distinct authors over the
-- week's rows alone. A batch's rows depend only on its snapshots: the result is the
-- same for any number of batches. The message and term tables are read by each batch
-- directly (a CTE read by several batches would be materialised in full).
-- The per-batch CTEs are `not materialized` (DuckDB materialises every CTE by default:
-- each batch's counts would be copied once more before the insert).
{%- set batches = 9 %}
with

runs as (
    select * from {{ ref('stg_communities__snapshot_runs') }}
),

{% if is_incremental() %}
    messages as (
        select * from {{ ref('int_group_messages_weekly') }}
    ),

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
        -- Round-robin batches of snapshots (see the loop below).
        (dense_rank() over (order by runs.snapshot_date) - 1) % {{ batches }} as batch,
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

{% for batch in range(batches) %}
    counts_{{ batch }} as not materialized (
        select
            messages.snapshot_date,
            messages.group_kind,
            messages.community_id,
            terms.term,
            coalesce(sum(terms.term_count) filter (where messages.is_in_window), 0)
                as window_term_frequency,
            count(*) filter (where messages.is_in_window) as count_window_messages,
            count(*) filter (where messages.is_in_snapshot_week) as count_week_messages,
            count(*) filter (where messages.is_in_baseline) as count_baseline_messages,
        from {{ ref('int_group_messages_weekly') }} as messages
        inner join {{ ref('stg_text__content_terms') }} as terms
            on messages.content_id = terms.content_id
        inner join todo
            on messages.snapshot_date = todo.snapshot_date and todo.batch = {{ batch }}
        group by all
    ),

    week_authors_{{ batch }} as not materialized (
        -- Distinct authors over the week's rows only (a distinct count is the costly part).
        select
            messages.snapshot_date,
            messages.group_kind,
            messages.community_id,
            terms.term,
            count(distinct messages.author_user_id) as count_week_authors,
        from {{ ref('int_group_messages_weekly') }} as messages
        inner join {{ ref('stg_text__content_terms') }} as terms
            on messages.content_id = terms.content_id
        inner join todo
            on messages.snapshot_date = todo.snapshot_date and todo.batch = {{ batch }}
        where messages.is_in_snapshot_week
        group by all
    ),

    batch_{{ batch }} as not materialized (
        select
            counts.*,
            coalesce(week_authors.count_week_authors, 0) as count_week_authors,
        from counts_{{ batch }} as counts
        left join week_authors_{{ batch }} as week_authors
            on
                counts.snapshot_date = week_authors.snapshot_date
                and counts.group_kind = week_authors.group_kind
                and counts.community_id = week_authors.community_id
                and counts.term = week_authors.term
    ),
{% endfor %}

counts as not materialized (
    {% for batch in range(batches) %}
        select * from batch_{{ batch }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
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
        counts.count_week_authors,
        counts.count_baseline_messages,
        todo.settings_fingerprint as community_fingerprint,
        current_localtimestamp() as built_at,
    from counts
    inner join todo on counts.snapshot_date = todo.snapshot_date
)

select * from final
