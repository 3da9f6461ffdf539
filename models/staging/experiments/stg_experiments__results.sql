with

source as (
    select * from {{ source('experiments', 'experiment_results') }}
),

final as (
    select * from source
)

select * from final
