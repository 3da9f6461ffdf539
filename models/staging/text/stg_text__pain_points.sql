with

source as (
    select * from {{ source('text', 'community_pain_points') }}
),

final as (
    select * from source
)

select * from final
