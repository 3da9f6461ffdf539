"""The potential score refitted out of time, and its expected 4-week growth.

The seed's score (``high_potential_score_components``: 0.5 growth + 0.25 cohesion +
0.25 activity) does not predict the next 4 weeks' member growth on the demo (see
``docs/planning.md``). Here its weights are fitted on past snapshots instead:

- **components** (:data:`COMPONENTS`): the three health scores, current size, the last 4
  weeks' member growth (0 for a group too new to have one) and whether the group is a
  declared one, each as its percentile (``cume_dist``, 0-100) among the snapshot's
  ranked groups (``declared``: 100 or 0), so weights are comparable and the report can
  recompute them in SQL;
- **target**: the group's member growth over the next 4 weeks as its percentile rank
  within the snapshot (average ranks): the fit is about ranking groups in the same week,
  not about the level of growth of a given week;
- **fit** (:func:`fit_weights`): ridge least squares of the target on the components
  (``ridge`` x rows on the centred [0, 1] components), over the rows whose outcome is
  known at the fit date (their later snapshot on or before it). The weights are scaled
  so that their absolute values sum to 1; a component with a negative weight counts as
  ``100 - percentile`` (smaller is better), so the score stays in 0-100 and each
  component's points (``|weight| x directed percentile``) add up to it
  (:func:`score_points`).

:func:`out_of_time_scores` scores each past snapshot with the weights fitted on the rows
known by then (an expanding window, at least ``min_fit_snapshots`` snapshots), which is
what :mod:`.backtest` measures against the seed's score and the naive baselines, and what
:func:`calibrate` turns into the expected growth of each score decile (mean, and the
5th-95th percentiles of the groups' outcomes: a 90% interval for one group).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "COMPONENTS",
    "SEED_COMPONENTS",
    "calibrate",
    "component_percentiles",
    "fit_weights",
    "out_of_time_scores",
    "score_points",
]

#: The components of the fitted score, and the panel column each is a percentile of.
COMPONENTS: dict[str, str] = {
    "growth": "growth_score",
    "cohesion": "cohesion_score",
    "activity": "activity_score",
    "size": "count_members",
    "growth_last_4_weeks": "member_growth_rate_4_weeks",
    "declared": "group_kind",
}
#: The components the seed weighs (the others have seed weight 0).
SEED_COMPONENTS = ("growth", "cohesion", "activity")


def component_percentiles(panel: pd.DataFrame) -> pd.DataFrame:
    """Each row's components as percentiles (0-100) among its snapshot's groups.

    ``cume_dist`` (share of the snapshot's groups with a value at most the row's, x 100),
    as the report computes them in SQL; ``member_growth_rate_4_weeks`` missing is 0 and
    ``declared`` is 100 for a declared group, 0 for a detected one.

    Parameters
    ----------
    panel : pandas.DataFrame
        ``snapshot_date``, ``group_kind`` and the columns of :data:`COMPONENTS`.

    Returns
    -------
    pandas.DataFrame
        One column per component, on ``panel``'s index.
    """
    by = panel["snapshot_date"]
    out = {}
    for name, column in COMPONENTS.items():
        if name == "declared":
            out[name] = np.where(panel["group_kind"] == "declared", 100.0, 0.0)
            continue
        values = panel[column].astype(float)
        if name == "growth_last_4_weeks":
            values = values.fillna(0.0)
        out[name] = 100 * values.groupby(by).rank(method="max", pct=True)
    return pd.DataFrame(out, index=panel.index)


def fit_weights(
    percentiles: pd.DataFrame,
    target: pd.Series,
    *,
    ridge: float = 1e-3,
) -> dict[str, float]:
    """Ridge least squares of ``target`` on the components, scaled to sum(|w|) = 1.

    Parameters
    ----------
    percentiles : pandas.DataFrame
        :func:`component_percentiles` of the fit rows.
    target : pandas.Series
        The outcome to rank by (a percentile within the snapshot), on the same index.
    ridge : float
        Penalty per row on the squared weights of the [0, 1] components (shrinks
        components that are collinear or constant instead of letting them swing).

    Returns
    -------
    dict of str to float
        One weight per column of ``percentiles`` (all 0 when nothing varies).
    """
    x = percentiles.to_numpy(float) / 100
    y = target.to_numpy(float)
    keep = ~np.isnan(y)
    x, y = x[keep], y[keep]
    if len(y) < 2:
        return dict.fromkeys(percentiles.columns, 0.0)
    xc, yc = x - x.mean(axis=0), y - y.mean()
    gram = xc.T @ xc + ridge * len(y) * np.eye(x.shape[1])
    w = np.linalg.solve(gram, xc.T @ yc)
    total = np.abs(w).sum()
    w = w / total if total > 0 else w
    return {name: float(value) for name, value in zip(percentiles.columns, w, strict=True)}


def score_points(percentiles: pd.DataFrame, weights: dict[str, float]) -> pd.DataFrame:
    """Each component's points in the score: ``|w| x percentile`` (``100 - p`` if w < 0).

    The row sums are the score (0-100 when ``sum(|w|) = 1``); the points say why a group
    ranks where it does.
    """
    out = {}
    for name, weight in weights.items():
        directed = percentiles[name] if weight >= 0 else 100 - percentiles[name]
        out[name] = abs(weight) * directed
    return pd.DataFrame(out, index=percentiles.index)


def _target(panel: pd.DataFrame, outcome: str) -> pd.Series:
    return panel.groupby("snapshot_date")[outcome].rank(method="average", pct=True)


def out_of_time_scores(
    panel: pd.DataFrame,
    *,
    outcome: str = "member_growth",
    min_fit_snapshots: int = 4,
    ridge: float = 1e-3,
) -> tuple[pd.Series, pd.DataFrame]:
    """Score each snapshot with the weights fitted on the outcomes known by then.

    For each snapshot ``t`` (in order), the fit rows are those whose ``later_date`` is on
    or before ``t`` (their outcome was observed by ``t``), when they span at least
    ``min_fit_snapshots`` snapshots; the rows of ``t`` are then scored with those
    weights. Snapshots without enough history get no score (NaN).

    Parameters
    ----------
    panel : pandas.DataFrame
        :func:`.backtest.read_panel`'s rows.
    outcome : str
        The outcome fitted (its within-snapshot percentile).
    min_fit_snapshots : int
        Fewest snapshots of known outcomes to fit on.
    ridge : float
        See :func:`fit_weights`.

    Returns
    -------
    (pandas.Series, pandas.DataFrame)
        The out-of-time score of every row (on ``panel``'s index), and the weights of
        each fit: ``snapshot_date``, ``fit_start``, ``fit_end``, ``n_rows`` and one
        column per component.
    """
    percentiles = component_percentiles(panel)
    target = _target(panel, outcome)
    score = pd.Series(np.nan, index=panel.index, name="fitted_score")
    fits = []
    for snapshot in sorted(panel["snapshot_date"].unique()):
        known = (panel["later_date"] <= snapshot) & target.notna()
        if panel.loc[known, "snapshot_date"].nunique() < min_fit_snapshots:
            continue
        weights = fit_weights(percentiles[known], target[known], ridge=ridge)
        rows = panel["snapshot_date"] == snapshot
        score[rows] = score_points(percentiles[rows], weights).sum(axis=1)
        fits.append(
            {
                "snapshot_date": snapshot,
                "fit_start": panel.loc[known, "snapshot_date"].min(),
                "fit_end": panel.loc[known, "later_date"].max(),
                "n_rows": int(known.sum()),
                **weights,
            }
        )
    return score, pd.DataFrame(fits)


def calibrate(
    score: pd.Series,
    panel: pd.DataFrame,
    *,
    outcome: str = "member_growth",
    deciles: int = 10,
    interval: float = 0.90,
) -> pd.DataFrame:
    """What the groups of each score decile did next: expected growth with an interval.

    Each scored row falls into its decile of ``score`` within its snapshot (1 = lowest;
    ``ceil(deciles x percentile)`` of the ``cume_dist``, as the report computes it).

    Parameters
    ----------
    score : pandas.Series
        A score per panel row (NaN: left out), e.g. :func:`out_of_time_scores`.
    panel : pandas.DataFrame
        With ``snapshot_date`` and ``outcome``.
    outcome : str
    deciles : int
    interval : float
        Central share of the groups' outcomes the interval holds.

    Returns
    -------
    pandas.DataFrame
        One row per decile with rows: ``score_decile``, ``n_rows``, ``n_snapshots``,
        ``expected_growth`` (mean outcome), ``median_growth``, ``growth_low`` and
        ``growth_high`` (the outcome's ``(1 - interval) / 2`` and ``(1 + interval) / 2``
        quantiles).
    """
    frame = pd.DataFrame(
        {"snapshot_date": panel["snapshot_date"], "score": score, "y": panel[outcome]}
    ).dropna()
    columns = ["score_decile", "n_rows", "n_snapshots", "expected_growth", "median_growth",
               "growth_low", "growth_high"]  # fmt: skip
    if frame.empty:
        return pd.DataFrame(columns=columns)
    pct = frame.groupby("snapshot_date")["score"].rank(method="max", pct=True)
    frame["score_decile"] = np.ceil(deciles * pct).clip(1, deciles).astype(int)
    low, high = (1 - interval) / 2, (1 + interval) / 2
    out = (
        frame.groupby("score_decile")
        .agg(
            n_rows=("y", "size"),
            n_snapshots=("snapshot_date", "nunique"),
            expected_growth=("y", "mean"),
            median_growth=("y", "median"),
            growth_low=("y", lambda v: float(np.quantile(v, low))),
            growth_high=("y", lambda v: float(np.quantile(v, high))),
        )
        .reset_index()
    )
    return out[columns]
