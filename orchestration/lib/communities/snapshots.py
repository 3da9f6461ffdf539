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

import igraph as ig
import numpy as np
import pandas as pd
from scipy.stats import poisson

from orchestration.lib.communities.changes import birth_kinds, fell, unconfirmed_changes
from orchestration.lib.communities.detection import (
    DEFAULT_MEMBERSHIP_ALPHA,
    DEFAULT_MEMBERSHIP_MIN_SHARE,
    DEFAULT_RESOLUTION_RULE,
    detect_communities,
)
from orchestration.lib.communities.identity import assign_community_ids
from orchestration.lib.communities.structure import community_stats, member_metrics
from orchestration.lib.config import dbt_project_var

__all__ = [
    "ALGORITHM_VERSION",
    "DetectionSettings",
    "SnapshotResult",
    "detect_snapshot",
    "dormant_labels",
    "faded_labels",
    "tied_members",
    "unconfirmed_births",
    "snapshot_dates",
]

#: Bump when the snapshot logic changes results, so stored snapshots are recomputed.
ALGORITHM_VERSION = 11


@dataclass(frozen=True)
class DetectionSettings:
    """How communities are detected (defaults documented in the README).

    Attributes
    ----------
    method : str
        ``leiden`` (default), or a reference method of
        :func:`~orchestration.lib.communities.detect_communities`.
    resolution : float or None
        Fixed resolution; None lets ``resolution_rule`` choose it.
    resolution_rule : str
        How Leiden's resolution is chosen when ``resolution`` is None: ``surprise``
        (default; the graph chooses, by asymptotic surprise over a ladder of
        resolutions) or ``size_aware`` (``max(1, active users / (2 x max_size))``).
    membership_alpha : float or None
        Significance level of the membership test of
        :func:`~orchestration.lib.communities.detect_communities`: a user whose ties
        inside their community are no more than chance at this level is ``fringe``.
        None turns the test off.
    membership_min_share : float
        Share of a user's tie weight that must fall inside their community for the
        membership test to call them a member.
    min_size, max_size : int
        Communities below ``min_size`` members are dissolved (members unassigned);
        above ``max_size`` they are split.
    keep_min_size : int or None
        A community that continues one of the previous snapshot's keeps existing down
        to this many members; a new one needs ``min_size``. Without this hysteresis a
        small community near ``min_size`` is born, dissolved and born again as one of
        its members drops to fringe and back. None: ``min_size`` for both.
    window_days : int
        Days of interactions the snapshot's cohesion and member figures measure
        (default: dbt's var ``community_window_days``, which the SQL of the community
        marts reads too).
    horizon_days : int
        Days of interactions the detection graph reaches back (whole weeks).
    half_life_days : float or None
        Half-life of the detection graph's weights: a week of ties counts
        ``0.5 ** (age / half_life_days)``, so fresh ties count more and old ones fade
        within days instead of staying at full weight until they leave a hard window.
        None gives a hard window of ``horizon_days``.
    recent_days : int
        The "recent" period of the dormancy rule (the last week).
    min_recent_members : int or None
        A detected community is kept only when at least this many of its members have a
        tie with another member in the last ``recent_days`` (None: ``min_size``; 0
        disables the rule). A community that went quiet is dissolved now, not when its
        old ties have faded.
    dormancy_alpha : float or None
        A community with too few members tied recently (``min_recent_members``) is
        dissolved only when its recent interaction inside is also significantly less
        than its own weekly rate over the window would give: ``P(X <= r) <
        dormancy_alpha`` for ``X ~ Poisson(interaction weight among its members in the
        window / weeks of the window)``, ``r`` that weight in the recent period (see
        :func:`dormant_labels`). A busy community that fell
        silent is dissolved at once; a sparse one that is often quiet for a week is not.
        None applies the member count alone.
    dormancy_ratio : float or None
        After the other rules, a community is also dissolved, whatever the number of its
        members tied recently, when the interaction weight among its members in the last
        ``recent_days`` is at most this share of their weekly rate in the rest of the
        window and significantly below it (``changes.fell`` at ``dormancy_alpha``; see
        :func:`faded_labels`). None turns it off.
    split_alpha : float or None
        A community whose recent ties (last ``recent_days``) form groups of
        ``min_size`` or more with no recent tie between them, where chance would give
        one at this level, is split at once (see :func:`recent_splits`). None turns the
        rule off.
    min_member_neighbours : int
        Distinct members of their community a user must be tied to (in the detection
        graph) to count as a member; users with fewer are ``fringe``: visible, never
        counted. 0 turns the test off.
    birth_min_degree : float
        A community with no predecessor is born at once when its members are tied to at
        least this many other members on average; a looser one is a ``candidate`` until
        a community overlapping it (Jaccard >= ``min_overlap``) is found again at the
        next snapshot (see :func:`unconfirmed_births`). 0 confirms every birth at once.
    change_alpha : float or None
        A split or merge that the detection draws stands only when the ties show it:
        the ties across fell (a split) or rose (a merge) this week against the rest of
        the window's rate, at this level; otherwise the previous border is kept. A new
        community whose inner ties did not rise this week is ``emerged`` (there
        before, seen now), not ``born``. See :mod:`orchestration.lib.communities.changes`.
        None turns both off.
    birth_new_ratio : float or None
        A ``born`` community also needs its inner weight per week before the last to be
        at most this share of the last week's (the ties are new; see
        :func:`~orchestration.lib.communities.changes.mostly_new`); otherwise it is
        ``emerged``. None: the rise of ``change_alpha`` alone decides.
    split_apart_ratio : float
        A split also stands when the weight per pair across the pieces is below this
        share of the weight per pair inside them (0: only a fall counts).
    merge_dense_ratio : float or None
        A merge also stands when the weight per pair across the parts is at least this
        share of the weight per pair inside them (None: only a rise counts).
    split_joined_ratio : float or None
        A split whose piece and rest were apart (interaction weight per pair across below
        this share of the weight per pair inside) in the weeks before the last is a
        correction of an earlier mixture of two communities: the new border stands and
        the piece is ``emerged``, not ``split``. None: no such check.
    merge_joined_ratio : float or None
        A merge also needs the last week's weight per pair between the parts to be at
        least this share of the weight per pair inside them. None: the rise decides.
    min_overlap : float
        Smallest Jaccard overlap for a community to keep the previous week's id.
    seed : int
        Seed of the detection.
    """

    method: str = "leiden"
    resolution: float | None = None
    resolution_rule: str = DEFAULT_RESOLUTION_RULE
    membership_alpha: float | None = DEFAULT_MEMBERSHIP_ALPHA
    membership_min_share: float = DEFAULT_MEMBERSHIP_MIN_SHARE
    min_size: int = 5
    keep_min_size: int | None = 3
    max_size: int = 300
    window_days: int = int(dbt_project_var("community_window_days"))
    horizon_days: int = 56
    half_life_days: float | None = 7.0
    recent_days: int = 7
    min_recent_members: int | None = None
    dormancy_alpha: float | None = 0.01
    dormancy_ratio: float | None = 0.25
    split_alpha: float | None = 0.01
    min_member_neighbours: int = 2
    birth_min_degree: float = 4.0
    change_alpha: float | None = 0.01
    birth_new_ratio: float | None = 0.5
    split_apart_ratio: float = 0.0
    merge_dense_ratio: float | None = None
    split_joined_ratio: float | None = 0.2
    merge_joined_ratio: float | None = 0.4
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
            self.resolution_rule,
            self.membership_alpha,
            self.membership_min_share,
            self.min_size,
            self.keep_min_size,
            self.max_size,
            self.window_days,
            self.horizon_days,
            self.half_life_days,
            self.recent_days,
            self.min_recent_members,
            self.dormancy_alpha,
            self.dormancy_ratio,
            self.split_alpha,
            self.min_member_neighbours,
            self.birth_min_degree,
            self.change_alpha,
            self.birth_new_ratio,
            self.split_apart_ratio,
            self.merge_dense_ratio,
            self.split_joined_ratio,
            self.merge_joined_ratio,
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
    recent_edges: pd.DataFrame | None = None,
    previous_candidates: pd.DataFrame | None = None,
    history_days: int | None = None,
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
    recent_edges : pandas.DataFrame, optional
        ``user_id_a``, ``user_id_b`` of the pairs that interacted in the last
        ``settings.recent_days``: communities with fewer than
        ``settings.min_recent_members`` members tied inside by them are dissolved (see
        :func:`dormant_labels`). None skips the rule.
    previous_candidates : pandas.DataFrame, optional
        ``user_id``, ``community_id`` of the previous snapshot's candidate communities
        (new communities waiting for confirmation, see :func:`unconfirmed_births`).
    history_days : int, optional
        Days of activity up to the snapshot, when fewer than the window's (the change
        tests then compare the recent period with the part of the window that has data).

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
        resolution_rule=settings.resolution_rule,
        membership_alpha=settings.membership_alpha,
        membership_min_share=settings.membership_min_share,
    )
    membership = detection.membership
    n_recent_split = 0
    if recent_edges is not None and settings.split_alpha:
        membership, n_recent_split = recent_splits(
            membership, recent_edges, edges, settings.min_size, settings.split_alpha
        )
    dormant: list[int] = []
    threshold = (
        settings.min_size if settings.min_recent_members is None else settings.min_recent_members
    )
    if recent_edges is not None and threshold > 0:
        # Only members count: fringe users' ties (they talk to a bit of everyone) kept
        # a community whose members had all gone quiet alive for weeks.
        counted = membership
        if "membership_status" in membership:
            counted = membership.assign(
                community_label=membership["community_label"].where(
                    membership["membership_status"] == "member", -1
                )
            )
        dormant = dormant_labels(
            counted,
            recent_edges,
            threshold,
            window_edges=interaction_edges,
            window_weeks=settings.window_days / 7,
            alpha=settings.dormancy_alpha,
        )
        if dormant:
            membership = membership.assign(
                community_label=membership["community_label"].where(
                    ~membership["community_label"].isin(dormant), -1
                )
            )
    # A member passes both tests: the detection's (ties inside beyond chance) and
    # min_member_neighbours distinct members tied to.
    is_member = tied_members(membership, edges, settings.min_member_neighbours)
    if "membership_status" in membership:
        is_member &= (membership["membership_status"] == "member").to_numpy()
    members_only = membership.assign(
        community_label=membership["community_label"].where(is_member.to_numpy(), -1)
    )
    sizes = members_only.loc[members_only["community_label"] >= 0, "community_label"].value_counts()
    floor = settings.min_size
    if settings.keep_min_size is not None:
        floor = min(settings.keep_min_size, settings.min_size)
    too_small = sizes.index[sizes < floor]
    members_only.loc[members_only["community_label"].isin(too_small), "community_label"] = -1
    observed = min(settings.window_days, history_days or settings.window_days)
    before_periods = max(observed - settings.recent_days, 0) / settings.recent_days
    faded: list[int] = []
    if recent_edges is not None and settings.dormancy_ratio is not None:
        # Dormancy again, on the members that are left: a community whose members went
        # quiet among themselves is gone even when a few of them still trade a tie or
        # two (the count of members tied recently let a 40-member community whose
        # inner weight fell from 70 a week to 14 live on for weeks).
        faded = faded_labels(
            members_only,
            edges if interaction_edges is None else interaction_edges,
            recent_edges,
            before_periods=before_periods,
            ratio=settings.dormancy_ratio,
            alpha=settings.dormancy_alpha or settings.change_alpha or 0.01,
        )
        if faded:
            members_only.loc[members_only["community_label"].isin(faded), "community_label"] = -1
    identity = assign_community_ids(
        members_only,
        previous_assignment,
        as_of=snapshot_date,
        min_overlap=settings.min_overlap,
    )
    if floor < settings.min_size:
        # Hysteresis: below min_size only a community that continues one lives on.
        new = identity.communities[identity.communities["previous_community_id"].isna()]
        small_new = new.loc[new["size"] < settings.min_size, "community_label"]
        if len(small_new):
            members_only.loc[
                members_only["community_label"].isin(small_new), "community_label"
            ] = -1
            identity = assign_community_ids(
                members_only,
                previous_assignment,
                as_of=snapshot_date,
                min_overlap=settings.min_overlap,
            )
    n_undone_splits = n_undone_merges = 0
    corrections: set[str] = set()
    if settings.change_alpha and previous_assignment is not None and recent_edges is not None:
        members_only, n_undone_splits, n_undone_merges, corrections = unconfirmed_changes(
            identity.events,
            identity.communities,
            members_only,
            previous_assignment,
            edges=edges,
            interaction_edges=interaction_edges,
            recent_edges=recent_edges,
            before_periods=before_periods,
            alpha=settings.change_alpha,
            split_apart_ratio=settings.split_apart_ratio,
            merge_dense_ratio=settings.merge_dense_ratio,
            split_joined_ratio=settings.split_joined_ratio,
            merge_joined_ratio=settings.merge_joined_ratio,
            min_size=settings.min_size,
        )
        if n_undone_splits or n_undone_merges:
            identity = assign_community_ids(
                members_only,
                previous_assignment,
                as_of=snapshot_date,
                min_overlap=settings.min_overlap,
            )
    held = unconfirmed_births(identity, members_only, edges, previous_candidates, settings)
    candidates = pd.DataFrame(columns=["user_id", "community_id"])
    if held:
        id_of_first = dict(
            zip(
                identity.communities["community_label"],
                identity.communities["community_id"],
                strict=True,
            )
        )
        waiting = members_only[members_only["community_label"].isin(held)]
        candidates = pd.DataFrame(
            {
                "user_id": waiting["user_id"].to_numpy(),
                "community_id": waiting["community_label"].map(id_of_first).to_numpy(),
            }
        )
        members_only = members_only.assign(
            community_label=members_only["community_label"].where(
                ~members_only["community_label"].isin(held), -1
            )
        )
        identity = assign_community_ids(
            members_only,
            previous_assignment,
            as_of=snapshot_date,
            min_overlap=settings.min_overlap,
        )
    assigned = identity.assignment.dropna(subset=["community_id"])[["user_id", "community_id"]]
    assigned = assigned.reset_index(drop=True)
    events = identity.events
    if settings.change_alpha and previous_assignment is not None and recent_edges is not None:
        events = birth_kinds(
            events,
            assigned,
            interaction_edges=interaction_edges,
            recent_edges=recent_edges,
            before_periods=before_periods,
            alpha=settings.change_alpha,
            new_ratio=settings.birth_new_ratio,
        )
    if corrections:
        # A split piece that was apart from the rest before this week: the detection
        # corrected an earlier mixture of two communities. The piece was there before
        # and is only now seen on its own.
        corrected = (events["event_type"] == "split") & events["community_id"].isin(corrections)
        events = events.assign(event_type=events["event_type"].where(~corrected, "emerged"))
    id_of = dict(
        zip(
            identity.communities["community_label"],
            identity.communities["community_id"],
            strict=True,
        )
    )
    fringe = membership[
        (membership["community_label"] >= 0)
        & ~is_member.to_numpy()
        & membership["community_label"].isin(list(id_of))
    ]
    fringe = pd.DataFrame(
        {
            "user_id": fringe["user_id"].to_numpy(),
            "community_id": fringe["community_label"].map(id_of).to_numpy(),
        }
    )

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
        "count_users": int(len(membership)),
        "count_assigned": int(len(assigned)),
        "count_unassigned": int(len(membership) - len(assigned)),
        "count_communities": int(assigned["community_id"].nunique()),
        "count_edges": int(len(edges)),
        "count_split": int(quality.get("n_split", 0)),
        "count_dormant": len(dormant) + len(faded),
        "count_recent_split": int(n_recent_split),
        "count_undone_splits": int(n_undone_splits),
        "count_undone_merges": int(n_undone_merges),
        "count_fringe": int(len(fringe)),
        "count_candidate_communities": len(held),
        "count_candidates": int(len(candidates)),
        "seconds": round(time.perf_counter() - started, 3),
    }
    statuses = pd.concat(
        [
            assigned.assign(membership_status="member"),
            fringe.assign(membership_status="fringe"),
            candidates.assign(membership_status="candidate"),
        ],
        ignore_index=True,
    ).sort_values("user_id", ignore_index=True)
    return SnapshotResult(
        assignments=statuses.assign(snapshot_date=snapshot_date),
        events=events.assign(snapshot_date=snapshot_date),
        stats=stats.assign(snapshot_date=snapshot_date),
        members=members.assign(snapshot_date=snapshot_date),
        run=run,
    )


