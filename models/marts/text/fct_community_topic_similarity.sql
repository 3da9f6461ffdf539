-- How alike two groups' discussions are at the latest snapshot: the cosine of their
-- c-TF-IDF term vectors (fct_community_topics), 0 when they share no term. Every
-- ordered pair of groups that both have topic terms is listed (both directions), so
-- fct_community_lookalikes and fct_community_affinity join it directly.
with

topics as (
    select * from {{ ref('fct_community_topics') }}
),

latest as (
    select
        snapshot_date,
        group_kind,
        community_id,
        term,
        -- Exact decimal products: sums do not depend on the order they are added in.
        cast(score as decimal(18, 8)) as score,
    from topics
    where snapshot_date = (select max(all_topics.snapshot_date) from topics as all_topics)
),

norms as (
    select
        snapshot_date,
        group_kind,
        community_id,
        sqrt(sum(score * score)) as norm,
    from latest
    group by all
),

dots as (
    select
        focal.group_kind,
        focal.community_id,
        other.group_kind as other_group_kind,
        other.community_id as other_community_id,
        sum(focal.score * other.score) as dot,
    from latest as focal
    inner join latest as other
        on
            focal.term = other.term
            and focal.community_id != other.community_id
    group by all
),

final as (
    select
        focal.snapshot_date,
        focal.group_kind,
        focal.community_id,
        other.group_kind as other_group_kind,
        other.community_id as other_community_id,
        coalesce(dots.dot, 0) / (focal.norm * other.norm) as topic_similarity,
    from norms as focal
    inner join norms as other on focal.community_id != other.community_id
    left join dots
        on
            focal.group_kind = dots.group_kind
            and focal.community_id = dots.community_id
            and other.group_kind = dots.other_group_kind
            and other.community_id = dots.other_community_id
    where focal.norm > 0 and other.norm > 0
)

select * from final
