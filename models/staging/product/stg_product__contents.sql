with

checked as (
    select * from {{ ref('base_product__contents') }}
),

final as (
    select
        {{ star_except(
            ['source_key', 'rejection_reason', 'raw_record', '_source_file', '_source_row_number']
        ) }}
    from checked
    where rejection_reason is null
)

select * from final
