"""Agreement between two partitions: NMI, ARI, purity and coverage, in numpy alone.

These score a detected partition against ground truth (planted groups, departments,
conferences) in the benchmarks and tests; the pipeline never calls them (it has no
truth to compare with). Labels can be any hashable values; ``-1``
(or any value in ``unassigned_labels``) marks a user that belongs to no community,
and how such users are counted is an explicit choice (``unassigned=``):

* ``"singleton"`` (default): each unassigned user is its own one-member cluster. A
  method that leaves users out is neither rewarded nor spared: the user agrees with
  nobody. This is what the benchmarks report.
* ``"exclude"``: users unassigned on either side are dropped before scoring; report
  :func:`coverage` next to it, since leaving hard users out then raises the score.
* ``"cluster"``: all unassigned users form one cluster (the "noise" cluster).

The formulas follow scikit-learn's defaults (NMI with the arithmetic mean of the two
entropies, ARI of Hubert and Arabie), so figures are comparable with the literature.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "UNASSIGNED_MODES",
    "adjusted_rand_index",
    "coverage",
    "normalized_mutual_info",
    "purity",
]

#: Accepted values of ``unassigned``.
UNASSIGNED_MODES = ("singleton", "exclude", "cluster")

#: One label per user: any hashable values, in the same user order on both sides.
Labels = Sequence[Any] | np.ndarray


def normalized_mutual_info(
    truth: Labels,
    found: Labels,
    *,
    unassigned: str = "singleton",
    unassigned_labels: Labels = (-1,),
) -> float:
    """Normalised mutual information, arithmetic normalisation.

    Parameters
    ----------
    truth, found : array-like
        Labels of the same users in the same order.
    unassigned : {"singleton", "exclude", "cluster"}, default "singleton"
        How users labelled with a value in ``unassigned_labels`` are counted (module
        docstring).
    unassigned_labels : sequence, default (-1,)
        Label values that mean "no community".

    Returns
    -------
    float
        ``I(T; F) / ((H(T) + H(F)) / 2)`` in [0, 1]; 1.0 when both partitions have a
        single cluster (or there are no users), as scikit-learn does.
    """
    t, f = _codes(truth, found, unassigned, unassigned_labels)
    if len(t) == 0:
        return 1.0
    cells = _contingency(t, f)
    h_t, h_f = _entropy(cells.row_sums), _entropy(cells.col_sums)
    if h_t == 0.0 and h_f == 0.0:
        return 1.0
    mutual = _mutual_information(cells, len(t))
    return float(max(0.0, min(1.0, mutual / ((h_t + h_f) / 2.0))))


def adjusted_rand_index(
    truth: Labels,
    found: Labels,
    *,
    unassigned: str = "singleton",
    unassigned_labels: Labels = (-1,),
) -> float:
    """Adjusted Rand index (Hubert and Arabie, 1985).

    Parameters
    ----------
    truth, found, unassigned, unassigned_labels
        As in :func:`normalized_mutual_info`.

    Returns
    -------
    float
        1.0 for identical partitions, about 0 for independent ones, can be negative.
        1.0 when the expected and maximum indices coincide (e.g. both partitions all
        singletons or both one cluster), as scikit-learn does.
    """
    t, f = _codes(truth, found, unassigned, unassigned_labels)
    cells = _contingency(t, f)
    sum_cells = _pairs(cells.counts).sum()
    sum_rows, sum_cols = _pairs(cells.row_sums).sum(), _pairs(cells.col_sums).sum()
    total = _pairs(np.array([len(t)])).sum()
    if total == 0:
        return 1.0
    expected = sum_rows * sum_cols / total
    maximum = (sum_rows + sum_cols) / 2.0
    if maximum == expected:
        return 1.0
    return float((sum_cells - expected) / (maximum - expected))


def purity(
    truth: Labels,
    found: Labels,
    *,
    unassigned: str = "singleton",
    unassigned_labels: Labels = (-1,),
) -> float:
    """Share of users whose found cluster's majority truth label is their own.

    Parameters
    ----------
    truth, found, unassigned_labels
        As in :func:`normalized_mutual_info`.
    unassigned : {"singleton", "exclude", "cluster"}, default "singleton"
        As there, but singletons are pure by construction: with many unassigned users
        prefer ``"cluster"``, or ``"exclude"`` next to :func:`coverage`.

    Returns
    -------
    float
        ``sum over found clusters of the largest truth count, / n``; 1.0 if no users.
    """
    t, f = _codes(truth, found, unassigned, unassigned_labels)
    if len(t) == 0:
        return 1.0
    cells = _contingency(t, f)
    best = np.zeros(len(cells.col_sums), dtype=np.int64)
    np.maximum.at(best, cells.col, cells.counts)
    return float(best.sum() / len(t))


def coverage(found: Labels, *, unassigned_labels: Labels = (-1,)) -> float:
    """Share of users that belong to a community.

    Parameters
    ----------
    found : array-like
        Labels.
    unassigned_labels : sequence, default (-1,)
        Label values that mean "no community".

    Returns
    -------
    float
        In [0, 1]; 0.0 when there are no users.
    """
    values = pd.Series(np.asarray(found, dtype=object))
    if len(values) == 0:
        return 0.0
    missing = values.isna() | values.isin(list(unassigned_labels))
    return float(1.0 - missing.mean())


def _codes(
    truth: Labels, found: Labels, unassigned: str, unassigned_labels: Labels
) -> tuple[np.ndarray, np.ndarray]:
    """Both label vectors as dense int codes, unassigned users handled per ``unassigned``."""
    if unassigned not in UNASSIGNED_MODES:
        raise ValueError(f"unassigned must be one of {UNASSIGNED_MODES}, got {unassigned!r}")
    t = pd.Series(np.asarray(truth, dtype=object))
    f = pd.Series(np.asarray(found, dtype=object))
    if len(t) != len(f):
        raise ValueError(f"truth has {len(t)} labels, found has {len(f)}")
    t_out = (t.isna() | t.isin(list(unassigned_labels))).to_numpy()
    f_out = (f.isna() | f.isin(list(unassigned_labels))).to_numpy()
    if unassigned == "exclude":
        keep = ~(t_out | f_out)
        return _dense(t[keep], None), _dense(f[keep], None)
    return _dense(t, t_out if unassigned == "singleton" else None), _dense(
        f, f_out if unassigned == "singleton" else None
    )


def _dense(labels: pd.Series, alone: np.ndarray | None) -> np.ndarray:
    """Dense int codes; users flagged in ``alone`` get a code of their own each."""
    codes = pd.factorize(labels.astype(str).where(labels.notna(), "\0nan"), sort=True)[0]
    codes = codes.astype(np.int64)
    if alone is not None and alone.any():
        codes = codes.copy()
        codes[alone] = codes.max(initial=-1) + 1 + np.arange(int(alone.sum()))
        codes = pd.factorize(codes, sort=True)[0].astype(np.int64)
    return codes


@dataclass(frozen=True)
class _Cells:
    """Sparse contingency table: non-zero cells (truth row, found column, count) and
    the margins."""

    row: np.ndarray
    col: np.ndarray
    counts: np.ndarray
    row_sums: np.ndarray
    col_sums: np.ndarray


def _contingency(t: np.ndarray, f: np.ndarray) -> _Cells:
    """Contingency table of two code vectors, kept sparse (only non-zero cells)."""
    if len(t) == 0:
        empty = np.empty(0, dtype=np.int64)
        return _Cells(empty, empty, empty, empty, empty)
    n_f = int(f.max()) + 1
    keys, counts = np.unique(t * n_f + f, return_counts=True)
    return _Cells(keys // n_f, keys % n_f, counts, np.bincount(t), np.bincount(f))


def _entropy(sizes: np.ndarray) -> float:
    """Shannon entropy (nats) of the cluster-size distribution."""
    sizes = sizes[sizes > 0].astype(np.float64)
    if len(sizes) == 0:
        return 0.0
    p = sizes / sizes.sum()
    return float(-(p * np.log(p)).sum())


def _mutual_information(cells: _Cells, n: int) -> float:
    """Mutual information (nats): sum of ``p_ij log(p_ij / (p_i p_j))`` over cells."""
    joint = cells.counts.astype(np.float64) / n
    outer = cells.row_sums[cells.row].astype(np.float64) * cells.col_sums[cells.col] / n**2
    return float((joint * np.log(joint / outer)).sum())


def _pairs(values: np.ndarray) -> np.ndarray:
    """``v choose 2`` elementwise, as floats (no overflow on large counts)."""
    values = values.astype(np.float64)
    return values * (values - 1.0) / 2.0
