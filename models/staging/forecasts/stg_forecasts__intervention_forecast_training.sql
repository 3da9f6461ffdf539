with

source as (
    select * from {{ source('forecasts', 'intervention_forecast_training') }}
),

final as (
    select * from source
)

select * from final
