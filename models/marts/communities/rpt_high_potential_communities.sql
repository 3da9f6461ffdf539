-- Groups to invest in, ranked: active small groups (var high_potential_min_members to
-- high_potential_max_members members) at the latest snapshot, by a potential score
-- that favours growth (50%) and needs cohesion (25%) and activity (25%) behind it
-- (weights and their reasons: the high_potential_score_components seed), with the
-- reason spelled out from the components and figures.
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

weights as (
    select
        max(weight) filter (where component = 'growth') as growth_weight,
        max(weight) filter (where component = 'cohesion') as cohesion_weight,
        max(weight) filter (where component = 'activity') as activity_weight,
    from score_components
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
        weights.growth_weight * latest.growth_score
        + weights.cohesion_weight * latest.cohesion_score
        + weights.activity_weight * latest.activity_score as potential_score,
    from latest
    inner join communities
        on
            latest.community_id = communities.community_id
            and latest.group_kind = communities.group_kind
    cross join weights
    where
        latest.count_members
        between {{ var('high_potential_min_members') }} and {{ var('high_potential_max_members') }}
),

final as (
    select
        row_number() over (
            order by {{ rank_key('potential_score') }} desc, community_id asc
        ) as potential_rank,
        snapshot_date,
        group_kind,
        community_id,
        group_name,
        community_label,
        best_declared_group_id,
        count_members,
        round(potential_score, 2) as potential_score,
        health_score,
        growth_score,
        cohesion_score,
        activity_score,
        'growth ' || round(growth_score) || ' (members '
        || coalesce(
            case when member_growth_rate_4_weeks >= 0 then '+' else '' end
            || round(100 * member_growth_rate_4_weeks) || '% in 4 weeks', 'new'
        )
        || ', invites accepted ' || coalesce(round(100 * invite_acceptance_rate) || '%', 'n/a')
        || ', new members retained ' || coalesce(round(100 * new_member_retention) || '%', 'n/a')
        || '); cohesion ' || round(cohesion_score)
        || ' (' || round(100 * share_weight_inside) || '% of ties inside)'
        || '; activity ' || round(activity_score)
        || ' (' || round(100 * share_members_active) || '% of members active this week)'
            as reason,
    from eligible
)

select * from final
