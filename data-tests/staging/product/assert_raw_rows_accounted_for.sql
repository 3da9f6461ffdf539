{{ config(meta={"dagster": {"ref": {"name": "stg_product__rejected_rows"}}}) }}

-- Nothing is silently dropped: for every raw table (var('raw_tables'), the list of the
-- raw contract), the raw rows equal the accepted rows plus the rejected rows. Returns
-- the tables where they do not.
with

{% for table_name in var('raw_tables') %}
    counted_{{ table_name }} as (
        select
            '{{ table_name }}' as source_table,
            -- Raw records: the parsed rows plus the CSV records that could not be parsed.
            (select count(*) from {{ source('product', table_name) }})
            + (
                select count(*) from {{ source('product', 'malformed_lines') }}
                where source_table = '{{ table_name }}'
            ) as count_raw_rows,
            (select count(*) from {{ ref('stg_product__' ~ table_name) }}) as count_accepted_rows,
            (
                select count(*) from {{ ref('stg_product__rejected_rows') }}
                where source_table = '{{ table_name }}'
            ) as count_rejected_rows
    ),

{% endfor %}
final as (
    {% for table_name in var('raw_tables') %}
        select * from counted_{{ table_name }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from final
where count_raw_rows != count_accepted_rows + count_rejected_rows
