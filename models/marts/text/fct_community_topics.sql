{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='snapshot_date',
        post_hook=["{{ delete_gone_snapshots() }}"],
    )
}}
-- What each group talks about at every weekly snapshot: the terms (words and
-- two-word phrases) of its window's messages that characterise it against the other
-- groups of the same kind, by class-based TF-IDF as in BERTopic: all messages of a
-- group form one class; score = (term occurrences in the class / all term occurrences
-- in the class) x ln(1 + average class size / occurrences of the term in all classes),
-- so words every group uses score low. Terms in fewer than var('topic_min_messages')
-- messages are ignored, and a term contained in a longer candidate that covers most of
-- its messages gives way to it ("getting" to "getting stuck"). Same definition as
-- the Python reference orchestration.lib.evaluation.topics_reference.community_terms
-- (an end-to-end test compares them). Examples: the most recent messages using the term
-- (ties broken by the larger id). Incremental: only snapshots whose term counts were
-- rebuilt are recomputed.
--
-- Speed: DuckDB materialises every CTE by default. The CTEs that only filter a stored
-- table (term counts, messages, terms) are `not materialized`: each reader scans the
-- table (a columnar scan of 22M rows costs ~2.7 s on the 30k-user warehouse) instead of
-- the query first writing a 22M-row copy, which spilled to disk (3.7 GB written).
-- So is `kept` (a join read twice: redoing it is cheaper than storing 17M rows). The
-- CTEs that aggregate (term_totals, class_totals, candidates, ...) stay materialised.
with

{% if is_incremental() %}
    rebuilt as (
        {{ snapshots_to_rebuild(ref('int_community_terms_weekly')) }}
    ),
{% endif %}

term_counts as not materialized (
    select * from {{ ref('int_community_terms_weekly') }}
    {% if is_incremental() %}
        where snapshot_date in (select rebuilt.snapshot_date from rebuilt)
    {% endif %}
),

messages as not materialized (
    -- The messages of the same snapshots (all of them on a full build: every snapshot
    -- of the runs has term counts), filtered on the small list of snapshots rather than
    -- on the term counts themselves, which would then be materialised for the filter.
    -- Only the window's messages and the columns used here.
    select
        snapshot_date,
        group_kind,
        community_id,
        content_id,
        created_at,
    from {{ ref('int_group_messages_weekly') }}
    where
        is_in_window
    {% if is_incremental() %}
        and snapshot_date in (select rebuilt.snapshot_date from rebuilt)
    {% endif %}
),

terms as not materialized (
    select * from {{ ref('stg_text__content_terms') }}
),

window_counts as not materialized (
    select
        snapshot_date,
        group_kind,
        community_id,
        term,
        window_term_frequency,
        count_window_messages,
        built_at,
    from term_counts
    where count_window_messages > 0
),

term_totals as (
    -- Terms of at least var('topic_min_messages') messages over all groups of the kind,
    -- with their occurrences in all groups (one aggregate, not windows over every row).
    select
        snapshot_date,
        group_kind,
        term,
        sum(window_term_frequency) as term_total,
    from window_counts
    group by all
    having sum(count_window_messages) >= {{ var('topic_min_messages') }}
),

kept as not materialized (
    select
        window_counts.*,
        term_totals.term_total,
    from window_counts
    inner join term_totals
        on
            window_counts.snapshot_date = term_totals.snapshot_date
            and window_counts.group_kind = term_totals.group_kind
            and window_counts.term = term_totals.term
),

class_totals as (
    select
        snapshot_date,
        group_kind,
        community_id,
        sum(window_term_frequency) as class_total,
    from kept
    group by all
),

class_sizes as (
    select
        snapshot_date,
        group_kind,
        avg(class_total) as avg_class_total,
    from class_totals
    group by all
),

snapshots_built as (
    -- Over the window rows rather than kept: every row of a snapshot is written by the
    -- same insert (one built_at), and snapshots without kept rows score nothing.
    select
        snapshot_date,
        max(built_at) as terms_built_at,
    from window_counts
    group by all
),

group_messages as (
    select
        snapshot_date,
        group_kind,
        community_id,
        count(*) as count_group_messages,
    from messages
    group by all
),

scored as (
    select
        kept.*,
        class_totals.class_total,
        snapshots_built.terms_built_at,
        kept.window_term_frequency / class_totals.class_total
        * ln(1 + class_sizes.avg_class_total / kept.term_total) as score,
    from kept
    inner join class_totals
        on
            kept.snapshot_date = class_totals.snapshot_date
            and kept.group_kind = class_totals.group_kind
            and kept.community_id = class_totals.community_id
    inner join class_sizes
        on
            kept.snapshot_date = class_sizes.snapshot_date
            and kept.group_kind = class_sizes.group_kind
    inner join snapshots_built on kept.snapshot_date = snapshots_built.snapshot_date
),

