"""The experiment readout step on an open warehouse connection (no Dagster needed).

`refresh_experiments` reads the per-arm sufficient statistics and the experiments,
runs :func:`~orchestration.lib.experiments.readout.analyse_experiments` and rewrites the
three output tables. Everything is recomputed on each refresh: the input is a few rows
per arm. It returns the figures the Dagster asset attaches as metadata.
`refresh_power` does the same for the design help: the power sums per metric and unit
type -> :func:`~orchestration.lib.experiments.power.measure_power` ->
``experiments.experiment_power``. `design_community_experiment` designs a
community-randomized experiment on the latest snapshot and writes its assignment file.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.lib.experiments import design, store
from orchestration.lib.experiments.power import measure_power, split_arms
from orchestration.lib.experiments.readout import analyse_experiments

__all__ = [
    "DesignSettings",
    "ExperimentSettings",
    "PowerSettings",
    "design_community_experiment",
    "refresh_experiments",
    "refresh_power",
]

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
    traffic_split: str | None = None
    """Planned split, control first, as the raw ``experiments.traffic_split`` (``'20/80'``,
    ``'10/45/45'``): the MDE is that of the smallest other arm against control. None:
    two equal arms."""

    def __post_init__(self) -> None:
        if not 0 < self.alpha < self.power < 1:
            raise ValueError(f"need 0 < alpha ({self.alpha}) < power ({self.power}) < 1")
        split_arms(self.traffic_split)  # raises on a malformed split


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
        Level, power and planned split (default: 0.05 two-sided, 80%, equal arms).
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
    power = measure_power(
        store.read_power_sums(con),
        alpha=settings.alpha,
        power=settings.power,
        traffic_split=settings.traffic_split,
    )
    store.write_power(con, power)
    count_with_mde = int(power["mde_relative"].notna().sum()) if len(power) else 0
    log.info("%d power row(s), %d with a detectable effect", len(power), count_with_mde)
    return {
        "count_rows": len(power),
        "count_with_mde": count_with_mde,
        "settings": asdict(settings),
        "seconds": round(time.perf_counter() - started, 3),
    }


@dataclass(frozen=True)
class DesignSettings:
    """Settings of a community-randomized design (the defaults are the documented ones)."""

    experiment_id: str | None = None
    """Id written in the file; default ``community_<snapshot date>_seed<seed>``."""
    arms: tuple[str, ...] = ("control", "treatment")
    """Variants, control first."""
    size_bins: int = 3
    """Quantile bins of community size (members)."""
    health_bins: int = 3
    """Quantile bins of health_score (fct_community_health)."""
    seed: int = 0
    """Seed of the shuffle inside each stratum."""
    assigned_at: str | None = None
    """UTC start written as assigned_at; default the midnight after the last event. A
    given start designs on the last snapshot on or before its day (default: the latest)."""
    window_days: int = 28
    """Interaction window for the cut share (the detection's community_window_days)."""
    community_ids: tuple[str, ...] | None = None
    """Design on these detected communities of the snapshot only (default: all of them),
    e.g. the lookalikes ``smallgroups plan`` picks; an id not in the snapshot is refused."""


def design_community_experiment(
    con: duckdb.DuckDBPyConnection,
    out: Path,
    raw_dir: Path,
    settings: DesignSettings | None = None,
    *,
    log: logging.Logger | None = None,
) -> dict:
    """Design a community-randomized experiment and write its assignment file.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Warehouse connection (read only is enough).
    out : Path
        Where the ``experiment_assignments`` file goes (``.csv`` or Parquet).
    raw_dir : Path
        The raw folder: ``out`` inside it is refused (:func:`design.refuse_raw_path`).
    settings : DesignSettings, optional
    log : logging.Logger, optional

    Returns
    -------
    dict
        The design's summary (:func:`design.design_from_tables`) with
        ``experiment_id``, ``snapshot_date``, ``assigned_at``, ``seed`` and ``out``.
    """
    log = log or _log
    settings = settings or DesignSettings()
    design.refuse_raw_path(out, raw_dir)
    # A given start designs on the last snapshot on or before its day (the members the
    # readout will give each community); by default the latest snapshot, and the start
    # is the midnight after the last event.
    chosen = pd.Timestamp(settings.assigned_at) if settings.assigned_at else None
    snapshot, last_event, members, health, edges = store.read_design_inputs(
        con, settings.window_days, chosen
    )
    assigned_at = chosen if chosen is not None else last_event.normalize() + pd.Timedelta(days=1)
    if settings.community_ids is not None:
        wanted = set(settings.community_ids)
        missing = sorted(wanted - set(members["community_id"]))
        if missing:
            raise ValueError(
                f"not communities of the {snapshot:%Y-%m-%d} snapshot: {', '.join(missing[:5])}"
            )
        members = members[members["community_id"].isin(wanted)]
        health = health[health["community_id"].isin(wanted)]
    experiment_id = settings.experiment_id or (f"community_{snapshot:%Y%m%d}_seed{settings.seed}")
    assignments, summary = design.design_from_tables(
        members,
        health,
        edges,
        experiment_id=experiment_id,
        assigned_at=assigned_at,
        arms=settings.arms,
        size_bins=settings.size_bins,
        health_bins=settings.health_bins,
        seed=settings.seed,
    )
    path = design.write_assignments(assignments, out)
    log.info("%d communities assigned, written to %s", len(assignments), path)
    return {
        "experiment_id": experiment_id,
        "snapshot_date": str(snapshot.date()),
        "assigned_at": str(assigned_at),
        "seed": settings.seed,
        "out": str(path),
        **summary,
    }


# --------------------------------------------------------------------------- spillover


@dataclass(frozen=True)
class SpilloverSettings:
    """Interference settings (the defaults are the documented ones)."""

    alpha: float = 0.05
    """Two-sided level of the intervals and of has_spillover."""
    materiality_share: float = 0.25
    """A significant spillover is material (randomize by community) when it moves the
    control mean by at least this share of the readout's lift on the same metric."""
    adjustment_method: str = "holm"
    """Adjustment across an experiment's (metric, exposure kind) estimates: holm or bh."""
    control_variant: str = "control"
    """Name of the control variant."""

    def __post_init__(self) -> None:
        if self.adjustment_method not in ("holm", "bh"):
            raise ValueError(f"adjustment_method {self.adjustment_method!r}: use 'holm' or 'bh'")
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha {self.alpha} must be between 0 and 1")
        if self.materiality_share < 0:
            raise ValueError(f"materiality_share {self.materiality_share} must be >= 0")


def refresh_spillover(
    con: duckdb.DuckDBPyConnection,
    settings: SpilloverSettings | None = None,
    *,
    log: logging.Logger | None = None,
) -> dict:
    """Measure the exposure and spillover of every user experiment and rewrite its tables.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Writable warehouse connection with :data:`store.SPILLOVER_INPUT_MODELS`.
    settings : SpilloverSettings, optional
        Level, materiality and adjustment (default: the documented ones).
    log : logging.Logger, optional
        Where progress goes.

    Returns
    -------
    dict
        ``count_experiments``, ``count_rows``, ``count_with_spillover``,
        ``count_recommend_community``, ``settings``, ``seconds``.
    """
    from orchestration.lib.experiments.spillover import analyse_spillover, summarise_health

    log = log or _log
    settings = settings or SpilloverSettings()
    started = time.perf_counter()
    experiment_ids = store.read_user_experiments(con)
    table = analyse_spillover(
        store.read_spillover_units(con),
        control=settings.control_variant,
        alpha=settings.alpha,
        materiality_share=settings.materiality_share,
        adjustment_method=settings.adjustment_method,
    )
    summary = summarise_health(table, experiment_ids)
    store.write_spillover(
        con, {"experiment_spillover": table, "experiment_spillover_summary": summary}
    )
    log.info("%d user experiment(s), %d spillover row(s)", len(experiment_ids), len(table))
    return {
        "count_experiments": len(experiment_ids),
        "count_rows": len(table),
        "count_with_spillover": int(summary["has_spillover"].fillna(False).astype(bool).sum()),
        "count_recommend_community": int(
            summary["recommend_randomize_by_community"].fillna(False).astype(bool).sum()
        ),
        "settings": asdict(settings),
        "seconds": round(time.perf_counter() - started, 3),
    }


__all__ += ["SpilloverSettings", "refresh_spillover"]
