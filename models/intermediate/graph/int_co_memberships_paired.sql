-- Pairs of users who share a declared group, one row per (pair, group).
-- Each pair gets weight 1 / (members - 1), so a member's co-membership weight sums
-- to 1 per group whatever its size. Groups up to co_membership_full_pairs_max_size
-- contribute every overlapping pair; larger groups only add weight to pairs that
-- also interact. The cost is bounded by memberships x that size plus interacting
-- pairs x groups per user: it never grows with the square of a large group.
with

memberships as (
    select
        group_id,
        user_id,
        joined_at,
        coalesce(left_at, timestamp '9999-12-31') as left_at
    from {{ ref('stg_product__group_memberships') }}
),

interactions as (
    select * from {{ ref('int_interactions_unioned') }}
),

group_sizes as (
    select
        group_id,
        count(distinct user_id) as count_members
    from memberships
    group by group_id
),

small_group_pairs as (
    select
        first_member.user_id as user_id_a,
        second_member.user_id as user_id_b,
        first_member.group_id,
        greatest(first_member.joined_at, second_member.joined_at) as shared_since,
        least(first_member.left_at, second_member.left_at) as shared_until
    from memberships as first_member
    inner join group_sizes
        on first_member.group_id = group_sizes.group_id
    inner join memberships as second_member
        on
            first_member.group_id = second_member.group_id
            and first_member.user_id < second_member.user_id
            -- Only members whose spells overlap ever shared the group.
            and first_member.joined_at < second_member.left_at
            and first_member.left_at > second_member.joined_at
    where group_sizes.count_members <= {{ var('co_membership_full_pairs_max_size') }}
),

interacting_pairs as (
    select
        least(user_id, other_user_id) as user_id_a,
        greatest(user_id, other_user_id) as user_id_b,
        min(occurred_at) as first_interaction_at
    from interactions
    group by all
),

large_group_memberships as (
    select memberships.*
    from memberships
    inner join group_sizes
        on memberships.group_id = group_sizes.group_id
    where group_sizes.count_members > {{ var('co_membership_full_pairs_max_size') }}
),

large_group_pairs as (
    select
        interacting_pairs.user_id_a,
        interacting_pairs.user_id_b,
        first_member.group_id,
        -- In a large group the tie starts once they have also interacted, so a weekly
        -- snapshot never sees a tie that only later interactions create.
        greatest(
            first_member.joined_at, second_member.joined_at, interacting_pairs.first_interaction_at
        ) as shared_since,
        least(first_member.left_at, second_member.left_at) as shared_until
    from interacting_pairs
    inner join large_group_memberships as first_member
        on interacting_pairs.user_id_a = first_member.user_id
    inner join large_group_memberships as second_member
        on
            interacting_pairs.user_id_b = second_member.user_id
            and first_member.group_id = second_member.group_id
            and first_member.joined_at < second_member.left_at
            and first_member.left_at > second_member.joined_at
),

paired as (
    select * from small_group_pairs
    union all
    select * from large_group_pairs
),

final as (
    -- Re-joins can pair the same two users twice in one group: keep one row.
    select
        paired.user_id_a,
        paired.user_id_b,
        paired.group_id,
        group_sizes.count_members,
        cast(1 as double) / (group_sizes.count_members - 1) as co_membership_weight,
        min(paired.shared_since) as shared_since,
        -- Open spells were coalesced to 9999-12-31: null again means "still shared".
        nullif(max(paired.shared_until), timestamp '9999-12-31') as shared_until
    from paired
    inner join group_sizes
        on paired.group_id = group_sizes.group_id
    group by all
)

select * from final
