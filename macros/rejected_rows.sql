{% macro rejected_rows(table_name) -%}
    {#- The rejected rows of one base model, with the raw record the base model kept. -#}
    select
        '{{ table_name }}' as source_table,
        source_key,
        rejection_reason,
        raw_record,
        _source_file as source_file,
        _source_row_number as source_row_number,
        cast(null as bigint) as source_line_number
    from {{ ref('base_product__' ~ table_name) }}
    where rejection_reason is not null
{%- endmacro %}


{% macro backfill_raw_records(table_name) -%}
    {#- Pre-hook of an incremental base model: a table stored before base models kept the
        raw record gets the column, filled for its rejected rows from the raw source, so
        an existing warehouse keeps every reject's raw record without a full refresh.
        DuckDB only: a warehouse on another engine never had the older layout. -#}
    {%- if execute and is_incremental() and target.type == 'duckdb' -%}
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


{% macro relativize_source_files(table_name) -%}
    {#- Pre-hook of an incremental base model: a table stored when _source_file was the
        file's absolute path gets the path relative to the raw folder instead (once:
        afterwards no stored path is absolute), so the incremental filter does not take
        every stored file for a new one. A stored path becomes the relative path of the
        file it ends with in the raw folder now (the longest); one no longer there keeps
        what follows the last '/<table>/' or its own name. DuckDB only, as above. -#}
    {%- if execute and is_incremental() and target.type == 'duckdb' -%}
        {%- set query -%}
            select count(*) from {{ this }} where starts_with(_source_file, '/')
        {%- endset -%}
        {%- if run_query(query).columns[0].values()[0] > 0 -%}
            update {{ this }} as base
            set _source_file = matched.relative_file
            from (
                select
                    stored.absolute_file,
                    arg_max(raw_files._source_file, length(raw_files._source_file)) as relative_file
                from (
                    select distinct _source_file as absolute_file from {{ this }}
                    where starts_with(_source_file, '/')
                ) as stored
                inner join (
                    select distinct _source_file from {{ source('product', table_name) }}
                ) as raw_files
                    on ends_with(stored.absolute_file, '/' || raw_files._source_file)
                group by stored.absolute_file
            ) as matched
            where base._source_file = matched.absolute_file;
            update {{ this }}
            set _source_file = regexp_replace(
                _source_file,
                '^.*/({{ table_name }}/.*|{{ table_name }}\.csv|{{ table_name }}\.parquet)$',
                '\1'
            )
            where starts_with(_source_file, '/')
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{% macro forget_changed_source_files(table_name) -%}
    {#- Pre-hook of an incremental base model that reads only the raw files it has not
        stored: the stored rows of a file whose raw row count differs from the stored one
        (a single file rewritten with more rows, e.g. contents.parquet exported whole
        every day) are deleted, so the model reads that file again. Stored rows count
        every raw row (accepted and rejected), so an unchanged file always matches.
        A file no longer in the raw folder keeps its rows. -#}
    {%- if execute and is_incremental() -%}
        delete from {{ this }}
        where _source_file in (
            select stored._source_file
            from (
                select _source_file, count(*) as count_rows from {{ this }}
                group by _source_file
            ) as stored
            inner join (
                select _source_file, count(*) as count_rows
                from {{ source('product', table_name) }}
                group by _source_file
            ) as raw_files
                on stored._source_file = raw_files._source_file
            where stored.count_rows != raw_files.count_rows
        )
    {%- endif -%}
{%- endmacro %}