"""The weekly community-snapshot step on an open warehouse connection (no Dagster needed).

`refresh_snapshots` computes the snapshots that are not stored yet: every week-end
(Sunday) since the first full week of activity, plus the provisional snapshot of a week
in progress, which is replaced on the next refresh. Stored snapshots made with other
settings or an older algorithm (another fingerprint) are all recomputed, since a
snapshot warm-starts from the previous one. It returns the figures the Dagster asset
attaches as metadata.

*Carrying forward*: a snapshot whose computation would repeat the previous one's step
for step is copied from it instead of recomputed. That holds when

- its window graph (detection, interaction and recent weights of every pair, as
  :func:`store.read_window_edges` reads them) equals the previous snapshot's: no
  interaction entered or left the window, and the decay changed no weight (so every
  interaction left the horizon, or none was in it);
- the previous snapshot was itself a steady state: its members (with their ids) and
  candidate communities equal those of the snapshot before it, so both start from the
  same partition, match against the same previous ids and mint no new id (a new id
  hashes the date);
- the days of history the change tests see (the window, or less at the start) are the
  same.

Detection, membership tests, dormancy, splits, identities and events then depend on
nothing that differs, so every figure is the previous one's (its events are all
``continued``). What still changes with time is recomputed: the users signed up since
(they have no tie, so they only add to ``count_users`` and ``count_unassigned``) and the
cohesion of declared groups when their membership changed. The run row says
``is_carried_forward``. Empty windows reach this steady state at the second empty week.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pandas as pd

from orchestration.lib.communities import store
from orchestration.lib.communities.snapshots import (
    DetectionSettings,
    detect_snapshot,
    snapshot_dates,
)
from orchestration.lib.communities.structure import community_stats

__all__ = ["refresh_snapshots"]

_log = logging.getLogger(__name__)


def refresh_snapshots(
    con: duckdb.DuckDBPyConnection,
    settings: DetectionSettings | None = None,
    *,
    recompute_all: bool = False,
    carry_forward: bool = True,
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
    carry_forward : bool, default True
        Copy a snapshot from the previous one when its computation would repeat it
        (module docstring); False computes every snapshot in full (same results).
    log : logging.Logger, optional
        Where progress goes.

    Returns
    -------
    dict
        ``snapshots_wanted``, ``snapshots_stored_before``, ``snapshots_computed``,
        ``computed_dates`` (the dates computed, in order), ``snapshots_carried_forward``
        (how many of them were copied from the previous one), ``recomputed_all``,
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
    co_memberships = store.stage_co_memberships(con) if todo else ""
    try:
        last: _Inputs | None = None
        carried = 0
        for snapshot_date, is_provisional in todo:
            started_one = time.perf_counter()
            window_start = snapshot_date - timedelta(days=settings.window_days - 1)
            inputs = _read_inputs(con, snapshot_date, settings, span[0], co_memberships)
            users = store.read_users(con, snapshot_date)
            declared = store.read_declared_membership(con, snapshot_date)
            source = (
                _carry_source(con, inputs, last, settings, span[0], co_memberships)
                if carry_forward
                else None
            )
            if source is not None:
                declared_stats = None
                if not declared.equals(source.declared):
                    declared_stats = _declared_stats(inputs.window, declared)
                store.carry_snapshot_forward(
                    con,
                    source.snapshot_date,
                    snapshot_date,
                    is_provisional=is_provisional,
                    window_start=window_start,
                    count_users=_count_users(inputs.window, users),
                    declared_stats=declared_stats,
                    seconds=round(time.perf_counter() - started_one, 3),
                )
                carried += 1
                log.info(
                    "snapshot %s: carried forward from %s", snapshot_date, source.snapshot_date
                )
            else:
                window = inputs.window
                result = detect_snapshot(
                    window[["user_id_a", "user_id_b", "edge_weight"]],
                    users,
                    declared,
                    inputs.previous_members,
                    snapshot_date,
                    settings,
                    interaction_edges=store.interaction_edges(window),
                    recent_edges=store.recent_edges(window),
                    previous_candidates=inputs.previous_candidates,
                    history_days=(snapshot_date - span[0]).days + 1,
                )
                store.write_snapshot(
                    con, result, is_provisional=is_provisional, window_start=window_start
                )
                log.info(
                    "snapshot %s: %d communities, %d of %d users assigned, modularity %.3f, %.1f s",
                    snapshot_date,
                    result.run["count_communities"],
                    result.run["count_assigned"],
                    result.run["count_users"],
                    result.run["modularity"] or 0.0,
                    result.run["seconds"],
                )
            last = _Inputs(
                snapshot_date,
                inputs.window,
                inputs.previous_members,
                inputs.previous_candidates,
                inputs.observed_days,
                declared,
            )
    finally:
        if todo:
            store.drop_staged_co_memberships(con)
    latest = con.execute(
        f"select * from {store.SCHEMA}.community_snapshot_runs order by snapshot_date desc limit 1"
    ).df()
    return {
        "snapshots_wanted": len(wanted),
        "snapshots_stored_before": len(stored),
        "snapshots_computed": len(todo),
        "computed_dates": [d for d, _ in todo],
        "snapshots_carried_forward": carried,
        "recomputed_all": recreate,
        "row_counts": store.row_counts(con),
        "latest_run": latest.iloc[0].to_dict() if not latest.empty else {},
        "seconds": round(time.perf_counter() - started, 3),
    }


@dataclass(frozen=True)
class _Inputs:
    """What a snapshot's computation depends on besides its date (and the users, who
    only count; see the module docstring)."""

    snapshot_date: date
    window: pd.DataFrame
    previous_members: pd.DataFrame | None
    previous_candidates: pd.DataFrame | None
    observed_days: int
    declared: pd.DataFrame | None = None


def _read_inputs(
    con: duckdb.DuckDBPyConnection,
    snapshot_date: date,
    settings: DetectionSettings,
    first: date,
    co_memberships: str,
) -> _Inputs:
    """The window graph and the previous snapshot's members and candidates as of
    ``snapshot_date`` (``first``: the first day of activity; ``co_memberships``: the
    relation of :func:`store.stage_co_memberships`)."""
    window = store.read_window_edges(
        con,
        snapshot_date,
        settings.window_days,
        horizon_days=settings.horizon_days,
        half_life_days=settings.half_life_days,
        recent_days=settings.recent_days,
        co_memberships=co_memberships,
    )
    return _Inputs(
        snapshot_date,
        window,
        store.read_previous_assignment(con, snapshot_date),
        store.read_previous_candidates(con, snapshot_date),
        min(settings.window_days, (snapshot_date - first).days + 1),
    )


def _carry_source(
    con: duckdb.DuckDBPyConnection,
    inputs: _Inputs,
    last: _Inputs | None,
    settings: DetectionSettings,
    first: date,
    co_memberships: str,
) -> _Inputs | None:
    """The inputs of the stored snapshot that ``inputs``' snapshot may be copied from,
    or None when it must be computed (conditions in the module docstring).

    ``last`` is the snapshot computed just before in this refresh; when it is not the
    latest stored one before this snapshot (the first snapshot of a refresh), that one's
    inputs are read back, so the decision depends on the stored data alone, not on how
    the refreshes were cut."""
    if inputs.previous_members is None:
        return None
    source_date = con.execute(
        f"select max(snapshot_date) from {store.SCHEMA}.community_snapshot_runs "
        "where snapshot_date < ?",
        [inputs.snapshot_date],
    ).fetchall()[0][0]
    if source_date is None:
        return None
    if last is not None and last.snapshot_date == source_date:
        source = last
    else:
        # Cheapest tests first: most snapshots of a busy history fail the steady state.
        source_members = store.read_previous_assignment(con, source_date)
        source_candidates = store.read_previous_candidates(con, source_date)
        if not (
            _same(source_members, inputs.previous_members)
            and _same(source_candidates, inputs.previous_candidates)
        ):
            return None
        source = _Inputs(
            source_date,
            _read_inputs(con, source_date, settings, first, co_memberships).window,
            source_members,
            source_candidates,
            min(settings.window_days, (source_date - first).days + 1),
            store.read_declared_membership(con, source_date),
        )
    if (
        source.observed_days == inputs.observed_days
        and _same(source.previous_members, inputs.previous_members)
        and _same(source.previous_candidates, inputs.previous_candidates)
        and _same(source.window, inputs.window)
    ):
        return source
    return None


def _same(left: pd.DataFrame | None, right: pd.DataFrame | None) -> bool:
    """Both None, or equal frames (values, order and dtypes; missing equals missing)."""
    if left is None or right is None:
        return left is None and right is None
    return left.reset_index(drop=True).equals(right.reset_index(drop=True))


def _count_users(window: pd.DataFrame, users: pd.Series) -> int:
    """The users a snapshot labels: every user signed up and every user with a tie."""
    ids = pd.concat([window["user_id_a"], window["user_id_b"], users], ignore_index=True).astype(
        str
    )
    return int(len(pd.unique(ids.to_numpy(dtype=object))))


def _declared_stats(window: pd.DataFrame, declared: pd.DataFrame) -> pd.DataFrame:
    """The declared groups' rows of ``community_stats``, as a full computation makes
    them (measured on the behaviour graph)."""
    if declared.empty:
        return pd.DataFrame(columns=["community_id", "group_kind"])
    measured = store.interaction_edges(window)
    return community_stats(measured, declared, is_partition=False).assign(group_kind="declared")
