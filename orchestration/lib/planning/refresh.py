"""Refit the potential score on the warehouse and store its weights, calibration and backtest.

Reads :func:`.backtest.read_panel` (one row per past snapshot and ranked group with what
happened over the next 4 weeks), fits the score's weights out of time
(:mod:`.potential`) and rewrites, in one transaction, the three tables of
:data:`TABLES` in schema ``planning`` (dbt sources, ``models/staging/planning``):

- ``potential_score_weights``: one row per component, the weight the report uses (fitted
  on every outcome known at the latest snapshot), beside the seed's default, with the fit
  window; when the history is too short to fit (fewer than ``min_fit_snapshots``
  snapshots with a known outcome) the seed's weights are kept (``weight_basis``
  ``seed_default``) and the report keeps the seed's score;
- ``potential_score_calibration``: per decile of the score, what groups of that decile
  did over the next 4 weeks, out of time (each past snapshot scored by the weights fitted
  before it; with the seed's weights, which are not fitted, every past snapshot);
- ``potential_score_backtest``: the out-of-time score against the seed's score and the
  naive baselines on the same rows (:func:`.backtest.backtest`, member growth).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

import duckdb
import numpy as np
import pandas as pd

from orchestration.lib.planning import potential
from orchestration.lib.planning.backtest import backtest, potential_score, read_panel
from orchestration.lib.warehouse.tables import ddl_names, replace_tables

__all__ = [
    "INPUT_MODELS",
    "SCHEMA",
    "TABLES",
    "PotentialSettings",
    "fit_potential",
    "refresh_potential",
    "write_tables",
]

_log = logging.getLogger(__name__)

SCHEMA = "planning"

#: The dbt models the step reads (the Dagster asset depends on them).
INPUT_MODELS = (
    "fct_community_health",
    "int_group_members_weekly",
    "int_events_priced",
    "high_potential_score_components",
)

TABLES: dict[str, str] = {
    "potential_score_weights": """
        component varchar, weight double, seed_default_weight double, direction varchar,
        weight_basis varchar, outcome varchar, fit_start date, fit_end date, n_rows bigint,
        n_snapshots bigint, ridge double, as_of_snapshot date""",
    "potential_score_calibration": """
        score_decile bigint, n_rows bigint, n_snapshots bigint, expected_growth double,
        median_growth double, growth_low double, growth_high double, interval_level double,
        weight_basis varchar, test_start date, test_end date""",
    "potential_score_backtest": """
        score varchar, outcome varchar, count_snapshots bigint, count_rows bigint,
        rank_correlation double, rank_correlation_ci_low double,
        rank_correlation_ci_high double, top_decile_lift double,
        top_decile_lift_ci_low double, top_decile_lift_ci_high double,
        median_outcome double, test_start date, test_end date""",
}


@dataclass(frozen=True)
class PotentialSettings:
    """Settings of the refit (the defaults are the documented ones)."""

    outcome: str = "member_growth"
    """The outcome fitted and calibrated."""
    horizon_days: int = 28
    """How far ahead the outcome looks."""
    min_fit_snapshots: int = 4
    """Fewest past snapshots with a known outcome to fit on; fewer: the seed's weights."""
    ridge: float = 1e-3
    """Ridge penalty per row (:func:`.potential.fit_weights`)."""
    interval: float = 0.90
    """Central share of a decile's outcomes in its interval."""
    n_boot: int = 1000
    """Bootstrap resamples of the stored backtest."""
    seed: int = 0
    """Seed of the bootstrap."""


def _directed(weights: dict[str, float]) -> dict[str, str]:
    return {name: "higher" if w >= 0 else "lower" for name, w in weights.items()}


