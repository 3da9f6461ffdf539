-- Replicate a pilot that worked: for each intervention whose attributed effect is
-- significant and positive, the lookalike groups that have not had an intervention of
-- its type, ranked by the forecast effect (fct_intervention_forecasts) or, without a
-- forecast, by similarity with the pilot's effect carried over (ranking_basis); the
-- expected contribution to DAU and posts per day of rolling it out to the top
-- var pilot_replication_top_n, and the verifying design with its detectable effect
-- (the Python step pilot_replication, orchestration/lib/planning/replication.py).
with

replication as (
    select * from {{ ref('stg_planning__pilot_replication') }}
),

communities as (
    select * from {{ ref('dim_communities') }}
),

final as (
    select
        replication.intervention_id,
        replication.intervention_type,
        replication.pilot_group_kind,
        replication.pilot_community_id,
        replication.pilot_did_effect,
        replication.pilot_did_ci_low,
        replication.pilot_did_ci_high,
        replication.pilot_relative_effect,
        replication.snapshot_date,
        replication.replication_rank,
        replication.group_kind,
        replication.community_id,
        communities.community_label,
        replication.count_members,
        replication.similarity,
        replication.candidate_source,
        replication.ranking_basis,
        replication.predicted_effect,
        replication.effect_ci_low,
        replication.effect_ci_high,
        replication.expected_dau_contribution,
        replication.expected_posts_per_day_contribution,
        replication.top_features,
        replication.model_version,
        replication.is_top_n,
        replication.top_n,
        replication.rollout_dau_contribution,
        replication.rollout_dau_ci_low,
        replication.rollout_dau_ci_high,
        replication.rollout_posts_per_day_contribution,
        replication.design_unit_type,
        replication.design_units_per_arm,
        replication.design_metric,
        replication.design_mde_relative,
        replication.design_mde_relative_cuped,
        replication.design_is_powered,
        replication.recommended_design,
    from replication
    left join communities
        on
            replication.group_kind = communities.group_kind
            and replication.community_id = communities.community_id
)

select * from final
order by intervention_id, replication_rank
