with

source as (
    select * from {{ source('experiments', 'experiment_spillover') }}
),

final as (
    select * from source
)

select * from final
