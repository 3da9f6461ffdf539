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
        target_type,
        target_id,
        group_kind,
        community_id,
        intervention_type,
        started_at,
        ended_at,
        snapshot_date,
        pre_start_date,
        pre_end_date,
        post_start_date,
        post_end_date,
        status,
        n_candidates,
        n_eligible,
        n_donors,
        donor_ids,
        exclusions.donor_exclusions,
        target_pre_rate,
        target_post_rate,
        counterfactual_rate,
        did_effect,
        did_ci_low,
        did_ci_high,
        did_p_value,
        did_placebo_p_value,
        relative_effect,
        relative_ci_low,
        relative_ci_high,
        synth_effect,
        synth_relative_effect,
        synth_pre_rmse,
        pre_trend_difference,
        pre_trend_p_value,
        has_pre_trend,
        avg_members_post,
        share_of_dau,
        share_of_posts,
        contribution_dau,
        contribution_dau_ci_low,
        contribution_dau_ci_high,
        contribution_posts_per_day,
        contribution_posts_ci_low,
        contribution_posts_ci_high,
    from attribution
    left join exclusions on attribution.intervention_id = exclusions.intervention_id
)

select * from final
