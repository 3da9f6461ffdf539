with

source as (
    select * from {{ source('communities', 'community_events') }}
),

final as (
    select * from source
)

select * from final
