-- Pairs of detected communities worth connecting, at the latest snapshot: the ties
-- between their members (all-time group graph), members tied across, and an
-- affinity normalised by size (cross weight / geometric mean of the two communities'
-- total tie weight), so two small tight groups with a real bridge rank above two
-- big ones that touch by chance. topic_similarity (cosine of the two communities'
-- c-TF-IDF term vectors at the snapshot, fct_community_topics) says whether the tied
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

topics as (
    select * from {{ ref('fct_community_topics') }}
),

latest_topics as (
    select
        community_id,
        term,
        -- Exact decimal products: sums do not depend on the order they are added in.
        cast(score as decimal(18, 8)) as score,
    from topics
    where
        group_kind = 'detected'
        and snapshot_date = (select max(members.snapshot_date) from members)
),

topic_norms as (
    select
        community_id,
        sqrt(sum(score * score)) as norm,
    from latest_topics
    group by all
),

tied as (
    select
        member_a.community_id as community_id_a,
        member_b.community_id as community_id_b,
        edges.user_id_a,
        edges.user_id_b,
        edges.edge_weight,
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
        sum(edge_weight) as volume,
    from endpoint_weights
    group by community_id
),

cross_pairs as (
    select
        least(community_id_a, community_id_b) as community_id_a,
        greatest(community_id_a, community_id_b) as community_id_b,
        count(*) as count_cross_edges,
        sum(edge_weight) as cross_weight,
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
        row_number() over (partition by community_id_a order by affinity desc, community_id_b asc)
            as rank_for_a,
        row_number() over (partition by community_id_b order by affinity desc, community_id_a asc)
            as rank_for_b,
    from scored
),

kept as (
    select * from ranked
    where least(rank_for_a, rank_for_b) <= {{ var('affinity_partners_per_community') }}
),

topic_dots as (
    select
        kept.community_id_a,
        kept.community_id_b,
        sum(topic_a.score * topic_b.score) as dot,
    from kept
    inner join latest_topics as topic_a on kept.community_id_a = topic_a.community_id
    inner join latest_topics as topic_b
        on
            kept.community_id_b = topic_b.community_id
            and topic_a.term = topic_b.term
    group by all
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
        round(
            case
                when norm_a.norm > 0 and norm_b.norm > 0
                    then coalesce(topic_dots.dot, 0) / (norm_a.norm * norm_b.norm)
            end, 6
        ) as topic_similarity,
    from kept
    left join topic_norms as norm_a on kept.community_id_a = norm_a.community_id
    left join topic_norms as norm_b on kept.community_id_b = norm_b.community_id
    left join topic_dots
        on
            kept.community_id_a = topic_dots.community_id_a
            and kept.community_id_b = topic_dots.community_id_b
)

select * from final
