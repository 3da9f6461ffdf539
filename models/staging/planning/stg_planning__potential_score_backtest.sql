with

source as (
    select * from {{ source('planning', 'potential_score_backtest') }}
),

final as (
    select * from source
)

select * from final
