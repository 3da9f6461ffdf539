-- Every placement the community detection wrote per snapshot: members, fringe users and
-- candidates (membership_status). The staging models split it once, members from the
-- rest, so no model downstream has to remember to filter.
with

source as (
    select * from {{ source('communities', 'community_assignments') }}
),

final as (
    select
        snapshot_date,
        user_id,
        community_id,
        membership_status
    from source
)

select * from final
