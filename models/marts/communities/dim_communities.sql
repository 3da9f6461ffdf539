-- One row per group that is scored: every detected community ever seen and every
-- declared group, with when it was first and last seen, its size and status at the
-- latest snapshot, and for detected communities the declared group it overlaps most.
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
    from lifetimes
    cross join latest
    left join groups
        on lifetimes.community_id = 'group:' || groups.group_id
    left join best_declared_match
        on lifetimes.community_id = best_declared_match.community_id
)

select * from final
