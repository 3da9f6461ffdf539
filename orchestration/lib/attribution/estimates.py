"""Effect of an intervention on a group's members against donor groups (pure functions).

The unit is a group; its outcome on a day is a rate per member-day (activity events,
contents, active members over members). For a target group and ``n`` donor groups over
a pre- and a post-period:

* **Difference-in-differences** of log rates: each group's change ``delta = log(post
  rate) - log(pre rate)`` (rates are member-day weighted over the period; an
  intervention multiplies activity, and logs make that effect, and the noise of a
  group's change, the same whatever the group's level); ``log_effect = delta_target -
  mean(delta_donors)``. Its interval comes from the donors as placebos: if the target
  were one more exchangeable donor, its error ``log_effect - true effect`` is distributed
  like a left-out donor's placebo effect ``delta_j - mean(delta_others)``, whose scale
  is ``s * sqrt(1 + 1/n)`` with ``s`` the donors' standard deviation of ``delta`` (the
  prediction interval of one new unit); ``log_effect +/- t(n - 1) * s * sqrt(1 + 1/n)``,
  exact under exchangeable normal errors. The permutation p-value (the rank of
  ``|log_effect|`` among the donors' placebo effects) is given beside it.
* **Synthetic control**: non-negative donor weights summing to 1 that best reproduce
  the target's daily pre-period rates (least squares, SLSQP); the effect is the mean
  post-period gap between the target and its synthetic twin.
* **Pre-trend check**: the target's pre-period slope (rate per day, least squares on the
  daily rates) against the donors' slopes, tested as the effect is (a new exchangeable
  unit): ``has_pre_trend`` when its p-value is below a level.

The relative effect is ``exp(log_effect) - 1``; the counterfactual post rate is
``pre_target x exp(mean(delta_donors))`` and the absolute effect (per member-day) the
target's post rate minus it, its interval the relative one times the counterfactual.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

__all__ = [
    "DidResult",
    "PreTrendResult",
    "SyntheticControlResult",
    "difference_in_differences",
    "pre_trend",
    "synthetic_control",
    "synthetic_control_weights",
]


@dataclass(frozen=True)
class DidResult:
    """A difference-in-differences estimate (rates per member-day)."""

    effect: float
    """target_post - counterfactual (rate per member-day)."""
    ci_low: float
    ci_high: float
    p_value: float
    placebo_p_value: float
    counterfactual: float
    """target_pre x the donors' geometric mean ratio post / pre."""
    relative_effect: float
    relative_ci_low: float
    relative_ci_high: float
    log_effect: float
    """The difference-in-differences of log rates."""
    log_scale: float
    """Its standard error: sd(donors' log ratios) x sqrt(1 + 1/n)."""
    n_donors: int


def difference_in_differences(
    target_pre: float,
    target_post: float,
    donors_pre: np.ndarray,
    donors_post: np.ndarray,
    *,
    alpha: float = 0.05,
) -> DidResult:
    """Difference-in-differences of log rates against donors, with a placebo interval.

    Parameters
    ----------
    target_pre, target_post : float
        The target's rate in the pre- and post-period (positive).
    donors_pre, donors_post : array of float
        The donors' rates, one per donor (at least two donors with both positive).
    alpha : float, default 0.05
        Two-sided level of the interval.

    Returns
    -------
    DidResult
        ``log_effect = log(target_post / target_pre) - mean(log(donor_post /
        donor_pre))`` with the t interval of a new exchangeable unit (the donors as
        placebos) and the permutation p-value over the donors' placebo effects; the
        relative effect ``exp(log_effect) - 1`` and its interval; the absolute effect
        ``target_post - counterfactual`` with the interval scaled by the counterfactual.
    """
    pre, post = np.asarray(donors_pre, float), np.asarray(donors_post, float)
    if pre.size != post.size:
        raise ValueError("donors_pre and donors_post differ in length")
    keep = (pre > 0) & (post > 0)
    n = int(keep.sum())
    if n < 2 or not (target_pre > 0 and target_post > 0):
        raise ValueError(f"need positive target rates and two donors with them, got {n}")
    delta = np.log(post[keep]) - np.log(pre[keep])
    mean_delta = float(delta.mean())
    log_effect = float(np.log(target_post) - np.log(target_pre) - mean_delta)
    scale = float(delta.std(ddof=1)) * np.sqrt(1 + 1 / n)
    t = stats.t.ppf(1 - alpha / 2, n - 1)
    if scale > 0:
        p_value = float(2 * stats.t.sf(abs(log_effect) / scale, n - 1))
    else:
        p_value = 0.0 if log_effect != 0 else 1.0
    placebo = delta - (delta.sum() - delta) / (n - 1)
    placebo_p_value = float((1 + np.sum(np.abs(placebo) >= abs(log_effect) - 1e-12)) / (n + 1))
    counterfactual = float(target_pre * np.exp(mean_delta))
    low, high = np.expm1(log_effect - t * scale), np.expm1(log_effect + t * scale)
    return DidResult(
        effect=float(target_post - counterfactual),
        ci_low=float(low * counterfactual),
        ci_high=float(high * counterfactual),
        p_value=p_value,
        placebo_p_value=placebo_p_value,
        counterfactual=counterfactual,
        relative_effect=float(np.expm1(log_effect)),
        relative_ci_low=float(low),
        relative_ci_high=float(high),
        log_effect=log_effect,
        log_scale=scale,
        n_donors=n,
    )


