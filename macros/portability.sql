{#-
    Where DuckDB and Spark SQL differ, the models call one of these macros; each renders
    the DuckDB SQL the models had before (so the DuckDB build is unchanged) or its Spark
    equivalent (adapter.dispatch: duckdb__x / spark__x, default__x = DuckDB's). The audit
    (scripts/audit_sql_portability.py, docs/spark.md) lists every construct and which
    macro or plain SQL replaces it.
-#}

{% macro star_except(columns, relation_alias=none) -%}
    {#- Every column of a CTE or relation but `columns` (DuckDB `* exclude (...)`). -#}
    {{ return(adapter.dispatch('star_except', 'smallgroups')(columns, relation_alias)) }}
{%- endmacro %}

{% macro default__star_except(columns, relation_alias) -%}
    {{ relation_alias ~ '.' if relation_alias }}* exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__star_except(columns, relation_alias) -%}
    {#- A quoted regular expression column name (spark.sql.parser.quotedRegexColumnNames,
        set by the spark profile): every column whose whole name is not one of them.
        Spark resolves names case-insensitively; so does the (?i) flag. -#}
    {{ relation_alias ~ '.' if relation_alias }}`(?i)(?!(?:{{ columns | join('|') }})$).+`
{%- endmacro %}


{% macro row_to_json(relation_alias, relation=none) -%}
    {#- The whole row of a relation as a JSON object, null fields included; `relation`
        (the relation behind the alias) lets Spark write its timestamps as DuckDB does. -#}
    {{ return(adapter.dispatch('row_to_json', 'smallgroups')(relation_alias, relation)) }}
{%- endmacro %}

{% macro default__row_to_json(relation_alias, relation) -%}
    to_json({{ relation_alias }})
{%- endmacro %}

{% macro spark__row_to_json(relation_alias, relation) -%}
    {%- if relation is none or not execute -%}
        to_json(struct({{ relation_alias }}.*), {{ smallgroups.spark_json_options() }})
    {%- else -%}
        {#- DuckDB writes a timestamptz (TimeZone UTC) as `2026-01-01 00:42:41.8+00`: the
            fraction without trailing zeros, none when it is zero. -#}
        to_json(named_struct(
        {%- for column in adapter.get_columns_in_relation(relation) %}
            '{{ column.name }}',
            {% if column.dtype | lower == 'timestamp' -%}
                concat(regexp_replace(
                    date_format({{ relation_alias }}.{{ column.name }}, 'yyyy-MM-dd HH:mm:ss.SSSSSS'),
                    '\\.?0+$', ''
                ), '+00')
            {%- else -%}
                {{ relation_alias }}.{{ column.name }}
            {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
        ), {{ smallgroups.spark_json_options() }})
    {%- endif -%}
{%- endmacro %}


{% macro json_object_of(pairs) -%}
    {#- A JSON object from a list of (key, SQL expression) pairs, null values kept. -#}
    {{ return(adapter.dispatch('json_object_of', 'smallgroups')(pairs)) }}
{%- endmacro %}

{% macro default__json_object_of(pairs) -%}
    json_object(
    {%- for key, expression in pairs %}
        '{{ key }}', {{ expression }}{{ ',' if not loop.last }}
    {%- endfor %}
    )
{%- endmacro %}

{% macro spark__json_object_of(pairs) -%}
    to_json(named_struct(
    {%- for key, expression in pairs %}
        '{{ key }}', {{ expression }}{{ ',' if not loop.last }}
    {%- endfor %}
    ), {{ smallgroups.spark_json_options() }})
{%- endmacro %}

{% macro spark_json_options() -%}
    {#- DuckDB's to_json keeps null fields and writes a timestamptz (TimeZone UTC) as
        `2026-01-01 10:00:00+00`: Spark's does too with these options (docs/spark.md). -#}
    map('ignoreNullFields', 'false', 'timestampFormat', 'yyyy-MM-dd HH:mm:ssx')
{%- endmacro %}


{% macro try_to_utc_timestamp(column) -%}
    {#- A text or timestamp value as a UTC timestamp; null when it does not parse. -#}
    {{ return(adapter.dispatch('try_to_utc_timestamp', 'smallgroups')(column)) }}
{%- endmacro %}

{% macro default__try_to_utc_timestamp(column) -%}
    (try_cast({{ column }} as timestamptz) at time zone 'UTC')
{%- endmacro %}

{% macro spark__try_to_utc_timestamp(column) -%}
    {#- Spark's timestamp is an instant shown in the session time zone (UTC, set by the
        spark profile): a string with an offset is converted, one without is taken as UTC,
        as DuckDB does with TimeZone UTC. try_cast, not cast: null for a bad value whether
        ANSI mode is on or off (dbt-spark turns it off; then every cast is a try_cast). -#}
    try_cast({{ column }} as timestamp)
{%- endmacro %}


{% macro add_hours(timestamp_expression, hours) -%}
    {#- A timestamp plus a whole number of hours. -#}
    {{ return(adapter.dispatch('add_hours', 'smallgroups')(timestamp_expression, hours)) }}
{%- endmacro %}

{% macro default__add_hours(timestamp_expression, hours) -%}
    {{ timestamp_expression }} + to_hours(cast({{ hours }} as bigint))
{%- endmacro %}

{% macro spark__add_hours(timestamp_expression, hours) -%}
    {{ timestamp_expression }} + make_interval(0, 0, 0, 0, cast({{ hours }} as int), 0, 0)
{%- endmacro %}


{% macro regexp_contains(column, pattern) -%}
    {#- True when the (RE2 / Java) regular expression matches somewhere in the value. -#}
    {{ return(adapter.dispatch('regexp_contains', 'smallgroups')(column, pattern)) }}
{%- endmacro %}

{% macro default__regexp_contains(column, pattern) -%}
    regexp_matches({{ column }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__regexp_contains(column, pattern) -%}
    {#- Spark unescapes backslashes in string literals: doubled, the pattern arrives as
        written. `\x{FFFD}` means the same code point in RE2 and in Java. -#}
    ({{ column }} rlike '{{ pattern | replace("\\", "\\\\") }}')
{%- endmacro %}


{% macro regexp_full_match(column, pattern) -%}
    {#- True when the regular expression matches the whole value. -#}
    {{ return(adapter.dispatch('regexp_full_match', 'smallgroups')(column, pattern)) }}
{%- endmacro %}

{% macro default__regexp_full_match(column, pattern) -%}
    regexp_full_match({{ column }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__regexp_full_match(column, pattern) -%}
    ({{ column }} rlike '^(?:{{ pattern | replace("\\", "\\\\") }})$')
{%- endmacro %}


{% macro is_finite(column) -%}
    {#- False for NaN and +-infinity (null for null). -#}
    {{ return(adapter.dispatch('is_finite', 'smallgroups')(column)) }}
{%- endmacro %}

{% macro default__is_finite(column) -%}
    isfinite({{ column }})
{%- endmacro %}

{% macro spark__is_finite(column) -%}
    (not isnan({{ column }}) and abs({{ column }}) != double('infinity'))
{%- endmacro %}


{% macro cross_join_days(start_date, end_date, alias, column) -%}
    {#- A from-clause item: one row per day from start_date to end_date (inclusive), as
        alias.column, for each row of the relations before it (they may be referenced). -#}
    {{ return(adapter.dispatch('cross_join_days', 'smallgroups')(start_date, end_date, alias, column)) }}
{%- endmacro %}

{% macro default__cross_join_days(start_date, end_date, alias, column) -%}
    cross join
        generate_series(
            {{ start_date }},
            {{ end_date }},
            interval 1 day
        ) as {{ alias }} ({{ column }})
{%- endmacro %}

{% macro spark__cross_join_days(start_date, end_date, alias, column) -%}
    lateral view explode(sequence({{ start_date }}, {{ end_date }}, interval 1 day)) {{ alias }} as {{ column }}
{%- endmacro %}


{% macro format_timestamp_iso(column) -%}
    {#- A timestamp as text, `2026-01-01T10:00:00` (seconds, no fraction). -#}
    {{ return(adapter.dispatch('format_timestamp_iso', 'smallgroups')(column)) }}
{%- endmacro %}

{% macro default__format_timestamp_iso(column) -%}
    strftime({{ column }}, '%Y-%m-%dT%H:%M:%S')
{%- endmacro %}

{% macro spark__format_timestamp_iso(column) -%}
    date_format({{ column }}, "yyyy-MM-dd'T'HH:mm:ss")
{%- endmacro %}


{% macro semi_join() -%}
    {#- The keyword of a semi join (rows of the left side that have a match). -#}
    {{ return(adapter.dispatch('semi_join', 'smallgroups')()) }}
{%- endmacro %}

{% macro default__semi_join() -%}
    semi join
{%- endmacro %}

{% macro spark__semi_join() -%}
    left semi join
{%- endmacro %}


{% macro anti_join() -%}
    {#- The keyword of an anti join (rows of the left side without a match). -#}
    {{ return(adapter.dispatch('anti_join', 'smallgroups')()) }}
{%- endmacro %}

{% macro default__anti_join() -%}
    anti join
{%- endmacro %}

{% macro spark__anti_join() -%}
    left anti join
{%- endmacro %}


{% macro add_days(timestamp_expression, days) -%}
    {#- A timestamp plus a whole number of days. -#}
    {{ return(adapter.dispatch('add_days', 'smallgroups')(timestamp_expression, days)) }}
{%- endmacro %}

{% macro default__add_days(timestamp_expression, days) -%}
    {{ timestamp_expression }} + to_days(cast({{ days }} as bigint))
{%- endmacro %}

{% macro spark__add_days(timestamp_expression, days) -%}
    {{ timestamp_expression }} + make_interval(0, 0, 0, cast({{ days }} as int), 0, 0, 0)
{%- endmacro %}
