with

source as (
    select * from {{ source('attribution', 'intervention_attribution') }}
),

final as (
    select * from source
)

select * from final
