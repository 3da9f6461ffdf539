with

problems as (
    select * from {{ ref('int_experiment_problems_unioned') }}
),

final as (
    select
        experiment_id,
        problem,
        unit_id,
        reason,
        raw_values,
    from problems
)

select * from final
