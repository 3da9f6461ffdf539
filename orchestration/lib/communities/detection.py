"""Find small communities in the user-user interaction graph.

:func:`detect_communities` takes the weighted edge list of ``fct_user_edges`` (one row
per unordered pair of users, ``edge_weight > 0``) and returns one label per user: the
community it belongs to, or ``-1`` when it belongs to none (isolated users, users in
groups smaller than ``min_size``). The default method is Leiden (igraph's C
implementation) on the Reichardt-Bornholdt modularity with a *size-aware* resolution,
so that the groups it finds stay small (about 8 to 300 members) however large the
graph grows: plain modularity has a resolution limit that grows with the graph and
merges small groups together. Oversized groups are split further, undersized ones are
left unassigned, labels are renumbered deterministically, and a warm start from the
previous refresh keeps users where they were when the graph barely changed. Nothing
here reads or writes the warehouse (`orchestration.lib.communities.store` does) or
depends on Dagster.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import igraph as ig
import numpy as np
import pandas as pd

from orchestration.lib.communities.membership import (
    CODE_FRINGE,
    CODE_MEMBER,
    DEFAULT_MEMBERSHIP_ALPHA,
    DEFAULT_MEMBERSHIP_MIN_SHARE,
    FRINGE,
    MEMBER,
    membership_status_codes,
)

__all__ = [
    "DEFAULT_ITERATIONS",
    "DEFAULT_METHOD",
    "DEFAULT_RESOLUTION_RULE",
    "METHODS",
    "RESOLUTION_RULES",
    "DetectionResult",
    "asymptotic_surprise",
    "auto_resolution",
    "detect_communities",
]

#: Method used when none is given.
DEFAULT_METHOD = "leiden"

#: Selectable methods: the default and three reference methods.
METHODS = ("leiden", "leiden_modularity", "louvain_networkx", "label_propagation")

#: How the default method chooses its resolution: ``"surprise"`` (default) tries a
#: geometric ladder of resolutions and keeps the partition with the highest asymptotic
#: surprise against the degree-preserving null (see :func:`asymptotic_surprise`);
#: ``"size_aware"`` is the earlier rule, :func:`auto_resolution`.
RESOLUTION_RULES = ("surprise", "size_aware")
DEFAULT_RESOLUTION_RULE = "surprise"

#: Ladder of the surprise rule: resolutions 1, 2, 4, ... (and the size-aware one), until
#: the surprise has fallen below its best for ``_LADDER_PATIENCE`` steps in a row, then
#: the two half-steps (x / sqrt 2) around the best. The surprise over the ladder is
#: single-peaked on every graph measured (LFR suite, demo), so the patience only
#: guards against a flat step.
_LADDER_FACTOR = 2.0
_LADDER_PATIENCE = 2

#: Share of a maximum-size group's interaction weight that must stay inside it for the
#: group to be kept by the automatic resolution (see :func:`auto_resolution`): one half
#: is the "weak community" of Radicchi et al. (2004), more weight inside than outside.
INTERNAL_SHARE = 0.5

#: Leiden iterations by default (igraph's own default). Each iteration starts from the
#: previous partition; on LFR 100,000 the third and later ones gain less than 1e-5 in
#: quality and under 0.001 in NMI while costing 0.35 s each (the 1M-edge benchmark
#: takes 2.7 s at 2 iterations, 7.4 s until stable). Iterating until stable
#: (``n_iterations=-1``) does keep 0.5-2% more users in place after a warm start on
#: noisy graphs (mixing ~0.5); pass it where that matters more than time.
DEFAULT_ITERATIONS = 2

#: An oversized group that Leiden cannot split is retried at twice the resolution, at
#: most this many times, before the fallback (breadth-first chunks of ``max_size``).
_MAX_SPLIT_DOUBLINGS = 12

_EDGE_COLUMNS = ("user_id_a", "user_id_b", "edge_weight")


@dataclass(frozen=True)
class DetectionResult:
    """What :func:`detect_communities` found.

    Attributes
    ----------
    membership : pandas.DataFrame
        One row per user (the given ``user_ids`` and every edge endpoint), sorted by
        ``user_id`` (str): ``user_id``, ``community_label`` (int64, ``0`` is the
        largest community, ``-1`` means unassigned) and ``membership_status``
        (``"member"``, ``"fringe"``, or None when unassigned; a fringe user keeps
        the label of the community it is weakly attached to).
    quality : dict
        ``method``, ``resolution`` (the one used, None for label propagation),
        ``resolution_rule`` (``"surprise"``, ``"size_aware"``, ``"given"``,
        ``"fixed"`` or ``"none"``), ``surprise`` (asymptotic surprise of the final
        partition), ``resolution_ladder`` (list of ``{"resolution", "surprise"}``
        tried by the surprise rule, else empty), ``n_members`` and ``n_fringe``
        (users of each status), ``membership_alpha``, ``membership_min_share``,
        ``n_few_members`` (communities
        with fewer than ``min_size`` members, fringe not counted; kept), ``modularity``
        (plain, resolution 1, weighted, of the final partition on the whole graph,
        unassigned users counted as singletons), ``n_users``, ``n_edges``,
        ``n_communities``, ``n_unassigned``, ``share_assigned``, ``n_split`` (groups
        above ``max_size`` that were split), ``sizes`` (min, p25, median, p75, p90,
        max of community sizes), ``seed`` and ``seconds`` (wall time of the call).
    """

    membership: pd.DataFrame
    quality: dict[str, Any] = field(default_factory=dict)


def auto_resolution(n_active: int, max_size: int | None = 300) -> float:
    """Resolution of the Reichardt-Bornholdt modularity chosen for small groups.

    Parameters
    ----------
    n_active : int
        Number of users with at least one edge.
    max_size : int or None, default 300
        Largest community wanted; None means 300.

    Returns
    -------
    float
        ``max(1, INTERNAL_SHARE * n_active / max_size)``, i.e. ``n / (2 * max_size)``.

    Notes
    -----
    With resolution ``g``, a group of total strength ``K`` whose members keep a share
    ``f`` of their interaction weight inside it adds ``(f K - g K^2 / 2m) / 2m`` to the
    quality (``m`` the total edge weight), which is positive only when
    ``f > g K / 2m``. Take ``K`` as the strength of ``max_size`` average users,
    ``max_size * 2m / n``: the condition becomes ``f > g * max_size / n``. Choosing
    ``g = INTERNAL_SHARE * n / max_size`` makes it ``f > 1/2`` whatever the graph's
    size or weight scale: a group of the largest wanted size survives only if it is a
    community in the weak sense (more weight inside than out), and a group of ``s``
    members needs ``f > s / (2 max_size)``. Two groups merge only if the weight between
    them exceeds ``g K_1 K_2 / 2m``, which for groups of fixed size no longer shrinks
    as the graph grows. The rule scales the resolution with the graph, which is what
    removes the resolution limit (at resolution 1 the tolerated group grows like
    ``sqrt(m)``: on an LFR graph of 100,000 users with planted groups of 20-100,
    modularity finds ~220 groups for 2,260 planted, NMI 0.82, where this rule finds
    2,261, NMI 0.994; a fixed resolution tuned at 10,000 users falls short at
    100,000). It is expressed in strengths, so it holds unchanged on weighted graphs
    (on the demo warehouse's weighted ``fct_user_edges`` of 10,000 users it reaches
    NMI 0.96 against the planted communities, modularity 0.88). It never goes below 1:
    on small graphs there is no resolution limit to undo and a lower value would
    merge groups that modularity separates. ``INTERNAL_SHARE`` was checked at 0.25,
    0.5 and 1 on LFR graphs of 1,000 to 100,000 users (mu 0.3), the demo warehouse
    and Email-Eu-core: 0.5 is within 0.01 NMI of the best on each LFR graph, where 1
    loses up to 0.04 (it splits planted groups), and it beats 0.25 on the noisier
    real graphs (Email-Eu-core 0.68 against 0.58).
    """
    size = 300 if max_size is None else max_size
    return max(1.0, INTERNAL_SHARE * n_active / size)


def detect_communities(
    edges: pd.DataFrame,
    *,
    user_ids: Iterable[Any] | None = None,
    method: str = DEFAULT_METHOD,
    resolution: float | None = None,
    min_size: int = 5,
    max_size: int | None = 300,
    seed: int = 42,
    initial_membership: Mapping[str, Any] | None = None,
    n_iterations: int = DEFAULT_ITERATIONS,
    resolution_rule: str = DEFAULT_RESOLUTION_RULE,
    membership_alpha: float | None = DEFAULT_MEMBERSHIP_ALPHA,
    membership_min_share: float = DEFAULT_MEMBERSHIP_MIN_SHARE,
) -> DetectionResult:
    """Partition users into small communities.

    Parameters
    ----------
    edges : pandas.DataFrame
        Columns ``user_id_a``, ``user_id_b`` and ``edge_weight`` (finite, > 0), one row
        per unordered pair (as in ``fct_user_edges``). Ids are compared as strings.
        Self-loops are ignored; a pair listed twice counts with both weights.
    user_ids : iterable, optional
        Every user to label. Users without edges come out unassigned (``-1``); edge
        endpoints missing from ``user_ids`` are labelled too.
    method : {"leiden", "leiden_modularity", "louvain_networkx", "label_propagation"}
        ``"leiden"`` (default): igraph Leiden, RB modularity at the resolution of
        :func:`auto_resolution` (or ``resolution``). ``"leiden_modularity"``: the same
        at resolution 1 (or ``resolution``).
        ``"louvain_networkx"``: :func:`networkx.community.louvain_communities`
        (resolution 1 or ``resolution``). ``"label_propagation"``: igraph's label
        propagation (no resolution). The last three are references for benchmarks.
    resolution : float, optional
        Override the resolution (RB modularity, 1 = plain modularity).
    min_size : int, default 5
        Communities with fewer members are dissolved: their members get ``-1``.
    max_size : int or None, default 300
        Communities with more members are split (see Notes); None disables it.
    seed : int, default 42
        Seed of every random choice: the same input and seed give the same output.
    initial_membership : mapping of str to int (or str), optional
        Warm start for the Leiden methods: the previous refresh's label of each user
        (any integers, negative = unassigned; or community ids, null = unassigned),
        e.g. ``dict(zip(previous.user_id, previous.community_label))``. Users missing
        from it start alone. Leiden then only moves users where the new graph makes it
        worth it, so a small change in the graph keeps most users where they were.
    n_iterations : int, default 2
        Leiden iterations (Leiden methods and splitting); -1 iterates until the
        partition stops changing, which is unbounded and can take minutes at low
        resolutions on large graphs.
    resolution_rule : {"surprise", "size_aware"}, default "surprise"
        How ``"leiden"`` chooses its resolution when ``resolution`` is not given:
        the most surprising partition of a ladder (Notes), or the earlier
        size-aware rule of :func:`auto_resolution`. Ignored by the other methods.
    membership_alpha : float or None, default 0.01
        Threshold of the per-user membership test
        (:mod:`orchestration.lib.communities.membership`): a user whose ties inside
        their community have a corrected p-value below it (and who keeps
        ``membership_min_share`` of their weight inside) is a ``member``, others
        with a tie inside are ``fringe``; None skips the test (every assigned user
        is a member), as the earlier versions did.
    membership_min_share : float, default 1/3
        Least share of a member's interaction weight inside their community.

    Returns
    -------
    DetectionResult
        The membership table and quality figures.

    Raises
    ------
    ValueError
        On missing columns, non-positive or non-finite weights, an unknown method,
        or ``initial_membership`` with a method that cannot use it.

    Notes
    -----
    *Resolution*: a fixed resolution cannot serve every graph size: the groups that
    modularity tolerates grow like the square root of the total weight, so at 100,000
    users it merges planted groups of 20-100 ten at a time. The default
    (``resolution_rule="surprise"``) lets the graph choose: Leiden runs at resolutions
    1, 2, 4, ... and at the size-aware one; each partition (after splitting and
    ``min_size``) is scored by its asymptotic surprise (:func:`asymptotic_surprise`,
    in interaction weight, so a weighted graph is judged by its weights); the ladder
    stops once the surprise has fallen for two steps, the half-steps around the best
    are tried, and the most surprising partition is kept. ``"size_aware"`` scales the
    resolution with the number of active users, ``max(1, n / (2 * max_size))`` (see
    :func:`auto_resolution`). Pass ``resolution`` to override both. With
    ``initial_membership`` every rung of the ladder starts from it.

    *Membership*: after detection each assigned user is tested (``membership_alpha``):
    ``member``, ``fringe`` (keeps its label), or unassigned when it has no tie inside
    its community. ``min_size`` still counts every user with the label (members and
    fringe): a community with fewer than ``min_size`` *members* is kept and counted
    in ``quality["n_few_members"]``. Dissolving it was tried: on small graphs, where
    the test has little power (karate club: groups of a quarter of the graph, users
    with 2-5 ties), it unassigned every user; the consumer decides (fringe users do
    not count as members in KPIs).

    *Iterations*: two, like igraph's default: later ones change under 0.001 NMI on
    the benchmarks and cost as much as the second each.

    *Determinism*: ids are sorted and edges ordered before the graph is built, so the
    row order of ``edges`` does not matter, and Python's :mod:`random` (which igraph
    draws from) is seeded before every call and restored afterwards.

    *Splitting*: the members of a community above ``max_size`` are re-partitioned by
    Leiden on their induced subgraph, at the automatic resolution of that subgraph
    (at least 1); a piece that is still too large is split the same way, and a piece
    that Leiden leaves whole is retried at twice the resolution. After 12 doublings
    the fallback cuts it into consecutive chunks of ``max_size`` users in
    breadth-first order. Every method's output is post-processed
    this way. Pieces that end up below ``min_size`` become unassigned.

    *Labels*: communities are numbered 0, 1, ... by decreasing size, ties broken by
    their smallest member id.
    """
    started = time.perf_counter()
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")
    if initial_membership is not None and method not in ("leiden", "leiden_modularity"):
        raise ValueError(f"initial_membership needs a Leiden method, not {method!r}")
    if min_size < 1:
        raise ValueError(f"min_size must be >= 1, got {min_size}")
    if max_size is not None and max_size < max(min_size, 2):
        raise ValueError(f"max_size must be >= max(min_size, 2), got {max_size}")

    ids, src, dst, weights, loop_only = _prepare_edges(edges)
    all_ids = _all_users(ids, loop_only, user_ids)
    n_active = len(ids)
    graph = _build_graph(n_active, src, dst, weights)

    if resolution_rule not in RESOLUTION_RULES:
        raise ValueError(
            f"unknown resolution_rule {resolution_rule!r}; choose one of {RESOLUTION_RULES}"
        )
    ladder: list[dict[str, float]] = []
    start = None
    if method in ("leiden", "leiden_modularity"):
        start = _initial_labels(initial_membership, ids)
    if method == "leiden" and resolution is None and resolution_rule == "surprise":
        rule = "surprise"
        used, labels, n_split, ladder = _surprise_ladder(
            graph, weights, n_active, min_size, max_size, seed, start, n_iterations
        )
    else:
        if method == "leiden":
            if resolution is not None:
                used, rule = float(resolution), "given"
            else:
                used, rule = auto_resolution(n_active, max_size), "size_aware"
            labels = _leiden(graph, used, seed, initial=start, iterations=n_iterations)
        elif method == "leiden_modularity":
            used = 1.0 if resolution is None else float(resolution)
            rule = "given" if resolution is not None else "fixed"
            labels = _leiden(graph, used, seed, initial=start, iterations=n_iterations)
        elif method == "louvain_networkx":
            used = 1.0 if resolution is None else float(resolution)
            rule = "given" if resolution is not None else "fixed"
            labels = _louvain_networkx(n_active, src, dst, weights, used, seed)
        else:
            used, rule = None, "none"
            labels = _label_propagation(graph, seed)
        labels, n_split = _finish(graph, labels, min_size, max_size, seed, n_iterations)

    if membership_alpha is None:
        codes = np.where(labels >= 0, CODE_MEMBER, -1)
        n_few_members = 0
    else:
        codes = membership_status_codes(
            n_active, src, dst, weights, labels, membership_alpha, membership_min_share
        )
        labels, codes, n_few_members = _apply_membership(labels, codes, min_size)

    full = np.full(len(all_ids), -1, dtype=np.int64)
    full[:n_active] = labels
    order = np.argsort(all_ids, kind="stable")
    status = np.full(len(all_ids), None, dtype=object)
    status[:n_active][codes == CODE_MEMBER] = MEMBER
    status[:n_active][codes == CODE_FRINGE] = FRINGE
    membership = pd.DataFrame(
        {
            "user_id": pd.Series(all_ids[order], dtype=str),
            "community_label": full[order],
            "membership_status": pd.Series(status[order], dtype=object),
        }
    )
    quality = _quality(graph, labels, full, n_split)
    quality.update(
        method=method,
        resolution=used,
        resolution_rule=rule,
        surprise=asymptotic_surprise(src, dst, weights, labels),
        resolution_ladder=ladder,
        n_members=int((codes == CODE_MEMBER).sum()),
        n_fringe=int((codes == CODE_FRINGE).sum()),
        membership_alpha=membership_alpha,
        membership_min_share=membership_min_share if membership_alpha is not None else None,
        n_few_members=int(n_few_members),
        n_edges=int(len(src)),
        seed=seed,
        seconds=time.perf_counter() - started,
    )
    return DetectionResult(membership=membership, quality=quality)


def asymptotic_surprise(
    src: np.ndarray, dst: np.ndarray, weights: np.ndarray, labels: np.ndarray
) -> float:
    """Asymptotic surprise of a partition against the degree-preserving null.

    Parameters
    ----------
    src, dst : numpy.ndarray
        Edge endpoints (vertex codes ``0 .. n-1``, no self-loops).
    weights : numpy.ndarray
        Edge weights (> 0).
    labels : numpy.ndarray
        Community of each vertex; ``-1`` (unassigned) counts as a singleton.

    Returns
    -------
    float
        ``m * KL(q || p)`` (Traag, Aldecoa and Delvenne 2015), with ``m`` the total
        edge weight, ``q`` the share of it inside communities and ``p = sum_c
        (K_c / 2m)^2`` the share expected inside under the configuration model
        (``K_c`` the total strength of community ``c``); 0 when ``q <= p``.

    Notes
    -----
    The original asymptotical surprise compares ``q`` with the share of vertex
    *pairs* inside communities; the configuration-model ``p`` used here (the null of
    modularity) makes it a test against a random graph with the same degrees, and
    on a weighted graph it is written in weights, so heavy ties decide. Unlike
    modularity it has no resolution limit: it rewards small, dense groups as much as
    the data supports, and penalises splitting a real group (``q`` falls faster than
    ``p``) and merging two (``p`` rises faster than ``q``).
    """
    labels = np.asarray(labels, dtype=np.int64)
    total = float(weights.sum()) if len(weights) else 0.0
    if total <= 0:
        return 0.0
    n = len(labels)
    strength = np.bincount(src, weights, n) + np.bincount(dst, weights, n)
    assigned = labels >= 0
    inside = (labels[src] == labels[dst]) & assigned[src]
    q = float(weights[inside].sum()) / total
    community = np.bincount(labels[assigned], strength[assigned]) if assigned.any() else []
    p = float(
        (np.square(community).sum() + np.square(strength[~assigned]).sum()) / (2 * total) ** 2
    )
    if q <= p or p <= 0:
        return 0.0
    kl = q * np.log(q / p)
    if q < 1.0:
        kl += (1.0 - q) * np.log((1.0 - q) / (1.0 - p))
    return float(total * kl)


def _finish(
    graph: ig.Graph,
    labels: np.ndarray,
    min_size: int,
    max_size: int | None,
    seed: int,
    iterations: int,
) -> tuple[np.ndarray, int]:
    """Split oversized communities, dissolve undersized ones, renumber."""
    n_split = 0
    if max_size is not None and len(labels):
        labels, n_split = _split_oversized(graph, labels, max_size, seed, iterations)
    return _renumber(labels, min_size), n_split


def _surprise_ladder(
    graph: ig.Graph,
    weights: np.ndarray,
    n_active: int,
    min_size: int,
    max_size: int | None,
    seed: int,
    start: np.ndarray | None,
    iterations: int,
) -> tuple[float, np.ndarray, int, list[dict[str, float]]]:
    """The most surprising finished partition over the resolution ladder.

    Returns the resolution, labels and number of split groups of the best one, and
    every resolution tried with its surprise (in increasing resolution)."""
    if graph.ecount() == 0:
        labels, n_split = _finish(
            graph, np.arange(n_active, dtype=np.int64), min_size, max_size, seed, iterations
        )
        return 1.0, labels, n_split, []
    edges = np.asarray(graph.get_edgelist(), dtype=np.int64)
    src, dst = edges[:, 0], edges[:, 1]
    tried: dict[float, tuple[float, np.ndarray, int]] = {}

    def attempt(resolution: float) -> float:
        key = round(resolution, 9)
        if key not in tried:
            found = _leiden(graph, resolution, seed, initial=start, iterations=iterations)
            labels, n_split = _finish(graph, found, min_size, max_size, seed, iterations)
            tried[key] = (asymptotic_surprise(src, dst, weights, labels), labels, n_split)
        return tried[key][0]

    # The ladder's top: a resolution above 2m / min(strength) makes every vertex its
    # own best group, so nothing beyond it can be surprising.
    top = max(1.0, 2.0 * float(weights.sum()) / max(float(weights.min()), 1e-12))
    best, falls, resolution = -1.0, 0, 1.0
    while resolution <= top and falls < _LADDER_PATIENCE:
        value = attempt(resolution)
        if value > best:
            best, falls = value, 0
        else:
            falls += 1
        resolution *= _LADDER_FACTOR
    attempt(auto_resolution(n_active, max_size))
    peak = max(tried, key=lambda key: (tried[key][0], -key))
    for neighbour in (peak / np.sqrt(_LADDER_FACTOR), peak * np.sqrt(_LADDER_FACTOR)):
        if neighbour >= 1.0:
            attempt(float(neighbour))
    chosen = max(tried, key=lambda key: (tried[key][0], -key))
    ladder = [{"resolution": key, "surprise": tried[key][0]} for key in sorted(tried)]
    return float(chosen), tried[chosen][1], tried[chosen][2], ladder


def _apply_membership(
    labels: np.ndarray, codes: np.ndarray, min_size: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Unassign users without a tie inside their community, dissolve communities that
    this leaves below ``min_size`` users, renumber; also count the communities with
    fewer than ``min_size`` members (fringe users not counted), which are kept."""
    labels = np.where(codes < 0, -1, labels)
    kept = labels >= 0
    if kept.any():
        labels[kept] = _renumber(labels[kept], min_size)
    codes = np.where(labels >= 0, codes, -1)
    assigned = labels >= 0
    if not assigned.any():
        return labels, codes, 0
    members = np.bincount(labels[assigned & (codes == CODE_MEMBER)], minlength=labels.max() + 1)
    return labels, codes, int((members < min_size).sum())


