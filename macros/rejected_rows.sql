{% macro rejected_rows(table_name) -%}
    {#- The rejected rows of one base model, with the raw record the base model kept. -#}
    select
        '{{ table_name }}' as source_table,
        source_key,
        rejection_reason,
        raw_record,
        _source_file as source_file,
        _source_row_number as source_row_number,
    from {{ ref('base_product__' ~ table_name) }}
    where rejection_reason is not null
{%- endmacro %}
