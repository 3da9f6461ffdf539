with

source as (
    select * from {{ source('product', 'group_memberships') }}
),

users as (
    select user_id from {{ ref('stg_product__users') }}
),

groups as (
    select group_id from {{ ref('stg_product__groups') }}
),

typed as (
    select
        source.joined_at as raw_joined_at,
        source.left_at as raw_left_at,
        {{ clean_text('source.group_id') }} as group_id,
        {{ clean_text('source.user_id') }} as user_id,
        {{ to_utc_timestamp('source.joined_at') }} as joined_at,
        {{ to_utc_timestamp('source.left_at') }} as left_at,
        {{ clean_enum('source.role') }} as role,
        -- Extra columns beyond the contract pass through unchanged.
        {{ star_except(['group_id', 'user_id', 'joined_at', 'left_at', 'role'], 'source') }},
        -- The raw row as delivered, kept for the rejects table (accepted rows drop it).
        {{ row_to_json('source', source('product', 'group_memberships')) }} as raw_record
    from source
),

ranked as (
    select
        *,
        row_number() over (
            partition by group_id, user_id, joined_at
            order by _source_file, _source_row_number
        ) as occurrence_number
    from typed
),

checked as (
    select
        ranked.*,
        concat_ws('/', ranked.group_id, ranked.user_id, {{ format_timestamp_iso('ranked.joined_at') }})
            as source_key,
        case
            when ranked.group_id is null or ranked.user_id is null then 'missing_key'
            when ranked.occurrence_number > 1 then 'duplicate_key'
            {{ timestamp_rejection('ranked.raw_joined_at', 'ranked.joined_at') }}
            {{ timestamp_rejection('ranked.raw_left_at', 'ranked.left_at', required=false) }}
            when ranked.left_at < ranked.joined_at then 'left_before_joined'
            when ranked.role is null or ranked.role not in ('owner', 'admin', 'member')
                then 'invalid_role'
            when groups.group_id is null then 'unknown_group'
            when users.user_id is null then 'unknown_user'
        end as rejection_reason
    from ranked
    left join groups on ranked.group_id = groups.group_id
    left join users on ranked.user_id = users.user_id
),

final as (
    select
        {{ star_except(['raw_joined_at', 'raw_left_at', 'occurrence_number', 'raw_record']) }},
        case when rejection_reason is not null then raw_record end as raw_record
    from checked
)

select * from final
