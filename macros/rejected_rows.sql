{% macro rejected_rows(table_name) -%}
    {#- The rejected rows of one base model, with the raw record the base model kept. -#}
    select
        '{{ table_name }}' as source_table,
        source_key,
        rejection_reason,
        raw_record,
        _source_file as source_file,
        _source_row_number as source_row_number,
        cast(null as bigint) as source_line_number,
    from {{ ref('base_product__' ~ table_name) }}
    where rejection_reason is not null
{%- endmacro %}


{% macro backfill_raw_records(table_name) -%}
    {#- Pre-hook of an incremental base model: a table stored before base models kept the
        raw record gets the column, filled for its rejected rows from the raw source, so
        an existing warehouse keeps every reject's raw record without a full refresh. -#}
    {%- if execute and is_incremental() -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        {%- if 'raw_record' not in columns -%}
            alter table {{ this }} add column raw_record json;
            update {{ this }} as base
            set raw_record = to_json(raw_rows)
            from {{ source('product', table_name) }} as raw_rows
            where
                base.rejection_reason is not null
                and base._source_file = raw_rows._source_file
                and base._source_row_number = raw_rows._source_row_number
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
