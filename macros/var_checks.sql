{% macro require_var_value(var_name, expected, columns) %}
    {#-
        Stops compilation when var(var_name) is not `expected`. For models whose
        contracted column names spell the var's value (count_messages_4_weeks): another
        value would make the name lie, so the change has to come with a new contract
        version (new column names), not slip through a --vars override. Renders nothing.
    -#}
    {%- if var(var_name) != expected -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ var_name ~ " is " ~ var(var_name) ~ ", but the columns " ~ columns
            ~ " of " ~ this.identifier ~ " spell the value " ~ expected ~ " in their (contracted)"
            ~ " names: version the contract with new column names before changing the var"
        ) }}
    {%- endif -%}
{% endmacro %}


{% macro community_window_weeks() %}
    {#-
        The detection window var('community_window_days') in whole weeks. Weekly SQL
        figures of the window take the weeks ending with the snapshot's week (Monday
        start), which is the window exactly for the Sunday snapshots; a window that is not
        whole weeks would silently differ from the one the Python step uses, so it stops
        compilation instead.
    -#}
    {%- set days = var('community_window_days') | int -%}
    {%- if days < 7 or days % 7 != 0 -%}
        {{ exceptions.raise_compiler_error(
            "var community_window_days is " ~ days ~ ": the weekly figures of the detection"
            ~ " window need a positive multiple of 7"
        ) }}
    {%- endif -%}
    {{ return(days // 7) }}
{% endmacro %}
