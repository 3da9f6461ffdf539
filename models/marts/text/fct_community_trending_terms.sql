{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='snapshot_date',
        post_hook=["{{ delete_gone_snapshots() }}"],
    )
}}
-- Terms whose share of a group's messages rose most in the snapshot's week against
-- the var('trending_baseline_weeks') weeks before it. week_share = messages of the week
-- using the term / messages of the week; rise = week_share - baseline share (the ranking
-- key, positive only); lift = (messages + 1) / week messages over (baseline messages
-- + 1) / baseline messages. Minimum support: var('trending_min_messages') messages from
-- var('trending_min_authors') distinct authors in the week, so one chatty message is
-- no trend. Same definition as orchestration.lib.text.topics.trending_terms.
-- Incremental: only snapshots whose term counts were rebuilt are recomputed.
with

{% if is_incremental() %}
    rebuilt as (
        {{ snapshots_to_rebuild(ref('int_community_terms_weekly')) }}
    ),
{% endif %}

all_term_counts as not materialized (
    select * from {{ ref('int_community_terms_weekly') }}
    {% if is_incremental() %}
        where snapshot_date in (select rebuilt.snapshot_date from rebuilt)
    {% endif %}
),

messages as not materialized (
    -- The messages of the same snapshots (all of them on a full build: every snapshot
    -- of the runs has term counts), filtered on the small list of snapshots rather than
    -- on the term counts themselves, which would then be materialised for the filter.
    select * from {{ ref('int_group_messages_weekly') }}
    {% if is_incremental() %}
        where snapshot_date in (select rebuilt.snapshot_date from rebuilt)
    {% endif %}
),

term_counts as (
    -- Terms of the snapshot's week with enough support (messages and distinct authors).
    select
        snapshot_date,
        group_kind,
        community_id,
        term,
        count_week_messages as count_messages,
        count_week_authors as count_authors,
        count_baseline_messages,
        max(built_at) over (partition by snapshot_date) as terms_built_at,
    from all_term_counts
    where
        count_week_messages >= {{ var('trending_min_messages') }}
        and count_week_authors >= {{ var('trending_min_authors') }}
),

group_totals as (
    select
        snapshot_date,
        group_kind,
        community_id,
        count(*) filter (where is_in_snapshot_week) as count_week_messages,
        count(*) filter (where is_in_baseline) as count_baseline_messages,
    from messages
    group by all
),

scored as (
    select
        term_counts.snapshot_date,
        term_counts.group_kind,
        term_counts.community_id,
        cast(date_trunc('week', term_counts.snapshot_date) as date) as week_start_date,
        term_counts.term,
        term_counts.count_messages,
        term_counts.count_authors,
        term_counts.terms_built_at,
        term_counts.count_messages / group_totals.count_week_messages as week_share,
        coalesce(
            term_counts.count_baseline_messages / nullif(group_totals.count_baseline_messages, 0),
            0
        ) as baseline_share,
        ((term_counts.count_messages + 1) / group_totals.count_week_messages)
        / ((term_counts.count_baseline_messages + 1) / greatest(group_totals.count_baseline_messages, 1))
            as lift,
    from term_counts
    inner join group_totals
        on
            term_counts.snapshot_date = group_totals.snapshot_date
            and term_counts.group_kind = group_totals.group_kind
            and term_counts.community_id = group_totals.community_id
),

ranked as (
    select
        *,
        week_share - baseline_share as rise,
        row_number() over (
            partition by snapshot_date, group_kind, community_id
            order by {{ rank_key('week_share - baseline_share') }} desc, term asc
        ) as term_rank,
    from scored
    where week_share - baseline_share > 0
),

final as (
    select
        snapshot_date,
        group_kind,
        community_id,
        week_start_date,
        term_rank,
        term,
        count_messages,
        count_authors,
        round(week_share, 6) as week_share,
        round(baseline_share, 6) as baseline_share,
        round(rise, 6) as rise,
        round(lift, 6) as lift,
        terms_built_at,
    from ranked
    where term_rank <= {{ var('trending_terms_per_community') }}
)

select * from final
