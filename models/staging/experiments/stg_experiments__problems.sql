with

source as (
    select * from {{ source('experiments', 'experiment_problems') }}
),

final as (
    select * from source
)

select * from final
