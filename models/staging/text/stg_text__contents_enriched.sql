with

source as (
    select * from {{ source('text', 'contents_enriched') }}
),

final as (
    -- The word runs only feed the Python pain-point step.
    select * exclude (segments)
    from source
)

select * from final
