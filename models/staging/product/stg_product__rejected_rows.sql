-- Every raw row that staging did not accept, with the reason and the raw record.
-- Together with the stg_product__* models it accounts for every raw row
-- (data-tests/assert_raw_rows_accounted_for.sql).
with

{% set tables = [
    'users', 'groups', 'group_memberships', 'events', 'contents',
    'experiments', 'experiment_assignments', 'interventions',
] %}

{% for table_name in tables %}
    rejected_{{ table_name }} as (
        {{ rejected_rows(table_name) }}
    ),

{% endfor %}
final as (
    {% for table_name in tables %}
        select * from rejected_{{ table_name }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from final
