-- The attribution of each intervention to its members' activity and to the global KPIs:
-- difference-in-differences of log activity per member-day against matched donors with
-- the donors' placebo interval, a synthetic-control estimate beside it, the pre-trend
-- check and the contribution in DAU and posts per day (the Python step
-- intervention_attribution; docs/experiments.md "Attribution of interventions").
with

attribution as (
    select * from {{ ref('stg_attribution__intervention_attribution') }}
),

donors as (
    select * from {{ ref('fct_intervention_donors') }}
),

exclusions as (
    -- Why candidates were left out, counted per reason.
    select
        intervention_id,
        string_agg(exclusion_reason || ': ' || count_candidates, ', ' order by exclusion_reason)
            as donor_exclusions,
    from (
        select
            intervention_id,
            exclusion_reason,
            count(*) as count_candidates,
        from donors
        where exclusion_reason is not null
        group by all
    ) as reasons
    group by intervention_id
),

final as (
    select
        attribution.intervention_id,
        attribution.target_type,
        attribution.target_id,
        attribution.group_kind,
        attribution.community_id,
        attribution.intervention_type,
        attribution.started_at,
        attribution.ended_at,
        attribution.snapshot_date,
        attribution.pre_start_date,
        attribution.pre_end_date,
        attribution.post_start_date,
        attribution.post_end_date,
        attribution.status,
        attribution.n_candidates,
        attribution.n_eligible,
        attribution.n_donors,
        attribution.donor_ids,
        exclusions.donor_exclusions,
        attribution.target_pre_rate,
        attribution.target_post_rate,
        attribution.counterfactual_rate,
        attribution.did_effect,
        attribution.did_ci_low,
        attribution.did_ci_high,
        attribution.did_p_value,
        attribution.did_placebo_p_value,
        attribution.relative_effect,
        attribution.relative_ci_low,
        attribution.relative_ci_high,
        attribution.synth_effect,
        attribution.synth_relative_effect,
        attribution.synth_pre_rmse,
        attribution.pre_trend_difference,
        attribution.pre_trend_p_value,
        attribution.has_pre_trend,
        attribution.avg_members_post,
        attribution.share_of_dau,
        attribution.share_of_posts,
        attribution.contribution_dau,
        attribution.contribution_dau_ci_low,
        attribution.contribution_dau_ci_high,
        attribution.contribution_posts_per_day,
        attribution.contribution_posts_ci_low,
        attribution.contribution_posts_ci_high,
    from attribution
    left join exclusions on attribution.intervention_id = exclusions.intervention_id
)

select * from final
