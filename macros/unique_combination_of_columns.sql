{% test unique_combination_of_columns(model, combination_of_columns) %}
    {#- Fails with the duplicated combinations (dbt_utils has the same test; hub packages are unreachable here). -#}
    select
        {{ combination_of_columns | join(', ') }},
        count(*) as count_rows
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{% endtest %}
