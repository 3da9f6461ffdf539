{% test value_in_range(model, column_name, min_value=none, max_value=none, min_exclusive=false) %}
    {#- Fails with the rows whose value lies outside [min_value, max_value] (nulls pass). -#}
    select *
    from {{ model }}
    where
        {{ column_name }} is not null
        and (
            false
            {% if min_value is not none %}
                or {{ column_name }} {{ '<=' if min_exclusive else '<' }} {{ min_value }}
            {% endif %}
            {% if max_value is not none %}
                or {{ column_name }} > {{ max_value }}
            {% endif %}
        )
{% endtest %}


{% test expression_is_true(model, expression) %}
    {#- Fails with the rows where the SQL expression is not true. -#}
    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)
{% endtest %}


{% test sums_to(model, column_name, total=1, tolerance=0.000001) %}
    {#- Fails with one row when the column's sum over the model is not total (weights that must add up to 1). -#}
    select sum({{ column_name }}) as column_sum
    from {{ model }}
    having abs(coalesce(sum({{ column_name }}), 0) - {{ total }}) > {{ tolerance }}
{% endtest %}
