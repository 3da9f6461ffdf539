with

source as (
    select * from {{ source('communities', 'community_snapshot_runs') }}
),

final as (
    select * from source
)

select * from final
