"""Growth inflections: a Python step after the KPI marts. Reads the daily KPI series,
finds where each growth curve bends (continuous piecewise-linear fit, change points by a
penalised criterion), attaches the interventions and experiments that started shortly
before, and writes ``kpi.growth_inflections`` for dbt to read back."""

import time

import dagster as dg
import pandas as pd
from dagster_dbt import get_asset_key_for_model

from orchestration.defs.dbt.assets import smallgroups_dbt_assets
from orchestration.lib.config import load_settings
from orchestration.lib.kpi.inflection import (
    CONTEXT_COLUMNS,
    INFLECTION_COLUMNS,
    attach_context,
    detect_inflections,
)
from orchestration.lib.warehouse import connect

#: KPI series analysed: column of fct_kpi_daily -> fit the log (growth rates) or not.
#: Sign-ups grow by a percentage a day once they take off, a single clean bend only on
#: the log scale (benchmark: mean error 1.6 days on log, 3.4 on the raw counts); the log
#: of a count is weighted by the count (its variance is about 1 / count).
SERIES = {
    "count_new_users": True,
    "count_dau": False,
    "count_active_groups": False,
}
_INPUTS = ("fct_kpi_daily", "stg_product__interventions", "stg_product__experiments")
_COLUMNS = ("series_name", *INFLECTION_COLUMNS, *CONTEXT_COLUMNS)


class GrowthInflectionConfig(dg.Config):
    """Change-point settings (launchpad)."""

    min_segment_days: int = 14
    """Least days between two bends (and from either end of the series)."""
    penalty: float = 1.0
    """Multiplier of the BIC penalty: larger finds fewer, surer bends."""
    context_window_days: int = 21
    """Interventions/experiments that started this many days before a bend are listed."""
    seed: int = 42


@dg.asset(
    key=["kpi", "growth_inflections"],
    group_name="kpi",
    deps=[get_asset_key_for_model([smallgroups_dbt_assets], m) for m in _INPUTS],
    kinds={"python", "duckdb"},
    description="Bends of the daily growth curves (kpi.growth_inflections).",
)
def growth_inflections(context: dg.AssetExecutionContext, config: GrowthInflectionConfig):
    started = time.perf_counter()
    with connect(load_settings().duckdb_path) as con:
        kpis = con.execute("select * from main.fct_kpi_daily order by kpi_date").df()
        interventions = con.execute(
            "select intervention_id, started_at from main.stg_product__interventions"
        ).df()
        experiments = con.execute(
            "select experiment_id, started_at from main.stg_product__experiments"
        ).df()
        frames = []
        for column, log in SERIES.items():
            values = kpis[column].astype(float)
            found = detect_inflections(
                kpis["kpi_date"],
                values,
                log=log,
                weights=values.clip(lower=1.0) if log else None,
                penalty=config.penalty,
                min_segment_days=config.min_segment_days,
                seed=config.seed,
            )
            found = attach_context(
                found, interventions, experiments, window_days=config.context_window_days
            )
            frames.append(found.assign(series_name=column))
            context.log.info("%s: %d inflection(s)", column, len(found))
        result = pd.concat(frames, ignore_index=True)[list(_COLUMNS)]
        con.execute("create schema if not exists kpi")
        con.register("_inflections", result)
        # Explicit types: an empty result (no bend found) must still have the right ones.
        con.execute(
            """
            create or replace table kpi.growth_inflections as
            select
                cast(series_name as varchar) as series_name,
                cast(inflection_date as date) as inflection_date,
                cast(slope_before as double) as slope_before,
                cast(slope_after as double) as slope_after,
                cast(slope_change as double) as slope_change,
                cast(direction as varchar) as direction,
                cast(p_value as double) as p_value,
                cast(date_low as date) as date_low,
                cast(date_high as date) as date_high,
                cast(rss_reduction_share as double) as rss_reduction_share,
                cast(criterion_gain as double) as criterion_gain,
                cast(intervention_ids as varchar) as intervention_ids,
                cast(n_interventions as bigint) as n_interventions,
                cast(experiment_ids as varchar) as experiment_ids,
                cast(n_experiments as bigint) as n_experiments,
            from _inflections
            """
        )
        con.unregister("_inflections")
    signups = result[result["series_name"] == "count_new_users"]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(result),
            "series": ", ".join(SERIES),
            "new_users_inflections": ", ".join(
                d.strftime("%Y-%m-%d") for d in signups["inflection_date"]
            )
            or "none",
            "seconds": round(time.perf_counter() - started, 2),
        }
    )
