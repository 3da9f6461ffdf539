"""The experiment readout step on an open warehouse connection (no Dagster needed).

`refresh_experiments` reads the per-arm sufficient statistics and the experiments,
runs :func:`~orchestration.lib.experiments.readout.analyse_experiments` and rewrites the
three output tables. Everything is recomputed on each refresh: the input is a few rows
per arm. It returns the figures the Dagster asset attaches as metadata.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

import duckdb

from orchestration.lib.experiments import store
from orchestration.lib.experiments.readout import analyse_experiments

__all__ = ["ExperimentSettings", "refresh_experiments"]

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
