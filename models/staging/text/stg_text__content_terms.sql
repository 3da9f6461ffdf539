with

source as (
    select * from {{ source('text', 'content_terms') }}
),

final as (
    select * from source
)

select * from final
