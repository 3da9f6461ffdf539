-- Users placed in a community who are not (yet) members, per snapshot: fringe users (too
-- weakly tied to its members) and candidates (members of a new, loose community awaiting
-- a second sighting). They stay visible here (an operator may invite them in) and are
-- counted by no member figure, KPI, health score or target list.
with

fringe as (
    select * from {{ ref('stg_communities__fringe_assignments') }}
),

final as (
    select
        snapshot_date,
        community_id,
        user_id,
        membership_status,
    from fringe
)

select * from final
