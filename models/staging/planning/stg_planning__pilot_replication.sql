with

source as (
    select * from {{ source('planning', 'pilot_replication') }}
),

final as (
    select * from source
)

select * from final