@dataclass(frozen=True)
class PreTrendResult:
    """The target's pre-period slope against the donors'."""

    slope_difference: float
    p_value: float
    has_pre_trend: bool


def _slopes(days: np.ndarray, rates: np.ndarray) -> np.ndarray:
    # Least-squares slope of each row of ``rates`` (units x days) on ``days``.
    x = days - days.mean()
    return (rates - rates.mean(axis=1, keepdims=True)) @ x / float(x @ x)


def pre_trend(
    days: np.ndarray,
    target_rates: np.ndarray,
    donor_rates: np.ndarray,
    *,
    alpha: float = 0.05,
) -> PreTrendResult:
    """Pre-trend check: is the target's pre-period slope unlike the donors'?

    Parameters
    ----------
    days : array of float
        The pre-period days as numbers (at least three).
    target_rates : array of float
        The target's daily rates on those days.
    donor_rates : array of float, shape (donors, days)
        The donors' daily rates (at least two donors).
    alpha : float, default 0.05
        Level below which ``has_pre_trend`` is set.

    Returns
    -------
    PreTrendResult
        ``slope_difference`` (target slope - mean donor slope, rate per day), its
        p-value (t with ``n - 1`` degrees of freedom, scale ``sd(donor slopes) *
        sqrt(1 + 1/n)``) and the flag.
    """
    days = np.asarray(days, float)
    donors = np.atleast_2d(np.asarray(donor_rates, float))
    n = donors.shape[0]
    if days.size < 3 or n < 2:
        raise ValueError("need at least three pre-period days and two donors")
    target_slope = float(_slopes(days, np.asarray(target_rates, float)[None, :])[0])
    donor_slopes = _slopes(days, donors)
    difference = target_slope - float(donor_slopes.mean())
    scale = float(donor_slopes.std(ddof=1)) * np.sqrt(1 + 1 / n)
    if scale > 0:
        p_value = float(2 * stats.t.sf(abs(difference) / scale, n - 1))
    else:
        p_value = 0.0 if difference != 0 else 1.0
    return PreTrendResult(difference, p_value, p_value < alpha)


@dataclass(frozen=True)
class SyntheticControlResult:
    """A synthetic-control estimate."""

    weights: np.ndarray
    effect: float
    """Mean post-period gap target - synthetic twin."""
    pre_rmse: float
    """Root mean squared pre-period gap (how well the twin fits)."""


def synthetic_control_weights(target_pre: np.ndarray, donors_pre: np.ndarray) -> np.ndarray:
    """Non-negative weights summing to 1 that best reproduce the target's pre-period.

    Parameters
    ----------
    target_pre : array of float, shape (days,)
        The target's pre-period outcomes.
    donors_pre : array of float, shape (donors, days)
        The donors' pre-period outcomes.

    Returns
    -------
    numpy.ndarray
        ``argmin ||target_pre - w @ donors_pre||^2`` over the simplex (SLSQP from equal
        weights, then clipped at 0 and renormalised against rounding).
    """
    donors = np.atleast_2d(np.asarray(donors_pre, float))
    target = np.asarray(target_pre, float)
    n = donors.shape[0]
    if n == 1:
        return np.ones(1)
    gram = donors @ donors.T
    linear = donors @ target

    def loss(w):
        return float(w @ gram @ w - 2 * w @ linear)

    def grad(w):
        return 2 * (gram @ w - linear)

    fitted = optimize.minimize(
        loss,
        np.full(n, 1 / n),
        jac=grad,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * n,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1, "jac": lambda w: np.ones(n)}],
        options={"ftol": 1e-12, "maxiter": 500},
    )
    weights = np.clip(fitted.x, 0, None)
    return weights / weights.sum()


def synthetic_control(
    target_pre: np.ndarray,
    target_post: np.ndarray,
    donors_pre: np.ndarray,
    donors_post: np.ndarray,
) -> SyntheticControlResult:
    """Synthetic-control estimate of the effect (see :func:`synthetic_control_weights`).

    Parameters
    ----------
    target_pre, target_post : array of float
        The target's daily outcomes before and after the start.
    donors_pre, donors_post : array of float, shape (donors, days)
        The donors' daily outcomes on the same days.

    Returns
    -------
    SyntheticControlResult
    """
    weights = synthetic_control_weights(target_pre, donors_pre)
    pre_gap = np.asarray(target_pre, float) - weights @ np.atleast_2d(donors_pre)
    post_gap = np.asarray(target_post, float) - weights @ np.atleast_2d(donors_post)
    return SyntheticControlResult(
        weights=weights,
        effect=float(post_gap.mean()),
        pre_rmse=float(np.sqrt(np.mean(pre_gap**2))),
    )
