with

source as (
    select * from {{ source('experiments', 'experiment_spillover_summary') }}
),

final as (
    select * from source
)

select * from final