def fit_potential(
    panel: pd.DataFrame,
    seed_weights: dict[str, float],
    as_of: pd.Timestamp,
    settings: PotentialSettings | None = None,
) -> dict[str, pd.DataFrame]:
    """The three tables of :data:`TABLES` from a panel (pure: no warehouse).

    Parameters
    ----------
    panel : pandas.DataFrame
        :func:`.backtest.read_panel`'s rows.
    seed_weights : dict of str to float
        The seed's weights (``growth``, ``cohesion``, ``activity``).
    as_of : pandas.Timestamp
        The latest snapshot (what the report ranks): the final fit uses every outcome
        known by then.
    settings : PotentialSettings, optional

    Returns
    -------
    dict of str to pandas.DataFrame
        ``potential_score_weights``, ``potential_score_calibration`` and
        ``potential_score_backtest``.
    """
    settings = settings or PotentialSettings()
    panel = panel.sort_values(["snapshot_date", "group_kind", "community_id"], ignore_index=True)
    outcome = settings.outcome
    target = panel.groupby("snapshot_date")[outcome].rank(method="average", pct=True)
    known = (panel["later_date"] <= as_of) & target.notna()
    n_snapshots = int(panel.loc[known, "snapshot_date"].nunique())
    seed_full = {name: float(seed_weights.get(name, 0.0)) for name in potential.COMPONENTS}
    panel["seed_potential_score"] = potential_score(panel, seed_weights)
    panel["size_now"] = panel["count_members"].astype(float)
    panel["growth_last_4_weeks"] = panel["member_growth_rate_4_weeks"].astype(float).fillna(0.0)
    fitted = n_snapshots >= settings.min_fit_snapshots
    if fitted:
        percentiles = potential.component_percentiles(panel)
        weights = potential.fit_weights(percentiles[known], target[known], ridge=settings.ridge)
        basis = "fitted"
        score, _ = potential.out_of_time_scores(
            panel,
            outcome=outcome,
            min_fit_snapshots=settings.min_fit_snapshots,
            ridge=settings.ridge,
        )
    else:
        weights, basis = seed_full, "seed_default"
        score = panel["seed_potential_score"].where(panel[outcome].notna())
    weight_rows = pd.DataFrame(
        {
            "component": list(potential.COMPONENTS),
            "weight": [weights[name] for name in potential.COMPONENTS],
            "seed_default_weight": [seed_full[name] for name in potential.COMPONENTS],
            "direction": [_directed(weights)[name] for name in potential.COMPONENTS],
            "weight_basis": basis,
            "outcome": outcome,
            "fit_start": panel.loc[known, "snapshot_date"].min() if fitted else pd.NaT,
            "fit_end": panel.loc[known, "later_date"].max() if fitted else pd.NaT,
            "n_rows": int(known.sum()) if fitted else 0,
            "n_snapshots": n_snapshots if fitted else 0,
            "ridge": settings.ridge,
            "as_of_snapshot": as_of,
        }
    )
    scored = panel[score.notna()].copy()
    scored["fitted_score"] = score[score.notna()]
    test_start = scored["snapshot_date"].min() if len(scored) else pd.NaT
    test_end = scored["snapshot_date"].max() if len(scored) else pd.NaT
    calibration = potential.calibrate(
        score, panel, outcome=outcome, interval=settings.interval
    ).assign(
        interval_level=settings.interval,
        weight_basis=basis,
        test_start=test_start,
        test_end=test_end,
    )
    names = ("fitted_score", "seed_potential_score", "size_now", "growth_last_4_weeks")
    names = names if fitted else names[1:]
    if len(scored):
        table = backtest(scored, names, (outcome,), n_boot=settings.n_boot, seed=settings.seed)
    else:
        table = pd.DataFrame(columns=ddl_names(TABLES["potential_score_backtest"]))
    table = table.assign(test_start=test_start, test_end=test_end)
    return {
        "potential_score_weights": weight_rows,
        "potential_score_calibration": calibration,
        "potential_score_backtest": table,
    }


def write_tables(
    con: duckdb.DuckDBPyConnection,
    frames: dict[str, pd.DataFrame],
    tables: dict[str, str] | None = None,
) -> None:
    """Replace every row of ``tables`` (default :data:`TABLES`), in one transaction.

    A stored table whose columns differ from its declaration is rebuilt.
    """
    replace_tables(con, SCHEMA, TABLES if tables is None else tables, frames)


def refresh_potential(
    con: duckdb.DuckDBPyConnection,
    settings: PotentialSettings | None = None,
    *,
    min_members: int = 8,
    max_members: int = 300,
    log: logging.Logger | None = None,
) -> dict:
    """Refit the score on the warehouse and rewrite the tables of :data:`TABLES`.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A built warehouse, writable.
    settings : PotentialSettings, optional
    min_members, max_members : int
        The report's size range (vars ``high_potential_min_members`` / ``_max_members``).
    log : logging.Logger, optional

    Returns
    -------
    dict
        ``weight_basis``, ``weights``, ``n_fit_rows``, ``n_calibration_rows``,
        ``n_calibration_deciles``, the
        out-of-time rank correlation of the score used and of each baseline,
        ``settings`` and ``seconds``.
    """
    log = log or _log
    settings = settings or PotentialSettings()
    started = time.perf_counter()
    panel = read_panel(
        con, horizon_days=settings.horizon_days, min_members=min_members, max_members=max_members
    )
    seed_weights = {
        component: float(weight)
        for component, weight in con.execute(
            "select component, weight from main.high_potential_score_components"
        ).fetchall()
    }
    latest = con.execute("select max(snapshot_date) from main.fct_community_health").fetchone()[0]
    as_of = pd.Timestamp(latest) if latest is not None else pd.Timestamp("1970-01-01")
    frames = fit_potential(panel, seed_weights, as_of, settings)
    write_tables(con, frames)
    weights = frames["potential_score_weights"]
    basis = str(weights["weight_basis"].iloc[0])
    rho = frames["potential_score_backtest"].set_index("score")["rank_correlation"]
    log.info("potential score: %s weights, %d fit rows", basis, int(weights["n_rows"].iloc[0]))
    return {
        "weight_basis": basis,
        "weights": dict(zip(weights["component"], weights["weight"].round(3), strict=True)),
        "n_fit_rows": int(weights["n_rows"].iloc[0]),
        "n_calibration_rows": int(frames["potential_score_calibration"]["n_rows"].sum()),
        "n_calibration_deciles": len(frames["potential_score_calibration"]),
        "rank_correlation": {k: float(np.round(v, 3)) for k, v in rho.items()},
        "settings": asdict(settings),
        "seconds": round(time.perf_counter() - started, 3),
    }