candidate_lists as (
    -- Each group's 3 x var('topic_terms_per_community') best terms (score, then term):
    -- a top-n aggregate, one pass over the scored rows instead of sorting them all.
    select
        snapshot_date,
        group_kind,
        community_id,
        min_by(
            struct_pack(term, score, count_window_messages, terms_built_at),
            row(-{{ rank_key('score') }}, term),
            3 * {{ var('topic_terms_per_community') }}
        ) as candidate_terms,
    from scored
    group by all
),

candidates as (
    select
        snapshot_date,
        group_kind,
        community_id,
        -- One column per field of the struct (no alias to give).
        unnest(candidate_terms, recursive := true),  -- noqa: AL03
    from candidate_lists
),

candidate_parts as (
    -- Every proper prefix and suffix of each candidate: a term it can absorb is one of
    -- them, so `absorbed` joins on equality instead of testing every pair of a group
    -- (a part found twice, as 'aa' -> 'a', joins twice: `absorbed` is distinct).
    select
        snapshot_date,
        group_kind,
        community_id,
        term,
        count_window_messages,
        unnest(
            [left(term, part_length) for part_length in range(1, length(term))]
            || [right(term, part_length) for part_length in range(1, length(term))]
        ) as part,
    from candidates
),

absorbed as (
    -- A term gives way to a longer candidate that contains it at one end (an English
    -- word up to a space, an all-Chinese term directly) and is used in at least
    -- var('topic_absorb_share') of its messages: one idea, one slot.
    select distinct
        shorter.snapshot_date,
        shorter.group_kind,
        shorter.community_id,
        shorter.term,
    from candidates as shorter
    inner join candidate_parts as longer
        on
            shorter.snapshot_date = longer.snapshot_date
            and shorter.group_kind = longer.group_kind
            and shorter.community_id = longer.community_id
            and shorter.term = longer.part
            and shorter.term != longer.term
            and longer.count_window_messages
            >= {{ var('topic_absorb_share') }} * shorter.count_window_messages
    where
        starts_with(longer.term, shorter.term || ' ')
        or ends_with(longer.term, ' ' || shorter.term)
        or (
            regexp_full_match(
                shorter.term, '[\x{3400}-\x{4dbf}\x{4e00}-\x{9fff}\x{f900}-\x{faff}]+'
            )
            and (starts_with(longer.term, shorter.term) or ends_with(longer.term, shorter.term))
        )
),

ranked as (
    select
        candidates.*,
        row_number() over (
            partition by candidates.snapshot_date, candidates.group_kind, candidates.community_id
            order by {{ rank_key('candidates.score') }} desc, candidates.term asc
        ) as term_rank,
    from candidates
    anti join absorbed
        on
            candidates.snapshot_date = absorbed.snapshot_date
            and candidates.group_kind = absorbed.group_kind
            and candidates.community_id = absorbed.community_id
            and candidates.term = absorbed.term
),

top_terms as (
    select * from ranked
    where term_rank <= {{ var('topic_terms_per_community') }}
),

top_term_contents as (
    -- Only the message terms that are someone's top term: the terms are filtered
    -- before they meet the messages.
    select
        terms.content_id,
        terms.term,
    from terms
    where terms.term in (select distinct top_terms.term from top_terms)
),

examples as (
    -- The most recent window messages using each kept term (ties: the larger id).
    select
        messages.snapshot_date,
        messages.group_kind,
        messages.community_id,
        top_term_contents.term,
        max_by(
            messages.content_id,
            strftime(messages.created_at, '%Y%m%d%H%M%S%f') || messages.content_id,
            {{ var('topic_examples') }}
        ) as example_content_ids,
    from messages
    inner join top_term_contents on messages.content_id = top_term_contents.content_id
    semi join top_terms
        on
            messages.snapshot_date = top_terms.snapshot_date
            and messages.group_kind = top_terms.group_kind
            and messages.community_id = top_terms.community_id
            and top_term_contents.term = top_terms.term
    group by all
),

final as (
    select
        ranked.snapshot_date,
        ranked.group_kind,
        ranked.community_id,
        ranked.term_rank,
        ranked.term,
        round(ranked.score, 8) as score,
        ranked.count_window_messages as count_messages,
        round(ranked.count_window_messages / group_messages.count_group_messages, 6)
            as share_of_messages,
        examples.example_content_ids,
        ranked.terms_built_at,
    from top_terms as ranked
    inner join group_messages
        on
            ranked.snapshot_date = group_messages.snapshot_date
            and ranked.group_kind = group_messages.group_kind
            and ranked.community_id = group_messages.community_id
    inner join examples
        on
            ranked.snapshot_date = examples.snapshot_date
            and ranked.group_kind = examples.group_kind
            and ranked.community_id = examples.community_id
            and ranked.term = examples.term
)

select * from final
