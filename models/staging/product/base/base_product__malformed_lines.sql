-- The CSV records the raw step could not parse (raw._malformed_lines), in the shape of
-- stg_product__rejected_rows: they never became a row, so they have no key and no row
-- number, only the line where the record starts.
with

source as (
    select * from {{ source('product', 'malformed_lines') }}
),

final as (
    select
        source_table,
        cast(null as string) as source_key,
        'malformed_line' as rejection_reason,
        {{ json_object_of([
            ('raw_line', 'raw_line'),
            ('error_types', 'error_types'),
            ('error_message', 'error_message'),
        ]) }} as raw_record,
        source_file,
        cast(null as bigint) as source_row_number,
        source_line_number
    from source
)

select * from final
