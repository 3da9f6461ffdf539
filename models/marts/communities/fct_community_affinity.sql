-- Pairs of detected communities worth connecting, at the latest snapshot: the ties
-- between their members (all-time group graph), members tied across, and an
-- affinity normalised by size (cross weight / geometric mean of the two communities'
-- total tie weight), so two small tight groups with a real bridge rank above two
-- big ones that touch by chance. topic_similarity (cosine of the two communities'
-- c-TF-IDF term vectors, fct_community_topic_similarity) says whether the tied
-- groups also share interests: high affinity and high topic similarity = connect them.
-- Each community keeps its top
-- var('affinity_partners_per_community') partners; pair listed once (a < b).
with

edges as (
    select * from {{ ref('fct_user_edges') }}
),

members as (
    select * from {{ ref('fct_community_members') }}
),

topic_similarity as (
    select * from {{ ref('fct_community_topic_similarity') }}
    where group_kind = 'detected' and other_group_kind = 'detected'
),

tied as (
    select
        member_a.community_id as community_id_a,
        member_b.community_id as community_id_b,
        edges.user_id_a,
        edges.user_id_b,
        -- Exact decimals: the sums below do not depend on the order rows are added in
        -- (a float sum does, in its last bits, and a day-by-day build adds them in
        -- another order than a full build).
        cast(edges.edge_weight as decimal(38, 9)) as edge_weight,
    from edges
    inner join members as member_a on edges.user_id_a = member_a.user_id
    inner join members as member_b on edges.user_id_b = member_b.user_id
),

endpoint_weights as (
    -- Every internal or cross tie counts toward the volume of both ends' communities.
    select
        community_id_a as community_id,
        edge_weight,
    from tied
    union all
    select
        community_id_b as community_id,
        edge_weight,
    from tied
),

volumes as (
    select
        community_id,
        cast(sum(edge_weight) as double) as volume,
    from endpoint_weights
    group by community_id
),

cross_pairs as (
    select
        least(community_id_a, community_id_b) as community_id_a,
        greatest(community_id_a, community_id_b) as community_id_b,
        count(*) as count_cross_edges,
        cast(sum(edge_weight) as double) as cross_weight,
        count(distinct case when community_id_a < community_id_b then user_id_a else user_id_b end)
        + count(distinct case when community_id_a < community_id_b then user_id_b else user_id_a end)
            as count_members_tied_across,
    from tied
    where community_id_a != community_id_b
    group by all
),

scored as (
    select
        cross_pairs.*,
        cross_pairs.cross_weight / sqrt(volume_a.volume * volume_b.volume) as affinity,
    from cross_pairs
    inner join volumes as volume_a on cross_pairs.community_id_a = volume_a.community_id
    inner join volumes as volume_b on cross_pairs.community_id_b = volume_b.community_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by community_id_a order by {{ rank_key('affinity') }} desc, community_id_b asc
        ) as rank_for_a,
        row_number() over (
            partition by community_id_b order by {{ rank_key('affinity') }} desc, community_id_a asc
        ) as rank_for_b,
    from scored
),

kept as (
    select * from ranked
    where least(rank_for_a, rank_for_b) <= {{ var('affinity_partners_per_community') }}
),

final as (
    select
        kept.community_id_a,
        kept.community_id_b,
        (select max(members.snapshot_date) from members) as snapshot_date,
        kept.count_cross_edges,
        kept.cross_weight,
        kept.count_members_tied_across,
        round(kept.affinity, 6) as affinity,
        least(kept.rank_for_a, kept.rank_for_b) as best_rank,
        round(topic_similarity.topic_similarity, 6) as topic_similarity,
    from kept
    left join topic_similarity
        on
            kept.community_id_a = topic_similarity.community_id
            and kept.community_id_b = topic_similarity.other_community_id
)

select * from final