def dormant_labels(
    membership: pd.DataFrame,
    recent_edges: pd.DataFrame,
    min_recent_members: int,
    *,
    window_edges: pd.DataFrame | None = None,
    window_weeks: float = 4.0,
    alpha: float | None = None,
) -> list[int]:
    """Communities that went quiet: too few members tied inside by recent interactions.

    Parameters
    ----------
    membership : pandas.DataFrame
        ``user_id``, ``community_label`` (``-1`` unassigned), as detected.
    recent_edges : pandas.DataFrame
        ``user_id_a``, ``user_id_b``: pairs that interacted recently.
    min_recent_members : int
        A community needs at least this many members with a recent tie to another
        member.
    window_edges : pandas.DataFrame, optional
        ``user_id_a``, ``user_id_b`` and optionally ``edge_weight``: the window's
        interactions (which include the recent period), for the community's own rate.
    window_weeks : float
        Length of the window in weeks.
    alpha : float, optional
        With ``window_edges``: a community short of ``min_recent_members`` is dormant
        only when ``P(X <= r) < alpha``, ``X ~ Poisson(w / window_weeks)``, ``w`` and
        ``r`` the interaction weight among its members in the window and in the recent
        period (``edge_weight`` summed; 1 per pair without it).

    Returns
    -------
    list of int
        The labels of the dormant communities, sorted.

    Notes
    -----
    Detection weighs old ties less but still sees them, so the members of a community
    that stopped interacting stay together in the graph until their ties fade. Asking
    for recent ties inside dissolves it at the first snapshot after it went quiet. A
    fixed count alone dissolves sparse communities in any quiet week (on CollegeMsg,
    most users have one to three partners in four weeks); against the community's own
    rate, only a silence that its past activity makes unlikely counts.
    """
    labels = membership.loc[membership["community_label"] >= 0, ["user_id", "community_label"]]
    if labels.empty:
        return []
    label_of = pd.Series(
        labels["community_label"].to_numpy(), index=labels["user_id"].astype(str).to_numpy()
    )
    a = label_of.reindex(recent_edges["user_id_a"].astype(str).to_numpy()).to_numpy()
    b = label_of.reindex(recent_edges["user_id_b"].astype(str).to_numpy()).to_numpy()
    inside = ~pd.isna(a) & (a == b)
    tied = pd.DataFrame(
        {
            "user_id": np.concatenate(
                [
                    recent_edges["user_id_a"].astype(str).to_numpy()[inside],
                    recent_edges["user_id_b"].astype(str).to_numpy()[inside],
                ]
            ),
            "community_label": np.concatenate([a[inside], a[inside]]).astype(np.int64),
        }
    ).drop_duplicates()
    active = tied.groupby("community_label")["user_id"].size()
    every = pd.Index(np.unique(labels["community_label"].to_numpy()))
    counts = active.reindex(every, fill_value=0)
    quiet = counts.index[counts < min_recent_members]
    if alpha is None or window_edges is None or len(quiet) == 0:
        return sorted(int(label) for label in quiet)
    recent = _weight_inside(recent_edges, a, inside).reindex(every, fill_value=0.0)
    wa = label_of.reindex(window_edges["user_id_a"].astype(str).to_numpy()).to_numpy()
    wb = label_of.reindex(window_edges["user_id_b"].astype(str).to_numpy()).to_numpy()
    window_inside = ~pd.isna(wa) & (wa == wb)
    window = _weight_inside(window_edges, wa, window_inside).reindex(every, fill_value=0.0)
    rate = window.to_numpy(dtype=float) / max(window_weeks, 1e-9)
    chance = pd.Series(poisson.cdf(np.floor(recent.to_numpy(dtype=float)), rate), index=every)
    return sorted(int(label) for label in quiet if chance[label] < alpha)


