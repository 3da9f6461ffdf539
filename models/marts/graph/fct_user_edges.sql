with

interactions as (
    select * from {{ ref('int_interactions_unioned') }}
),

co_memberships as (
    select * from {{ ref('int_co_memberships_paired') }}
),

weights as (
    select * from {{ ref('edge_kind_weights') }}
),

interactions_by_pair as (
    select
        least(user_id, other_user_id) as user_id_a,
        greatest(user_id, other_user_id) as user_id_b,
        count(*) filter (where interaction_kind = 'reply') as count_replies,
        count(*) filter (where interaction_kind = 'reaction') as count_reactions,
        count(*) filter (where interaction_kind = 'mention') as count_mentions,
        count(*) filter (where interaction_kind = 'invite_accepted') as count_invites_accepted,
        -- Reciprocity: did both users reach out, or only one?
        count(*) filter (where user_id < other_user_id) as count_from_a,
        count(*) filter (where user_id > other_user_id) as count_from_b,
        min(occurred_at) as first_interaction_at,
        max(occurred_at) as last_interaction_at
    from interactions
    group by all
),

co_memberships_by_pair as (
    select
        user_id_a,
        user_id_b,
        count(*) as count_shared_groups,
        -- Decimal sum: the result must not depend on the order DuckDB adds rows in.
        cast(sum(cast(co_membership_weight as decimal(18, 9))) as double) as co_membership_weight,
        min(shared_since) as shared_group_since
    from co_memberships
    group by all
),

paired as (
    select
        coalesce(interactions_by_pair.user_id_a, co_memberships_by_pair.user_id_a) as user_id_a,
        coalesce(interactions_by_pair.user_id_b, co_memberships_by_pair.user_id_b) as user_id_b,
        coalesce(interactions_by_pair.count_replies, 0) as count_replies,
        coalesce(interactions_by_pair.count_reactions, 0) as count_reactions,
        coalesce(interactions_by_pair.count_mentions, 0) as count_mentions,
        coalesce(interactions_by_pair.count_invites_accepted, 0) as count_invites_accepted,
        coalesce(interactions_by_pair.count_from_a, 0) as count_from_a,
        coalesce(interactions_by_pair.count_from_b, 0) as count_from_b,
        coalesce(co_memberships_by_pair.count_shared_groups, 0) as count_shared_groups,
        coalesce(co_memberships_by_pair.co_membership_weight, 0) as co_membership_weight,
        interactions_by_pair.first_interaction_at,
        interactions_by_pair.last_interaction_at,
        co_memberships_by_pair.shared_group_since
    from interactions_by_pair
    full outer join co_memberships_by_pair
        on
            interactions_by_pair.user_id_a = co_memberships_by_pair.user_id_a
            and interactions_by_pair.user_id_b = co_memberships_by_pair.user_id_b
),

pivoted_weights as (
    select
        max(weight) filter (where interaction_kind = 'reply') as reply_weight,
        max(weight) filter (where interaction_kind = 'reaction') as reaction_weight,
        max(weight) filter (where interaction_kind = 'mention') as mention_weight,
        max(weight) filter (where interaction_kind = 'invite_accepted') as invite_weight,
        max(weight) filter (where interaction_kind = 'co_membership') as co_membership_kind_weight
    from weights
),

final as (
    select
        paired.user_id_a,
        paired.user_id_b,
        paired.count_replies,
        paired.count_reactions,
        paired.count_mentions,
        paired.count_invites_accepted,
        paired.count_replies + paired.count_reactions + paired.count_mentions
        + paired.count_invites_accepted as count_interactions,
        paired.count_from_a > 0 and paired.count_from_b > 0 as is_reciprocal,
        paired.count_shared_groups,
        paired.co_membership_weight,
        paired.count_replies * pivoted_weights.reply_weight
        + paired.count_reactions * pivoted_weights.reaction_weight
        + paired.count_mentions * pivoted_weights.mention_weight
        + paired.count_invites_accepted * pivoted_weights.invite_weight
        + paired.co_membership_weight * pivoted_weights.co_membership_kind_weight
            as edge_weight,
        paired.first_interaction_at,
        paired.last_interaction_at,
        paired.shared_group_since
    from paired
    cross join pivoted_weights
)

select * from final
