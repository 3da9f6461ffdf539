"""Weekly community snapshots: which weeks to compute and what one snapshot holds.

Communities are detected on a rolling window of interactions (dbt's var
``community_window_days``, 28 days) as of the end of each week (Sunday), warm-started
from the previous week's partition so that the same people keep the same community id.
Each snapshot also measures the cohesion of detected communities and of declared
groups, and the position of every member. A refresh computes only the weeks it has not
computed yet (plus the provisional snapshot of a week still in progress), so its cost
follows the new data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd

from orchestration.lib.communities.detection import detect_communities
from orchestration.lib.communities.identity import assign_community_ids
from orchestration.lib.communities.structure import community_stats, member_metrics
from orchestration.lib.config import dbt_project_var

__all__ = [
    "ALGORITHM_VERSION",
    "DetectionSettings",
    "SnapshotResult",
    "detect_snapshot",
    "snapshot_dates",
]

#: Bump when the snapshot logic changes results, so stored snapshots are recomputed.
ALGORITHM_VERSION = 2


@dataclass(frozen=True)
class DetectionSettings:
    """How communities are detected (defaults documented in the README).

    Attributes
    ----------
    method : str
        ``leiden`` (default; size-aware resolution), or a reference method of
        :func:`~orchestration.lib.communities.detect_communities`.
    resolution : float or None
        Fixed resolution; None chooses it from the graph size.
    min_size, max_size : int
        Communities below ``min_size`` members are dissolved (members unassigned);
        above ``max_size`` they are split.
    window_days : int
        Days of interactions each snapshot looks at (default: dbt's var
        ``community_window_days``, which the SQL of the community marts reads too).
    min_overlap : float
        Smallest Jaccard overlap for a community to keep the previous week's id.
    seed : int
        Seed of the detection.
    """

    method: str = "leiden"
    resolution: float | None = None
    min_size: int = 5
    max_size: int = 300
    window_days: int = int(dbt_project_var("community_window_days"))
    min_overlap: float = 0.3
    seed: int = 42

    @property
    def fingerprint(self) -> str:
        """Settings and algorithm version: stored snapshots made under another
        fingerprint are out of date."""
        fields = (
            ALGORITHM_VERSION,
            self.method,
            self.resolution,
            self.min_size,
            self.max_size,
            self.window_days,
            self.min_overlap,
            self.seed,
        )
        return "|".join(str(field) for field in fields)


@dataclass(frozen=True)
class SnapshotResult:
    """One snapshot's outputs (all frames carry ``snapshot_date``)."""

    assignments: pd.DataFrame
    events: pd.DataFrame
    stats: pd.DataFrame
    members: pd.DataFrame
    run: dict[str, Any] = field(default_factory=dict)


def snapshot_dates(first_date: date, last_date: date) -> list[tuple[date, bool]]:
    """Snapshot dates between the first and last day of activity.

    Parameters
    ----------
    first_date, last_date : date
        First and last day with events.

    Returns
    -------
    list of (date, bool)
        Every Sunday from the end of the first full week of data to ``last_date``,
        each with ``is_provisional`` False; plus ``last_date`` itself, provisional,
        when it is not a Sunday (the week in progress: recomputed on the next refresh).
    """
    if last_date < first_date:
        return []
    first_sunday = first_date + timedelta(days=(6 - first_date.weekday()) % 7)
    if (first_sunday - first_date).days < 6:
        first_sunday += timedelta(days=7)
    dates = []
    current = first_sunday
    while current <= last_date:
        dates.append((current, False))
        current += timedelta(days=7)
    if last_date.weekday() != 6:
        dates.append((last_date, True))
    return dates


def detect_snapshot(
    edges: pd.DataFrame,
    user_ids: pd.Series,
    declared_membership: pd.DataFrame,
    previous_assignment: pd.DataFrame | None,
    snapshot_date: date,
    settings: DetectionSettings,
    interaction_edges: pd.DataFrame | None = None,
) -> SnapshotResult:
    """Detect communities as of ``snapshot_date`` and measure them.

    Parameters
    ----------
    edges : pandas.DataFrame
        ``user_id_a``, ``user_id_b``, ``edge_weight``: the window's graph.
    user_ids : pandas.Series
        Every user who exists at the snapshot (isolated ones come out unassigned).
    declared_membership : pandas.DataFrame
        ``user_id``, ``community_id``: declared groups' members at the snapshot
        (ids already in their final form), measured next to detected communities.
    previous_assignment : pandas.DataFrame or None
        ``user_id``, ``community_id`` of the previous snapshot (warm start and ids).
    snapshot_date : date
        The snapshot.
    settings : DetectionSettings
        Detection parameters.
    interaction_edges : pandas.DataFrame, optional
        The window's graph of behaviour only (no co-membership ties), for cohesion and
        member figures; defaults to ``edges``.

    Returns
    -------
    SnapshotResult
        ``assignments`` (assigned users only), lifecycle ``events``, ``stats`` for
        detected and declared groups (``group_kind``), ``members`` (position of each
        assigned user) and a ``run`` row with quality figures.
    """
    started = time.perf_counter()
    initial = None
    if previous_assignment is not None and not previous_assignment.empty:
        initial = dict(
            zip(previous_assignment["user_id"], previous_assignment["community_id"], strict=True)
        )
    detection = detect_communities(
        edges,
        user_ids=user_ids,
        method=settings.method,
        resolution=settings.resolution,
        min_size=settings.min_size,
        max_size=settings.max_size,
        seed=settings.seed,
        initial_membership=initial if settings.method.startswith("leiden") else None,
    )
    identity = assign_community_ids(
        detection.membership,
        previous_assignment,
        as_of=snapshot_date,
        min_overlap=settings.min_overlap,
    )
    assigned = identity.assignment.dropna(subset=["community_id"])[["user_id", "community_id"]]
    assigned = assigned.reset_index(drop=True)

    measured = edges if interaction_edges is None else interaction_edges
    detected_stats = community_stats(measured, assigned).assign(group_kind="detected")
    frames = [detected_stats]
    if not declared_membership.empty:
        declared_stats = community_stats(measured, declared_membership, is_partition=False)
        frames.append(declared_stats.assign(group_kind="declared"))
    stats = pd.concat(frames, ignore_index=True)
    members = member_metrics(measured, assigned)

    quality = detection.quality
    run = {
        "snapshot_date": snapshot_date,
        "settings_fingerprint": settings.fingerprint,
        "method": quality.get("method"),
        "resolution": quality.get("resolution"),
        "modularity": quality.get("modularity"),
        "count_users": int(len(detection.membership)),
        "count_assigned": int(len(assigned)),
        "count_unassigned": int(len(detection.membership) - len(assigned)),
        "count_communities": int(assigned["community_id"].nunique()),
        "count_edges": int(len(edges)),
        "count_split": int(quality.get("n_split", 0)),
        "seconds": round(time.perf_counter() - started, 3),
    }
    return SnapshotResult(
        assignments=assigned.assign(snapshot_date=snapshot_date),
        events=identity.events.assign(snapshot_date=snapshot_date),
        stats=stats.assign(snapshot_date=snapshot_date),
        members=members.assign(snapshot_date=snapshot_date),
        run=run,
    )
