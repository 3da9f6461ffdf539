with

source as (
    select * from {{ source('product', 'experiment_assignments') }}
),

experiments as (
    select experiment_id from {{ ref('stg_product__experiments') }}
),

typed as (
    select
        source.assigned_at as raw_assigned_at,
        {{ clean_text('source.experiment_id') }} as experiment_id,
        {{ clean_text('source.unit_id') }} as unit_id,
        {{ clean_enum('source.variant') }} as variant,
        {{ to_utc_timestamp('source.assigned_at') }} as assigned_at,
        -- Extra columns beyond the contract pass through unchanged.
        {{ star_except(['experiment_id', 'unit_id', 'variant', 'assigned_at'], 'source') }},
        -- The raw row as delivered, kept for the rejects table (accepted rows drop it).
        {{ row_to_json('source', source('product', 'experiment_assignments')) }} as raw_record
    from source
),

ranked as (
    select
        *,
        row_number() over (
            partition by experiment_id, unit_id order by _source_file, _source_row_number
        ) as occurrence_number
    from typed
),

checked as (
    select
        ranked.*,
        concat_ws('/', ranked.experiment_id, ranked.unit_id) as source_key,
        case
            when ranked.experiment_id is null or ranked.unit_id is null then 'missing_key'
            when ranked.occurrence_number > 1 then 'duplicate_key'
            when ranked.variant is null then 'missing_variant'
            {{ timestamp_rejection('ranked.raw_assigned_at', 'ranked.assigned_at') }}
            when experiments.experiment_id is null then 'unknown_experiment'
        end as rejection_reason
    from ranked
    left join experiments on ranked.experiment_id = experiments.experiment_id
),

final as (
    select
        {{ star_except(['raw_assigned_at', 'occurrence_number', 'raw_record']) }},
        case when rejection_reason is not null then raw_record end as raw_record
    from checked
)

select * from final
