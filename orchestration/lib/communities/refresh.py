"""The weekly community-snapshot step on an open warehouse connection (no Dagster needed).

`refresh_snapshots` computes the snapshots that are not stored yet: every week-end
(Sunday) since the first full week of activity, plus the provisional snapshot of a week
in progress, which is replaced on the next refresh. Stored snapshots made with other
settings or an older algorithm (another fingerprint) are all recomputed, since a
snapshot warm-starts from the previous one. It returns the figures the Dagster asset
attaches as metadata.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import duckdb

from orchestration.lib.communities import store
from orchestration.lib.communities.snapshots import (
    DetectionSettings,
    detect_snapshot,
    snapshot_dates,
)

__all__ = ["refresh_snapshots"]

_log = logging.getLogger(__name__)


def refresh_snapshots(
    con: duckdb.DuckDBPyConnection,
    settings: DetectionSettings | None = None,
    *,
    recompute_all: bool = False,
    log: logging.Logger | None = None,
) -> dict:
    """Detect communities for every week not computed yet and measure them.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Writable warehouse connection with the models of :data:`store.INPUT_MODELS`.
    settings : DetectionSettings, optional
        Detection settings (default: the documented ones); stored snapshots made under
        another fingerprint are recomputed.
    recompute_all : bool, default False
        Drop every stored snapshot first.
    log : logging.Logger, optional
        Where progress goes.

    Returns
    -------
    dict
        ``snapshots_wanted``, ``snapshots_stored_before``, ``snapshots_computed``,
        ``computed_dates`` (the dates computed, in order), ``recomputed_all``,
        ``row_counts`` (table -> rows), ``latest_run`` (the latest snapshot's run row, or
        an empty dict when there is none) and ``seconds``.
    """
    log = log or _log
    settings = settings or DetectionSettings()
    started = time.perf_counter()
    outdated = store.stored_fingerprints(con) - {settings.fingerprint}
    if outdated:
        log.warning(
            "stored snapshots were made with other settings or an older algorithm (%s): "
            "recomputing all of them",
            ", ".join(sorted(str(f) for f in outdated)),
        )
    recreate = recompute_all or bool(outdated)
    store.ensure_tables(con, recreate=recreate)
    span = store.activity_span(con)
    wanted = snapshot_dates(*span) if span else []
    stored = store.stored_snapshots(con)
    store.delete_snapshots(con, [d for d, provisional in stored.items() if provisional])
    todo = [(d, p) for d, p in wanted if d not in stored or stored[d]]
    log.info("%d snapshot(s) wanted, %d stored, computing %d", len(wanted), len(stored), len(todo))
    for snapshot_date, is_provisional in todo:
        window_start = snapshot_date - timedelta(days=settings.window_days - 1)
        window = store.read_window_edges(
            con,
            snapshot_date,
            settings.window_days,
            horizon_days=settings.horizon_days,
            half_life_days=settings.half_life_days,
            recent_days=settings.recent_days,
        )
        result = detect_snapshot(
            window[["user_id_a", "user_id_b", "edge_weight"]],
            store.read_users(con, snapshot_date),
            store.read_declared_membership(con, snapshot_date),
            store.read_previous_assignment(con, snapshot_date),
            snapshot_date,
            settings,
            interaction_edges=store.interaction_edges(window),
            recent_edges=store.recent_edges(window),
            previous_candidates=store.read_previous_candidates(con, snapshot_date),
            history_days=(snapshot_date - span[0]).days + 1,
        )
        store.write_snapshot(con, result, is_provisional=is_provisional, window_start=window_start)
        log.info(
            "snapshot %s: %d communities, %d of %d users assigned, modularity %.3f, %.1f s",
            snapshot_date,
            result.run["count_communities"],
            result.run["count_assigned"],
            result.run["count_users"],
            result.run["modularity"] or 0.0,
            result.run["seconds"],
        )
    latest = con.execute(
        f"select * from {store.SCHEMA}.community_snapshot_runs order by snapshot_date desc limit 1"
    ).df()
    return {
        "snapshots_wanted": len(wanted),
        "snapshots_stored_before": len(stored),
        "snapshots_computed": len(todo),
        "computed_dates": [d for d, _ in todo],
        "recomputed_all": recreate,
        "row_counts": store.row_counts(con),
        "latest_run": latest.iloc[0].to_dict() if not latest.empty else {},
        "seconds": round(time.perf_counter() - started, 3),
    }
