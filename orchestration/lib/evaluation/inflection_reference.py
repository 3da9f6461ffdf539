"""Exhaustive knot search, kept only to check the growth-inflection search against it.

`orchestration.lib.kpi.detect_inflections` places its knots by forward selection with
exchange refinement, which is fast but not guaranteed optimal. :func:`exhaustive_rss`
tries every feasible placement instead (one knot fewer by brute force, the last by the
fitter's exact scan), so a test can assert the search finds the optimum and a
benchmark can report how far from it it lands. It reaches into the fitter's private
class on purpose: it checks that class, and the pipeline never calls it.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from orchestration.lib.kpi.inflection import _Fitter

__all__ = ["exhaustive_rss"]


def exhaustive_rss(fit: _Fitter, k: int) -> float:
    """Smallest residual sum of squares over every feasible set of ``k`` knots.

    Parameters
    ----------
    fit : orchestration.lib.kpi.inflection._Fitter
        The fitter of one series (its knots are indices into the observations, at
        least ``min_seg`` days apart and from either end).
    k : int
        Number of knots, at least 2. Cost grows as ``n ** (k - 1)``: keep ``k <= 3``.

    Returns
    -------
    float
        The RSS on the fitter's whitened scale (comparable with its search path);
        ``inf`` when no set of ``k`` knots is feasible.
    """
    best = math.inf
    for combo in itertools.combinations(np.flatnonzero(fit.base_mask), k - 1):
        if k > 2 and np.min(np.diff(fit.days[list(combo)])) < fit.min_seg:
            continue
        mask = fit.allowed(list(combo)) & (np.arange(fit.n) > combo[-1])
        if mask.any():
            best = min(best, fit.best(fit.y, list(combo), mask)[1])
    return best
