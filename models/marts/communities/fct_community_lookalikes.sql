-- For each group at the latest snapshot, the most similar other groups: structurally
-- on standardised size, activity, cohesion and growth figures (z-scores over the
-- snapshot, Euclidean distance; structural_similarity = 1 / (1 + distance)) and by what
-- they talk about (topic_similarity: cosine of their c-TF-IDF term vectors at the
-- snapshot, 0 when they share no term). similarity = (1 - w) x structural + w x topic
-- with w = var('lookalike_topic_weight') when both groups have topics, else the
-- structural similarity alone. Find lookalikes of a successful pilot group to repeat
-- what worked. The computation is the community_lookalikes macro, which gives the same
-- for any past snapshot (fct_intervention_donors calls it before each intervention).
with

health as (
    select * from {{ ref('fct_community_health') }}
),

topics as (
    select * from {{ ref('fct_community_topics') }}
),

latest_groups as (
    select
        snapshot_date,
        group_kind,
        community_id,
    from health
    where snapshot_date = (select max(all_health.snapshot_date) from health as all_health)
),

{{ community_lookalikes('health', 'topics', 'latest_groups', var('lookalikes_per_community')) }},

final as (
    select * from lookalikes
)

select * from final
