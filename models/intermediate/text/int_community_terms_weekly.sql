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
-- depends_on: {{ ref('int_group_messages_weekly') }}
-- (read only on an incremental run, for late messages; the hint keeps it upstream.)
-- Term counts behind topics and trending terms, per snapshot, group and term (see
-- the model's description for what an incremental refresh recomputes). The messages
-- and groups are those of int_group_messages_weekly (accepted and enriched messages;
-- a detected community holds its members' messages at the snapshot, a declared group
-- the messages posted in it), read here from the same staging models. Only the rows a
-- mart reads are kept (see `kept_` below): 57% of them on 10k users x 180 days.
--
-- Speed: a message lies in the range of about five snapshots (window and baseline).
-- Each message is joined with its terms once, in its period: a calendar week, or the
-- part of one on one side of a snapshot's window start (a provisional snapshot's
-- window does not start on a Monday). Its counts are summed per period and author
-- (detected communities are per snapshot, members are per author) and per period and
-- declared group, with the terms as integer ids; a snapshot's counts are the sums over
-- its periods, and its week's distinct authors are counted once in the week's period.
-- Every period of a snapshot lies on one side of each of its boundaries (window start,
-- week start), so its flags are the period's. The strings come back in `final`.
-- The snapshots are summed in `batches` round-robin batches, one aggregate each (one
-- aggregate over all snapshots outgrows the memory limit and spills); a batch's rows
-- depend only on its snapshots, so the result is the same for any number of batches.
{%- set batches = 3 %}
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

contents as not materialized (
    select * from {{ ref('stg_product__contents') }}
),

enriched as not materialized (
    select * from {{ ref('stg_text__contents_enriched') }}
),

terms as not materialized (
    select * from {{ ref('stg_text__content_terms') }}
),

assignments as not materialized (
    select * from {{ ref('stg_communities__assignments') }}
),

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

snapshots as (
    -- The same dates as int_group_messages_weekly.
    select
        snapshot_date,
        batch,
        {{ text_snapshot_dates('snapshot_date') }},
    from todo
),

snapshot_days as (
    select
        snapshot_date,
        batch,
        week_start_date,
        window_start_date,
        cast(unnest(generate_series(first_date, snapshot_date, interval 1 day)) as date) as calendar_date,
    from snapshots
),

snapshot_day_flags as (
    select
        snapshot_date,
        batch,
        calendar_date,
        cast(date_trunc('week', calendar_date) as date) as period_week_start_date,
        calendar_date >= window_start_date as is_in_window,
        calendar_date >= week_start_date as is_in_snapshot_week,
        calendar_date < week_start_date as is_in_baseline,
    from snapshot_days
),

snapshot_periods_dated as (
    -- A snapshot's days cut by calendar week and by its flags: whole weeks but where its
    -- window starts mid-week.
    select
        snapshot_date,
        batch,
        period_week_start_date,
        is_in_window,
        is_in_snapshot_week,
        is_in_baseline,
        min(calendar_date) as period_start_date,
        max(calendar_date) as period_end_date,
    from snapshot_day_flags
    group by all
),

periods as (
    select
        period_week_start_date,
        period_start_date,
        period_end_date,
        row_number() over (order by period_start_date, period_end_date) as period_id,
    from (
        select distinct
            period_week_start_date,
            period_start_date,
            period_end_date,
        from snapshot_periods_dated
    ) as distinct_periods
),

snapshot_periods as (
    select
        snapshot_periods_dated.snapshot_date,
        snapshot_periods_dated.batch,
        snapshot_periods_dated.is_in_window,
        snapshot_periods_dated.is_in_snapshot_week,
        snapshot_periods_dated.is_in_baseline,
        periods.period_id,
    from snapshot_periods_dated
    inner join periods
        on
            snapshot_periods_dated.period_start_date = periods.period_start_date
            and snapshot_periods_dated.period_end_date = periods.period_end_date
),

period_messages as (
    select
        periods.period_id,
        contents.content_id,
        contents.author_user_id,
        contents.group_id,
    from contents
    inner join periods
        on
            cast(date_trunc('week', contents.created_at) as date) = periods.period_week_start_date
            and contents.created_at >= periods.period_start_date
            and contents.created_at < periods.period_end_date + 1
    inner join enriched on contents.content_id = enriched.content_id
),

message_terms as (
    -- Each message once per period (once in all but for a split week), with its terms.
    select
        period_messages.period_id,
        period_messages.author_user_id,
        period_messages.group_id,
        terms.term,
        terms.term_count,
    from period_messages
    inner join terms on period_messages.content_id = terms.content_id
),

term_ids as (
    select
        term,
        row_number() over (order by term) as term_id,
    from (select distinct message_terms.term from message_terms) as distinct_terms
),

