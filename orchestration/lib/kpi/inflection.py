"""Find the days where a daily growth curve bends, and what happened around them.

:func:`detect_inflections` fits a *continuous* piecewise-linear trend (hinge or
broken-stick regression) to a daily series, or to its logarithm with ``log=True``::

    y(t) = a + b * t + sum_k c_k * max(0, t - tau_k)

where ``t`` is the day offset from the first observed day (so missing days are simply
absent, not zero) and each knot ``tau_k`` is an observed day. With ``log=True`` a knot
is a change in the *growth rate* (``c_k`` is per day in log units, about a relative
change per day), which is what a flat-then-compounding sign-up curve looks like; on
the raw scale the same curve bends gradually and may need several knots.

The number and position of the knots are chosen by a penalised criterion, BIC-like::

    n * log(RSS / n) + penalty * (2 + 2 * K) * log(n)

counting two parameters per knot (its slope change and its position, as in the
segmented-regression literature); ``penalty`` scales the second term. The search is
exact for one and two knots: the RSS reduction of a hinge column at every candidate
day comes at once from suffix sums (O(n) per scan), and for two knots from a closed
form of the hinge Gram matrix (O(n^2) for all pairs). From K = 3 on it is forward
selection with exchange refinement: the best knot is added to the K - 1 solution,
then each knot in turn is removed and put back at its best feasible day until none
moves, and, for the chosen K and its neighbours, every pair of knots is also re-placed
jointly (exhaustively) until nothing improves. Against exhaustive search on small
series this finds the optimum for K = 3 in most cases and is otherwise within about
1% of its RSS (see the tests and ``bench/bench_inflection.py``); a 1,000-day series
takes well under a second. Knots are observed days, at least ``min_segment_days``
apart and from both ends of the series.

Each knot is reported with the slopes on either side, a p-value and a bootstrap
interval of its date:

* ``p_value`` is Davies' (1987) upper bound for the test of "no knot here" given the
  other knots, with the knot's position searched over all feasible days (the position
  exists only under the alternative, so a plain F-test would be far too optimistic).
  It is the two-sided bound of R's ``segmented::davies.test``, evaluated at every
  feasible day rather than on a grid; on straight lines with noise about 3% of
  series get p < 0.05.
* ``date_low`` / ``date_high`` is a 90% percentile interval from a moving-block
  bootstrap of the residuals (blocks of 7 days, so a weekly pattern survives the
  resampling), refitting the knot positions locally with the number of knots fixed.
  The only randomness; ``seed`` fixes it.

:func:`attach_context` lists, for each inflection, the interventions and experiments
that started shortly before it. Both functions are pure numpy / pandas and know
nothing about the warehouse or Dagster.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CONTEXT_COLUMNS",
    "INFLECTION_COLUMNS",
    "attach_context",
    "detect_inflections",
]

#: Columns of the frame returned by :func:`detect_inflections`, in order.
INFLECTION_COLUMNS = (
    "inflection_date",
    "slope_before",
    "slope_after",
    "slope_change",
    "direction",
    "p_value",
    "date_low",
    "date_high",
    "rss_reduction_share",
    "criterion_gain",
)

#: Columns :func:`attach_context` adds to the inflections.
CONTEXT_COLUMNS = ("intervention_ids", "n_interventions", "experiment_ids", "n_experiments")

#: Block length (observations) of the residual bootstrap: one week of daily data.
_BOOT_BLOCK = 7

#: Bootstrap interval: 5th and 95th percentiles.
_INTERVAL = (0.05, 0.95)

#: RSS is floored at this share of the total sum of squares, so that a noiseless series
#: does not gain spurious knots from rounding errors (log(0) is minus infinity).
_RSS_FLOOR = 1e-12

#: A candidate whose hinge column is (numerically) inside the current model is skipped.
_COLLINEAR = 1e-10

#: Most exchange passes per refinement (it usually stops after two or three).
_MAX_PASSES = 50


# --------------------------------------------------------------------------- public


def detect_inflections(
    dates: Sequence[Any] | pd.Series | pd.Index | np.ndarray,
    values: Sequence[float] | pd.Series | np.ndarray,
    *,
    log: bool = False,
    penalty: float | None = None,
    min_segment_days: int = 14,
    max_changes: int = 5,
    window_days: int | None = None,
    weights: Sequence[float] | pd.Series | np.ndarray | None = None,
    weekly: bool = False,
    n_boot: int = 200,
    seed: int = 42,
) -> pd.DataFrame:
    """Change points of the trend of a daily series (continuous piecewise-linear fit).

    Parameters
    ----------
    dates : array-like of date-like
        One date per value (dates, timestamps or ISO strings; tz-aware timestamps are
        taken in UTC; times of day are dropped). Must be unique; need not be sorted
        or contiguous: missing days are gaps, not zeros.
    values : array-like of float
        The series, same length as ``dates``. NaN / infinite values are dropped.
    log : bool, default False
        Fit the natural log of the values (slopes become daily growth rates). Values
        that are not positive are dropped, with a warning.
    penalty : float, optional
        Multiplier of the BIC penalty ``(2 + 2 K) log(n)``; None means 1 (plain BIC).
        Larger values give fewer knots.
    min_segment_days : int, default 14
        Least number of days between two knots and between a knot and either end.
    max_changes : int, default 5
        Most knots considered.
    window_days : int, optional
        Analyse only the last ``window_days`` days (counted back from the last
        observed date, inclusive); None analyses the whole series.
    weights : array-like of float, optional
        Inverse-variance weights of the values, same length (weighted least squares).
        For ``log=True`` on counts, the counts themselves are the usual choice (the
        variance of the log of a Poisson count is about one over the count). Values
        with a weight that is not positive and finite are dropped.
    weekly : bool, default False
        Add a fixed day-of-week pattern (six weekday offsets) to the trend, so that a
        weekly cycle is not mistaken for noise.
    n_boot : int, default 200
        Bootstrap replicates for ``date_low`` / ``date_high``; 0 skips the bootstrap
        (both columns are then NaT).
    seed : int, default 42
        Seed of the bootstrap; equal arguments give equal results.

    Returns
    -------
    pandas.DataFrame
        One row per knot, by date, with the columns of :data:`INFLECTION_COLUMNS`:

        * ``inflection_date`` (datetime64): the day after which the slope changes;
        * ``slope_before``, ``slope_after``, ``slope_change``: slopes of the fitted
          trend per day, in units of the (log) series;
        * ``direction``: ``"acceleration"`` if the slope increases, else
          ``"deceleration"``;
        * ``p_value``: Davies' bound for this knot given the others (module docstring);
        * ``date_low``, ``date_high`` (datetime64): 90% bootstrap interval of the date;
        * ``rss_reduction_share``: RSS increase when this knot alone is removed (others
          kept), as a share of the RSS of the straight-line fit;
        * ``criterion_gain``: how much the criterion worsens when this knot is removed
          (positive for every reported knot unless the exchange search kept a knot
          that is worth less than its penalty alone).

        Empty (with these columns) when the series is too short for one knot, is
        constant, or has no change worth its penalty. ``attrs`` holds ``n_obs``,
        ``first_date``, ``last_date``, ``log``, ``penalty`` and ``criterion`` (the
        criterion for K = 0, 1, ... knots).

    Raises
    ------
    ValueError
        On mismatched lengths, duplicate dates or invalid options.
    """
    penalty = 1.0 if penalty is None else float(penalty)
    if not penalty > 0:
        raise ValueError("penalty must be positive")
    if min_segment_days < 1:
        raise ValueError("min_segment_days must be at least 1")
    if max_changes < 0:
        raise ValueError("max_changes must be non-negative")
    if n_boot < 0:
        raise ValueError("n_boot must be non-negative")
    if window_days is not None and window_days < 1:
        raise ValueError("window_days must be positive")

    day0, days, y, w = _prepare(dates, values, weights, log=log, window_days=window_days)
    attrs: dict[str, Any] = {
        "n_obs": len(days),
        "first_date": day0 if len(days) else None,
        "last_date": day0 + pd.Timedelta(days=int(days[-1])) if len(days) else None,
        "log": log,
        "penalty": penalty,
        "criterion": [],
    }
    if len(days) < 5 or np.ptp(y) <= 1e-12 * max(1.0, float(np.abs(y).max())):
        return _empty(attrs)
    fit = _Fitter(
        days,
        y,
        min_segment_days,
        weights=w,
        weekday0=day0.weekday() if weekly and len(days) >= 14 else None,
    )
    if not fit.base_mask.any():
        return _empty(attrs)

    path, crit, chosen = fit.select(max_changes, penalty)
    attrs["criterion"] = crit
    knots, rss_full = path[chosen]
    if not knots:
        return _empty(attrs)

    rows = fit.describe(knots, rss_full, path[0][1], penalty)
    low, high = fit.bootstrap(knots, n_boot, seed)
    frame = pd.DataFrame(rows)
    frame["date_low"] = low
    frame["date_high"] = high
    for col in ("inflection_date", "date_low", "date_high"):
        frame[col] = pd.to_datetime(
            [pd.NaT if pd.isna(v) else day0 + pd.Timedelta(days=float(v)) for v in frame[col]]
        ).astype("datetime64[ns]")
    frame = frame.loc[:, list(INFLECTION_COLUMNS)].reset_index(drop=True)
    frame.attrs.update(attrs)
    return frame


def attach_context(
    inflections: pd.DataFrame,
    interventions: pd.DataFrame,
    experiments: pd.DataFrame,
    window_days: int = 21,
    *,
    after_days: int = 3,
) -> pd.DataFrame:
    """For each inflection, the interventions and experiments that started near it.

    An intervention (experiment) is attached when its ``started_at`` date (UTC) lies
    from ``window_days`` days before to ``after_days`` days after the inflection date,
    both ends included.

    Parameters
    ----------
    inflections : pandas.DataFrame
        Output of :func:`detect_inflections` (at least ``inflection_date``).
    interventions : pandas.DataFrame
        Columns ``intervention_id`` and ``started_at``.
    experiments : pandas.DataFrame
        Columns ``experiment_id`` and ``started_at``.
    window_days : int, default 21
        Days before the inflection that count.
    after_days : int, default 3
        Days after the inflection that count (a change logged a little late).

    Returns
    -------
    pandas.DataFrame
        The inflections, one row each in their order, plus ``intervention_ids`` and
        ``experiment_ids`` (comma-joined ids by start time, then id; ``""`` when none)
        and ``n_interventions`` / ``n_experiments``.
    """
    if window_days < 0 or after_days < 0:
        raise ValueError("window_days and after_days must be non-negative")
    out = inflections.copy()
    dates = _to_days(out["inflection_date"]) if len(out) else pd.DatetimeIndex([])
    for source, id_col, ids_name, count_name in (
        (interventions, "intervention_id", "intervention_ids", "n_interventions"),
        (experiments, "experiment_id", "experiment_ids", "n_experiments"),
    ):
        missing = {id_col, "started_at"} - set(source.columns)
        if missing:
            raise ValueError(f"missing columns: {sorted(missing)}")
        starts = source.loc[source["started_at"].notna(), [id_col]].copy()
        starts["at"] = _to_instants(source.loc[starts.index, "started_at"])
        starts["day"] = starts["at"].dt.normalize()
        starts = starts.sort_values(["at", id_col], kind="stable")
        joined, counts = [], []
        for day in dates:
            lo = day - pd.Timedelta(days=window_days)
            hi = day + pd.Timedelta(days=after_days)
            hit = starts.loc[(starts["day"] >= lo) & (starts["day"] <= hi), id_col]
            joined.append(",".join(str(v) for v in hit))
            counts.append(len(hit))
        out[ids_name] = pd.Series(joined, index=out.index, dtype=str)
        out[count_name] = pd.Series(counts, index=out.index, dtype="int64")
    return out


# --------------------------------------------------------------------------- input


def _to_instants(values: Any) -> pd.DatetimeIndex:
    """Date-likes as tz-naive timestamps (tz-aware ones converted to UTC first)."""
    idx = pd.DatetimeIndex(pd.to_datetime(pd.Index(values)))
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    return idx.astype("datetime64[ns]")


def _to_days(values: Any) -> pd.DatetimeIndex:
    """Date-likes as tz-naive midnight timestamps (tz-aware ones taken in UTC)."""
    return _to_instants(values).normalize()


def _prepare(
    dates: Any, values: Any, weights: Any, *, log: bool, window_days: int | None
) -> tuple[pd.Timestamp | None, np.ndarray, np.ndarray, np.ndarray | None]:
    """First day, integer day offsets (sorted, unique), values to fit and weights."""
    y = np.asarray(values, dtype=float).ravel()
    w = None if weights is None else np.asarray(weights, dtype=float).ravel()
    if len(y) != len(dates) or (w is not None and len(w) != len(y)):
        raise ValueError("dates, values and weights must have the same length")
    day = _to_days(dates)
    if day.isna().any():
        raise ValueError("dates must not be missing")
    if day.has_duplicates:
        raise ValueError("dates must be unique (one value per day)")
    keep = np.isfinite(y)
    if w is not None:
        keep &= np.isfinite(w) & (w > 0)
    if log:
        positive = keep & (y > 0)
        if (keep & ~positive).any():
            warnings.warn(
                f"log=True: dropped {int((keep & ~positive).sum())} values that are not positive",
                stacklevel=3,
            )
        keep = positive
        y = np.log(np.where(keep, y, 1.0))
    order = np.argsort(day.asi8, kind="stable")
    order = order[keep[order]]
    day, y = day[order], y[order]
    w = None if w is None else w[order]
    if window_days is not None and len(day):
        inside = np.asarray(day > day[-1] - pd.Timedelta(days=window_days))
        day, y = day[inside], y[inside]
        w = None if w is None else w[inside]
    if len(day) == 0:
        return None, np.zeros(0, dtype=np.int64), y, w
    offsets = np.asarray((day - day[0]).days, dtype=np.int64)
    return day[0], offsets, y, w


def _empty(attrs: dict[str, Any]) -> pd.DataFrame:
    """The empty result, with its columns and dtypes."""
    frame = pd.DataFrame(
        {
            "inflection_date": pd.Series([], dtype="datetime64[ns]"),
            "slope_before": pd.Series([], dtype=float),
            "slope_after": pd.Series([], dtype=float),
            "slope_change": pd.Series([], dtype=float),
            "direction": pd.Series([], dtype=str),
            "p_value": pd.Series([], dtype=float),
            "date_low": pd.Series([], dtype="datetime64[ns]"),
            "date_high": pd.Series([], dtype="datetime64[ns]"),
            "rss_reduction_share": pd.Series([], dtype=float),
            "criterion_gain": pd.Series([], dtype=float),
        }
    )
    frame.attrs.update(attrs)
    return frame


# --------------------------------------------------------------------------- fitting


class _Fitter:
    """Hinge regression on one series: exact O(n) scans, search, tests, bootstrap.

    Time is rescaled to [0, 1] and the values standardised internally (neither changes
    which knots are best); knots are indices into the observations.
    """

    def __init__(
        self,
        days: np.ndarray,
        y: np.ndarray,
        min_segment_days: int,
        *,
        weights: np.ndarray | None = None,
        weekday0: int | None = None,
    ) -> None:
        self.days = days
        self.n = len(days)
        self.span = float(days[-1] - days[0]) or 1.0
        self.ts = (days - days[0]) / self.span
        self.mu = float(y.mean())
        self.sd = float(y.std()) or 1.0
        w = np.ones(self.n) if weights is None else weights / weights.mean()
        self.sw = np.sqrt(w)
        self.y = self.sw * (y - self.mu) / self.sd  # whitened: plain least squares from here
        self.min_seg = int(min_segment_days)
        self.base_mask = (days - days[0] >= self.min_seg) & (days[-1] - days >= self.min_seg)
        fixed = [np.ones(self.n), self.ts]
        if weekday0 is not None:
            weekday = (weekday0 + days) % 7
            fixed += [(weekday == d).astype(float) for d in range(1, 7) if (weekday == d).any()]
        self.fixed = np.column_stack(fixed) * self.sw[:, None]
        q, _ = np.linalg.qr(self.fixed[:, :1])
        self.rss_floor = _RSS_FLOOR * max(float(np.sum((self.y - q @ (q.T @ self.y)) ** 2)), 1e-300)
        # ||sw * max(0, t - tau_i)||^2 for every i, from suffix sums
        self.moments = tuple(_suffix(w * self.ts**p) for p in range(3))
        s0, s1, s2 = self.moments
        self.hh = s2 - 2 * self.ts * s1 + self.ts**2 * s0

    # ----------------------------------------------------------------- basics

    def criterion(self, rss: float, n_knots: int, penalty: float) -> float:
        """``n log(RSS / n) + penalty (2 + 2 K) log(n)`` (RSS floored)."""
        n = self.n
        return n * math.log(self.floored(rss) / n) + penalty * (2 + 2 * n_knots) * math.log(n)

    def floored(self, rss: float) -> float:
        """RSS floored at a tiny share of the total sum of squares."""
        return max(rss, self.rss_floor)

    def hinge(self, i: int) -> np.ndarray:
        """The (weighted) hinge column of a knot at observation ``i``."""
        return self.sw * np.maximum(0.0, self.ts - self.ts[i])

    def design(self, knots: Sequence[int]) -> np.ndarray:
        """Intercept, time, weekday columns if any, and one hinge column per knot."""
        if not knots:
            return self.fixed
        return np.column_stack([self.fixed, *(self.hinge(i) for i in knots)])

    def rss(self, y: np.ndarray, knots: Sequence[int]) -> float:
        """Residual sum of squares of the least-squares fit with ``knots``."""
        x = self.design(knots)
        beta, *_ = np.linalg.lstsq(x, y, rcond=None)
        r = y - x @ beta
        return float(r @ r)

    def allowed(self, others: Sequence[int]) -> np.ndarray:
        """Feasible knot positions given the other knots."""
        mask = self.base_mask.copy()
        for j in others:
            mask &= np.abs(self.days - self.days[j]) >= self.min_seg
        return mask

    def scan(self, y: np.ndarray, others: Sequence[int]) -> tuple[np.ndarray, np.ndarray, float]:
        """Exact effect of one more knot at every observation, given ``others``.

        Returns the RSS reduction for each position, the signed standardised score
        ``h_perp . r / ||h_perp||`` (before dividing by sigma) and the RSS without it.
        """
        q, _ = np.linalg.qr(self.design(others))
        r = y - q @ (q.T @ y)
        hv = self._hinge_dot(np.column_stack([r, q]))
        hr, qh = hv[:, 0], hv[:, 1:]
        hp2 = self.hh - np.einsum("ij,ij->i", qh, qh)
        ok = hp2 > _COLLINEAR * np.maximum(self.hh, 1e-300)
        hp2 = np.where(ok, hp2, 1.0)
        reduction = np.where(ok, hr**2 / hp2, 0.0)
        score = np.where(ok, hr / np.sqrt(hp2), 0.0)
        return reduction, score, float(r @ r)

    def best(self, y: np.ndarray, others: Sequence[int], mask: np.ndarray) -> tuple[int, float]:
        """Best position in ``mask`` for one more knot and the resulting RSS (-1 if none)."""
        if not mask.any():
            return -1, math.inf
        reduction, _, rss0 = self.scan(y, others)
        i = int(np.argmax(np.where(mask, reduction, -np.inf)))
        return i, rss0 - float(reduction[i])

    # ----------------------------------------------------------------- search

    def best_pair(self, y: np.ndarray, others: Sequence[int]) -> tuple[int, int, float]:
        """Best feasible positions for two more knots given ``others`` (exhaustive).

        Adding knot ``i`` then knot ``k`` lowers the RSS by ``(h_i^T r)^2 / |P h_i|^2 +
        (h_k^T r_i)^2 / |P_i h_k|^2``, where ``P`` projects out the current model and
        ``P_i`` also ``h_i``. Everything follows from ``h_k^T h_i`` (closed form from
        suffix sums) and ``Q^T h_i``, so all pairs cost O(n^2) without touching the
        series again; first knots are processed in blocks to bound memory. Returns
        ``(-1, -1, inf)`` when no pair fits.
        """
        mask0 = self.allowed(others)
        firsts = np.flatnonzero(mask0)
        q, _ = np.linalg.qr(self.design(others))
        r0 = y - q @ (q.T @ y)
        rss0 = float(r0 @ r0)
        qh = self._hinge_dot(q)  # rows: knots; Q^T h_i
        hr = self._hinge_dot(r0[:, None])[:, 0]  # h_i^T r0 (= (P h_i)^T r0)
        perp2 = self.hh - np.einsum("ij,ij->i", qh, qh)  # |P h_i|^2
        ok_single = mask0 & (perp2 > _COLLINEAR * np.maximum(self.hh, 1e-300))
        s0, s1, s2 = self.moments
        ts, idx = self.ts, np.arange(self.n)
        best = (-1, -1, math.inf)
        block = max(1, 2_000_000 // self.n)
        for start in range(0, len(firsts), block):
            cols = firsts[start : start + block]
            cols = cols[ok_single[cols]]
            if len(cols) == 0:
                continue
            rows = slice(int(cols[0]) + 1, self.n)  # the second knot comes after the first
            tk, ti = ts[rows, None], ts[cols][None, :]
            # h_k^T h_i for k > i: sum over l >= k of w_l (t_l - t_k)(t_l - t_i)
            gram = s2[rows, None] - (tk + ti) * s1[rows, None] + tk * ti * s0[rows, None]
            norm = np.sqrt(perp2[cols])
            b = (gram - qh[rows] @ qh[cols].T) / norm[None, :]  # h_k^T u_i
            coef = hr[cols] / norm  # u_i^T r0
            a = hr[rows, None] - b * coef[None, :]  # h_k^T r_i
            hp2 = perp2[rows, None] - b**2
            ok = (
                ok_single[rows, None]
                & (idx[rows, None] > cols[None, :])
                & (np.abs(self.days[rows, None] - self.days[cols][None, :]) >= self.min_seg)
                & (hp2 > _COLLINEAR * np.maximum(self.hh[rows], 1e-300)[:, None])
            )
            if not ok.any():
                continue
            red = np.where(ok, a**2 / np.where(ok, hp2, 1.0), -np.inf) + coef[None, :] ** 2
            k, j = np.unravel_index(int(np.argmax(red)), red.shape)
            k += rows.start
            rss = rss0 - float(red[k - rows.start, j])
            if rss < best[2]:
                best = (int(cols[j]), int(k), rss)
        return best

    def _hinge_dot(self, v: np.ndarray) -> np.ndarray:
        """``h_i . v[:, c]`` for every knot ``i`` (rows) and column ``c`` of ``v``."""
        v = v * self.sw[:, None]
        return _suffix(v * self.ts[:, None]) - self.ts[:, None] * _suffix(v)

    def refine(
        self,
        y: np.ndarray,
        knots: list[int],
        rss: float,
        *,
        local: bool = False,
        pairs: bool = False,
    ) -> tuple[list[int], float]:
        """Exchange moves until none lowers the RSS.

        Each knot in turn is removed and put back at the best feasible position given
        the others: anywhere, or between its neighbours with ``local`` (which keeps the
        knots' order, as the bootstrap needs). With ``pairs``, once no single knot
        moves, every two knots are also re-placed jointly (exhaustively, with
        :meth:`best_pair`), and single moves resume after a change.
        """
        knots = sorted(knots)
        tol = 1e-12 * self.n
        for _ in range(_MAX_PASSES):
            moved = False
            for j in range(len(knots)):
                others = knots[:j] + knots[j + 1 :]
                mask = self.allowed(others)
                if local:
                    lo = knots[j - 1] if j > 0 else -1
                    hi = knots[j + 1] if j + 1 < len(knots) else self.n
                    idx = np.arange(self.n)
                    mask &= (idx > lo) & (idx < hi)
                i, new_rss = self.best(y, others, mask)
                if i >= 0 and i != knots[j] and new_rss < rss - tol:
                    knots[j], rss = i, new_rss
                    moved = True
                    if not local:
                        knots.sort()
            if not moved and pairs and not local and len(knots) >= 3:
                for j1, j2 in itertools.combinations(list(knots), 2):
                    if j1 not in knots or j2 not in knots:
                        continue
                    others = [i for i in knots if i not in (j1, j2)]
                    i1, i2, new_rss = self.best_pair(y, others)
                    if i1 >= 0 and new_rss < rss - tol:
                        knots, rss = sorted([*others, i1, i2]), new_rss
                        moved = True
            if not moved:
                break
        return knots, rss

    def forward(self, max_changes: int) -> list[tuple[list[int], float]]:
        """Knots and RSS for K = 0, 1, ... (while feasible), by forward selection.

        K = 1 and K = 2 are exhaustive; each larger K adds the best knot to the
        previous solution and refines it with single-knot exchanges.
        """
        _, _, rss = self.scan(self.y, [])
        path: list[tuple[list[int], float]] = [([], rss)]
        knots: list[int] = []
        for k in range(1, max_changes + 1):
            if k == 2:
                i1, i2, new_rss = self.best_pair(self.y, [])
                if i1 < 0:
                    break
                knots, rss = [i1, i2], new_rss
            else:
                i, new_rss = self.best(self.y, knots, self.allowed(knots))
                if i < 0:
                    break
                knots, rss = self.refine(self.y, [*knots, i], new_rss)
            path.append((list(knots), rss))
        return path

    def select(self, max_changes: int, penalty: float) -> tuple[list, list[float], int]:
        """The search path, its criterion values and the index of the chosen K.

        Pair exchanges (:meth:`refine` with ``pairs``) cost O(n^2) each, so they are
        spent where the choice is made: on the chosen K and its two neighbours, again
        until the choice no longer moves.
        """
        path = self.forward(max_changes)
        polished = {0, 1, 2}  # exact already
        while True:
            crit = [self.criterion(rss, len(knots), penalty) for knots, rss in path]
            chosen = int(np.argmin(crit))
            todo = [k for k in (chosen - 1, chosen, chosen + 1) if k < len(path)]
            todo = [k for k in todo if k not in polished]
            if not todo:
                return path, crit, chosen
            for k in todo:
                path[k] = self.refine(self.y, *path[k], pairs=True)
                polished.add(k)

    # ----------------------------------------------------------------- reporting

    def describe(
        self, knots: list[int], rss_full: float, rss_line: float, penalty: float
    ) -> list[dict[str, Any]]:
        """One row per knot: slopes, Davies p-value, RSS share, criterion gain."""
        beta, *_ = np.linalg.lstsq(self.design(knots), self.y, rcond=None)
        to_day = self.sd / self.span
        slope = float(beta[1])
        n = self.n
        rows = []
        for j, i in enumerate(knots):
            others = knots[:j] + knots[j + 1 :]
            reduction, score, rss0 = self.scan(self.y, others)
            mask = self.allowed(others)
            dof = n - (self.fixed.shape[1] + len(others))
            sigma = math.sqrt(max(rss0, self.rss_floor) / max(dof, 1))
            p_value = _davies(score / sigma, mask)
            gain = n * math.log(self.floored(rss0) / self.floored(rss_full))
            change = float(beta[self.fixed.shape[1] + j])
            rows.append(
                {
                    "inflection_date": float(self.days[i]),
                    "slope_before": slope * to_day,
                    "slope_after": (slope + change) * to_day,
                    "slope_change": change * to_day,
                    "direction": "acceleration" if change > 0 else "deceleration",
                    "p_value": p_value,
                    "rss_reduction_share": (rss0 - rss_full) / rss_line if rss_line > 0 else 0.0,
                    "criterion_gain": gain - penalty * 2 * math.log(n),
                }
            )
            slope += change
        return rows

    def bootstrap(self, knots: list[int], n_boot: int, seed: int) -> tuple[list, list]:
        """90% interval of each knot's day from a moving-block residual bootstrap."""
        if n_boot == 0:
            return [math.nan] * len(knots), [math.nan] * len(knots)
        x = self.design(knots)
        beta, *_ = np.linalg.lstsq(x, self.y, rcond=None)
        fitted = x @ beta
        resid = self.y - fitted
        resid = resid - resid.mean()
        rng = np.random.default_rng(seed)
        block = min(_BOOT_BLOCK, self.n)
        n_blocks = -(-self.n // block)
        draws = np.empty((n_boot, len(knots)))
        for b in range(n_boot):
            starts = rng.integers(0, self.n - block + 1, n_blocks)
            take = (starts[:, None] + np.arange(block)[None, :]).ravel()[: self.n]
            yb = fitted + resid[take]
            rss = self.rss(yb, knots)
            found, _ = self.refine(yb, list(knots), rss, local=True)
            draws[b] = self.days[found]
        low = np.quantile(draws, _INTERVAL[0], axis=0, method="inverted_cdf")
        high = np.quantile(draws, _INTERVAL[1], axis=0, method="inverted_cdf")
        return [float(v) for v in low], [float(v) for v in high]


def _suffix(a: np.ndarray) -> np.ndarray:
    """Sums from each row to the last (inclusive), along the first axis."""
    return np.cumsum(a[::-1], axis=0)[::-1]


def _davies(z: np.ndarray, mask: np.ndarray) -> float:
    """Davies' (1987) upper bound on P(max |Z| >= observed) for a smooth Gaussian process.

    ``z`` is the standardised score of a knot at every position, ``mask`` the positions
    searched. The bound is ``2 (1 - Phi(M)) + V exp(-M^2 / 2) / sqrt(2 pi)``, with M the
    largest ``|z|`` and V the total variation of ``z`` over each run of consecutive
    searched positions.
    """
    if not mask.any():
        return 1.0
    m = float(np.abs(z[mask]).max())
    both = mask[1:] & mask[:-1]
    variation = float(np.abs(np.diff(z))[both].sum())
    bound = math.erfc(m / math.sqrt(2.0)) + variation * math.exp(-(m**2) / 2) / math.sqrt(
        2 * math.pi
    )
    return float(min(1.0, bound))
