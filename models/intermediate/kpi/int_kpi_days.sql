-- One row per day from the first to the last day with accepted events: the spine of
-- the daily KPIs, so a day without events still gets its row.
with

events as (
    select * from {{ ref('int_events_priced') }}
),

bounds as (
    select
        min(activity_date) as first_date,
        max(activity_date) as last_date
    from events
),

final as (
    select cast(series.day_start as date) as kpi_date
    from bounds
    {{ cross_join_days('bounds.first_date', 'bounds.last_date', 'series', 'day_start') }}
)

select * from final
