with

experiments as (
    select * from {{ ref('stg_product__experiments') }}
),

health as (
    select * from {{ ref('stg_experiments__health') }}
),

problems as (
    select * from {{ ref('int_experiment_problems_unioned') }}
),

problem_counts as (
    select
        experiment_id,
        count(*) as count_problems,
    from problems
    group by experiment_id
),

final as (
    select
        experiments.experiment_id,
        health.units_per_variant,
        health.srm_p_value,
        coalesce(health.has_srm, false) as has_srm,
        -- Members per arm of a cluster experiment: not computed yet (cluster metrics).
        cast(null as double) as member_srm_p_value,
        cast(null as boolean) as has_member_srm,
        coalesce(problem_counts.count_problems, 0) as count_problems,
    from experiments
    left join health
        on experiments.experiment_id = health.experiment_id
    left join problem_counts
        on experiments.experiment_id = problem_counts.experiment_id
)

select * from final
