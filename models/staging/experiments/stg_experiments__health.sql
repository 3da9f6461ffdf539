with

source as (
    select * from {{ source('experiments', 'experiment_health') }}
),

final as (
    select * from source
)

select * from final
