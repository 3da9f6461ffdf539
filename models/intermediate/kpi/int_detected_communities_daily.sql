-- Detected communities active on each KPI day: those of the latest weekly snapshot at
-- or before the day (a community exists only while its members interact, so every
-- community of a snapshot is active); zero before the first snapshot.
with

days as (
    select * from {{ ref('int_kpi_days') }}
),

snapshot_runs as (
    select * from {{ ref('stg_communities__snapshot_runs') }}
),

latest_snapshots as (
    -- The latest snapshot at or before each day (an as-of join in plain SQL).
    select
        days.kpi_date,
        max(snapshot_runs.snapshot_date) as snapshot_date
    from days
    left join snapshot_runs on days.kpi_date >= snapshot_runs.snapshot_date
    group by days.kpi_date
),

final as (
    select
        latest_snapshots.kpi_date,
        latest_snapshots.snapshot_date,
        coalesce(snapshot_runs.count_communities, 0) as count_active_detected_communities
    from latest_snapshots
    left join snapshot_runs on latest_snapshots.snapshot_date = snapshot_runs.snapshot_date
)

select * from final
