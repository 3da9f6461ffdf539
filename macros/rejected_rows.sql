{% macro rejected_rows(table_name) -%}
    {#- The rejected rows of one base model, with the raw record they came from. -#}
    select
        '{{ table_name }}' as source_table,
        base.source_key,
        base.rejection_reason,
        to_json(raw_rows) as raw_record,
        base._source_file as source_file,
        base._source_row_number as source_row_number,
    from {{ ref('base_product__' ~ table_name) }} as base
    inner join {{ source('product', table_name) }} as raw_rows
        on
            base._source_file = raw_rows._source_file
            and base._source_row_number = raw_rows._source_row_number
    where base.rejection_reason is not null
{%- endmacro %}
