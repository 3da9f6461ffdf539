with

source as (
    select * from {{ source('product', 'users') }}
),

typed as (
    select
        source.signed_up_at as raw_signed_up_at,
        {{ clean_text('source.user_id') }} as user_id,
        {{ to_utc_timestamp('source.signed_up_at') }} as signed_up_at,
        upper({{ clean_text('source.country') }}) as country,
        -- BCP 47 casing: language lower, region upper (zh_cn -> zh-CN).
        case
            when {{ clean_text('source.locale') }} is not null
                then
                    lower(split_part(replace(trim(source.locale), '_', '-'), '-', 1))
                    || case
                        when split_part(replace(trim(source.locale), '_', '-'), '-', 2) != ''
                            then '-' || upper(split_part(replace(trim(source.locale), '_', '-'), '-', 2))
                        else ''
                    end
        end as locale,
        {{ clean_enum('source.acquisition_channel') }} as acquisition_channel,
        -- Extra columns beyond the contract pass through unchanged.
        {{ star_except(
            [
                'user_id', 'signed_up_at', 'country', 'locale', 'acquisition_channel',
            ],
            'source',
        ) }},
        -- The raw row as delivered, kept for the rejects table (accepted rows drop it).
        {{ row_to_json('source', source('product', 'users')) }} as raw_record
    from source
),

ranked as (
    select
        *,
        row_number() over (
            partition by user_id order by _source_file, _source_row_number
        ) as occurrence_number
    from typed
),

checked as (
    select
        *,
        user_id as source_key,
        case
            when user_id is null then 'missing_key'
            when occurrence_number > 1 then 'duplicate_key'
            {{ timestamp_rejection('raw_signed_up_at', 'signed_up_at') }}
        end as rejection_reason
    from ranked
),

final as (
    select
        {{ star_except(['raw_signed_up_at', 'occurrence_number', 'raw_record']) }},
        case when rejection_reason is not null then raw_record end as raw_record,
        split_part(locale, '-', 1) as language
    from checked
)

select * from final
