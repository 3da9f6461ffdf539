-- Health of every group (detected community or declared group) at every weekly
-- snapshot. Each figure becomes a 0-100 score by its mid-rank percentile among all
-- groups of the same snapshot (a missing figure, e.g. no invites sent, scores a
-- neutral 50);
-- a component is the mean of its figures' scores; the overall score weighs the
-- components by the health_components seed. Components: activity, cohesion, growth and
-- sentiment (net sentiment of the group's messages over the window, from
-- fct_community_sentiment_weekly). The explanation names the components
-- that lifted or pulled the overall score most against the neutral 50.
with

community_metrics as (
    select * from {{ ref('int_community_metrics_weekly') }}
),

sentiment as (
    select * from {{ ref('fct_community_sentiment_weekly') }}
),

metrics as (
    select
        community_metrics.*,
        sentiment.net_sentiment_window,
    from community_metrics
    left join sentiment
        on
            community_metrics.snapshot_date = sentiment.snapshot_date
            and community_metrics.group_kind = sentiment.group_kind
            and community_metrics.community_id = sentiment.community_id
),

component_weights as (
    select * from {{ ref('health_components') }}
),

scored_figures as (
    select
        *,
        {% for figure, higher_is_better in [
            ('messages_per_member', true),
            ('share_members_active', true),
            ('internal_density', true),
            ('share_weight_inside', true),
            ('conductance', false),
            ('avg_clustering', true),
            ('member_growth_rate_4_weeks', true),
            ('invite_acceptance_rate', true),
            ('new_member_retention', true),
            ('key_member_active_share', true),
            ('net_sentiment_window', true),
        ] %}
            -- Mid-rank percentile: tied groups share the middle of their ranks, and a
            -- group alone with a figure (or without one) scores a neutral 50.
            case
                when
                    {{ figure }} is null
                    or count(*) over (partition by snapshot_date, {{ figure }} is null) = 1
                    then 50.0
                else 100.0 * (
                    rank() over (
                        partition by snapshot_date, {{ figure }} is null
                        order by {{ figure }} {{ 'asc' if higher_is_better else 'desc' }}
                    ) - 1
                    + (count(*) over (partition by snapshot_date, {{ figure }}) - 1) / 2.0
                ) / (count(*) over (partition by snapshot_date, {{ figure }} is null) - 1)
            end as {{ figure }}_score,
        {% endfor %}
    from metrics
),

components as (
    select
        *,
        (messages_per_member_score + share_members_active_score) / 2 as activity_score,
        (
            internal_density_score + share_weight_inside_score + conductance_score
            + avg_clustering_score
        ) / 4 as cohesion_score,
        (
            member_growth_rate_4_weeks_score + invite_acceptance_rate_score
            + new_member_retention_score + key_member_active_share_score
        ) / 4 as growth_score,
        net_sentiment_window_score as sentiment_score,
    from scored_figures
),

weights as (
    select
        max(weight) filter (where component = 'activity') as activity_weight,
        max(weight) filter (where component = 'cohesion') as cohesion_weight,
        max(weight) filter (where component = 'growth') as growth_weight,
        coalesce(max(weight) filter (where component = 'sentiment'), 0) as sentiment_weight,
    from component_weights
),

overall as (
    select
        components.*,
        (
            components.activity_score * weights.activity_weight
            + components.cohesion_score * weights.cohesion_weight
            + components.growth_score * weights.growth_weight
            + components.sentiment_score * weights.sentiment_weight
        ) / (
            weights.activity_weight + weights.cohesion_weight + weights.growth_weight
            + weights.sentiment_weight
        ) as health_score,
        -- Contribution of each component to the distance from a neutral 50.
        weights.activity_weight * (components.activity_score - 50) as activity_contribution,
        weights.cohesion_weight * (components.cohesion_score - 50) as cohesion_contribution,
        weights.growth_weight * (components.growth_score - 50) as growth_contribution,
        weights.sentiment_weight * (components.sentiment_score - 50) as sentiment_contribution,
    from components
    cross join weights
),

explained as (
    select
        *,
        -- Peers: groups of a similar size at the same snapshot.
        case
            when count_members < 20 then '5-19'
            when count_members < 50 then '20-49'
            when count_members < 150 then '50-149'
            else '150+'
        end as size_band,
        case greatest(
            activity_contribution, cohesion_contribution, growth_contribution,
            sentiment_contribution
        )
            when activity_contribution then 'activity'
            when cohesion_contribution then 'cohesion'
            when growth_contribution then 'growth'
            else 'sentiment'
        end as top_raising_component,
        case least(
            activity_contribution, cohesion_contribution, growth_contribution,
            sentiment_contribution
        )
            when activity_contribution then 'activity'
            when cohesion_contribution then 'cohesion'
            when growth_contribution then 'growth'
            else 'sentiment'
        end as top_lowering_component,
    from overall
),

final as (
    select
        snapshot_date,
        group_kind,
        community_id,
        count_members,
        size_band,
        round(health_score, 2) as health_score,
        round(
            100.0 * percent_rank() over (
                partition by snapshot_date, size_band order by health_score
            ), 2
        ) as peer_percentile,
        round(activity_score, 2) as activity_score,
        round(cohesion_score, 2) as cohesion_score,
        round(growth_score, 2) as growth_score,
        round(sentiment_score, 2) as sentiment_score,
        top_raising_component,
        round(
            greatest(
                activity_contribution, cohesion_contribution, growth_contribution,
                sentiment_contribution
            ), 2
        ) as top_raising_points,
        top_lowering_component,
        round(
            least(
                activity_contribution, cohesion_contribution, growth_contribution,
                sentiment_contribution
            ), 2
        ) as top_lowering_points,
        messages_per_member,
        share_members_active,
        internal_density,
        share_weight_inside,
        conductance,
        avg_clustering,
        member_growth_rate_4_weeks,
        invite_acceptance_rate,
        new_member_retention,
        key_member_active_share,
        net_sentiment_window,
        count_active_members,
        count_messages,
        count_members_4_weeks_before,
        count_invites_sent,
        count_invites_accepted,
        count_key_members,
    from explained
)

select * from final
