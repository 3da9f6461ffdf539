-- Who belongs to which group at each weekly snapshot, for detected communities and
-- declared groups alike (group_kind), so health is scored the same way for both.
-- Declared groups take the id 'group:' || group_id to stay apart from detected ids.
with

runs as (
    select * from {{ ref('stg_communities__snapshot_runs') }}
),

assignments as (
    select * from {{ ref('stg_communities__assignments') }}
),

memberships as (
    select * from {{ ref('stg_product__group_memberships') }}
),

detected as (
    select
        snapshot_date,
        'detected' as group_kind,
        community_id,
        user_id,
    from assignments
),

declared as (
    select distinct
        runs.snapshot_date,
        'declared' as group_kind,
        'group:' || memberships.group_id as community_id,
        memberships.user_id,
    from runs
    inner join memberships
        on
            cast(memberships.joined_at as date) <= runs.snapshot_date
            and (
                memberships.left_at is null
                or cast(memberships.left_at as date) > runs.snapshot_date
            )
),

unioned as (
    select * from detected
    union all
    select * from declared
),

final as (
    select
        *,
        -- The first snapshot at which the user was in this group: "new member" cohorts.
        min(snapshot_date) over (partition by group_kind, community_id, user_id)
            as first_snapshot_date,
    from unioned
)

select * from final
