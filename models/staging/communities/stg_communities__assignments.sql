-- Members of detected communities per snapshot. Fringe users (assigned by the detection
-- but too weakly tied to their community, see stg_communities__fringe_assignments) are
-- left out here, so no KPI, health figure or target list downstream counts them.
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
    where membership_status = 'member'
)

select * from final
