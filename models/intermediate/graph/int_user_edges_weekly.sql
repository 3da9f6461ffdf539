-- Interaction weight of each user pair per week (Monday start): the time-windowed graph
-- that the community snapshots sum over their window. One row per pair and week with
-- any interaction; co-membership ties are added by the snapshot step from
-- int_co_memberships_paired, which knows when each pair shared a group.
with

interactions as (
    select * from {{ ref('int_interactions_unioned') }}
),

weights as (
    select * from {{ ref('edge_kind_weights') }}
),

final as (
    select
        least(interactions.user_id, interactions.other_user_id) as user_id_a,
        greatest(interactions.user_id, interactions.other_user_id) as user_id_b,
        cast(date_trunc('week', interactions.occurred_at) as date) as week_start_date,
        count(*) as count_interactions,
        cast(sum(weights.weight) as double) as interaction_weight
    from interactions
    inner join weights
        on interactions.interaction_kind = weights.interaction_kind
    group by all
)

select * from final
