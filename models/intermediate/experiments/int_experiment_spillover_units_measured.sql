-- One row per (experiment, user unit, catalog user metric) of a user-randomized
-- experiment: the unit's outcome and pre-period value (int_experiment_user_metrics_measured)
-- beside its exposure to the other variants (int_experiment_spillover_exposures_measured),
-- what the spillover step (orchestration/lib/experiments/spillover.py) reads.
with

measured as (
    select * from {{ ref('int_experiment_user_metrics_measured') }}
),

exposures as (
    select * from {{ ref('int_experiment_spillover_exposures_measured') }}
),

final as (
    select
        measured.experiment_id,
        measured.unit_id,
        measured.variant,
        measured.metric_name,
        measured.metric_value,
        measured.pre_period_value,
        coalesce(exposures.interaction_weight, 0) as interaction_weight,
        coalesce(exposures.weight_to_units, 0) as weight_to_units,
        coalesce(exposures.weight_to_other_variants, 0) as weight_to_other_variants,
        exposures.community_id,
        exposures.count_community_peer_units,
        exposures.count_community_peers_other_variants,
    from measured
    left join exposures
        on
            measured.experiment_id = exposures.experiment_id
            and measured.unit_id = exposures.unit_id
)

select * from final
