-- Every raw row that staging did not accept, with the reason and the raw record.
-- Together with the stg_product__* models it accounts for every raw row
-- (data-tests/staging/product/assert_raw_rows_accounted_for.sql).
-- The raw tables come from var('raw_tables'), the list of orchestration/lib/raw/contract.py
-- (tests/raw/test_raw_tables.py checks that they agree). CSV records the raw step could
-- not parse come from base_product__malformed_lines with reason malformed_line.
with

{% for table_name in var('raw_tables') %}
    rejected_{{ table_name }} as (
        {{ rejected_rows(table_name) }}
    ),

{% endfor %}
malformed_lines as (
    select * from {{ ref('base_product__malformed_lines') }}
),

final as (
    {% for table_name in var('raw_tables') %}
        select * from rejected_{{ table_name }}
        union all
    {% endfor %}
    select * from malformed_lines
)

select * from final
