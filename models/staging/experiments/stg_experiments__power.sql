with

source as (
    select * from {{ source('experiments', 'experiment_power') }}
),

final as (
    select * from source
)

select * from final
