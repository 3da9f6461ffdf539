-- For each group at the latest snapshot, the most similar other groups on
-- standardised size, activity, cohesion and growth figures (z-scores over the
-- snapshot, Euclidean distance; similarity = 1 / (1 + distance)). Find lookalikes of a
-- successful pilot group to repeat what worked. Topic similarity joins later.
with

health as (
    select * from {{ ref('fct_community_health') }}
),

latest as (
    select *
    from health
    where snapshot_date = (select max(all_health.snapshot_date) from health as all_health)
),

standardised as (
    select
        snapshot_date,
        group_kind,
        community_id,
        {% for figure in [
            'ln(count_members)', 'messages_per_member', 'share_members_active',
            'internal_density', 'share_weight_inside', 'avg_clustering',
            'coalesce(member_growth_rate_4_weeks, 0)', 'coalesce(invite_acceptance_rate, 0)',
        ] %}
            coalesce(
                ({{ figure }} - avg({{ figure }}) over ()) / nullif(stddev_pop({{ figure }}) over (), 0),
                0
            ) as z{{ loop.index }},
        {% endfor %}
    from latest
),

pairs as (
    select
        focal.snapshot_date,
        focal.group_kind,
        focal.community_id,
        other.group_kind as lookalike_group_kind,
        other.community_id as lookalike_community_id,
        sqrt(
            {% for i in range(1, 9) %}
                power(focal.z{{ i }} - other.z{{ i }}, 2){% if not loop.last %} +{% endif %}
            {% endfor %}
        ) as distance,
    from standardised as focal
    inner join standardised as other
        on focal.community_id != other.community_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by community_id order by distance, lookalike_community_id
        ) as lookalike_rank,
    from pairs
),

final as (
    select
        snapshot_date,
        group_kind,
        community_id,
        lookalike_rank,
        lookalike_group_kind,
        lookalike_community_id,
        round(distance, 6) as distance,
        round(1 / (1 + distance), 6) as similarity,
    from ranked
    where lookalike_rank <= {{ var('lookalikes_per_community') }}
)

select * from final
