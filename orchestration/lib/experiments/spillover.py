"""Interference in user-randomized experiments: exposure of control users and spillover.

A user-randomized experiment assumes that a user's outcome depends on its own variant
only. When treated users change what their peers do, control users near treated ones
move too, and the readout's lift (treated minus control) is biased. This module measures
that from the control users alone: each control user's *exposure* to the other variants
(the share of its interaction weight with experiment units that goes to treated units,
or the treated share of the other units in its detected community), the control users'
outcome by exposure level, and the *spillover*: the slope of the outcome on the exposure
(OLS with the pre-period value as a covariate and errors robust to clustering by
detected community, CR3, with Student's t on G - 1 degrees of freedom),
reported relative to the outcome at exposure 0 with a delta-method interval. Exposure is
random given the graph (the neighbours' variants are), so the slope is a causal effect of
the neighbours' treatment. A spillover is *material* when it is significant after Holm
across the experiment's metrics and exposure kinds and it moves the control arm's mean
by at least ``materiality_share`` of the readout's own lift; then the experiment should
be randomized by community. Inputs are the per-unit rows of
``int_experiment_spillover_units_measured``; everything here is vectorised numpy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as _stats

from orchestration.lib.experiments.stats import adjust_p_values

__all__ = [
    "EXPOSURE_KINDS",
    "EXPOSURE_LEVELS",
    "SpilloverEstimate",
    "analyse_spillover",
    "community_exposure",
    "estimate_spillover",
    "exposure_levels",
    "interaction_exposure",
    "ols_cluster",
    "ols_cluster_jackknife",
    "ols_hc1",
    "summarise_health",
]

#: Exposure definitions, in report order.
EXPOSURE_KINDS = ("interaction", "community")

#: Exposure bins: exactly 0, then (low, high] quarters; units without any tie to an
#: experiment unit (or without peers in a community) are ``undefined``.
EXPOSURE_LEVELS: tuple[tuple[str, float, float], ...] = (
    ("0", 0.0, 0.0),
    ("0-0.25", 0.0, 0.25),
    ("0.25-0.5", 0.25, 0.5),
    ("0.5-0.75", 0.5, 0.75),
    ("0.75-1", 0.75, 1.0),
)

_NAN = float("nan")


@dataclass(frozen=True)
class SpilloverEstimate:
    """The spillover of one metric and exposure kind.

    Attributes
    ----------
    units : int
        Control units in the regression (defined exposure).
    mean_exposure : float
        Their mean exposure.
    share_units_exposed : float
        Share of them with exposure > 0.
    baseline : float
        Fitted outcome at exposure 0 (at the mean pre-period value).
    slope : float
        Outcome per unit of exposure (exposure 0 -> 1).
    slope_se : float
        Its standard error (CR3 by cluster, or HC1 without clusters).
    estimate : float
        ``slope / baseline``: relative change of the outcome from exposure 0 to 1.
    ci_low, ci_high : float
        Its two-sided interval (delta method, normal quantile).
    p_value : float
        Two-sided p-value of ``estimate`` (delta method, normal).
    spillover_share : float
        ``slope x mean_exposure / baseline``: by how much the spillover raised the
        control arm's mean, relative to its level without exposure.
    """

    units: int
    mean_exposure: float
    share_units_exposed: float
    baseline: float
    slope: float
    slope_se: float
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    spillover_share: float


def interaction_exposure(weight_to_units, weight_to_other_variants) -> np.ndarray:
    """Share of a unit's interaction weight with experiment units that is with other variants.

    Parameters
    ----------
    weight_to_units : array-like of float
        Interaction weight between the unit and the experiment's other units.
    weight_to_other_variants : array-like of float
        The part of it with units of another variant (for a control unit: treated).

    Returns
    -------
    numpy.ndarray
        The share in [0, 1]; NaN where the unit has no weight with any unit.
    """
    total = np.asarray(weight_to_units, dtype=float)
    other = np.asarray(weight_to_other_variants, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, other / np.where(total > 0, total, 1.0), np.nan)


def community_exposure(peer_units, peers_other_variants) -> np.ndarray:
    """Share of the other units of a unit's detected community that are in another variant.

    Parameters
    ----------
    peer_units : array-like of float
        Other units among the community's members (NaN outside communities).
    peers_other_variants : array-like of float
        Those of them in another variant.

    Returns
    -------
    numpy.ndarray
        The share in [0, 1]; NaN without a community or without peer units.
    """
    peers = np.asarray(peer_units, dtype=float)
    other = np.asarray(peers_other_variants, dtype=float)
    ok = np.isfinite(peers) & (peers > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, other / np.where(ok, peers, 1.0), np.nan)


def exposure_levels(exposure) -> np.ndarray:
    """The bin label of each exposure (:data:`EXPOSURE_LEVELS`, ``undefined`` for NaN)."""
    x = np.asarray(exposure, dtype=float)
    labels = np.full(x.shape, "undefined", dtype=object)
    labels[x == 0] = "0"
    for name, low, high in EXPOSURE_LEVELS[1:]:
        labels[(x > low) & (x <= high)] = name
    return labels


def ols_hc1(y, design) -> tuple[np.ndarray, np.ndarray]:
    """OLS coefficients and their HC1 (heteroskedasticity-robust) covariance.

    Parameters
    ----------
    y : array-like of float, shape (n,)
    design : array-like of float, shape (n, k)
        Regressors, the constant included.

    Returns
    -------
    tuple of numpy.ndarray
        Coefficients (k,) and covariance (k, k): ``n / (n - k) (X'X)^-1 X' diag(e^2) X
        (X'X)^-1`` (MacKinnon & White 1985; statsmodels' ``cov_type='HC1'``).
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(design, dtype=float)
    n, k = x.shape
    bread = np.linalg.pinv(x.T @ x)
    beta = bread @ (x.T @ y)
    resid = y - x @ beta
    meat = (x * resid[:, None] ** 2).T @ x
    return beta, n / (n - k) * bread @ meat @ bread


def ols_cluster(y, design, clusters) -> tuple[np.ndarray, np.ndarray, int]:
    """OLS coefficients and their cluster-robust (CR1) covariance.

    Parameters
    ----------
    y : array-like of float, shape (n,)
    design : array-like of float, shape (n, k)
        Regressors, the constant included.
    clusters : array-like, shape (n,)
        Cluster label of each row.

    Returns
    -------
    tuple
        Coefficients (k,), covariance (k, k) ``G / (G - 1) (n - 1) / (n - k) (X'X)^-1
        sum_g (X_g' e_g)(X_g' e_g)' (X'X)^-1`` (Liang & Zeger 1986 with statsmodels'
        small-sample correction, ``cov_type='cluster'``) and the number of clusters G.
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(design, dtype=float)
    n, k = x.shape
    codes, _ = pd.factorize(pd.Series(np.asarray(clusters)), sort=False)
    g = int(codes.max()) + 1 if n else 0
    bread = np.linalg.pinv(x.T @ x)
    beta = bread @ (x.T @ y)
    scores = x * (y - x @ beta)[:, None]
    summed = np.zeros((g, k))
    np.add.at(summed, codes, scores)
    factor = g / (g - 1) * (n - 1) / (n - k) if g > 1 else _NAN
    return beta, factor * bread @ (summed.T @ summed) @ bread, g


def ols_cluster_jackknife(y, design, clusters) -> tuple[np.ndarray, np.ndarray, int]:
    """OLS coefficients and their CR3 (delete-one-cluster jackknife) covariance.

    ``(G - 1) / G (X'X)^-1 sum_g X_g' (I - H_gg)^-1 e_g e_g' (I - H_gg)^-1 X_g
    (X'X)^-1``, ``H_gg = X_g (X'X)^-1 X_g'``: the same as ``(G - 1) / G sum_g
    (b_(-g) - b)(b_(-g) - b)'`` over the fits without cluster ``g`` (Bell & McCaffrey
    2002; MacKinnon, Nielsen & Webb 2023). CR1 leans on clusters with high leverage,
    such as a small community whose treated share is 0 or 1, and is too narrow with a
    few dozen unequal clusters (A/A false positives 0.065 at 0.05 in the benchmark);
    CR3 inflates their residuals by their leverage. Computed without a loop over
    clusters by Woodbury's identity (a k x k system per cluster); when a cluster holds
    all the spread of a regressor (the fit without it is singular) the pseudo-inverse
    is used.

    Parameters
    ----------
    y : array-like of float, shape (n,)
    design : array-like of float, shape (n, k)
        Regressors, the constant included.
    clusters : array-like, shape (n,)
        Cluster label of each row.

    Returns
    -------
    tuple
        Coefficients (k,), covariance (k, k) and the number of clusters G.
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(design, dtype=float)
    n, k = x.shape
    codes, _ = pd.factorize(pd.Series(np.asarray(clusters)), sort=False)
    g = int(codes.max()) + 1 if n else 0
    bread = np.linalg.pinv(x.T @ x)
    beta = bread @ (x.T @ y)
    resid = y - x @ beta
    # X_g' (I - H_gg)^-1 e_g = s_g + M_g (X'X - M_g)^-1 s_g (Woodbury), with
    # M_g = X_g' X_g and s_g = X_g' e_g: k x k systems, whatever the cluster's size.
    outer = np.zeros((g, k, k))
    np.add.at(outer, codes, x[:, :, None] * x[:, None, :])
    scores = np.zeros((g, k))
    np.add.at(scores, codes, x * resid[:, None])
    rest = (x.T @ x)[None, :, :] - outer
    try:
        solved = np.linalg.solve(rest, scores[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        solved = (np.linalg.pinv(rest) @ scores[:, :, None])[:, :, 0]
    scores = scores + (outer @ solved[:, :, None])[:, :, 0]
    factor = (g - 1) / g if g > 1 else _NAN
    return beta, factor * bread @ (scores.T @ scores) @ bread, g


def estimate_spillover(
    y, exposure, pre=None, clusters=None, *, alpha: float = 0.05
) -> SpilloverEstimate:
    """Regress control units' outcome on their exposure and give the relative spillover.

    The model is ``y = a + b x + c (pre - mean(pre)) + e``; ``a`` is the outcome at
    exposure 0 (at the mean pre-period value), ``b`` the change from exposure 0 to 1.
    The estimate ``b / a`` gets its variance by the delta method from the robust covariance
    of ``(a, b)``: ``var(b) / a^2 - 2 b cov(a, b) / a^3 + b^2 var(a) / a^4``.

    Parameters
    ----------
    y : array-like of float
        Outcome of each control unit with a defined exposure.
    exposure : array-like of float
        Its exposure in [0, 1].
    pre : array-like of float, optional
        Pre-period value (left out when None or constant).
    clusters : array-like, optional
        Cluster of each unit (its detected community; a unit outside communities its
        own cluster). Given, the covariance is cluster-robust (CR3,
        :func:`ols_cluster_jackknife`) and the quantiles
        and p-value are Student's t with G - 1 degrees of freedom: control users of one
        community share its exposure and its shocks. Without, HC1 and the normal.
    alpha : float
        Two-sided level of the interval.

    Returns
    -------
    SpilloverEstimate
        NaN figures when there are fewer than four units or no spread of exposure.
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(exposure, dtype=float)
    n = y.size
    mean_x = float(x.mean()) if n else _NAN
    exposed = float((x > 0).mean()) if n else _NAN
    columns = [np.ones(n), x]
    if pre is not None:
        p = np.asarray(pre, dtype=float)
        if n and np.ptp(p) > 0:
            columns.append(p - p.mean())
    if n < len(columns) + 2 or np.ptp(x) == 0:
        nan = _NAN
        return SpilloverEstimate(n, mean_x, exposed, nan, nan, nan, nan, nan, nan, nan, nan)
    if clusters is None:
        beta, cov = ols_hc1(y, np.column_stack(columns))
        dist = _stats.norm
    else:
        beta, cov, g = ols_cluster_jackknife(y, np.column_stack(columns), clusters)
        if g < 3:
            nan = _NAN
            return SpilloverEstimate(n, mean_x, exposed, nan, nan, nan, nan, nan, nan, nan, nan)
        dist = _stats.t(g - 1)
    a, b = float(beta[0]), float(beta[1])
    var_a, var_b, cov_ab = float(cov[0, 0]), float(cov[1, 1]), float(cov[0, 1])
    if a <= 0:
        nan = _NAN
        return SpilloverEstimate(
            n, mean_x, exposed, a, b, math.sqrt(max(var_b, 0)), nan, nan, nan, nan, nan
        )
    rel = b / a
    var_rel = var_b / a**2 - 2 * b * cov_ab / a**3 + b**2 * var_a / a**4
    se_rel = math.sqrt(max(var_rel, 0.0))
    z = float(dist.ppf(1 - alpha / 2))
    p_value = float(2 * dist.sf(abs(rel) / se_rel)) if se_rel > 0 else _NAN
    return SpilloverEstimate(
        units=n,
        mean_exposure=mean_x,
        share_units_exposed=exposed,
        baseline=a,
        slope=b,
        slope_se=math.sqrt(max(var_b, 0.0)),
        estimate=rel,
        ci_low=rel - z * se_rel,
        ci_high=rel + z * se_rel,
        p_value=p_value,
        spillover_share=b * mean_x / a,
    )


def _exposures(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {
        "interaction": interaction_exposure(
            frame["weight_to_units"], frame["weight_to_other_variants"]
        ),
        "community": community_exposure(
            frame["count_community_peer_units"].astype(float),
            frame["count_community_peers_other_variants"].astype(float),
        ),
    }


def analyse_spillover(
    units: pd.DataFrame,
    *,
    control: str = "control",
    alpha: float = 0.05,
    materiality_share: float = 0.25,
    adjustment_method: str = "holm",
) -> pd.DataFrame:
    """Exposure bins and spillover estimates of every user experiment, metric and exposure.

    Parameters
    ----------
    units : pandas.DataFrame
        ``int_experiment_spillover_units_measured``: one row per (experiment, unit,
        metric) with ``variant, metric_value, pre_period_value, weight_to_units,
        weight_to_other_variants, count_community_peer_units,
        count_community_peers_other_variants``.
    control : str
        Name of the control variant; every other variant counts as treated.
    alpha : float
        Level of the intervals and of the significance flags.
    materiality_share : float
        A significant spillover is material when ``|spillover_share|`` is at least this
        share of the readout's ``|lift_relative|`` (any other variant pooled against
        control) on the same metric: it would move the readout by that much.
    adjustment_method : {'holm', 'bh'}
        Adjustment across an experiment's (metric, exposure kind) estimates.

    Returns
    -------
    pandas.DataFrame
        One row per (experiment_id, metric_name, exposure_kind, exposure_level): the
        five bins and ``undefined`` with ``units, mean_exposure, mean_outcome``, and one
        ``all`` row with those over the regression's units and the estimate
        (``spillover_slope, spillover_estimate, ci_low, ci_high, p_value,
        p_value_adjusted, spillover_share, share_units_exposed, lift_relative,
        has_spillover, is_material``).
    """
    rows: list[dict] = []
    for (experiment_id, metric_name), frame in units.groupby(
        ["experiment_id", "metric_name"], sort=True
    ):
        is_control = (frame["variant"] == control).to_numpy()
        if not is_control.any():
            continue
        y_all = frame["metric_value"].to_numpy(dtype=float)
        mean_c = float(y_all[is_control].mean())
        mean_t = float(y_all[~is_control].mean()) if (~is_control).any() else _NAN
        lift = (mean_t - mean_c) / mean_c if mean_c else _NAN
        ctrl = frame[is_control]
        y = ctrl["metric_value"].to_numpy(dtype=float)
        pre = ctrl["pre_period_value"].to_numpy(dtype=float)
        # A unit outside communities is its own cluster.
        clusters = (
            ("community:" + ctrl["community_id"].astype(str))
            .where(ctrl["community_id"].notna(), "unit:" + ctrl["unit_id"].astype(str))
            .to_numpy()
        )
        for kind, x in _exposures(ctrl).items():
            levels = exposure_levels(x)
            base = {"experiment_id": experiment_id, "metric_name": metric_name}
            for name, low, high in (*EXPOSURE_LEVELS, ("undefined", _NAN, _NAN)):
                hit = levels == name
                rows.append(
                    {
                        **base,
                        "exposure_kind": kind,
                        "exposure_level": name,
                        "exposure_low": low,
                        "exposure_high": high,
                        "units": int(hit.sum()),
                        "mean_exposure": float(x[hit].mean()) if hit.any() else _NAN,
                        "mean_outcome": float(y[hit].mean()) if hit.any() else _NAN,
                    }
                )
            ok = np.isfinite(x)
            est = estimate_spillover(y[ok], x[ok], pre[ok], clusters[ok], alpha=alpha)
            rows.append(
                {
                    **base,
                    "exposure_kind": kind,
                    "exposure_level": "all",
                    "exposure_low": 0.0,
                    "exposure_high": 1.0,
                    "units": est.units,
                    "mean_exposure": est.mean_exposure,
                    "mean_outcome": float(y[ok].mean()) if ok.any() else _NAN,
                    "share_units_exposed": est.share_units_exposed,
                    "spillover_baseline": est.baseline,
                    "spillover_slope": est.slope,
                    "spillover_estimate": est.estimate,
                    "ci_low": est.ci_low,
                    "ci_high": est.ci_high,
                    "p_value": est.p_value,
                    "spillover_share": est.spillover_share,
                    "lift_relative": lift,
                }
            )
    columns = [
        "experiment_id", "metric_name", "exposure_kind", "exposure_level", "exposure_low",
        "exposure_high", "units", "mean_exposure", "mean_outcome", "share_units_exposed",
        "spillover_baseline", "spillover_slope", "spillover_estimate", "ci_low", "ci_high",
        "p_value", "p_value_adjusted", "spillover_share", "lift_relative", "has_spillover",
        "is_material",
    ]  # fmt: skip
    out = pd.DataFrame(rows).reindex(columns=columns)
    if out.empty:
        return out
    estimate = out["exposure_level"] == "all"
    out["p_value_adjusted"] = np.nan
    for _, idx in out[estimate].groupby("experiment_id").groups.items():
        out.loc[idx, "p_value_adjusted"] = adjust_p_values(
            out.loc[idx, "p_value"].to_numpy(dtype=float), adjustment_method
        )
    significant = out["p_value_adjusted"] < alpha
    material = significant & (
        out["spillover_share"].abs() >= materiality_share * out["lift_relative"].abs()
    )
    out["has_spillover"] = significant.where(estimate)
    out["is_material"] = material.where(estimate)
    return out


def summarise_health(spillover: pd.DataFrame, experiment_ids) -> pd.DataFrame:
    """One row per user experiment for ``fct_experiment_health``.

    Parameters
    ----------
    spillover : pandas.DataFrame
        The output of :func:`analyse_spillover`.
    experiment_ids : iterable of str
        The user experiments to report (an experiment without estimates gets nulls).

    Returns
    -------
    pandas.DataFrame
        ``experiment_id, spillover_metric_name, spillover_exposure_kind,
        spillover_share, spillover_p_value`` (the estimate with the smallest adjusted
        p-value, ties broken by the raw one), ``has_spillover`` (any significant),
        ``recommend_randomize_by_community`` (any material).
    """
    rows = []
    estimates = spillover[spillover["exposure_level"] == "all"] if len(spillover) else spillover
    for experiment_id in experiment_ids:
        own = estimates[estimates["experiment_id"] == experiment_id] if len(estimates) else []
        tested = own[own["p_value_adjusted"].notna()] if len(own) else own
        if len(tested) == 0:
            rows.append({"experiment_id": experiment_id})
            continue
        best = tested.sort_values(
            ["p_value_adjusted", "p_value", "metric_name", "exposure_kind"]
        ).iloc[0]
        rows.append(
            {
                "experiment_id": experiment_id,
                "spillover_metric_name": best["metric_name"],
                "spillover_exposure_kind": best["exposure_kind"],
                "spillover_share": float(best["spillover_share"]),
                "spillover_p_value": float(best["p_value_adjusted"]),
                "has_spillover": bool(tested["has_spillover"].astype(bool).any()),
                "recommend_randomize_by_community": bool(tested["is_material"].astype(bool).any()),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "experiment_id",
            "spillover_metric_name",
            "spillover_exposure_kind",
            "spillover_share",
            "spillover_p_value",
            "has_spillover",
            "recommend_randomize_by_community",
        ],
    )