def _prepare_edges(
    edges: pd.DataFrame,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate the edge table.

    Returns the sorted ids of users with at least one edge (vertex ``i`` is
    ``ids[i]``), the edges as ``(src, dst)`` code arrays with ``src < dst`` in
    lexicographic order, their weights, and the ids seen only in self-loops.
    """
    missing = [column for column in _EDGE_COLUMNS if column not in edges.columns]
    if missing:
        raise ValueError(f"edges lack column(s) {missing}; need {list(_EDGE_COLUMNS)}")
    weights = pd.to_numeric(edges["edge_weight"], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(weights) | (weights <= 0)
    if bad.any():
        raise ValueError(
            f"{int(bad.sum())} edge(s) have a missing, non-finite or non-positive weight"
        )
    if edges["user_id_a"].isna().any() or edges["user_id_b"].isna().any():
        raise ValueError("edges have missing user ids")
    a = edges["user_id_a"].astype(str)
    b = edges["user_id_b"].astype(str)
    codes, uniques = pd.factorize(pd.concat([a, b], ignore_index=True), sort=True)
    m = len(edges)
    src, dst = codes[:m].astype(np.int64), codes[m:].astype(np.int64)
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    ids = np.asarray(uniques, dtype=object)
    keep = lo != hi
    loop_only = np.empty(0, dtype=object)
    if not keep.all():
        lo, hi, weights = lo[keep], hi[keep], weights[keep]
        used = np.zeros(len(ids), dtype=bool)
        used[lo] = used[hi] = True
        remap = np.cumsum(used) - 1
        lo, hi = remap[lo], remap[hi]
        ids, loop_only = ids[used], ids[~used]
    # One int64 key per edge sorts ~7x faster than np.lexsort (ids < 3e9 fit).
    order = np.argsort(lo * max(len(ids), 1) + hi, kind="stable")
    return ids, lo[order], hi[order], weights[order], loop_only


def _build_graph(n: int, src: np.ndarray, dst: np.ndarray, weights: np.ndarray) -> ig.Graph:
    """Undirected igraph graph with a ``weight`` edge attribute (``add_edges`` from a
    numpy array is about 2.5x faster than the ``edges=`` constructor argument)."""
    graph = ig.Graph(n=n)
    if len(src):
        graph.add_edges(np.column_stack((src, dst)))
        graph.es["weight"] = weights.tolist()
    return graph


def _all_users(
    ids: np.ndarray, loop_only: np.ndarray, user_ids: Iterable[Any] | None
) -> np.ndarray:
    """The active ids followed by every other user (no edge): loop-only, then given.

    Works on object arrays of Python str: pandas' Arrow-backed ``str`` isin takes a
    slow per-element path (0.5 s for 100,000 ids)."""
    extra = loop_only
    if user_ids is not None:
        given = np.asarray(list(user_ids), dtype=object)
        if pd.isna(given).any():
            raise ValueError("user_ids has missing values")
        given = np.asarray([str(value) for value in given], dtype=object)
        extra = np.concatenate([extra, given])
    if len(extra):
        extra = pd.unique(extra)
        extra = extra[~pd.Index(extra, dtype=object).isin(ids)]
    return np.concatenate([ids, np.asarray(extra, dtype=object)]).astype(object)


def _initial_labels(initial: Mapping[str, Any] | None, ids: np.ndarray) -> np.ndarray | None:
    """Previous labels of the graph's vertices as dense codes (numbered in sorted label
    order, so the mapping's order does not matter); unknown and unassigned users
    (missing or negative label) start alone."""
    if initial is None:
        return None
    keys = pd.Index([str(key) for key in initial], dtype=object)
    raw = pd.Series(list(initial.values()), dtype=object)
    unassigned = raw.isna() | (pd.to_numeric(raw, errors="coerce") < 0)
    codes = pd.factorize(raw.astype(str).where(~unassigned), sort=True)[0]
    unique = ~keys.duplicated()
    position = keys[unique].get_indexer(ids)
    start = np.full(len(ids), -1, dtype=np.int64)
    start[position >= 0] = codes[unique][position[position >= 0]]
    known = start >= 0
    _, start[known] = np.unique(start[known], return_inverse=True)
    n_known = int(start[known].max()) + 1 if known.any() else 0
    start[~known] = n_known + np.arange(int((~known).sum()))
    return start


def _leiden(
    graph: ig.Graph,
    resolution: float,
    seed: int,
    *,
    initial: np.ndarray | None = None,
    iterations: int = DEFAULT_ITERATIONS,
) -> np.ndarray:
    """Leiden on RB modularity (edge attribute ``weight``), seeded."""
    if graph.vcount() == 0:
        return np.empty(0, dtype=np.int64)
    state = random.getstate()
    random.seed(seed)
    try:
        found = graph.community_leiden(
            objective_function="modularity",
            weights="weight",
            resolution=resolution,
            n_iterations=iterations,
            initial_membership=None if initial is None else initial.tolist(),
        ).membership
    finally:
        random.setstate(state)
    return np.asarray(found, dtype=np.int64)


def _louvain_networkx(
    n: int, src: np.ndarray, dst: np.ndarray, weights: np.ndarray, resolution: float, seed: int
) -> np.ndarray:
    """networkx Louvain (reference method)."""
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_weighted_edges_from(zip(src.tolist(), dst.tolist(), weights.tolist(), strict=True))
    groups = nx.community.louvain_communities(g, weight="weight", resolution=resolution, seed=seed)
    labels = np.empty(n, dtype=np.int64)
    for label, members in enumerate(sorted(groups, key=min)):
        labels[list(members)] = label
    return labels


def _label_propagation(graph: ig.Graph, seed: int) -> np.ndarray:
    """igraph label propagation (reference method), seeded."""
    if graph.vcount() == 0:
        return np.empty(0, dtype=np.int64)
    state = random.getstate()
    random.seed(seed)
    try:
        found = graph.community_label_propagation(weights="weight").membership
    finally:
        random.setstate(state)
    return np.asarray(found, dtype=np.int64)


def _split_oversized(
    graph: ig.Graph, labels: np.ndarray, max_size: int, seed: int, iterations: int
) -> tuple[np.ndarray, int]:
    """Split every community above ``max_size``; return new labels and how many split."""
    labels = labels.copy()
    sizes = np.bincount(labels)
    oversized = np.flatnonzero(sizes > max_size)
    if len(oversized) == 0:
        return labels, 0
    next_label = len(sizes)
    order = np.argsort(labels, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    for label in oversized:
        members = order[bounds[label] : bounds[label + 1]]
        for piece in _split_one(graph, members, max_size, seed, iterations):
            labels[piece] = next_label
            next_label += 1
    return labels, len(oversized)


def _split_one(
    graph: ig.Graph, members: np.ndarray, max_size: int, seed: int, iterations: int
) -> list[np.ndarray]:
    """Cut one oversized community into pieces of at most ``max_size`` members."""
    pieces: list[np.ndarray] = []
    todo: list[tuple[np.ndarray, float | None, int]] = [(np.sort(members), None, 0)]
    while todo:
        vertices, resolution, doublings = todo.pop()
        if len(vertices) <= max_size:
            pieces.append(vertices)
            continue
        if doublings > _MAX_SPLIT_DOUBLINGS:
            pieces.extend(_bfs_chunks(graph, vertices, max_size))
            continue
        sub = graph.induced_subgraph(vertices.tolist())
        if resolution is None:
            resolution = auto_resolution(len(vertices), max_size)
        found = _leiden(sub, resolution, seed, iterations=iterations)
        if found.max(initial=0) == 0:
            todo.append((vertices, resolution * 2.0, doublings + 1))
            continue
        order = np.argsort(found, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(found))])
        for label in range(len(bounds) - 2, -1, -1):
            todo.append((vertices[order[bounds[label] : bounds[label + 1]]], None, doublings))
    return pieces


def _bfs_chunks(graph: ig.Graph, vertices: np.ndarray, max_size: int) -> list[np.ndarray]:
    """Fallback split: breadth-first order over the subgraph, cut every ``max_size``."""
    sub = graph.induced_subgraph(vertices.tolist())
    seen = np.zeros(len(vertices), dtype=bool)
    order: list[int] = []
    for root in range(len(vertices)):
        if not seen[root]:
            reached = sub.bfs(root)[0]
            seen[reached] = True
            order.extend(reached)
    ordered = vertices[np.asarray(order, dtype=np.int64)]
    return [ordered[i : i + max_size] for i in range(0, len(ordered), max_size)]


def _renumber(labels: np.ndarray, min_size: int) -> np.ndarray:
    """Labels 0.. by size desc then smallest member (vertex codes follow sorted ids);
    communities below ``min_size`` become -1."""
    if len(labels) == 0:
        return labels.astype(np.int64)
    _, dense = np.unique(labels, return_inverse=True)
    sizes = np.bincount(dense)
    smallest = np.full(len(sizes), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(smallest, dense, np.arange(len(dense), dtype=np.int64))
    rank = np.lexsort((smallest, -sizes))
    new_label = np.empty(len(sizes), dtype=np.int64)
    new_label[rank] = np.arange(len(sizes), dtype=np.int64)
    new_label[sizes < min_size] = -1
    # Keep labels consecutive after dropping the small ones (they sort last by size).
    return new_label[dense]


def _quality(graph: ig.Graph, labels: np.ndarray, full: np.ndarray, n_split: int) -> dict[str, Any]:
    """Figures on the final partition; unassigned users count as singletons."""
    assigned = full[full >= 0]
    sizes = np.bincount(assigned) if len(assigned) else np.empty(0, dtype=np.int64)
    if graph.ecount():
        singles = labels.copy()
        alone = singles < 0
        singles[alone] = (labels.max(initial=-1) + 1) + np.arange(int(alone.sum()))
        modularity = float(graph.modularity(singles.tolist(), weights="weight"))
    else:
        modularity = 0.0
    quantiles = (
        dict(
            zip(
                ("min", "p25", "median", "p75", "p90", "max"),
                (float(q) for q in np.quantile(sizes, [0.0, 0.25, 0.5, 0.75, 0.9, 1.0])),
                strict=True,
            )
        )
        if len(sizes)
        else {}
    )
    return {
        "modularity": modularity,
        "n_users": int(len(full)),
        "n_communities": int(len(sizes)),
        "n_unassigned": int((full < 0).sum()),
        "share_assigned": float(len(assigned) / len(full)) if len(full) else 0.0,
        "n_split": int(n_split),
        "sizes": quantiles,
    }
