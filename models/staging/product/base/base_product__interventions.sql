{#- related_target_id is an optional column of the contract: null when the file has no
    such column. -#}
{%- set source_relation = source('product', 'interventions') -%}
{%- set source_columns = adapter.get_columns_in_relation(source_relation)
    | map(attribute='name') | map('lower') | list -%}
{%- set has_related_target = 'related_target_id' in source_columns -%}

with

source as (
    select * from {{ source('product', 'interventions') }}
),

typed as (
    select
        source.started_at as raw_started_at,
        source.ended_at as raw_ended_at,
        {{ clean_text('source.intervention_id') }} as intervention_id,
        {{ clean_enum('source.target_type') }} as target_type,
        {{ clean_text('source.target_id') }} as target_id,
        {{ clean_enum('source.intervention_type') }} as intervention_type,
        {{ to_utc_timestamp('source.started_at') }} as started_at,
        {{ to_utc_timestamp('source.ended_at') }} as ended_at,
        {{ clean_text('source.description') }} as description,
        {% if has_related_target -%}
            {{ clean_text('cast(source.related_target_id as string)') }}
        {%- else -%}
            cast(null as string)
        {%- endif %} as related_target_id,
        -- Extra columns beyond the contract pass through unchanged.
        {{ star_except(
            [
                'intervention_id', 'target_type', 'target_id', 'intervention_type',
                'started_at', 'ended_at', 'description',
            ] + (['related_target_id'] if has_related_target else []),
            'source',
        ) }},
        -- The raw row as delivered, kept for the rejects table (accepted rows drop it).
        {{ row_to_json('source', source('product', 'interventions')) }} as raw_record
    from source
),

ranked as (
    select
        *,
        row_number() over (
            partition by intervention_id order by _source_file, _source_row_number
        ) as occurrence_number
    from typed
),

checked as (
    select
        *,
        intervention_id as source_key,
        case
            when intervention_id is null then 'missing_key'
            when occurrence_number > 1 then 'duplicate_key'
            when target_id is null then 'missing_target'
            when target_type is null or target_type not in ('group', 'community')
                then 'invalid_target_type'
            when
                intervention_type is null
                or intervention_type not in (
                    'resource_boost', 'pilot', 'activity', 'cross_group_connection'
                )
                then 'invalid_intervention_type'
            {{ timestamp_rejection('raw_started_at', 'started_at') }}
            when raw_ended_at is not null and ended_at is null then 'invalid_timestamp'
            when ended_at < started_at then 'ended_before_started'
            -- Only a connection has a partner, and it is not the target itself.
            when
                related_target_id is not null
                and (intervention_type != 'cross_group_connection' or related_target_id = target_id)
                then 'invalid_related_target'
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
