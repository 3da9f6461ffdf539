{#-
    The lookalikes of groups at any snapshot: for each focal group of a snapshot, the
    other groups of the same snapshot ranked by similarity (z-scores of size, activity,
    cohesion and growth over the snapshot's groups, Euclidean distance,
    structural_similarity = 1 / (1 + distance), blended with the topic cosine of their
    c-TF-IDF term vectors by var('lookalike_topic_weight')). fct_community_lookalikes
    calls it for the latest snapshot and every group; the attribution of interventions
    for the snapshot before each intervention and its target only, so a past snapshot
    costs its focal groups' pairs, not every pair of every week.
-#}
{% macro community_lookalikes(health, topics, focal, max_rank) %}
    lookalike_health as (
        select * from {{ health }}
        where snapshot_date in (select distinct focal_set.snapshot_date from {{ focal }} as focal_set)
    ),

    lookalike_standardised as (
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
                    ({{ figure }} - avg({{ figure }}) over snapshot_groups)
                    / nullif(stddev_pop({{ figure }}) over snapshot_groups, 0),
                    0
                ) as z{{ loop.index }},
            {% endfor %}
        from lookalike_health
        window snapshot_groups as (partition by snapshot_date)
    ),

    lookalike_pairs as (
        select
            focal_group.snapshot_date,
            focal_group.group_kind,
            focal_group.community_id,
            other.group_kind as lookalike_group_kind,
            other.community_id as lookalike_community_id,
            sqrt(
                {% for i in range(1, 9) %}
                    power(focal_group.z{{ i }} - other.z{{ i }}, 2){% if not loop.last %} +{% endif %}
                {% endfor %}
            ) as distance,
        from lookalike_standardised as focal_group
        inner join {{ focal }} as focal_set
            on
                focal_group.snapshot_date = focal_set.snapshot_date
                and focal_group.group_kind = focal_set.group_kind
                and focal_group.community_id = focal_set.community_id
        inner join lookalike_standardised as other
            on
                focal_group.snapshot_date = other.snapshot_date
                and focal_group.community_id != other.community_id
    ),

    lookalike_terms as (
        select
            snapshot_date,
            group_kind,
            community_id,
            term,
            -- Exact decimal products: sums do not depend on the order they are added in.
            cast(score as decimal(18, 8)) as score,
        from {{ topics }}
        where snapshot_date in (select distinct focal_set.snapshot_date from {{ focal }} as focal_set)
    ),

    lookalike_norms as (
        select
            snapshot_date,
            group_kind,
            community_id,
            sqrt(sum(score * score)) as norm,
        from lookalike_terms
        group by all
    ),

    lookalike_dots as (
        select
            focal_terms.snapshot_date,
            focal_terms.group_kind,
            focal_terms.community_id,
            other.group_kind as other_group_kind,
            other.community_id as other_community_id,
            sum(focal_terms.score * other.score) as dot,
        from lookalike_terms as focal_terms
        inner join {{ focal }} as focal_set
            on
                focal_terms.snapshot_date = focal_set.snapshot_date
                and focal_terms.group_kind = focal_set.group_kind
                and focal_terms.community_id = focal_set.community_id
        inner join lookalike_terms as other
            on
                focal_terms.snapshot_date = other.snapshot_date
                and focal_terms.term = other.term
                and focal_terms.community_id != other.community_id
        group by all
    ),

    lookalike_with_topics as (
        select
            lookalike_pairs.*,
            1 / (1 + lookalike_pairs.distance) as structural_similarity,
            case
                when focal_norm.norm > 0 and other_norm.norm > 0
                    then coalesce(lookalike_dots.dot, 0) / (focal_norm.norm * other_norm.norm)
            end as topic_similarity,
        from lookalike_pairs
        left join lookalike_norms as focal_norm
            on
                lookalike_pairs.snapshot_date = focal_norm.snapshot_date
                and lookalike_pairs.group_kind = focal_norm.group_kind
                and lookalike_pairs.community_id = focal_norm.community_id
        left join lookalike_norms as other_norm
            on
                lookalike_pairs.snapshot_date = other_norm.snapshot_date
                and lookalike_pairs.lookalike_group_kind = other_norm.group_kind
                and lookalike_pairs.lookalike_community_id = other_norm.community_id
        left join lookalike_dots
            on
                lookalike_pairs.snapshot_date = lookalike_dots.snapshot_date
                and lookalike_pairs.group_kind = lookalike_dots.group_kind
                and lookalike_pairs.community_id = lookalike_dots.community_id
                and lookalike_pairs.lookalike_group_kind = lookalike_dots.other_group_kind
                and lookalike_pairs.lookalike_community_id = lookalike_dots.other_community_id
    ),

    lookalike_combined as (
        select
            *,
            case
                when topic_similarity is null then structural_similarity
                else
                    (1 - {{ var('lookalike_topic_weight') }}) * structural_similarity
                    + {{ var('lookalike_topic_weight') }} * topic_similarity
            end as similarity,
        from lookalike_with_topics
    ),

    lookalike_ranked as (
        select
            *,
            row_number() over (
                partition by snapshot_date, community_id
                order by {{ rank_key('similarity') }} desc, lookalike_group_kind asc, lookalike_community_id asc
            ) as lookalike_rank,
        from lookalike_combined
    ),

    lookalikes as (
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
        from lookalike_ranked
        where lookalike_rank <= {{ max_rank }}
    )
{% endmacro %}
