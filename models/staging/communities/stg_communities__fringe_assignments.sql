-- Users placed in a community who are not (yet) members, per snapshot: fringe users
-- (their ties inside are no more than chance, under a third of their weight, or reach
-- fewer than DetectionSettings.min_member_neighbours members) and the members of
-- candidate communities (new and loose, awaiting a second sighting).
with

assignments as (
    select * from {{ ref('base_communities__assignments') }}
),

final as (
    select
        snapshot_date,
        user_id,
        community_id,
        membership_status
    from assignments
    where membership_status in ('fringe', 'candidate')
)

select * from final