def faded_labels(
    membership: pd.DataFrame,
    window_edges: pd.DataFrame,
    recent_edges: pd.DataFrame,
    *,
    before_periods: float,
    ratio: float,
    alpha: float,
) -> list[int]:
    """Communities whose members stopped interacting among themselves this week.

    Parameters
    ----------
    membership : pandas.DataFrame
        ``user_id``, ``community_label`` (``-1``: not a member).
    window_edges, recent_edges : pandas.DataFrame
        ``user_id_a``, ``user_id_b`` and optionally ``edge_weight``: interaction weight in
        the window (which includes the recent period) and in the recent period.
    before_periods : float
        The rest of the window (the window without its recent period), in recent periods.
    ratio : float
        A community is faded when its recent inner weight ``r`` is at most ``ratio`` x
        its inner weight per period in the rest of the window ...
    alpha : float
        ... and that fall is significant: :func:`~orchestration.lib.communities.changes.fell`
        at this level.

    Returns
    -------
    list of int
        The labels of the faded communities, sorted.
    """
    labels = membership.loc[membership["community_label"] >= 0, ["user_id", "community_label"]]
    if labels.empty or before_periods <= 0:
        return []
    label_of = pd.Series(
        labels["community_label"].to_numpy(), index=labels["user_id"].astype(str).to_numpy()
    )
    every = pd.Index(np.unique(labels["community_label"].to_numpy()))

    def inside(pairs: pd.DataFrame) -> np.ndarray:
        a = label_of.reindex(pairs["user_id_a"].astype(str).to_numpy()).to_numpy()
        b = label_of.reindex(pairs["user_id_b"].astype(str).to_numpy()).to_numpy()
        same = ~pd.isna(a) & (a == b)
        return _weight_inside(pairs, a, same).reindex(every, fill_value=0.0).to_numpy(float)

    recent, window = inside(recent_edges), inside(window_edges)
    out = []
    for label, r, w in zip(every, recent, window, strict=True):
        rest = max(w - r, 0.0) / before_periods
        if r <= ratio * rest and fell(r, w, before_periods, alpha):
            out.append(int(label))
    return out


