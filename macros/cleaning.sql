{% macro clean_text(column) -%}
    nullif(trim(cast({{ column }} as string)), '')
{%- endmacro %}


{% macro clean_enum(column) -%}
    lower(nullif(trim(cast({{ column }} as string)), ''))
{%- endmacro %}


{% macro to_utc_timestamp(column) -%}
    {{- smallgroups.try_to_utc_timestamp(column) -}}
{%- endmacro %}


{% macro max_valid_timestamp() -%}
    (
        {{ smallgroups.add_hours(
            "cast('" ~ run_started_at.strftime("%Y-%m-%d %H:%M:%S") ~ "' as timestamp)",
            var('future_tolerance_hours'),
        ) }}
    )
{%- endmacro %}


{% macro timestamp_rejection(raw_column, typed_column, required=true) -%}
    {#- CASE branches (no CASE/END) that reject a bad timestamp; place inside a CASE. -#}
    {%- if required %}
            when {{ raw_column }} is null then 'missing_timestamp'
    {%- endif %}
            when {{ raw_column }} is not null and {{ typed_column }} is null then 'invalid_timestamp'
            -- Clocks before 2000 are corrupt device clocks, not product history.
            when {{ typed_column }} < timestamp '2000-01-01' then 'timestamp_before_2000'
            when {{ typed_column }} > {{ max_valid_timestamp() }} then 'timestamp_in_future'
{%- endmacro %}


{% macro has_broken_encoding(column) -%}
    {#- U+FFFD (a decoder gave up), C0 control characters, or UTF-8 read as Latin-1/CP1252
        ("å¤œæ™¯" for 夜景): a lead byte Ã-ï followed by a continuation-range character. -#}
    {%- set pattern -%}
        \x{FFFD}|[\x{0000}-\x{0008}\x{000B}\x{000C}\x{000E}-\x{001F}]|[\x{00C2}-\x{00EF}][\x{0080}-\x{00BF}\x{0152}\x{0153}\x{0160}\x{0161}\x{0178}\x{017D}\x{017E}\x{0192}\x{02C6}\x{02DC}\x{2013}\x{2014}\x{2018}-\x{201E}\x{2020}-\x{2022}\x{2026}\x{2030}\x{2039}\x{203A}\x{20AC}\x{2122}]
    {%- endset %}
    coalesce({{ smallgroups.regexp_contains(column, pattern) }}, false)
{%- endmacro %}


{% macro rank_key(expression) -%}
    {#- A float score as a ranking key: rounded to 9 decimals, so that two scores equal
        but for the last bits of a parallel float sum (which differ from run to run)
        tie, and the ranking's id tie-break decides the same way on every run. -#}
    round({{ expression }}, 9)
{%- endmacro %}
