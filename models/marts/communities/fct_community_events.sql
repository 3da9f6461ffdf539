-- Lifecycle events of detected communities, as found when each weekly snapshot was
-- matched to the previous one by member overlap.
with

events as (
    select * from {{ ref('stg_communities__events') }}
),

final as (
    select
        snapshot_date as event_date,
        community_id,
        event_type,
        related_community_id,
        size_before,
        size_after,
        overlap,
    from events
)

select * from final
