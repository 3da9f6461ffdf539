with

source as (
    select * from {{ source('communities', 'community_member_metrics') }}
),

final as (
    select * from source
)

select * from final
