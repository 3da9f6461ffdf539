"""Lifecycle changes confirmed by the ties: a split, merge or birth needs its evidence.

The detection runs afresh every week on a graph whose old ties fade, so it redraws some
borders from week to week although nobody changed whom they talk to: a community is cut
in two one week and healed the next, two neighbours are lumped together and pulled
apart again, a group that existed for months is first seen and reported as born. Each
of these is a lifecycle event that matches nothing that happened (on five demo seeds,
about 80% of the detected splits and merges and 90% of the births).

This module keeps a structural change only when the interactions show it:

- a **split** (a piece of a previous community now apart from the rest of it) stands
  when the ties between the piece and the rest fell this week (:func:`fell`), or when
  they are sparse against the ties inside the two (:func:`apart`): the two were never
  one. Otherwise the piece stays with the rest;
- a **merge** (a previous community absorbed by another) stands when the ties between
  the absorbed members and the others rose this week, or when they are as dense as the
  ties inside (the two are one by now). Otherwise the absorbed members keep a
  community of their own;
- a **birth** is ``born`` when the ties inside the new community are new: its recent
  ties rose beyond its earlier rate and, with ``new_ratio``, that earlier rate is a small
  share of the recent one (:func:`mostly_new`; a rise alone is significant for any
  community whose weight is in the tens, so a small community growing into the
  membership test passed it). A community whose members have talked among themselves
  for weeks was there before and is only seen now: it is ``emerged``.

"This week" against "before" is a Poisson test: the weight ``r`` of the recent period
against ``X ~ Poisson(lambda)``, ``lambda`` the weight of the rest of the window per
recent period. The tests read the behaviour graph (undecayed interaction weight);
density compares the decayed detection graph's weight per pair across with the weight
per pair inside.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import poisson

__all__ = [
    "Ties",
    "apart",
    "birth_kinds",
    "fell",
    "mostly_new",
    "rose",
    "unconfirmed_changes",
]


@dataclass
class Ties:
    """An edge list (``user_id_a``, ``user_id_b``, optional ``edge_weight``) over a fixed
    list of users, for sums of the weight between and inside sets of them (boolean masks
    over that list)."""

    a: np.ndarray
    b: np.ndarray
    weight: np.ndarray

    @classmethod
    def of(cls, frame: pd.DataFrame | None, users: pd.Index) -> Ties:
        """Ties of ``frame`` among ``users`` (ties to anyone else are left out)."""
        if frame is None or frame.empty:
            empty = np.array([], dtype=np.int64)
            return cls(empty, empty, np.array([], dtype=float))
        a = users.get_indexer(frame["user_id_a"].astype(str).to_numpy())
        b = users.get_indexer(frame["user_id_b"].astype(str).to_numpy())
        weight = (
            frame["edge_weight"].to_numpy(dtype=float)
            if "edge_weight" in frame
            else np.ones(len(frame), dtype=float)
        )
        known = (a >= 0) & (b >= 0)
        return cls(a[known], b[known], weight[known])

    def between(self, left: np.ndarray, right: np.ndarray) -> float:
        """Weight of the ties with one end in ``left`` and the other in ``right``
        (disjoint boolean masks over the users)."""
        across = (left[self.a] & right[self.b]) | (right[self.a] & left[self.b])
        return float(self.weight[across].sum())

    def inside(self, users: np.ndarray) -> float:
        """Weight of the ties with both ends in ``users`` (a boolean mask)."""
        return float(self.weight[users[self.a] & users[self.b]].sum())


def fell(recent: float, window: float, before_periods: float, alpha: float) -> bool:
    """The recent weight is significantly below the rate of the rest of the window.

    ``window`` includes ``recent``; ``before_periods`` is the rest of the window in
    recent periods. ``P(X <= recent) < alpha`` for ``X ~ Poisson((window - recent) /
    before_periods)``; False without a rest of the window to compare with.
    """
    if before_periods <= 0:
        return False
    rate = max(window - recent, 0.0) / before_periods
    return bool(poisson.cdf(np.floor(recent), rate) < alpha)


def rose(recent: float, window: float, before_periods: float, alpha: float) -> bool:
    """The recent weight is significantly above the rate of the rest of the window:
    ``P(X >= recent) < alpha`` for ``X ~ Poisson((window - recent + 1) /
    before_periods)``; False without a rest of the window to compare with.

    The one tie added to the rest of the window (a prior) keeps a pair of sets that
    never talked from "rising" on a single tie: from nothing in three periods before,
    three ties in the recent period are a rise at 0.01, two are not.
    """
    if recent <= 0 or before_periods <= 0:
        return False
    rate = (max(window - recent, 0.0) + 1.0) / before_periods
    return bool(poisson.sf(np.ceil(recent) - 1, rate) < alpha)


def mostly_new(recent: float, window: float, before_periods: float, ratio: float) -> bool:
    """The weight per recent period before the recent one is at most ``ratio`` x the
    recent weight (``window`` includes ``recent``); True without a rest of the window.

    A community born within the last two weeks has at most one week of its ties in the
    three weeks before this one (at most a third of this week's rate, for a steady
    rate); one that existed before and is only seen now has about its whole rate there.
    """
    if before_periods <= 0:
        return True
    return max(window - recent, 0.0) / before_periods <= ratio * recent


def apart(across: float, inside: float, n_left: int, n_right: int, ratio: float) -> bool:
    """The weight per pair across two sets is below ``ratio`` x the weight per pair
    inside them (``inside``: both sets' inner weight summed)."""
    pairs_across = n_left * n_right
    pairs_inside = n_left * (n_left - 1) / 2 + n_right * (n_right - 1) / 2
    if pairs_across == 0 or pairs_inside == 0:
        return True
    return across / pairs_across < ratio * (inside / pairs_inside)


def unconfirmed_changes(
    events: pd.DataFrame,
    communities: pd.DataFrame,
    membership: pd.DataFrame,
    previous: pd.DataFrame | None,
    *,
    edges: pd.DataFrame,
    interaction_edges: pd.DataFrame | None,
    recent_edges: pd.DataFrame | None,
    before_periods: float,
    alpha: float,
    split_apart_ratio: float = 0.0,
    merge_dense_ratio: float | None = None,
    split_joined_ratio: float | None = None,
    merge_joined_ratio: float | None = None,
    min_size: int,
) -> tuple[pd.DataFrame, int, int, set[str]]:
    """Undo the splits and merges that the ties do not show (see the module docstring).

    Parameters
    ----------
    events, communities : pandas.DataFrame
        The lifecycle events and communities of
        :func:`~orchestration.lib.communities.identity.assign_community_ids` on
        ``membership``.
    membership : pandas.DataFrame
        ``user_id``, ``community_label`` (``-1``: not a member).
    previous : pandas.DataFrame or None
        ``user_id``, ``community_id`` of the previous snapshot.
    edges : pandas.DataFrame
        The detection graph (decayed ``edge_weight``), for the density test.
    interaction_edges, recent_edges : pandas.DataFrame or None
        Behaviour weight in the window and in its recent period, for the change tests.
    before_periods : float
        The rest of the window (the window without its recent period), in recent periods.
    alpha : float
        Level of the change tests.
    split_apart_ratio : float
        A split also stands when the pieces are :func:`apart` at this ratio (0: never).
    merge_dense_ratio : float or None
        A merge also stands when the parts are not :func:`apart` at this ratio (None:
        never).
    split_joined_ratio : float or None
        A split whose piece and rest were already :func:`apart` at this ratio in the
        weeks before the recent one (undecayed interaction weight) was never one
        community: the detection corrects an earlier mixture of two. The new border is
        kept and the piece's id is returned among the corrections (its event is not a
        split). None: every split is judged by the fall alone.
    merge_joined_ratio : float or None
        A merge also needs the recent interaction weight per pair between the absorbed
        members and the others to be at least this share of the recent weight per pair
        inside them (they talk as one community now, not only a little more than
        before). None: the rise alone decides.
    min_size : int
        Absorbed members fewer than this are not given back a community of their own.

    Returns
    -------
    (pandas.DataFrame, int, int, set of str)
        ``membership`` with the changes undone, the numbers of splits and merges undone,
        and the ids (of ``communities``) of the split pieces that are corrections.
    """
    corrections: set[str] = set()
    if previous is None or previous.empty or events.empty:
        return membership, 0, 0, corrections
    labels = membership["community_label"].to_numpy().copy()
    users = membership["user_id"].astype(str).to_numpy()
    label_of_id = dict(
        zip(communities["community_id"], communities["community_label"].astype(int), strict=True)
    )
    was = (
        pd.Series(
            previous["community_id"].to_numpy(), index=previous["user_id"].astype(str).to_numpy()
        )
        .reindex(users)
        .to_numpy()
    )
    index = pd.Index(users)
    detection = Ties.of(edges, index)
    window, recent = Ties.of(interaction_edges, index), Ties.of(recent_edges, index)

    def joined(left: np.ndarray, right: np.ndarray, ratio: float, *, before: bool) -> bool:
        """Were (``before``: in the weeks before the recent one) or are (recent period)
        ``left`` and ``right`` tied as one community (not :func:`apart` at ``ratio``)?"""
        across, inside = recent.between(left, right), recent.inside(left) + recent.inside(right)
        if before:
            across = window.between(left, right) - across
            inside = window.inside(left) + window.inside(right) - inside
        if inside <= 0:
            return True
        return not apart(across, inside, int(left.sum()), int(right.sum()), ratio)

    def stands(left: np.ndarray, right: np.ndarray, change: str) -> bool:
        """Does a split (``change="fell"``) or merge (``"rose"``) of ``left`` from or into
        ``right`` show in the ties?"""
        r, w = recent.between(left, right), window.between(left, right)
        if (fell if change == "fell" else rose)(r, w, before_periods, alpha):
            if change == "rose" and merge_joined_ratio is not None:
                return joined(left, right, merge_joined_ratio, before=False)
            return True
        ratio = split_apart_ratio if change == "fell" else merge_dense_ratio
        if not ratio:
            return False
        sparse = apart(
            detection.between(left, right),
            detection.inside(left) + detection.inside(right),
            int(left.sum()),
            int(right.sum()),
            ratio,
        )
        return sparse if change == "fell" else not sparse

    undone_splits = undone_merges = 0
    next_label = int(labels.max()) + 1 if len(labels) else 0
    for row in events[events["event_type"] == "split"].itertuples():
        piece = label_of_id.get(row.community_id)
        if piece is None:
            continue
        in_piece = labels == piece
        # The rest: the current community holding most of the parent's other members.
        others = (was == row.related_community_id) & ~in_piece & (labels >= 0)
        if not others.any():
            continue
        rest = int(pd.Series(labels[others]).value_counts().idxmax())
        if (
            split_joined_ratio is not None
            and before_periods > 0
            and not joined(in_piece, labels == rest, split_joined_ratio, before=True)
        ):
            corrections.add(str(row.community_id))
            continue
        if stands(in_piece, labels == rest, "fell"):
            continue
        labels[in_piece] = rest
        undone_splits += 1
    for row in events[events["event_type"] == "merged"].itertuples():
        merged = label_of_id.get(row.community_id)
        if merged is None:
            continue
        in_merged = labels == merged
        absorbed = in_merged & (was == row.related_community_id)
        others = in_merged & ~absorbed
        if absorbed.sum() < min_size or not others.any():
            continue
        if stands(absorbed, others, "rose"):
            continue
        labels[absorbed] = next_label
        next_label += 1
        undone_merges += 1
    if undone_splits == 0 and undone_merges == 0:
        return membership, 0, 0, corrections
    return membership.assign(community_label=labels), undone_splits, undone_merges, corrections


def birth_kinds(
    events: pd.DataFrame,
    assignment: pd.DataFrame,
    *,
    interaction_edges: pd.DataFrame | None,
    recent_edges: pd.DataFrame | None,
    before_periods: float,
    alpha: float,
    new_ratio: float | None = None,
) -> pd.DataFrame:
    """``events`` with each ``born`` community whose inner ties are not new renamed
    ``emerged``.

    Parameters
    ----------
    events : pandas.DataFrame
        The snapshot's lifecycle events (``community_id``, ``event_type``, ...).
    assignment : pandas.DataFrame
        ``user_id`` and ``community_id`` of the snapshot's members.
    interaction_edges, recent_edges : pandas.DataFrame or None
        Behaviour weight in the window and in its recent period.
    before_periods : float
        The rest of the window (the window without its recent period), in recent periods.
    alpha : float
        Level of the :func:`rose` test: inner ties that did not rise this week are not new.
    new_ratio : float, optional
        A birth also needs the inner weight per recent period before this week to be at
        most this share of this week's (:func:`mostly_new`): a community whose members
        already talked among themselves at more than that rate was there before, however
        much their ties rose. None: the rise alone decides.

    Returns
    -------
    pandas.DataFrame
        ``events`` with the ``born`` rows that fail renamed ``emerged``.
    """
    born = events["event_type"] == "born"
    if not born.any():
        return events
    ids = assignment["community_id"].astype(str).to_numpy()
    index = pd.Index(assignment["user_id"].astype(str).to_numpy())
    window, recent = Ties.of(interaction_edges, index), Ties.of(recent_edges, index)
    kinds = events["event_type"].to_numpy().copy()
    for i in np.flatnonzero(born.to_numpy()):
        users = ids == str(events["community_id"].iloc[i])
        if not users.any():
            continue
        r, w = recent.inside(users), window.inside(users)
        if not rose(r, w, before_periods, alpha) or (
            new_ratio is not None and not mostly_new(r, w, before_periods, new_ratio)
        ):
            kinds[i] = "emerged"
    return events.assign(event_type=kinds)
