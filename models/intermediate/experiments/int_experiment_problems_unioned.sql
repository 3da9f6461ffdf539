-- Every reason a unit or an experiment is missing from a readout, in one place: what the
-- Python readout found, assignments to a user that does not exist, and the experiment
-- rows staging rejected (a second variant of a unit is a duplicate_key, ...).
with

readout_problems as (
    select * from {{ ref('stg_experiments__problems') }}
),

experiments as (
    select * from {{ ref('stg_product__experiments') }}
),

assignments as (
    select * from {{ ref('stg_product__experiment_assignments') }}
),

users as (
    select * from {{ ref('stg_product__users') }}
),

rejected as (
    select * from {{ ref('stg_product__rejected_rows') }}
    where source_table in ('experiments', 'experiment_assignments')
),

unknown_units as (
    select
        assignments.experiment_id,
        'unknown_unit' as problem,
        assignments.unit_id,
        'assigned unit_id is not a known user' as reason,
        json_object(
            'experiment_id', assignments.experiment_id,
            'unit_id', assignments.unit_id,
            'variant', assignments.variant
        )::varchar as raw_values,
    from assignments
    inner join experiments
        on assignments.experiment_id = experiments.experiment_id
    left join users
        on assignments.unit_id = users.user_id
    where experiments.unit_type = 'user' and users.user_id is null
),

rejected_rows as (
    select
        json_extract_string(raw_record, '$.experiment_id') as experiment_id,
        rejection_reason as problem,
        json_extract_string(raw_record, '$.unit_id') as unit_id,
        'rejected by staging (' || source_table || '): ' || rejection_reason as reason,
        raw_record::varchar as raw_values,
    from rejected
),

final as (
    select
        experiment_id,
        problem,
        unit_id,
        reason,
        raw_values,
    from readout_problems
    union all

    select
        experiment_id,
        problem,
        unit_id,
        reason,
        raw_values,
    from unknown_units
    union all

    select
        experiment_id,
        problem,
        unit_id,
        reason,
        raw_values,
    from rejected_rows
)

select * from final
