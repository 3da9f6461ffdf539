-- The MetricFlow time spine: one row per day from 2020-01-01 to 2030-12-31 (4,018 rows).
-- The semantic layer joins to it for cumulative metrics, offsets (growth vs 7 days
-- earlier) and filling days without rows; see docs/semantic_layer.md.
with

days as (
    select cast(series.day_start as date) as date_day
    from (select 1 as anchor) as one_row
    {{ cross_join_days("date '2020-01-01'", "date '2030-12-31'", 'series', 'day_start') }}
)

select date_day
from days
