-- The potential score's weights (the Python step potential_score): one row per
-- component, the weight rpt_high_potential_communities ranks by (fitted out of time on
-- past snapshots' next 4 weeks of member growth, or the seed's when the history is too
-- short) beside the high_potential_score_components seed's default (its reasons are the
-- seed's), with the fit window.
with

weights as (
    select * from {{ ref('stg_planning__potential_score_weights') }}
),

final as (
    select
        weights.component,
        weights.weight,
        weights.seed_default_weight,
        weights.direction,
        weights.weight_basis,
        weights.outcome,
        weights.fit_start,
        weights.fit_end,
        weights.n_rows,
        weights.n_snapshots,
        weights.ridge,
        weights.as_of_snapshot,
    from weights
)

select * from final
order by abs(weight) desc, component asc
