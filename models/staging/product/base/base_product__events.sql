-- Incremental: a run reads only event files it has not seen before (raw event files are
-- immutable once landed, e.g. one per day), and an event_id already stored from an
-- earlier file counts as a duplicate. `dbt build --full-refresh` re-reads everything.
-- Files are known by their path relative to the raw folder, so a moved folder is not new.
{{ config(
    materialized='incremental',
    on_schema_change='append_new_columns',
    pre_hook=[
        "{{ relativize_source_files('events') }}",
        "{{ backfill_raw_records('events') }}",
    ],
) }}

with

source as (
    select * from {{ source('product', 'events') }}
    {% if is_incremental() %}
        where _source_file not in (select distinct loaded._source_file from {{ this }} as loaded)
    {% endif %}
),

{% if is_incremental() %}
    stored_event_ids as (
        select distinct event_id from {{ this }}
        where event_id is not null
    ),
{% endif %}

users as (
    select user_id from {{ ref('stg_product__users') }}
),

groups as (
    select group_id from {{ ref('stg_product__groups') }}
),

event_types as (
    select event_type from {{ ref('event_types') }}
),

currencies as (
    select currency from {{ ref('currency_rates') }}
),

typed as (
    select
        source.occurred_at as raw_occurred_at,
        source.amount as raw_amount,
        {{ clean_text('source.event_id') }} as event_id,
        {{ clean_text('source.user_id') }} as user_id,
        {{ clean_enum('source.event_type') }} as event_type,
        {{ to_utc_timestamp('source.occurred_at') }} as occurred_at,
        {{ clean_text('source.group_id') }} as group_id,
        {{ clean_text('source.target_user_id') }} as target_user_id,
        {{ clean_text('source.content_id') }} as content_id,
        try_cast(source.amount as double) as amount,
        upper({{ clean_text('source.currency') }}) as currency,
        {{ clean_text('source.properties') }} as properties,
        -- Extra columns beyond the contract pass through unchanged.
        {{ star_except(
            [
                'event_id', 'user_id', 'event_type', 'occurred_at', 'group_id',
                'target_user_id', 'content_id', 'amount', 'currency', 'properties',
            ],
            'source',
        ) }},
        -- The raw row as delivered, kept for the rejects table (accepted rows drop it).
        {{ row_to_json('source', source('product', 'events')) }} as raw_record
    from source
),

ranked as (
    select
        *,
        -- Duplicated event_ids keep the earliest copy, then the first in file order.
        row_number() over (
            partition by event_id
            order by occurred_at nulls last, _source_file, _source_row_number
        ) as occurrence_number
    from typed
),

checked as (
    select
        ranked.*,
        ranked.event_id as source_key,
        case
            when ranked.event_id is null then 'missing_key'
            when ranked.occurrence_number > 1 then 'duplicate_key'
            {% if is_incremental() %}
                when stored_event_ids.event_id is not null then 'duplicate_key'
            {% endif %}
            when ranked.user_id is null then 'missing_user_id'
            when event_types.event_type is null then 'unknown_event_type'
            {{ timestamp_rejection('ranked.raw_occurred_at', 'ranked.occurred_at') }}
            -- NaN and infinity too: NaN orders above every number, so `< 0` lets it pass.
            when
                ranked.raw_amount is not null
                and (ranked.amount is null or not {{ is_finite('ranked.amount') }})
                then 'invalid_amount'
            when ranked.amount < 0 then 'negative_amount'
            when ranked.event_type = 'purchase' and ranked.amount is null then 'missing_amount'
            when ranked.currency is not null and currencies.currency is null then 'unknown_currency'
            when users.user_id is null then 'unknown_user'
            when ranked.target_user_id is not null and target_users.user_id is null
                then 'unknown_target_user'
            when ranked.group_id is not null and groups.group_id is null then 'unknown_group'
        end as rejection_reason
    from ranked
    left join event_types on ranked.event_type = event_types.event_type
    left join currencies on ranked.currency = currencies.currency
    left join users on ranked.user_id = users.user_id
    left join users as target_users on ranked.target_user_id = target_users.user_id
    left join groups on ranked.group_id = groups.group_id
    {% if is_incremental() %}
        left join stored_event_ids on ranked.event_id = stored_event_ids.event_id
    {% endif %}
),

final as (
    select
        {{ star_except(['raw_occurred_at', 'raw_amount', 'occurrence_number', 'raw_record']) }},
        case when rejection_reason is not null then raw_record end as raw_record,
        -- When this row entered the warehouse: downstream incremental models pick up
        -- the rows loaded after their own last run.
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as _loaded_at
    from checked
)

select * from final
