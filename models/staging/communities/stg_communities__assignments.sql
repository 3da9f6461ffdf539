with

source as (
    select * from {{ source('communities', 'community_assignments') }}
),

final as (
    select * from source
)

select * from final
