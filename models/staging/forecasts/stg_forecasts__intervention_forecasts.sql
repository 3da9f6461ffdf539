with

source as (
    select * from {{ source('forecasts', 'intervention_forecasts') }}
),

final as (
    select * from source
)

select * from final