author_terms as (
    select
        message_terms.period_id,
        message_terms.author_user_id,
        term_ids.term_id,
        sum(message_terms.term_count) as term_frequency,
        count(*) as count_messages,
    from message_terms
    inner join term_ids on message_terms.term = term_ids.term
    group by all
),

group_terms as (
    select
        message_terms.period_id,
        message_terms.group_id,
        term_ids.term_id,
        sum(message_terms.term_count) as term_frequency,
        count(*) as count_messages,
        count(distinct message_terms.author_user_id) as count_authors,
    from message_terms
    inner join term_ids on message_terms.term = term_ids.term
    where message_terms.group_id is not null
    group by all
),

{% for batch in range(batches) %}
    snapshot_terms_{{ batch }} as not materialized (
        -- The batch's snapshots with the counts of their periods: per author in a member's
        -- community (author_terms has one row per author, period and term, and the
        -- snapshot's week is one period, so a row is one of the week's distinct authors),
        -- and per declared group (its distinct authors of the period).
        select
            snapshot_periods.*,
            'detected' as group_kind,
            assignments.community_id,
            author_terms.term_id,
            author_terms.term_frequency,
            author_terms.count_messages,
            1 as count_authors,
        from snapshot_periods
        inner join author_terms on snapshot_periods.period_id = author_terms.period_id
        inner join assignments
            on
                snapshot_periods.snapshot_date = assignments.snapshot_date
                and author_terms.author_user_id = assignments.user_id
        where snapshot_periods.batch = {{ batch }}
        union all
        select
            snapshot_periods.*,
            'declared' as group_kind,
            group_terms.group_id as community_id,
            group_terms.term_id,
            group_terms.term_frequency,
            group_terms.count_messages,
            group_terms.count_authors,
        from snapshot_periods
        inner join group_terms on snapshot_periods.period_id = group_terms.period_id
        where snapshot_periods.batch = {{ batch }}
    ),

    counts_{{ batch }} as (
        -- Read twice (its term totals, its rows): materialised, one batch at a time.
        select
            snapshot_date,
            group_kind,
            community_id,
            term_id,
            sum(term_frequency) filter (where is_in_window) as window_term_frequency,
            sum(count_messages) filter (where is_in_window) as count_window_messages,
            sum(count_messages) filter (where is_in_snapshot_week) as count_week_messages,
            sum(count_authors) filter (where is_in_snapshot_week) as count_week_authors,
            sum(count_messages) filter (where is_in_baseline) as count_baseline_messages,
        from snapshot_terms_{{ batch }}
        group by snapshot_date, group_kind, community_id, term_id
    ),

    topic_terms_{{ batch }} as (
        -- Terms of at least var('topic_min_messages') window messages over all groups of
        -- the kind: the only ones fct_community_topics scores.
        select
            snapshot_date,
            group_kind,
            term_id,
        from counts_{{ batch }}
        group by all
        having sum(count_window_messages) >= {{ var('topic_min_messages') }}
    ),

    kept_{{ batch }} as not materialized (
        -- The rows a mart reads: window rows of those terms (topics) and rows with the
        -- trending support (fct_community_trending_terms). The others (baseline-only
        -- rows, rare terms) are left out.
        select counts.*,
        from counts_{{ batch }} as counts
        left join topic_terms_{{ batch }} as topic_terms
            on
                counts.snapshot_date = topic_terms.snapshot_date
                and counts.group_kind = topic_terms.group_kind
                and counts.term_id = topic_terms.term_id
        where
            (counts.count_window_messages > 0 and topic_terms.term_id is not null)
            or (
                counts.count_week_messages >= {{ var('trending_min_messages') }}
                and counts.count_week_authors >= {{ var('trending_min_authors') }}
            )
    ),
{% endfor %}

counts as not materialized (
    {% for batch in range(batches) %}
        select * from kept_{{ batch }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        counts.snapshot_date,
        counts.group_kind,
        if(counts.group_kind = 'declared', 'group:' || counts.community_id, counts.community_id)
            as community_id,
        term_ids.term,
        -- The types of the per-message counts (a sum of term counts, counts of rows).
        cast(coalesce(counts.window_term_frequency, 0) as hugeint) as window_term_frequency,
        cast(coalesce(counts.count_window_messages, 0) as bigint) as count_window_messages,
        cast(coalesce(counts.count_week_messages, 0) as bigint) as count_week_messages,
        cast(coalesce(counts.count_week_authors, 0) as bigint) as count_week_authors,
        cast(coalesce(counts.count_baseline_messages, 0) as bigint) as count_baseline_messages,
        todo.settings_fingerprint as community_fingerprint,
        current_localtimestamp() as built_at,
    from counts
    inner join term_ids on counts.term_id = term_ids.term_id
    inner join todo on counts.snapshot_date = todo.snapshot_date
)

select * from final
