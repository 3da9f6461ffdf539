-- For each group at the latest snapshot, the most similar other groups: structurally
-- on standardised size, activity, cohesion and growth figures (z-scores over the
-- snapshot, Euclidean distance; structural_similarity = 1 / (1 + distance)) and by what
-- they talk about (topic_similarity from fct_community_topic_similarity: cosine of their
-- c-TF-IDF term vectors, 0 when they share no term). similarity = (1 - w) x structural +
-- w x topic with w = var('lookalike_topic_weight') when both groups have topics, else
-- the structural similarity alone. Find lookalikes of a successful pilot group to
-- repeat what worked.
with

health as (
    select * from {{ ref('fct_community_health') }}
),

topic_similarity as (
    select * from {{ ref('fct_community_topic_similarity') }}
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

with_topics as (
    select
        pairs.*,
        1 / (1 + pairs.distance) as structural_similarity,
        topic_similarity.topic_similarity,
    from pairs
    left join topic_similarity
        on
            pairs.group_kind = topic_similarity.group_kind
            and pairs.community_id = topic_similarity.community_id
            and pairs.lookalike_group_kind = topic_similarity.other_group_kind
            and pairs.lookalike_community_id = topic_similarity.other_community_id
),

combined as (
    select
        *,
        case
            when topic_similarity is null then structural_similarity
            else
                (1 - {{ var('lookalike_topic_weight') }}) * structural_similarity
                + {{ var('lookalike_topic_weight') }} * topic_similarity
        end as similarity,
    from with_topics
),

ranked as (
    select
        *,
        row_number() over (
            partition by community_id order by similarity desc, lookalike_community_id asc
        ) as lookalike_rank,
    from combined
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
        round(structural_similarity, 6) as structural_similarity,
        round(topic_similarity, 6) as topic_similarity,
        round(similarity, 6) as similarity,
    from ranked
    where lookalike_rank <= {{ var('lookalikes_per_community') }}
)

select * from final