def _weight_inside(pairs: pd.DataFrame, label: np.ndarray, inside: np.ndarray) -> pd.Series:
    """Summed ``edge_weight`` (1 per pair without it) of the ``inside`` rows of ``pairs``
    per community (``label`` of each row's first user)."""
    weight = (
        pairs["edge_weight"].to_numpy(dtype=float)
        if "edge_weight" in pairs
        else np.ones(len(pairs), dtype=float)
    )
    return pd.Series(weight[inside]).groupby(label[inside].astype(np.int64)).sum()


def unconfirmed_births(
    identity: Any,
    membership: pd.DataFrame,
    edges: pd.DataFrame,
    previous_candidates: pd.DataFrame | None,
    settings: DetectionSettings,
) -> list[int]:
    """Labels of new communities that must wait for a second sighting.

    A community with no predecessor (a ``born`` event) is confirmed at once when it is
    cohesive (its members are tied to at least ``settings.birth_min_degree`` other
    members on average) or when it overlaps a candidate of the previous snapshot with a
    Jaccard index of at least ``settings.min_overlap``; otherwise it is held back as a
    candidate (its users get ``membership_status`` ``candidate``, it emits no event and
    counts nowhere). Loose groups of users that happen to be clustered one week and not
    the next are thereby never announced as born and then dissolved.
    """
    if settings.birth_min_degree <= 0:
        return []
    born = identity.events.loc[identity.events["event_type"] == "born", "community_id"]
    if born.empty:
        return []
    label_of_id = dict(
        zip(
            identity.communities["community_id"],
            identity.communities["community_label"],
            strict=True,
        )
    )
    labels = [int(label_of_id[c]) for c in born]
    counts = _inside_counts(membership, edges)
    assigned = membership["community_label"].to_numpy()
    degree = pd.Series(counts, index=membership.index).groupby(assigned).mean()
    earlier: list[set[str]] = []
    if previous_candidates is not None and not previous_candidates.empty:
        earlier = [
            set(group["user_id"].astype(str))
            for _, group in previous_candidates.groupby("community_id", sort=True)
        ]
    held = []
    for label in labels:
        if degree.get(label, 0.0) >= settings.birth_min_degree:
            continue
        users = set(membership.loc[assigned == label, "user_id"].astype(str))
        seen = any(
            len(users & other) / len(users | other) >= settings.min_overlap for other in earlier
        )
        if not seen:
            held.append(label)
    return sorted(held)


