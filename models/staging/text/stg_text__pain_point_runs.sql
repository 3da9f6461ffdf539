with

source as (
    select * from {{ source('text', 'pain_point_runs') }}
),

final as (
    select * from source
)

select * from final
