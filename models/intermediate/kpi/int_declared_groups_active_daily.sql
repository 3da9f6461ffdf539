-- The declared groups active on each KPI day: at least
-- var('active_declared_group_min_posters') distinct members posted or commented inside
-- in the var('active_declared_group_window_days') days ending that day.
with

days as (
    select * from {{ ref('int_kpi_days') }}
),

group_posters as (
    select * from {{ ref('int_group_posters_daily') }}
),

final as (
    select
        days.kpi_date,
        active.group_id,
        active.count_posters,
    from days
    inner join lateral (
        select
            group_posters.group_id,
            count(distinct group_posters.user_id) as count_posters,
        from group_posters
        where
            group_posters.activity_date
            between days.kpi_date - ({{ var('active_declared_group_window_days') }} - 1) and days.kpi_date
        group by group_posters.group_id
        having count(distinct group_posters.user_id) >= {{ var('active_declared_group_min_posters') }}
    ) as active on true
)

select * from final
