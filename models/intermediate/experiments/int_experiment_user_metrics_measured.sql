-- One row per (experiment, user unit, metric) of a user-randomized experiment: the
-- user's value over the analysis window (assigned_at to the experiment's end, or the
-- last event when it still runs) and over the pre-period of
-- experiment_pre_period_days before assigned_at (CUPED). Assignments to a user that
-- does not exist are left out here and listed as problems by the readout.
with

experiments as (
    select * from {{ ref('stg_product__experiments') }}
),

assignments as (
    select * from {{ ref('stg_product__experiment_assignments') }}
),

users as (
    select * from {{ ref('stg_product__users') }}
),

events as (
    select * from {{ ref('int_events_priced') }}
),

metrics as (
    select * from {{ ref('experiment_metrics') }}
    where unit_types = 'user'
),

data_end as (
    select max(occurred_at) as last_event_at from events
),

units as (
    select
        assignments.experiment_id,
        assignments.unit_id,
        assignments.variant,
        assignments.assigned_at,
        coalesce(experiments.ended_at, data_end.last_event_at) as window_end_at,
        assignments.assigned_at
        - to_days({{ var('experiment_pre_period_days') }}) as pre_start_at,
    from assignments
    inner join experiments
        on assignments.experiment_id = experiments.experiment_id
    inner join users
        on assignments.unit_id = users.user_id
    cross join data_end
    where experiments.unit_type = 'user'
),

unit_events as (
    select
        units.experiment_id,
        units.unit_id,
        units.variant,
        events.event_type,
        events.activity_date,
        events.amount_usd,
        events.occurred_at >= units.assigned_at as is_post,
    from units
    inner join events
        on
            units.unit_id = events.user_id
            and units.pre_start_at <= events.occurred_at
            and units.window_end_at >= events.occurred_at
),

unit_values as (
    select
        units.experiment_id,
        units.unit_id,
        units.variant,
        count(unit_events.event_type) filter (
            where unit_events.is_post and unit_events.event_type = 'post'
        ) as posts_post,
        count(unit_events.event_type) filter (
            where not unit_events.is_post and unit_events.event_type = 'post'
        ) as posts_pre,
        count(unit_events.event_type) filter (where unit_events.is_post) as events_post,
        count(unit_events.event_type) filter (where not unit_events.is_post) as events_pre,
        count(distinct unit_events.activity_date) filter (
            where unit_events.is_post
        ) as active_days_post,
        count(distinct unit_events.activity_date) filter (
            where not unit_events.is_post
        ) as active_days_pre,
        coalesce(sum(unit_events.amount_usd) filter (
            where unit_events.is_post and unit_events.event_type = 'purchase'
        ), 0) as purchase_amount_post,
        coalesce(sum(unit_events.amount_usd) filter (
            where not unit_events.is_post and unit_events.event_type = 'purchase'
        ), 0) as purchase_amount_pre,
        count(unit_events.event_type) filter (
            where unit_events.is_post and unit_events.event_type = 'purchase'
        ) as purchases_post,
        count(unit_events.event_type) filter (
            where not unit_events.is_post and unit_events.event_type = 'purchase'
        ) as purchases_pre,
    from units
    left join unit_events
        on
            units.experiment_id = unit_events.experiment_id
            and units.unit_id = unit_events.unit_id
    group by units.experiment_id, units.unit_id, units.variant
),

final as (
    select
        unit_values.experiment_id,
        unit_values.unit_id,
        unit_values.variant,
        metrics.metric_name,
        cast(case metrics.metric_name
            when 'posts_per_user' then unit_values.posts_post
            when 'events_per_user' then unit_values.events_post
            when 'active_days_per_user' then unit_values.active_days_post
            when 'purchase_conversion' then least(unit_values.purchases_post, 1)
            when 'purchase_amount_per_user' then unit_values.purchase_amount_post
        end as double) as metric_value,
        cast(case metrics.metric_name
            when 'posts_per_user' then unit_values.posts_pre
            when 'events_per_user' then unit_values.events_pre
            when 'active_days_per_user' then unit_values.active_days_pre
            when 'purchase_conversion' then least(unit_values.purchases_pre, 1)
            when 'purchase_amount_per_user' then unit_values.purchase_amount_pre
        end as double) as pre_period_value,
    from unit_values
    cross join metrics
)

select * from final
