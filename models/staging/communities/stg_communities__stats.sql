with

source as (
    select * from {{ source('communities', 'community_stats') }}
),

final as (
    select * from source
)

select * from final
