"""The attribution step on an open warehouse connection (no Dagster needed).

`refresh_attribution` reads the windows, donor candidates, daily sums and KPIs, runs
:func:`~orchestration.lib.attribution.analysis.attribute_interventions` and rewrites
``attribution.intervention_attribution``. Everything is recomputed on each refresh: the
input is a few rows per intervention, donor and day. It returns the figures the Dagster
asset attaches as metadata.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

import duckdb

from orchestration.lib.attribution import store
from orchestration.lib.attribution.analysis import attribute_interventions

__all__ = ["AttributionSettings", "refresh_attribution"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AttributionSettings:
    """Attribution settings (the defaults are the documented ones)."""

    alpha: float = 0.05
    """Two-sided level of the intervals (0.05: 95% intervals)."""
    max_donors: int = 10
    """Donors kept by the match on pre-period trend and size."""
    min_donors: int = 3
    """Fewer eligible candidates than this: no estimate (status too_few_donors)."""
    pre_trend_alpha: float = 0.05
    """has_pre_trend when the pre-trend p-value is below it."""

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1 or not 0 < self.pre_trend_alpha < 1:
            raise ValueError("alpha and pre_trend_alpha must be between 0 and 1")
        if not 2 <= self.min_donors <= self.max_donors:
            raise ValueError(f"need 2 <= min_donors ({self.min_donors}) <= max_donors")


def refresh_attribution(
    con: duckdb.DuckDBPyConnection,
    settings: AttributionSettings | None = None,
    *,
    log: logging.Logger | None = None,
) -> dict:
    """Attribute every accepted intervention and rewrite the attribution table.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Writable warehouse connection with the models of :data:`store.INPUT_MODELS`.
    settings : AttributionSettings, optional
        Default: the documented ones.
    log : logging.Logger, optional
        Where progress goes.

    Returns
    -------
    dict
        ``count_interventions``, ``count_estimated``, ``count_significant`` (interval
        excluding 0), ``count_with_pre_trend``, ``settings`` and ``seconds``.
    """
    log = log or _log
    settings = settings or AttributionSettings()
    started = time.perf_counter()
    frame = attribute_interventions(
        store.read_windows(con),
        store.read_candidates(con),
        store.read_panel(con),
        store.read_kpis(con),
        alpha=settings.alpha,
        max_donors=settings.max_donors,
        min_donors=settings.min_donors,
        pre_trend_alpha=settings.pre_trend_alpha,
    )
    store.write_attribution(con, frame)
    estimated = frame[frame["status"] == "estimated"]
    log.info("%d intervention(s), %d estimated", len(frame), len(estimated))
    return {
        "count_interventions": len(frame),
        "count_estimated": len(estimated),
        "count_significant": int(
            ((estimated["did_ci_low"] > 0) | (estimated["did_ci_high"] < 0)).sum()
        ),
        "count_with_pre_trend": int(estimated["has_pre_trend"].fillna(False).astype(bool).sum()),
        "settings": asdict(settings),
        "seconds": round(time.perf_counter() - started, 3),
    }
