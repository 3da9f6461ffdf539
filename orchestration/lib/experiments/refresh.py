"""The experiment readout step on an open warehouse connection (no Dagster needed).

`refresh_experiments` reads the per-arm sufficient statistics and the experiments,
runs :func:`~orchestration.lib.experiments.readout.analyse_experiments` and rewrites the
three output tables. Everything is recomputed on each refresh: the input is a few rows
per arm. It returns the figures the Dagster asset attaches as metadata.
`refresh_power` does the same for the design help: the power sums per metric and unit
type -> :func:`~orchestration.lib.experiments.power.measure_power` ->
``experiments.experiment_power``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

import duckdb

from orchestration.lib.experiments import store
from orchestration.lib.experiments.power import measure_power
from orchestration.lib.experiments.readout import analyse_experiments

__all__ = ["ExperimentSettings", "PowerSettings", "refresh_experiments", "refresh_power"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExperimentSettings:
    """Readout settings (the defaults are the documented ones)."""

    alpha: float = 0.05
    """Two-sided level of the intervals (0.05: 95% intervals)."""
    adjustment_method: str = "holm"
    """Multiple-testing adjustment across an experiment's metrics: holm or bh."""
    control_variant: str = "control"
    """Name of the control variant."""

    def __post_init__(self) -> None:
        if self.adjustment_method not in ("holm", "bh"):
            raise ValueError(f"adjustment_method {self.adjustment_method!r}: use 'holm' or 'bh'")
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha {self.alpha} must be between 0 and 1")


def refresh_experiments(
    con: duckdb.DuckDBPyConnection,
    settings: ExperimentSettings | None = None,
    *,
    log: logging.Logger | None = None,
) -> dict:
    """Analyse every accepted experiment and rewrite the readout tables.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Writable warehouse connection with the models of :data:`store.INPUT_MODELS`.
    settings : ExperimentSettings, optional
        Readout settings (default: the documented ones).
    log : logging.Logger, optional
        Where progress goes.

    Returns
    -------
    dict
        ``count_experiments``, ``count_results``, ``count_problems``,
        ``count_with_srm``, ``settings`` and ``seconds``.
    """
    log = log or _log
    settings = settings or ExperimentSettings()
    started = time.perf_counter()
    experiments = store.read_experiments(con)
    sums = store.read_sums(con)
    results, health, problems = analyse_experiments(
        experiments,
        sums,
        control=settings.control_variant,
        alpha=settings.alpha,
        adjustment_method=settings.adjustment_method,
    )
    store.write_readout(
        con,
        {
            "experiment_results": results,
            "experiment_health": health,
            "experiment_problems": problems,
        },
    )
    log.info("%d experiment(s), %d result row(s)", len(experiments), len(results))
    return {
        "count_experiments": len(experiments),
        "count_results": len(results),
        "count_problems": len(problems),
        "count_with_srm": int(health["has_srm"].sum()) if len(health) else 0,
        "count_without_units": len(experiments) - len(health),
        "settings": asdict(settings),
        "seconds": round(time.perf_counter() - started, 3),
    }


@dataclass(frozen=True)
class PowerSettings:
    """Design-help settings (the defaults are the documented ones)."""

    alpha: float = 0.05
    """Two-sided level of the planned test."""
    power: float = 0.8
    """Power at which the minimum detectable effect is given."""

    def __post_init__(self) -> None:
        if not 0 < self.alpha < self.power < 1:
            raise ValueError(f"need 0 < alpha ({self.alpha}) < power ({self.power}) < 1")


def refresh_power(
    con: duckdb.DuckDBPyConnection,
    settings: PowerSettings | None = None,
    *,
    log: logging.Logger | None = None,
) -> dict:
    """Measure the design figures of every (metric, unit type) and rewrite the table.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Writable warehouse connection with :data:`store.POWER_INPUT_MODELS`.
    settings : PowerSettings, optional
        Level and power (default: 0.05 two-sided, 80%).
    log : logging.Logger, optional
        Where progress goes.

    Returns
    -------
    dict
        ``count_rows``, ``count_with_mde`` (rows with a detectable effect: units with a
        spread), ``settings``, ``seconds``.
    """
    log = log or _log
    settings = settings or PowerSettings()
    started = time.perf_counter()
    power = measure_power(store.read_power_sums(con), alpha=settings.alpha, power=settings.power)
    store.write_power(con, power)
    count_with_mde = int(power["mde_relative"].notna().sum()) if len(power) else 0
    log.info("%d power row(s), %d with a detectable effect", len(power), count_with_mde)
    return {
        "count_rows": len(power),
        "count_with_mde": count_with_mde,
        "settings": asdict(settings),
        "seconds": round(time.perf_counter() - started, 3),
    }
