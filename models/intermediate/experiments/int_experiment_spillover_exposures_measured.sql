-- One row per (experiment, user unit) of a user-randomized experiment: the unit's
-- exposure to the other variants, the raw material of the spillover estimate
-- (orchestration/lib/experiments/spillover.py, via int_experiment_spillover_units_measured).
-- Interaction exposure: the interaction weight (edge_kind_weights) between the unit and
-- the experiment's other units over the experiment_pre_period_days before its
-- assignment (ties before the treatment, so the treatment cannot move them), and the
-- part of it with units of another variant. Ties to users outside the experiment are
-- counted apart: their treatment status is not random, so they stay out of the share.
-- Community exposure: the other units among the members of the unit's detected
-- community at the last snapshot on or before the experiment's end (the latest while
-- it runs; the first snapshot when none is that early), and how many of them are in
-- another variant. The end, not the assignment: the communities the spillover travels
-- in are those of the experiment window, and a snapshot taken soon after the data
-- starts has few members (on the 40-day e2e demo, 108 of 614 control users at the
-- assignment's snapshot against most of them at the end's).
with

experiments as (
    select * from {{ ref('stg_product__experiments') }}
),

assignments as (
    select * from {{ ref('stg_product__experiment_assignments') }}
),

interactions as (
    select * from {{ ref('int_interactions_unioned') }}
),

weights as (
    select * from {{ ref('edge_kind_weights') }}
),

community_members as (
    select * from {{ ref('stg_communities__assignments') }}
),

units as (
    select
        assignments.experiment_id,
        assignments.unit_id,
        assignments.variant,
        assignments.assigned_at,
        assignments.assigned_at
        - to_days({{ var('experiment_pre_period_days') }}) as pre_start_at,
        experiments.ended_at,
    from assignments
    inner join experiments
        on assignments.experiment_id = experiments.experiment_id
    where experiments.unit_type = 'user'
),

directed_ties as (
    select
        interactions.user_id,
        interactions.other_user_id as peer_user_id,
        interactions.occurred_at,
        weights.weight,
    from interactions
    inner join weights
        on interactions.interaction_kind = weights.interaction_kind
    union all
    select
        interactions.other_user_id as user_id,
        interactions.user_id as peer_user_id,
        interactions.occurred_at,
        weights.weight,
    from interactions
    inner join weights
        on interactions.interaction_kind = weights.interaction_kind
),

unit_ties as (
    select
        units.experiment_id,
        units.unit_id,
        units.variant,
        directed_ties.peer_user_id,
        directed_ties.weight,
    from units
    inner join directed_ties
        on
            units.unit_id = directed_ties.user_id
            and units.pre_start_at <= directed_ties.occurred_at
            and units.assigned_at > directed_ties.occurred_at
),

tie_weights as (
    select
        unit_ties.experiment_id,
        unit_ties.unit_id,
        cast(sum(unit_ties.weight) as double) as interaction_weight,
        cast(coalesce(sum(unit_ties.weight) filter (
            where peers.unit_id is not null
        ), 0) as double) as weight_to_units,
        cast(coalesce(sum(unit_ties.weight) filter (
            where peers.variant != unit_ties.variant
        ), 0) as double) as weight_to_other_variants,
    from unit_ties
    left join units as peers
        on
            unit_ties.experiment_id = peers.experiment_id
            and unit_ties.peer_user_id = peers.unit_id
    group by unit_ties.experiment_id, unit_ties.unit_id
),

snapshots as (
    select distinct snapshot_date from community_members
),

unit_snapshots as (
    select
        units.experiment_id,
        units.unit_id,
        coalesce(
            max(snapshots.snapshot_date) filter (
                where
                units.ended_at is null
                or snapshots.snapshot_date <= cast(units.ended_at as date)
            ),
            min(snapshots.snapshot_date)
        ) as snapshot_date,
    from units
    cross join snapshots
    group by units.experiment_id, units.unit_id
),

unit_communities as (
    select
        unit_snapshots.experiment_id,
        unit_snapshots.unit_id,
        unit_snapshots.snapshot_date,
        community_members.community_id,
    from unit_snapshots
    inner join community_members
        on
            unit_snapshots.unit_id = community_members.user_id
            and unit_snapshots.snapshot_date = community_members.snapshot_date
),

community_units as (
    select
        unit_communities.experiment_id,
        unit_communities.snapshot_date,
        unit_communities.community_id,
        units.variant,
        count(*) as units,
    from unit_communities
    inner join units
        on
            unit_communities.experiment_id = units.experiment_id
            and unit_communities.unit_id = units.unit_id
    group by all
),

community_exposures as (
    select
        unit_communities.experiment_id,
        unit_communities.unit_id,
        unit_communities.community_id,
        sum(community_units.units) - 1 as count_community_peer_units,
        coalesce(sum(community_units.units) filter (
            where community_units.variant != units.variant
        ), 0) as count_community_peers_other_variants,
    from unit_communities
    inner join units
        on
            unit_communities.experiment_id = units.experiment_id
            and unit_communities.unit_id = units.unit_id
    inner join community_units
        on
            unit_communities.experiment_id = community_units.experiment_id
            and unit_communities.snapshot_date = community_units.snapshot_date
            and unit_communities.community_id = community_units.community_id
    group by unit_communities.experiment_id, unit_communities.unit_id, unit_communities.community_id
),

final as (
    select
        units.experiment_id,
        units.unit_id,
        units.variant,
        coalesce(tie_weights.interaction_weight, 0) as interaction_weight,
        coalesce(tie_weights.weight_to_units, 0) as weight_to_units,
        coalesce(tie_weights.weight_to_other_variants, 0) as weight_to_other_variants,
        community_exposures.community_id,
        community_exposures.count_community_peer_units,
        community_exposures.count_community_peers_other_variants,
    from units
    left join tie_weights
        on
            units.experiment_id = tie_weights.experiment_id
            and units.unit_id = tie_weights.unit_id
    left join community_exposures
        on
            units.experiment_id = community_exposures.experiment_id
            and units.unit_id = community_exposures.unit_id
)

select * from final
