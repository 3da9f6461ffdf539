-- One row per (experiment, cluster unit, metric) of a group- or community-randomized
-- experiment: the cluster's numerator and denominator over the analysis window
-- (assigned_at to the experiment's end, or the last event) and over the
-- experiment_pre_period_days before assigned_at (CUPED), summed over its members.
-- A declared group's members are its membership spells, cut to each window, and its
-- posts the posts its members tagged with the group (the treatment acts in the group).
-- A detected community's members are the members of the last snapshot on or before
-- the assignment day (the first snapshot when none is that early), and its posts every
-- post of those members (events carry no community). A cluster without members in the
-- pre-period has pre-period sums of 0 (it still counts in the pooled ratio's
-- covariance); retention_d28 has no pre-period value (null); clusters with a zero
-- denominator are left out of a metric.
with

experiments as (
    select * from {{ ref('stg_product__experiments') }}
),

assignments as (
    select * from {{ ref('stg_product__experiment_assignments') }}
),

memberships as (
    select * from {{ ref('stg_product__group_memberships') }}
),

community_members as (
    select * from {{ ref('stg_communities__assignments') }}
),

events as (
    select * from {{ ref('int_events_priced') }}
),

metrics as (
    select * from {{ ref('experiment_metrics') }}
    where unit_types = 'group|community'
),

data_end as (
    select max(occurred_at) as last_event_at from events
),

last_events as (
    select
        user_id,
        max(occurred_at) as last_event_at,
    from events
    group by user_id
),

units as (
    select
        assignments.experiment_id,
        experiments.unit_type,
        assignments.unit_id,
        assignments.variant,
        assignments.assigned_at,
        coalesce(experiments.ended_at, data_end.last_event_at) as window_end_at,
        assignments.assigned_at
        - to_days({{ var('experiment_pre_period_days') }}) as pre_start_at,
        data_end.last_event_at,
    from assignments
    inner join experiments
        on assignments.experiment_id = experiments.experiment_id
    cross join data_end
    where experiments.unit_type in ('group', 'community')
),

group_spells as (
    select
        units.experiment_id,
        units.unit_id,
        units.variant,
        memberships.user_id,
        greatest(memberships.joined_at, units.assigned_at) as post_start_at,
        least(
            coalesce(memberships.left_at, units.window_end_at), units.window_end_at
        ) as post_end_at,
        greatest(memberships.joined_at, units.pre_start_at) as pre_start_at,
        least(coalesce(memberships.left_at, units.assigned_at), units.assigned_at) as pre_end_at,
        units.last_event_at,
    from units
    inner join memberships
        on units.unit_id = memberships.group_id
    where
        units.unit_type = 'group'
        and memberships.joined_at < units.window_end_at
        and (memberships.left_at is null or memberships.left_at > units.pre_start_at)
),

community_snapshots as (
    select
        units.experiment_id,
        units.unit_id,
        coalesce(
            max(community_members.snapshot_date) filter (
                where community_members.snapshot_date <= cast(units.assigned_at as date)
            ),
            min(community_members.snapshot_date)
        ) as snapshot_date,
    from units
    inner join community_members
        on units.unit_id = community_members.community_id
    where units.unit_type = 'community'
    group by units.experiment_id, units.unit_id
),

community_spells as (
    select
        units.experiment_id,
        units.unit_id,
        units.variant,
        community_members.user_id,
        units.assigned_at as post_start_at,
        units.window_end_at as post_end_at,
        units.pre_start_at,
        units.assigned_at as pre_end_at,
        units.last_event_at,
    from units
    inner join community_snapshots
        on
            units.experiment_id = community_snapshots.experiment_id
            and units.unit_id = community_snapshots.unit_id
    inner join community_members
        on
            community_snapshots.unit_id = community_members.community_id
            and community_snapshots.snapshot_date = community_members.snapshot_date
),

spells as (
    select
        'group' as unit_type,
        experiment_id,
        unit_id,
        variant,
        user_id,
        post_start_at,
        post_end_at,
        pre_start_at,
        pre_end_at,
        last_event_at,
    from group_spells
    union all
    select
        'community' as unit_type,
        experiment_id,
        unit_id,
        variant,
        user_id,
        post_start_at,
        post_end_at,
        pre_start_at,
        pre_end_at,
        last_event_at,
    from community_spells
),

-- Each spell numbered, so its events are grouped by one integer key, not by its ten columns.
numbered_spells as (
    select
        *,
        row_number() over () as spell_number,
    from spells
),

spell_event_counts as (
    select
        spells.spell_number,
        count(events.event_type) filter (
            where
            events.occurred_at >= spells.post_start_at
            and events.occurred_at < spells.post_end_at
            and events.event_type = 'post'
            and (spells.unit_type = 'community' or events.group_id = spells.unit_id)
        ) as posts_post,
        count(events.event_type) filter (
            where
            events.occurred_at >= spells.pre_start_at
            and events.occurred_at < spells.pre_end_at
            and events.event_type = 'post'
            and (spells.unit_type = 'community' or events.group_id = spells.unit_id)
        ) as posts_pre,
        count(events.event_type) filter (
            where
            events.occurred_at >= spells.post_start_at
            and events.occurred_at < spells.post_end_at
        ) as events_post,
        count(events.event_type) filter (
            where
            events.occurred_at >= spells.pre_start_at
            and events.occurred_at < spells.pre_end_at
        ) as events_pre,
    from numbered_spells as spells
    inner join events
        on
            spells.user_id = events.user_id
            and least(spells.pre_start_at, spells.post_start_at) <= events.occurred_at
            and greatest(spells.pre_end_at, spells.post_end_at) >= events.occurred_at
    group by spells.spell_number
),

spell_values as (
    select
        spells.experiment_id,
        spells.unit_id,
        spells.variant,
        spells.user_id,
        spells.post_start_at,
        spells.post_end_at,
        spells.post_start_at < spells.post_end_at as is_post_member,
        spells.pre_start_at < spells.pre_end_at as is_pre_member,
        greatest(epoch(spells.post_end_at) - epoch(spells.post_start_at), 0)
        / 86400.0 as post_member_days,
        greatest(epoch(spells.pre_end_at) - epoch(spells.pre_start_at), 0)
        / 86400.0 as pre_member_days,
        -- retention_d28: the member's exposure began 28 days or more before the last data day
        spells.post_start_at < spells.post_end_at
        and spells.post_start_at + to_days(28) <= spells.last_event_at as is_retention_eligible,
        coalesce(spell_event_counts.posts_post, 0) as posts_post,
        coalesce(spell_event_counts.posts_pre, 0) as posts_pre,
        coalesce(spell_event_counts.events_post, 0) as events_post,
        coalesce(spell_event_counts.events_pre, 0) as events_pre,
        -- Retention looks past the experiment's end, up to the last data day.
        last_events.last_event_at >= spells.post_start_at + to_days(28) as is_active_after_d28,
    from numbered_spells as spells
    left join spell_event_counts
        on spells.spell_number = spell_event_counts.spell_number
    left join last_events
        on spells.user_id = last_events.user_id
),

-- A member with several spells in one group counts once in the shares.
member_values as (
    select
        experiment_id,
        unit_id,
        variant,
        user_id,
        bool_or(is_post_member) as is_post_member,
        bool_or(is_pre_member) as is_pre_member,
        sum(post_member_days) as post_member_days,
        sum(pre_member_days) as pre_member_days,
        sum(posts_post) as posts_post,
        sum(posts_pre) as posts_pre,
        bool_or(is_post_member and events_post > 0) as is_active_post,
        bool_or(is_pre_member and events_pre > 0) as is_active_pre,
        bool_or(is_retention_eligible) as is_retention_eligible,
        bool_or(is_retention_eligible and is_active_after_d28) as is_retained,
    from spell_values
    group by experiment_id, unit_id, variant, user_id
),

cluster_values as (
    select
        units.experiment_id,
        units.unit_type,
        units.unit_id,
        units.variant,
        count(member_values.user_id) filter (where member_values.is_post_member) as members,
        coalesce(sum(member_values.posts_post), 0) as posts_post,
        coalesce(sum(member_values.posts_pre), 0) as posts_pre,
        coalesce(sum(member_values.post_member_days), 0) as post_member_days,
        coalesce(sum(member_values.pre_member_days), 0) as pre_member_days,
        count(member_values.user_id) filter (where member_values.is_active_post) as active_post,
        count(member_values.user_id) filter (where member_values.is_active_pre) as active_pre,
        count(member_values.user_id) filter (where member_values.is_pre_member) as members_pre,
        count(member_values.user_id) filter (
            where member_values.is_retention_eligible
        ) as retention_eligible,
        count(member_values.user_id) filter (where member_values.is_retained) as retained,
    from units
    left join member_values
        on
            units.experiment_id = member_values.experiment_id
            and units.unit_id = member_values.unit_id
    group by units.experiment_id, units.unit_type, units.unit_id, units.variant
),

measured as (
    select
        cluster_values.experiment_id,
        cluster_values.unit_type,
        cluster_values.unit_id,
        cluster_values.variant,
        metrics.metric_name,
        cluster_values.members,
        cast(case metrics.metric_name
            when 'posts_per_member_day' then cluster_values.posts_post
            when 'active_member_share' then cluster_values.active_post
            when 'retention_d28' then cluster_values.retained
        end as double) as metric_numerator,
        cast(case metrics.metric_name
            when 'posts_per_member_day' then cluster_values.post_member_days
            when 'active_member_share' then cluster_values.members
            when 'retention_d28' then cluster_values.retention_eligible
        end as double) as metric_denominator,
        cast(case metrics.metric_name
            when 'posts_per_member_day' then cluster_values.posts_pre
            when 'active_member_share' then cluster_values.active_pre
        end as double) as pre_period_numerator,
        cast(case metrics.metric_name
            when 'posts_per_member_day' then cluster_values.pre_member_days
            when 'active_member_share' then cluster_values.members_pre
        end as double) as pre_period_denominator,
    from cluster_values
    cross join metrics
),

final as (
    select
        experiment_id,
        unit_type,
        unit_id,
        variant,
        metric_name,
        members,
        metric_numerator,
        metric_denominator,
        pre_period_numerator,
        pre_period_denominator,
    from measured
    where metric_denominator > 0
)

select * from final
