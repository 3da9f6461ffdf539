-- Incremental: a run reads only the contents files it has not stored, and re-reads a
-- file whose row count changed since it was stored (a single contents.parquet rewritten
-- with more rows every day); a content_id already stored from another file counts as a
-- duplicate. Land the messages one file per day (contents/<day>.parquet) for a daily
-- refresh to read only the new day. `dbt build --full-refresh` re-reads everything.
-- On Spark a table, rebuilt every run: forgetting a changed file's rows needs a delete,
-- which Spark has only for Delta or Iceberg tables.
{{ config(
    materialized=('table' if target.type == 'spark' else 'incremental'),
    on_schema_change='append_new_columns',
    pre_hook=[
        "{{ relativize_source_files('contents') }}",
        "{{ backfill_raw_records('contents') }}",
        "{{ forget_changed_source_files('contents') }}",
    ],
) }}

with

source as (
    select * from {{ source('product', 'contents') }}
    {% if is_incremental() %}
        -- The pre-hook removed the rows of changed files, so they are read again here.
        where _source_file not in (select distinct loaded._source_file from {{ this }} as loaded)
    {% endif %}
),

{% if is_incremental() %}
    stored_content_ids as (
        select distinct content_id from {{ this }}
        where content_id is not null
    ),
{% endif %}

users as (
    select user_id from {{ ref('stg_product__users') }}
),

groups as (
    select group_id from {{ ref('stg_product__groups') }}
),

typed as (
    select
        source.created_at as raw_created_at,
        {{ clean_text('source.content_id') }} as content_id,
        {{ clean_text('source.author_user_id') }} as author_user_id,
        {{ clean_text('source.group_id') }} as group_id,
        {{ clean_text('source.parent_content_id') }} as parent_content_id,
        {{ to_utc_timestamp('source.created_at') }} as created_at,
        -- Bodies keep their inner whitespace: only the ends are trimmed.
        {{ clean_text('source.body') }} as body,
        -- Declared language, reduced to its primary subtag (zh-Hans -> zh).
        lower(split_part(replace({{ clean_text('source.language') }}, '_', '-'), '-', 1)) as language,
        -- Extra columns beyond the contract pass through unchanged.
        {{ star_except(
            [
                'content_id', 'author_user_id', 'group_id', 'parent_content_id', 'created_at',
                'body', 'language',
            ],
            'source',
        ) }},
        -- The raw row as delivered, kept for the rejects table (accepted rows drop it).
        {{ row_to_json('source', source('product', 'contents')) }} as raw_record
    from source
),

ranked as (
    select
        *,
        row_number() over (
            partition by content_id order by _source_file, _source_row_number
        ) as occurrence_number
    from typed
),

checked as (
    select
        ranked.*,
        ranked.content_id as source_key,
        case
            when ranked.content_id is null then 'missing_key'
            when ranked.occurrence_number > 1 then 'duplicate_key'
            {% if is_incremental() %}
                when stored_content_ids.content_id is not null then 'duplicate_key'
            {% endif %}
            when ranked.author_user_id is null then 'missing_user_id'
            {{ timestamp_rejection('ranked.raw_created_at', 'ranked.created_at') }}
            when {{ has_broken_encoding('ranked.body') }} then 'broken_encoding'
            when users.user_id is null then 'unknown_user'
            when ranked.group_id is not null and groups.group_id is null then 'unknown_group'
        end as rejection_reason
    from ranked
    left join users on ranked.author_user_id = users.user_id
    left join groups on ranked.group_id = groups.group_id
    {% if is_incremental() %}
        left join stored_content_ids on ranked.content_id = stored_content_ids.content_id
    {% endif %}
),

final as (
    select
        {{ star_except(['raw_created_at', 'occurrence_number', 'raw_record']) }},
        case when rejection_reason is not null then raw_record end as raw_record
    from checked
)

select * from final
