with

source as (
    select * from {{ source('product', 'groups') }}
),

users as (
    select user_id from {{ ref('stg_product__users') }}
),

typed as (
    select
        source.created_at as raw_created_at,
        {{ clean_text('source.group_id') }} as group_id,
        {{ clean_text('source.name') }} as name,
        {{ clean_enum('source.category') }} as category,
        {{ clean_text('source.created_by_user_id') }} as created_by_user_id,
        {{ to_utc_timestamp('source.created_at') }} as created_at,
        {{ clean_enum('source.visibility') }} as visibility,
        -- Extra columns beyond the contract pass through unchanged.
        {{ star_except(
            [
                'group_id', 'name', 'category', 'created_by_user_id', 'created_at',
                'visibility',
            ],
            'source',
        ) }},
        -- The raw row as delivered, kept for the rejects table (accepted rows drop it).
        {{ row_to_json('source', source('product', 'groups')) }} as raw_record
    from source
),

ranked as (
    select
        *,
        row_number() over (
            partition by group_id order by _source_file, _source_row_number
        ) as occurrence_number
    from typed
),

checked as (
    select
        ranked.*,
        ranked.group_id as source_key,
        case
            when ranked.group_id is null then 'missing_key'
            when ranked.occurrence_number > 1 then 'duplicate_key'
            {{ timestamp_rejection('ranked.raw_created_at', 'ranked.created_at') }}
            when ranked.visibility is null or ranked.visibility not in ('public', 'private')
                then 'invalid_visibility'
            when ranked.created_by_user_id is not null and users.user_id is null
                then 'unknown_user'
        end as rejection_reason
    from ranked
    left join users on ranked.created_by_user_id = users.user_id
),

final as (
    select
        {{ star_except(['raw_created_at', 'occurrence_number', 'raw_record']) }},
        case when rejection_reason is not null then raw_record end as raw_record
    from checked
)

select * from final
