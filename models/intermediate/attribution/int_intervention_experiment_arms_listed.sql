-- Each group's arm in each group or community experiment, with the day it was assigned:
-- a donor must share the target's arms in the experiments assigned by the end of an
-- intervention's window (fct_intervention_donors), so that an experiment running at
-- the same time moves both alike.
with

assignments as (
    select * from {{ ref('stg_product__experiment_assignments') }}
),

experiments as (
    select * from {{ ref('stg_product__experiments') }}
),

experiment_units as (
    select
        experiment_id,
        unit_type,
    from experiments
    where unit_type in ('group', 'community')
),

final as (
    select
        assignments.experiment_id,
        assignments.variant,
        cast(assignments.assigned_at as date) as assigned_date,
        case experiment_units.unit_type when 'group' then 'declared' else 'detected' end as group_kind,
        case
            when experiment_units.unit_type = 'group' then 'group:' || assignments.unit_id
            else assignments.unit_id
        end as community_id,
    from assignments
    inner join experiment_units on assignments.experiment_id = experiment_units.experiment_id
)

select * from final
