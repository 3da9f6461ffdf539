-- WAU and MAU of every KPI day: distinct users with an accepted event in the 7 / 30
-- days ending that day. Each user counts from an active day until 7 (30) days later or
-- their next active day, whichever comes first: disjoint spans, so running sums of
-- +1/-1 changes give distinct users at a cost linear in active days.
with

events as (
    select * from {{ ref('int_events_priced') }}
),

days as (
    select * from {{ ref('int_kpi_days') }}
),

user_active_days as (
    select distinct
        user_id,
        activity_date
    from events
),

user_active_days_next as (
    select
        user_id,
        activity_date,
        lead(activity_date) over (partition by user_id order by activity_date) as next_activity_date
    from user_active_days
),

rolling_changes as (
    select
        activity_date as change_date,
        1 as wau_change,
        1 as mau_change
    from user_active_days_next
    union all
    select
        least(activity_date + 7, coalesce(next_activity_date, activity_date + 7)) as change_date,
        -1 as wau_change,
        0 as mau_change
    from user_active_days_next
    union all
    select
        least(activity_date + 30, coalesce(next_activity_date, activity_date + 30)) as change_date,
        0 as wau_change,
        -1 as mau_change
    from user_active_days_next
),

rolling as (
    select
        change_date,
        sum(wau_change) as wau_change,
        sum(mau_change) as mau_change
    from rolling_changes
    group by change_date
),

final as (
    select
        days.kpi_date,
        cast(sum(coalesce(rolling.wau_change, 0)) over (order by days.kpi_date) as bigint)
            as count_wau,
        cast(sum(coalesce(rolling.mau_change, 0)) over (order by days.kpi_date) as bigint)
            as count_mau
    from days
    left join rolling on days.kpi_date = rolling.change_date
)

select * from final
