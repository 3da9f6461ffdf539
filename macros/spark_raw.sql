{% macro register_raw_parquet_tables() -%}
    {#-
        on-run-start of the spark target: the raw layer as external Parquet tables
        raw.<table>, one per folder that orchestration/lib/raw/parquet_export.py wrote
        under SMALLGROUPS_RAW_PARQUET_DIR (the contract's tables and _malformed_lines), so
        the sources of _product__sources.yml resolve on Spark as the loader's views do on
        DuckDB. Dropping an external table leaves its files. Renders nothing on DuckDB,
        whose raw views the `raw` Dagster asset creates.
    -#}
    {%- if execute and target.type == 'spark' -%}
        {%- set root = env_var('SMALLGROUPS_RAW_PARQUET_DIR', 'data/raw_parquet') -%}
        {%- do run_query('create database if not exists raw') -%}
        {%- for table_name in var('raw_tables') + ['_malformed_lines'] -%}
            {%- do run_query('drop table if exists raw.`' ~ table_name ~ '`') -%}
            {%- do run_query(
                'create table raw.`' ~ table_name ~ '` using parquet location \''
                ~ root ~ '/' ~ table_name ~ '\''
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
