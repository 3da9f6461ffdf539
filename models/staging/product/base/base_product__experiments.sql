{#- traffic_split is an optional column of the contract: null (an equal split) when the
    file has no such column. -#}
{%- set source_relation = source('product', 'experiments') -%}
{%- set source_columns = adapter.get_columns_in_relation(source_relation)
    | map(attribute='name') | map('lower') | list -%}
{%- set has_traffic_split = 'traffic_split' in source_columns -%}

with

source as (
    select * from {{ source('product', 'experiments') }}
),

typed as (
    select
        source.started_at as raw_started_at,
        source.ended_at as raw_ended_at,
        {{ clean_text('source.experiment_id') }} as experiment_id,
        {{ clean_text('source.name') }} as name,
        {{ clean_enum('source.unit_type') }} as unit_type,
        {{ to_utc_timestamp('source.started_at') }} as started_at,
        {{ to_utc_timestamp('source.ended_at') }} as ended_at,
        {{ clean_text('source.primary_metric') }} as primary_metric,
        {{ clean_text('source.hypothesis') }} as hypothesis,
        {% if has_traffic_split -%}
            replace({{ clean_text('cast(source.traffic_split as string)') }}, ' ', '')
        {%- else -%}
            cast(null as string)
        {%- endif %} as traffic_split,
        -- Extra columns beyond the contract pass through unchanged.
        {{ star_except(
            ['experiment_id', 'name', 'unit_type', 'started_at', 'ended_at', 'primary_metric', 'hypothesis']
            + (['traffic_split'] if has_traffic_split else []),
            'source',
        ) }},
        -- The raw row as delivered, kept for the rejects table (accepted rows drop it).
        {{ row_to_json('source', source('product', 'experiments')) }} as raw_record
    from source
),

ranked as (
    select
        *,
        row_number() over (
            partition by experiment_id order by _source_file, _source_row_number
        ) as occurrence_number
    from typed
),

checked as (
    select
        *,
        experiment_id as source_key,
        case
            when experiment_id is null then 'missing_key'
            when occurrence_number > 1 then 'duplicate_key'
            when unit_type is null or unit_type not in ('user', 'group', 'community')
                then 'invalid_unit_type'
            {{ timestamp_rejection('raw_started_at', 'started_at') }}
            when raw_ended_at is not null and ended_at is null then 'invalid_timestamp'
            when ended_at < started_at then 'ended_before_started'
            -- Positive weights, one per variant, e.g. 50/50 or 10/45/45.
            when
                traffic_split is not null
                and not {{ regexp_full_match('traffic_split', '[0-9]+(\\.[0-9]+)?(/[0-9]+(\\.[0-9]+)?)+') }}
                then 'invalid_traffic_split'
        end as rejection_reason
    from ranked
),

final as (
    select
        {{ star_except(['raw_started_at', 'raw_ended_at', 'occurrence_number', 'raw_record']) }},
        case when rejection_reason is not null then raw_record end as raw_record
    from checked
)

select * from final
