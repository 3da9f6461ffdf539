-- One row per group that is scored: every detected community ever seen and every
-- declared group, with when it was first and last seen, its size and status at the
-- latest snapshot, for detected communities the declared group it overlaps most, and a
-- readable label for every group. A detected community is named once, at the first
-- snapshot where it has topics (its naming snapshot), so the label stays while the
-- community keeps its id: its top var('community_label_terms') topic terms joined by
-- ' · ' (when its terms are in two scripts, Han and other, and the second holds at
-- least var('community_label_second_language_share') of the top terms' messages, the
-- last place goes to the second script's top term: a bilingual label), then
-- ' ~ ' and the declared group it overlapped most at that snapshot, if their Jaccard
-- overlap reached var('community_label_min_jaccard'). A community without topics is
-- named by the declared group it overlapped most at its first snapshot, or
-- 'community c1a2b3' from its id. Two
-- communities with the same label: the later-born one (then by id) gets ' #2', ...
-- Declared groups are labelled by their name.
with

members as (
    select * from {{ ref('int_group_members_weekly') }}
),

runs as (
    select * from {{ ref('stg_communities__snapshot_runs') }}
),

groups as (
    select * from {{ ref('stg_product__groups') }}
),

overlap as (
    select * from {{ ref('fct_declared_group_overlap') }}
),

topics as (
    select * from {{ ref('fct_community_topics') }}
    where group_kind = 'detected'
),

latest as (
    select max(snapshot_date) as snapshot_date from runs
),

sizes as (
    select
        group_kind,
        community_id,
        snapshot_date,
        count(*) as count_members,
    from members
    group by all
),

lifetimes as (
    select
        sizes.group_kind,
        sizes.community_id,
        min(sizes.snapshot_date) as first_seen_date,
        max(sizes.snapshot_date) as last_seen_date,
        count(*) as count_snapshots,
        max(sizes.count_members) as max_count_members,
        max(sizes.count_members) filter (where sizes.snapshot_date = latest.snapshot_date)
            as count_members,
    from sizes
    cross join latest
    group by all
),

best_declared_match as (
    select
        community_id,
        arg_max(group_id, jaccard) as best_declared_group_id,
        max(jaccard) as best_declared_jaccard,
    from overlap
    where community_id is not null
    group by community_id
),

first_topics as (
    select
        community_id,
        min(snapshot_date) as snapshot_date,
    from topics
    group by all
),

naming_snapshots as (
    -- The first snapshot with topics, else the first with members.
    select
        lifetimes.community_id,
        coalesce(first_topics.snapshot_date, lifetimes.first_seen_date) as snapshot_date,
    from lifetimes
    left join first_topics on lifetimes.community_id = first_topics.community_id
    where lifetimes.group_kind = 'detected'
),

naming_terms as (
    select
        topics.community_id,
        topics.term,
        topics.term_rank,
        topics.count_messages,
        regexp_matches(topics.term, '\p{Han}') as is_han,
    from topics
    inner join naming_snapshots
        on
            topics.community_id = naming_snapshots.community_id
            and topics.snapshot_date = naming_snapshots.snapshot_date
    where topics.term_rank <= 2 * {{ var('community_label_terms') }}
),

scripts as (
    select
        community_id,
        coalesce(sum(count_messages) filter (where is_han), 0) / sum(count_messages) as han_share,
    from naming_terms
    group by all
),

terms_by_script as (
    select
        naming_terms.*,
        naming_terms.is_han = (scripts.han_share >= 0.5) as is_main_script,
        least(scripts.han_share, 1 - scripts.han_share)
        >= {{ var('community_label_second_language_share') }} as is_bilingual,
        row_number() over (
            partition by naming_terms.community_id, naming_terms.is_han
            order by naming_terms.term_rank
        ) as rank_in_script,
    from naming_terms
    inner join scripts on naming_terms.community_id = scripts.community_id
),

label_terms as (
    select
        community_id,
        string_agg(term, ' · ' order by not is_main_script, term_rank) as terms_label,
    from terms_by_script
    where
        (
            is_main_script
            and rank_in_script
            <= {{ var('community_label_terms') }} - case when is_bilingual then 1 else 0 end
        )
        or (not is_main_script and is_bilingual and rank_in_script = 1)
    group by all
),

naming_members as (
    select
        members.community_id,
        members.snapshot_date,
        members.user_id,
    from members
    inner join naming_snapshots
        on
            members.community_id = naming_snapshots.community_id
            and members.snapshot_date = naming_snapshots.snapshot_date
    where members.group_kind = 'detected'
),

declared_at_naming as (
    select
        snapshot_date,
        community_id as declared_community_id,
        user_id,
    from members
    where
        group_kind = 'declared'
        and snapshot_date in (select naming_snapshots.snapshot_date from naming_snapshots)
),

naming_overlap as (
    select
        naming_members.community_id,
        naming_members.snapshot_date,
        declared_at_naming.declared_community_id,
        count(*) as count_shared,
    from naming_members
    inner join declared_at_naming
        on
            naming_members.snapshot_date = declared_at_naming.snapshot_date
            and naming_members.user_id = declared_at_naming.user_id
    group by all
),

naming_jaccard as (
    select
        naming_overlap.community_id,
        naming_overlap.declared_community_id,
        naming_overlap.count_shared
        / (
            community_sizes.count_members + declared_sizes.count_members
            - naming_overlap.count_shared
        ) as jaccard,
    from naming_overlap
    inner join sizes as community_sizes
        on
            naming_overlap.community_id = community_sizes.community_id
            and naming_overlap.snapshot_date = community_sizes.snapshot_date
            and community_sizes.group_kind = 'detected'
    inner join sizes as declared_sizes
        on
            naming_overlap.declared_community_id = declared_sizes.community_id
            and naming_overlap.snapshot_date = declared_sizes.snapshot_date
            and declared_sizes.group_kind = 'declared'
),

naming_declared_match as (
    select
        community_id,
        substr(declared_community_id, 7) as group_id,
    from naming_jaccard
    where jaccard >= {{ var('community_label_min_jaccard') }}
    qualify row_number() over (
        partition by community_id
        order by jaccard desc, declared_community_id asc
    ) = 1
),

base_labels as (
    select
        lifetimes.community_id,
        lifetimes.group_kind,
        lifetimes.first_seen_date,
        case
            when lifetimes.group_kind = 'declared'
                then coalesce(groups.name, groups.group_id)
            when label_terms.terms_label is not null and matched_group.group_id is not null
                then
                    label_terms.terms_label || ' ~ '
                    || coalesce(matched_group.name, matched_group.group_id)
            when label_terms.terms_label is not null then label_terms.terms_label
            when matched_group.group_id is not null
                then '~ ' || coalesce(matched_group.name, matched_group.group_id)
            else 'community ' || substr(lifetimes.community_id, 1, 7)
        end as base_label,
    from lifetimes
    left join groups
        on lifetimes.community_id = 'group:' || groups.group_id
    left join label_terms
        on lifetimes.community_id = label_terms.community_id
    left join naming_declared_match
        on lifetimes.community_id = naming_declared_match.community_id
    left join groups as matched_group
        on naming_declared_match.group_id = matched_group.group_id
),

numbered_labels as (
    select
        *,
        row_number() over (
            partition by base_label order by first_seen_date, group_kind, community_id
        ) as label_number,
    from base_labels
),

labels as (
    select
        community_id,
        group_kind,
        base_label
        || case when label_number > 1 then ' #' || label_number else '' end as community_label,
    from numbered_labels
),

final as (
    select
        lifetimes.community_id,
        lifetimes.group_kind,
        case when lifetimes.group_kind = 'declared' then groups.group_id end as group_id,
        case
            when lifetimes.group_kind = 'declared' then groups.name
        end as group_name,
        case
            when lifetimes.group_kind = 'declared' then groups.category
        end as group_category,
        lifetimes.first_seen_date,
        lifetimes.last_seen_date,
        lifetimes.count_snapshots,
        coalesce(lifetimes.count_members, 0) as count_members,
        lifetimes.max_count_members,
        case
            when lifetimes.last_seen_date = latest.snapshot_date then 'active'
            when lifetimes.group_kind = 'declared' then 'empty'
            else 'dissolved'
        end as community_status,
        best_declared_match.best_declared_group_id,
        best_declared_match.best_declared_jaccard,
        labels.community_label,
    from lifetimes
    cross join latest
    left join groups
        on lifetimes.community_id = 'group:' || groups.group_id
    left join best_declared_match
        on lifetimes.community_id = best_declared_match.community_id
    inner join labels
        on
            lifetimes.community_id = labels.community_id
            and lifetimes.group_kind = labels.group_kind
)

select * from final
