-- Activity inside declared groups on each KPI day: the posts and comments made inside
-- a group that day, and the groups active that day (at least
-- var('active_declared_group_min_posters') distinct members posted or commented inside
-- in the var('active_declared_group_window_days') days ending that day).
with

days as (
    select * from {{ ref('int_kpi_days') }}
),

events as (
    select * from {{ ref('int_events_priced') }}
),

group_posters as (
    -- Who posted or commented inside which group on which day, and how often.
    select
        activity_date,
        group_id,
        user_id,
        count(*) as count_contents
    from events
    where event_type in ('post', 'comment') and group_id is not null
    group by all
),

active_groups_by_day as (
    -- The groups active on each day: enough distinct posters in the window ending it
    -- (a range join, not a lateral subquery: Spark does not decorrelate the latter).
    select
        days.kpi_date,
        group_posters.group_id
    from days
    inner join group_posters
        on
            group_posters.activity_date
            between days.kpi_date - ({{ var('active_declared_group_window_days') }} - 1) and days.kpi_date
    group by days.kpi_date, group_posters.group_id
    having count(distinct group_posters.user_id) >= {{ var('active_declared_group_min_posters') }}
),

active_groups as (
    select
        kpi_date,
        count(*) as count_active_declared_groups
    from active_groups_by_day
    group by kpi_date
),

contents_in_groups as (
    select
        activity_date as kpi_date,
        cast(sum(count_contents) as bigint) as count_contents_in_groups
    from group_posters
    group by activity_date
),

final as (
    select
        days.kpi_date,
        coalesce(active_groups.count_active_declared_groups, 0) as count_active_declared_groups,
        coalesce(contents_in_groups.count_contents_in_groups, 0) as count_contents_in_groups
    from days
    left join active_groups on days.kpi_date = active_groups.kpi_date
    left join contents_in_groups on days.kpi_date = contents_in_groups.kpi_date
)

select * from final
