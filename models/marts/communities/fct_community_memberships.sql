-- Membership history of detected communities: one row per spell of a user in a
-- community, valid_from the first snapshot it was seen at, valid_to the first
-- snapshot it was no longer (null while it lasts). Built from the weekly snapshots
-- (gaps and islands), so it always agrees with them.
with

assignments as (
    select * from {{ ref('stg_communities__assignments') }}
),

runs as (
    select * from {{ ref('stg_communities__snapshot_runs') }}
),

numbered_runs as (
    select
        snapshot_date,
        row_number() over (order by snapshot_date) as snapshot_number,
        lead(snapshot_date) over (order by snapshot_date) as next_snapshot_date,
    from runs
),

numbered as (
    select
        assignments.user_id,
        assignments.community_id,
        assignments.snapshot_date,
        numbered_runs.snapshot_number,
        numbered_runs.next_snapshot_date,
        -- Consecutive snapshots in the same community share this island number.
        numbered_runs.snapshot_number - row_number() over (
            partition by assignments.user_id, assignments.community_id
            order by assignments.snapshot_date
        ) as island,
    from assignments
    inner join numbered_runs on assignments.snapshot_date = numbered_runs.snapshot_date
),

with_island_end as (
    select
        *,
        max(snapshot_date) over (partition by user_id, community_id, island) as last_snapshot,
    from numbered
),

final as (
    select
        user_id,
        community_id,
        min(snapshot_date) as valid_from,
        max(next_snapshot_date) filter (where snapshot_date = last_snapshot) as valid_to,
        count(*) as count_snapshots,
    from with_island_end
    group by user_id, community_id, island
)

select * from final
