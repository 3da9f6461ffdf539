"""Is a user really a member of the community detection put them in?

Detection gives every user with a tie a community, even a user whose few ties land
there by chance (a "background" user who talks to a bit of everyone). This module
tests each assigned user against a degree-preserving random graph (the configuration
model, the null of modularity): under it, a share ``p = (K_c - k_i) / (2m - k_i)`` of
user ``i``'s ties is expected to land in community ``c`` (``k_i`` the user's strength,
``K_c`` the community's, ``m`` the total edge weight). The observed ties inside are
compared with a binomial tail over the user's ``d_i`` neighbours: with a share ``s``
of the user's interaction weight inside, the effective count is ``x = s * d_i`` (the
count of neighbours inside on an unweighted graph; on a weighted graph a heavy tie
counts for more than a light one) and the p-value is ``P(X >= x)`` for
``X ~ Binomial(d_i, p)``, computed for real ``x`` by the regularised incomplete beta
function. Detection picked the community where the user's ties are most concentrated,
out of the communities their ties reach (Leiden and label propagation only move a
user to a neighbour's community), so the p-value is multiplied by the number of
distinct communities among the user's neighbours (Bonferroni over the choice, the
order-statistics idea of OSLOM, Lancichinetti et al. 2011). A user whose corrected
p-value is below ``alpha`` and who keeps at least ``min_share`` of their interaction
weight inside is a ``member``; any other user with a tie inside is ``fringe`` (weakly
attached: keeps the community label for visibility, is not counted as a member); a
user with no tie inside is unassigned. Pure numpy/scipy; no warehouse, no Dagster.

Why a share as well as a p-value: the configuration model expects a tiny share of
anyone's ties in any one small community, so a user who talks to a bit of everyone
but a little more to one group (the demo's background users: a median of 22% of
their weight in their best group, a quarter of them above 43%) passes the test
easily once they have a dozen ties. A member of one group, or a bridge between two
or three, keeps at least a third of their weight in each; below that a user is
attached to many groups at once, which is what fringe means here.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betainc

__all__ = [
    "DEFAULT_MEMBERSHIP_ALPHA",
    "DEFAULT_MEMBERSHIP_MIN_SHARE",
    "FRINGE",
    "MEMBER",
    "MEMBERSHIP_STATUSES",
    "membership_pvalues",
    "membership_status_codes",
]

#: Status values of ``membership_status`` (null = unassigned).
MEMBER = "member"
FRINGE = "fringe"
MEMBERSHIP_STATUSES = (MEMBER, FRINGE)

#: Corrected p-value below which a user is a member. Measured by bench/bench_lfr_suite.py
#: (see docs/communities.md for the figures each value gave).
DEFAULT_MEMBERSHIP_ALPHA = 0.01

#: Least share of a user's interaction weight inside their community for a member: a
#: member of up to three communities keeps a third in each (module docstring).
DEFAULT_MEMBERSHIP_MIN_SHARE = 1.0 / 3.0

#: Codes of :func:`membership_status_codes`.
CODE_UNASSIGNED, CODE_MEMBER, CODE_FRINGE = -1, 1, 0


def membership_pvalues(
    n: int, src: np.ndarray, dst: np.ndarray, weights: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Corrected p-value of each user's ties inside their community.

    Parameters
    ----------
    n : int
        Number of vertices (``0 .. n-1``).
    src, dst : numpy.ndarray
        Edge endpoints (vertex codes, no self-loops).
    weights : numpy.ndarray
        Edge weights (> 0).
    labels : numpy.ndarray
        Community of each vertex, ``-1`` for unassigned.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The p-value times the number of distinct communities among the vertex's
        neighbours (at least 1), capped at 1 (``nan`` for unassigned vertices), and the
        interaction weight each vertex has inside its community (0 for unassigned).
    """
    labels = np.asarray(labels, dtype=np.int64)
    pvalues = np.full(n, np.nan)
    inside = np.zeros(n)
    assigned = labels >= 0
    if n == 0 or not assigned.any() or len(src) == 0:
        return pvalues, inside
    strength = np.bincount(src, weights, n) + np.bincount(dst, weights, n)
    degree = np.bincount(src, minlength=n) + np.bincount(dst, minlength=n)
    same = (labels[src] == labels[dst]) & (labels[src] >= 0)
    inside = np.bincount(src[same], weights[same], n) + np.bincount(dst[same], weights[same], n)
    n_communities = int(labels.max()) + 1
    community_strength = np.bincount(labels[assigned], strength[assigned], n_communities)
    total = strength.sum()
    i = np.flatnonzero(assigned & (degree > 0))
    share = inside[i] / strength[i]
    expected = (community_strength[labels[i]] - strength[i]) / np.maximum(
        total - strength[i], 1e-300
    )
    expected = np.clip(expected, 1e-300, 1.0)
    trials = degree[i].astype(np.float64)
    successes = share * trials
    tail = np.ones(len(i))
    positive = successes > 0
    # P(X >= x) = I_p(x, d - x + 1) for X ~ Binomial(d, p), valid for real x in (0, d].
    tail[positive] = betainc(
        successes[positive], trials[positive] - successes[positive] + 1.0, expected[positive]
    )
    pvalues[i] = np.minimum(1.0, tail * _choices(n, src, dst, labels)[i])
    pvalues[assigned & (degree == 0)] = 1.0
    return pvalues, inside


def membership_status_codes(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    weights: np.ndarray,
    labels: np.ndarray,
    alpha: float = DEFAULT_MEMBERSHIP_ALPHA,
    min_share: float = DEFAULT_MEMBERSHIP_MIN_SHARE,
) -> np.ndarray:
    """Status code of each vertex: 1 member, 0 fringe, -1 unassigned.

    Parameters
    ----------
    n, src, dst, weights, labels
        As in :func:`membership_pvalues`.
    alpha : float, default DEFAULT_MEMBERSHIP_ALPHA
        A vertex is a member when its corrected p-value is below ``alpha``...
    min_share : float, default 1/3
        ... and at least this share of its interaction weight is inside.

    Returns
    -------
    numpy.ndarray
        int64 codes; unassigned vertices, and assigned ones without any tie inside
        their community, get ``-1``.
    """
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"membership alpha must be in (0, 1], got {alpha}")
    if not 0.0 <= min_share <= 1.0:
        raise ValueError(f"membership min_share must be in [0, 1], got {min_share}")
    labels = np.asarray(labels, dtype=np.int64)
    pvalues, inside = membership_pvalues(n, src, dst, weights, labels)
    codes = np.full(n, CODE_UNASSIGNED, dtype=np.int64)
    tied = (labels >= 0) & (inside > 0)
    codes[tied] = CODE_FRINGE
    strength = np.bincount(src, weights, n) + np.bincount(dst, weights, n)
    share = np.divide(inside, strength, out=np.zeros(n), where=strength > 0)
    codes[tied & (pvalues < alpha) & (share >= min_share)] = CODE_MEMBER
    return codes


def _choices(n: int, src: np.ndarray, dst: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Distinct communities among each vertex's neighbours (at least 1)."""
    vertex = np.concatenate([src, dst]).astype(np.int64)
    label = np.concatenate([labels[dst], labels[src]])
    keep = label >= 0
    pairs = np.unique(vertex[keep] * (int(labels.max()) + 1) + label[keep])
    counts = np.bincount(pairs // (int(labels.max()) + 1), minlength=n)
    return np.maximum(counts, 1).astype(np.float64)
