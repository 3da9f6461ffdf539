-- KPI continuity: fct_kpi_daily has one row for every day between its first and last
-- day. Returns the missing days.
with

kpis as (
    select * from {{ ref('fct_kpi_daily') }}
),

bounds as (
    select
        min(kpi_date) as first_date,
        max(kpi_date) as last_date
    from kpis
),

expected as (
    select cast(series.day_start as date) as kpi_date
    from bounds
    {{ cross_join_days('bounds.first_date', 'bounds.last_date', 'series', 'day_start') }}
),

final as (
    select expected.kpi_date
    from expected
    {{ anti_join() }} kpis on expected.kpi_date = kpis.kpi_date
)

select * from final
