"""Growth inflections: a Python step after the KPI marts. Reads the daily KPI series,
finds where each growth curve bends (continuous piecewise-linear fit, change points by a
penalised criterion), attaches the interventions and experiments that started shortly
before, and writes ``kpi.growth_inflections`` for dbt to read back. The work itself
lives in `orchestration.lib.kpi.refresh`."""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.defs.dbt.assets import smallgroups_dbt_assets
from orchestration.defs.settings import LaunchpadConfig, settings_from_config
from orchestration.lib.config import load_settings
from orchestration.lib.kpi import store
from orchestration.lib.kpi.refresh import SERIES, InflectionSettings, refresh_inflections
from orchestration.lib.warehouse import connect

__all__ = [
    "GROUP",
    "GrowthInflectionConfig",
    "growth_inflections",
    "growth_inflections_are_valid",
]

GROUP = "kpi"
_KEY = dg.AssetKey([GROUP, "growth_inflections"])


class GrowthInflectionConfig(LaunchpadConfig):
    """Change-point settings (launchpad); the defaults are the library's (InflectionSettings)."""

    min_segment_days: int = InflectionSettings.min_segment_days
    """Least days between two bends (and from either end of the series)."""
    penalty: float = InflectionSettings.penalty
    """Multiplier of the BIC penalty: larger finds fewer, surer bends."""
    context_window_days: int = InflectionSettings.context_window_days
    """Interventions/experiments that started this many days before a bend are listed."""
    seed: int = InflectionSettings.seed
    """Seed of the bootstrap interval of each bend's date."""


@dg.asset(
    key=_KEY,
    group_name=GROUP,
    deps=[get_asset_key_for_model([smallgroups_dbt_assets], m) for m in store.INPUT_MODELS],
    kinds={"python", "duckdb"},
    description="Bends of the daily growth curves (kpi.growth_inflections).",
)
def growth_inflections(context: dg.AssetExecutionContext, config: GrowthInflectionConfig):
    """Fit every KPI series and rewrite the table of their bends."""
    settings = settings_from_config(InflectionSettings, config)
    with connect(load_settings().duckdb_path) as con:
        stats = refresh_inflections(con, settings, log=context.log)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": stats["count_inflections"],
            "series": ", ".join(stats["series"]),
            "new_users_inflections": ", ".join(stats["new_users_inflection_dates"]) or "none",
            "seconds": round(stats["seconds"], 2),
        }
    )


@dg.asset_check(
    asset=_KEY,
    description="One row per KPI series and date, for a series the step analyses; "
    "direction acceleration or deceleration matching the sign of the slope change; "
    "date_low <= inflection_date <= date_high; p_value and the residual share in [0, 1]; "
    "context counts matching their id lists.",
    blocking=True,
)
def growth_inflections_are_valid() -> dg.AssetCheckResult:
    known = ", ".join(f"'{name}'" for name in SERIES)
    with connect(load_settings().duckdb_path, read_only=True) as con:
        duplicated, unknown, direction, interval, ranges, context = con.execute(
            f"""
            with inflections as (select * from {store.SCHEMA}.growth_inflections)
            select
                (select count(*) - count(distinct (series_name, inflection_date))
                 from inflections),
                count(*) filter (where series_name is null or series_name not in ({known})),
                count(*) filter (
                    where direction is null
                       or direction not in ('acceleration', 'deceleration')
                       or (direction = 'acceleration') != (slope_change > 0)),
                count(*) filter (
                    where inflection_date is null
                       or date_low > inflection_date or date_high < inflection_date),
                count(*) filter (
                    where p_value not between 0 and 1
                       or rss_reduction_share not between 0 and 1),
                count(*) filter (
                    where n_interventions
                        != coalesce(len(string_split(nullif(intervention_ids, ''), ',')), 0)
                       or n_experiments
                        != coalesce(len(string_split(nullif(experiment_ids, ''), ',')), 0)),
            from inflections
            """
        ).fetchall()[0]
        count = con.execute(f"select count(*) from {store.SCHEMA}.growth_inflections").fetchall()
    failures = {
        "duplicated_series_dates": int(duplicated),
        "unknown_series": int(unknown),
        "invalid_directions": int(direction),
        "dates_outside_interval": int(interval),
        "values_out_of_range": int(ranges),
        "context_counts_mismatched": int(context),
    }
    return dg.AssetCheckResult(
        passed=not any(failures.values()),
        metadata=failures | {"inflections": int(count[0][0])},
    )
