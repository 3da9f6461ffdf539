with

source as (
    select * from {{ source('planning', 'potential_score_weights') }}
),

final as (
    select * from source
)

select * from final
