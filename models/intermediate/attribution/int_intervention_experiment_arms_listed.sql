-- Each group's arms in the group or community experiments assigned by the end of each
-- intervention's window ('exp001=treatment', sorted by experiment): a donor must share
-- the target's (fct_intervention_donors), so that an experiment running at the same
-- time moves both alike.
with

windows as (
    select * from {{ ref('int_intervention_windows_dated') }}
),

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
        windows.intervention_id,
        case experiment_units.unit_type when 'group' then 'declared' else 'detected' end as group_kind,
        case
            when experiment_units.unit_type = 'group' then 'group:' || assignments.unit_id
            else assignments.unit_id
        end as community_id,
        string_agg(
            assignments.experiment_id || '=' || assignments.variant, ',' order by assignments.experiment_id
        ) as experiment_arms,
    from windows
    inner join assignments on windows.post_end_date >= cast(assignments.assigned_at as date)
    inner join experiment_units on assignments.experiment_id = experiment_units.experiment_id
    group by all
)

select * from final