def _inside_counts(membership: pd.DataFrame, edges: pd.DataFrame) -> np.ndarray:
    """Distinct neighbours of each user (rows of ``membership``) in their own community."""
    labels = membership["community_label"].to_numpy()
    label_of = pd.Series(labels, index=membership["user_id"].astype(str).to_numpy())
    a_ids = edges["user_id_a"].astype(str).to_numpy()
    b_ids = edges["user_id_b"].astype(str).to_numpy()
    a = label_of.reindex(a_ids).to_numpy()
    b = label_of.reindex(b_ids).to_numpy()
    inside = ~pd.isna(a) & (a == b) & (a >= 0)
    counts = pd.Series(np.concatenate([a_ids[inside], b_ids[inside]])).value_counts()
    return counts.reindex(membership["user_id"].astype(str).to_numpy(), fill_value=0).to_numpy()


def tied_members(membership: pd.DataFrame, edges: pd.DataFrame, min_neighbours: int) -> pd.Series:
    """Which assigned users are tied to their community by at least ``min_neighbours``.

    Returns a boolean Series aligned with ``membership`` (False for unassigned users):
    True when the user has ties to at least ``min_neighbours`` distinct other members of
    their community in ``edges``.
    """
    labels = membership["community_label"].to_numpy()
    if min_neighbours <= 0:
        return pd.Series(labels >= 0, index=membership.index)
    inside = _inside_counts(membership, edges)
    return pd.Series((labels >= 0) & (inside >= min_neighbours), index=membership.index)


