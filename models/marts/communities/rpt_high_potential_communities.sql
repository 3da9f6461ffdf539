-- Groups to invest in, ranked: active small groups (var high_potential_min_members to
-- high_potential_max_members members) at the latest snapshot, by a potential score
-- whose weights were fitted out of time on past snapshots' next 4 weeks of member
-- growth (fct_potential_score_weights: the three health components, size, the last 4
-- weeks' growth and the group's kind, each as its percentile among the ranked groups;
-- a negative weight counts 100 - percentile), or, when the history is too short to fit,
-- the high_potential_score_components seed's weights (50% growth, 25% cohesion, 25%
-- activity). Each group gets the expected member growth over the next 4 weeks of its
-- score decile, backtested (fct_potential_score_calibration), and the reason: each
-- component's points in the score, then the figures behind the components.
with

health as (
    select * from {{ ref('fct_community_health') }}
),

communities as (
    select * from {{ ref('dim_communities') }}
),

score_components as (
    select * from {{ ref('high_potential_score_components') }}
),

fitted_weights as (
    select * from {{ ref('fct_potential_score_weights') }}
),

calibration as (
    select * from {{ ref('fct_potential_score_calibration') }}
),

seed_weights as (
    select
        max(weight) filter (where component = 'growth') as growth_weight,
        max(weight) filter (where component = 'cohesion') as cohesion_weight,
        max(weight) filter (where component = 'activity') as activity_weight,
    from score_components
),

basis as (
    -- fitted, or seed_default (also when the refit has not written its weights).
    select coalesce(max(weight_basis), 'seed_default') as score_basis from fitted_weights
),

latest as (
    select health.*
    from health
    where health.snapshot_date = (select max(inner_health.snapshot_date) from health as inner_health)
),

eligible as (
    select
        latest.*,
        communities.group_name,
        communities.community_label,
        communities.best_declared_group_id,
        seed_weights.growth_weight * latest.growth_score
        + seed_weights.cohesion_weight * latest.cohesion_score
        + seed_weights.activity_weight * latest.activity_score as seed_potential_score,
    from latest
    inner join communities
        on
            latest.community_id = communities.community_id
            and latest.group_kind = communities.group_kind
    cross join seed_weights
    where
        latest.count_members
        between {{ var('high_potential_min_members') }} and {{ var('high_potential_max_members') }}
),

percentiles as (
    -- Each component as its percentile (cume_dist x 100) among the ranked groups, as the
    -- refit computes them (orchestration/lib/planning/potential.py).
    select
        group_kind,
        community_id,
        100 * cume_dist() over (order by growth_score) as growth,
        100 * cume_dist() over (order by cohesion_score) as cohesion,
        100 * cume_dist() over (order by activity_score) as activity,
        100 * cume_dist() over (order by count_members) as size,
        100 * cume_dist() over (order by coalesce(member_growth_rate_4_weeks, 0))
            as growth_last_4_weeks,
        case when group_kind = 'declared' then 100.0 else 0.0 end as declared,
    from eligible
),

component_percentiles as (
    select
        percentiles.group_kind,
        percentiles.community_id,
        fitted_weights.component,
        fitted_weights.direction,
        fitted_weights.weight,
        case fitted_weights.component
            when 'growth' then percentiles.growth
            when 'cohesion' then percentiles.cohesion
            when 'activity' then percentiles.activity
            when 'size' then percentiles.size
            when 'growth_last_4_weeks' then percentiles.growth_last_4_weeks
            when 'declared' then percentiles.declared
        end as percentile,
    from percentiles
    cross join fitted_weights
    where fitted_weights.weight != 0
),

points as (
    select
        group_kind,
        community_id,
        component,
        direction,
        abs(weight) * case when direction = 'lower' then 100 - percentile else percentile end
            as points,
    from component_percentiles
),

fitted as (
    select
        group_kind,
        community_id,
        sum(points) as fitted_score,
        string_agg(
            replace(
                replace(component, 'growth_last_4_weeks', 'last 4 weeks'' growth'),
                'declared',
                'declared group'
            )
            || ' ' || round(points)::bigint
            || case when direction = 'lower' then ' (lower is better)' else '' end,
            ' + ' order by points desc, component asc
        ) as points_reason,
    from points
    group by all
),

scored as (
    select
        eligible.*,
        basis.score_basis,
        fitted.points_reason,
        case
            when basis.score_basis = 'fitted' then fitted.fitted_score
            else eligible.seed_potential_score
        end as potential_score,
    from eligible
    cross join basis
    left join fitted
        on
            eligible.group_kind = fitted.group_kind
            and eligible.community_id = fitted.community_id
),

deciled as (
    select
        scored.*,
        -- The score's decile among the ranked groups, as the calibration's (1 = lowest).
        least(
            greatest(ceil(10 * cume_dist() over (order by scored.potential_score)), 1), 10
        )::bigint as score_decile,
    from scored
),

final as (
    select
        row_number() over (
            order by {{ rank_key('deciled.potential_score') }} desc, deciled.community_id asc
        ) as potential_rank,
        deciled.snapshot_date,
        deciled.group_kind,
        deciled.community_id,
        deciled.group_name,
        deciled.community_label,
        deciled.best_declared_group_id,
        deciled.count_members,
        round(deciled.potential_score, 2) as potential_score,
        deciled.health_score,
        deciled.growth_score,
        deciled.cohesion_score,
        deciled.activity_score,
        case
            when deciled.score_basis = 'fitted'
                then
                    'potential ' || round(deciled.potential_score)::bigint || ' = '
                    || deciled.points_reason || ' (fitted weights, fct_potential_score_weights); '
            else 'potential ' || round(deciled.potential_score)::bigint || ' (seed weights); '
        end
        || 'growth ' || round(deciled.growth_score) || ' (members '
        || coalesce(
            case when deciled.member_growth_rate_4_weeks >= 0 then '+' else '' end
            || round(100 * deciled.member_growth_rate_4_weeks) || '% in 4 weeks', 'new'
        )
        || ', invites accepted ' || coalesce(round(100 * deciled.invite_acceptance_rate) || '%', 'n/a')
        || ', new members retained ' || coalesce(round(100 * deciled.new_member_retention) || '%', 'n/a')
        || '); cohesion ' || round(deciled.cohesion_score)
        || ' (' || round(100 * deciled.share_weight_inside) || '% of ties inside)'
        || '; activity ' || round(deciled.activity_score)
        || ' (' || round(100 * deciled.share_members_active) || '% of members active this week)'
        || '; size ' || deciled.count_members || ' members'
            as reason,
        round(deciled.seed_potential_score, 2) as seed_potential_score,
        deciled.score_basis,
        deciled.score_decile,
        calibration.expected_growth as expected_member_growth_4_weeks,
        calibration.growth_low as expected_growth_ci_low,
        calibration.growth_high as expected_growth_ci_high,
    from deciled
    left join calibration on deciled.score_decile = calibration.score_decile
)

select * from final