def recent_splits(
    membership: pd.DataFrame,
    recent_edges: pd.DataFrame,
    edges: pd.DataFrame,
    min_size: int,
    alpha: float,
) -> tuple[pd.DataFrame, int]:
    """Split the communities whose recent ties fall apart into groups that no longer talk.

    Parameters
    ----------
    membership : pandas.DataFrame
        ``user_id``, ``community_label`` (``-1`` unassigned), as detected.
    recent_edges : pandas.DataFrame
        ``user_id_a``, ``user_id_b``: pairs that interacted recently.
    edges : pandas.DataFrame
        ``user_id_a``, ``user_id_b``, ``edge_weight``: the detection graph, to place the
        members without a recent tie inside.
    min_size : int
        Each part of a split has at least this many members tied recently.
    alpha : float
        A community is split when its recent ties form several groups of ``min_size``
        or more with no recent tie between them, and chance would have put at least one
        there at this level: with ``e`` recent ties inside the groups, over ``p_in``
        pairs inside and ``p_cross`` pairs across, no tie across has probability
        ``exp(-e * p_cross / p_in)`` if the community were still one; below ``alpha``,
        it is split.

    Returns
    -------
    (pandas.DataFrame, int)
        The membership with the parts relabelled (new labels above the largest one) and
        the number of communities split.

    Notes
    -----
    The detection graph remembers old ties (decayed, not gone), so modularity keeps the
    two halves of a group that split together until the ties across fade: weeks after
    the split. The recent ties show the split at the first snapshot after it.
    """
    labels = membership["community_label"].to_numpy().copy()
    user_ids = membership["user_id"].astype(str).to_numpy()
    assigned = labels >= 0
    if not assigned.any() or recent_edges.empty or alpha <= 0:
        return membership, 0
    position = pd.Series(np.arange(len(user_ids)), index=user_ids)
    a = position.reindex(recent_edges["user_id_a"].astype(str).to_numpy()).to_numpy()
    b = position.reindex(recent_edges["user_id_b"].astype(str).to_numpy()).to_numpy()
    known = ~(pd.isna(a) | pd.isna(b))
    a, b = a[known].astype(np.int64), b[known].astype(np.int64)
    inside = (labels[a] >= 0) & (labels[a] == labels[b]) & (a != b)
    a, b = a[inside], b[inside]
    if len(a) == 0:
        return membership, 0
    graph = ig.Graph(n=len(user_ids), edges=np.column_stack([a, b]).tolist())
    component = np.asarray(graph.connected_components().membership, dtype=np.int64)
    threshold = -np.log(alpha)
    next_label = int(labels.max()) + 1
    n_split = 0
    edge_label = labels[a]
    sizes = pd.Series(labels[assigned]).value_counts()
    both_ways = u_str = v_str = None
    for label in np.unique(edge_label):
        if sizes.get(label, 0) < 2 * min_size:
            continue
        in_community = np.flatnonzero(labels == label)
        tied = np.unique(np.concatenate([a[edge_label == label], b[edge_label == label]]))
        counts = pd.Series(component[tied]).value_counts()
        big = counts.index[counts >= min_size].to_numpy()
        if len(big) < 2:
            continue
        part_sizes = counts.loc[big].to_numpy().astype(float)
        pairs_in = float((part_sizes * (part_sizes - 1) / 2).sum())
        pairs_cross = float((part_sizes.sum() ** 2 - (part_sizes**2).sum()) / 2)
        ends = component[a[edge_label == label]]
        ties_in = float(np.isin(ends, big).sum())
        if ties_in * pairs_cross / pairs_in < threshold:
            continue
        # The largest part keeps the label; the others get new ones. Members outside
        # the parts join the part they are most tied to in the detection graph (the
        # largest when they have no tie to any).
        order = big[np.argsort(-counts.loc[big].to_numpy(), kind="stable")]
        part_label = {int(order[0]): int(label)}
        for part in order[1:]:
            part_label[int(part)] = next_label
            next_label += 1
        new = np.full(len(in_community), int(label), dtype=np.int64)
        of_part = pd.Series(component[in_community]).map(part_label)
        in_part = of_part.notna().to_numpy()
        new[in_part] = of_part[in_part].to_numpy().astype(np.int64)
        rest = in_community[~in_part]
        if len(rest):
            new_of = pd.Series(new, index=user_ids[in_community])
            rest_ids = set(user_ids[rest])
            rest_vertices = set(rest.tolist())
            if both_ways is None:
                # Every tie from each end, ids as str (once: the same for every label).
                frame = edges[["user_id_a", "user_id_b", "edge_weight"]]
                both_ways = pd.concat(
                    [
                        frame.rename(columns={"user_id_a": "u", "user_id_b": "v"}),
                        frame.rename(columns={"user_id_b": "u", "user_id_a": "v"}),
                    ],
                    ignore_index=True,
                )
                u_str = both_ways["u"].astype(str).to_numpy(dtype=object)
                v_str = both_ways["v"].astype(str).to_numpy(dtype=object)
            from_rest = pd.Index(u_str).isin(rest_ids)
            both = both_ways[from_rest]
            v_of = v_str[from_rest]
            both = both.assign(part=new_of.reindex(v_of).to_numpy())
            both = both[both["part"].notna().to_numpy() & ~pd.Index(v_of).isin(rest_ids)]
            if not both.empty:
                weight = both.groupby(["u", "part"])["edge_weight"].sum().reset_index()
                best = weight.sort_values(
                    ["u", "edge_weight", "part"], ascending=[True, False, True]
                ).drop_duplicates("u")
                choice = dict(
                    zip(best["u"].astype(str), best["part"].astype(np.int64), strict=True)
                )
                for i, vertex in enumerate(in_community):
                    if vertex in rest_vertices:
                        new[i] = choice.get(user_ids[vertex], int(label))
        labels[in_community] = new
        n_split += 1
    if n_split == 0:
        return membership, 0
    return membership.assign(community_label=labels), n_split
