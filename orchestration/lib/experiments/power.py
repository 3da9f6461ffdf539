"""Design help: how small an effect an experiment can detect, from warehouse sums.

The warehouse measures, per catalog metric and unit type, a few sums over a recent
window (``int_experiment_power_sums_aggregated``: units, their sizes, the members'
summed and squared outcomes, the pre-period outcome). This module turns them into the
figures of ``fct_experiment_power``: the intra-cluster correlation (one-way ANOVA
estimator for unequal cluster sizes), the coefficient of variation of cluster sizes, the
design effect of Eldridge, Ashby & Kerry (2006, Int. J. Epidemiol. 35:1292-1300,
equation 6), ``1 + ((1 + CV^2) m_bar - 1) ICC``, and the minimum detectable relative
effect of a test of the smallest treatment arm against control over the available units,
split as the planned ``traffic_split`` says (equal by default). The power equation is
the two-sided two-sample t-test's with ``n_1 + n_2 - 2`` degrees of freedom (the
readout's Welch test on units; clusters are the units of a cluster experiment), solved
exactly as statsmodels' ``TTestIndPower`` does (the normal one, ``NormalIndPower``, is
here as well); the tests check both to 1e-6. After CUPED the detectable effect shrinks by
``sqrt(1 - rho^2)`` with ``rho`` the measured correlation of the units' post- and
pre-period values (Deng et al. 2013).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import integrate as _integrate, optimize as _optimize, stats as _stats

from orchestration.lib.experiments.stats import parse_traffic_split

__all__ = [
    "cluster_size_cv",
    "cuped_mde",
    "design_effect",
    "icc_anova",
    "measure_power",
    "pre_post_correlation",
    "split_arms",
    "standardized_mde",
    "two_sample_power",
]

_NAN = float("nan")
_CLUSTER_UNITS = ("group", "community")


def icc_anova(
    count_clusters: int,
    count_members: float,
    sum_members_squared: float,
    sum_values: float,
    sum_value_squares: float,
    sum_cluster_value_squares_per_member: float,
) -> float:
    """Intra-cluster correlation by the one-way ANOVA estimator (unequal sizes).

    ``ICC = (MSB - MSW) / (MSB + (n0 - 1) MSW)`` with ``n0 = (N - sum n_i^2 / N) /
    (k - 1)`` (Donner 1986), from sums over members and clusters.

    Parameters
    ----------
    count_clusters : int
        Clusters ``k``.
    count_members : float
        Members ``N = sum n_i``.
    sum_members_squared : float
        ``sum n_i^2``.
    sum_values, sum_value_squares : float
        ``sum y`` and ``sum y^2`` over members.
    sum_cluster_value_squares_per_member : float
        ``sum_i (sum_j y_ij)^2 / n_i``.

    Returns
    -------
    float
        The estimate (it can be negative: less alike within clusters than between);
        NaN with fewer than two clusters, no within-cluster degrees of freedom, or no
        variance.
    """
    k, n = count_clusters, count_members
    if k < 2 or n - k < 1:
        return _NAN
    between = sum_cluster_value_squares_per_member - sum_values**2 / n
    within = sum_value_squares - sum_cluster_value_squares_per_member
    msb, msw = between / (k - 1), max(within, 0.0) / (n - k)
    n0 = (n - sum_members_squared / n) / (k - 1)
    denominator = msb + (n0 - 1) * msw
    return (msb - msw) / denominator if denominator > 0 else _NAN


def cluster_size_cv(count_clusters: int, count_members: float, sum_members_squared: float) -> float:
    """Coefficient of variation of cluster sizes, ``sd(n_i) / mean(n_i)``.

    The standard deviation divides by ``k`` (not ``k - 1``): then
    ``sum n_i^2 / sum n_i = m_bar (1 + CV^2)`` exactly, the size-weighted mean cluster
    size that Eldridge et al.'s design effect stands for.
    """
    if count_clusters < 1 or count_members <= 0:
        return _NAN
    mean = count_members / count_clusters
    variance = max(sum_members_squared / count_clusters - mean**2, 0.0)
    return math.sqrt(variance) / mean


def design_effect(icc: float, cv: float, mean_cluster_size: float) -> float:
    """Eldridge, Ashby & Kerry (2006), eq. 6: ``1 + ((1 + CV^2) m_bar - 1) ICC``.

    The variance inflation of a member-level mean when whole clusters of varying size
    are randomized and every member weighs the same (the readout's ratio over clusters).
    With equal sizes (``CV = 0``) it is Kish's ``1 + (m - 1) ICC``.
    """
    return 1 + ((1 + cv**2) * mean_cluster_size - 1) * icc


def two_sample_power(
    effect_size: float,
    nobs1: float,
    *,
    alpha: float = 0.05,
    ratio: float = 1.0,
    test: str = "t",
) -> float:
    """Power of the two-sided two-sample test of a standardized difference.

    Parameters
    ----------
    effect_size : float
        Difference in means / the per-unit standard deviation (Cohen's d).
    nobs1 : float
        Units in the first arm; the second has ``ratio * nobs1``.
    alpha : float
        Two-sided level.
    ratio : float
        Second arm / first arm.
    test : {"t", "z"}
        ``t``: noncentral t with ``n_1 + n_2 - 2`` degrees of freedom
        (``TTestIndPower``); ``z``: normal (``NormalIndPower``).

    Returns
    -------
    float
        The probability that the test rejects, both tails counted.
    """
    nobs2 = ratio * nobs1
    noncentrality = effect_size * math.sqrt(nobs1 * nobs2 / (nobs1 + nobs2))
    if test == "z":
        crit = _stats.norm.isf(alpha / 2)
        return float(_stats.norm.sf(crit - noncentrality) + _stats.norm.cdf(-crit - noncentrality))
    if test != "t":
        raise ValueError(f"test {test!r}: use 't' or 'z'")
    dof = nobs1 + nobs2 - 2
    crit = _stats.t.isf(alpha / 2, dof)
    result = float(
        _stats.nct.sf(crit, dof, noncentrality) + _stats.nct.cdf(-crit, dof, noncentrality)
    )
    if math.isnan(result) and dof >= 30:
        # scipy's noncentral t fails far in the tail (power within 1e-15 of 1); with 30
        # degrees of freedom or more the normal tail at the t critical value is as close.
        result = float(
            _stats.norm.sf(crit - noncentrality) + _stats.norm.cdf(-crit - noncentrality)
        )
    elif math.isnan(result):
        # With few degrees of freedom scipy's noncentral t also fails at large
        # noncentralities (3 df: from about 23), where the normal tail is far off.
        result = _noncentral_t_power(crit, dof, noncentrality)
    return result


def _noncentral_t_power(crit: float, dof: float, noncentrality: float) -> float:
    """``P(|T| > crit)`` for ``T`` noncentral t, by integrating over the chi-square.

    ``T = (Z + delta) / sqrt(V / dof)`` with ``V ~ chi2(dof)``, so ``P(T > c) =
    E[Phi(delta - c sqrt(V / dof))]`` and ``P(T < -c) = E[Phi(-delta - c sqrt(V /
    dof))]``: one smooth integral of the chi-square density (adaptive quadrature, within
    1e-12 of scipy's ``nct`` where that one is defined), used where ``nct`` returns NaN.
    """

    def integrand(v: float) -> float:
        scale = crit * math.sqrt(v / dof)
        tails = _stats.norm.cdf(noncentrality - scale) + _stats.norm.cdf(-noncentrality - scale)
        return float(tails * _stats.chi2.pdf(v, dof))

    value, _ = _integrate.quad(integrand, 0, math.inf, epsabs=1e-13, epsrel=1e-12, limit=200)
    return float(min(max(value, 0.0), 1.0))


def standardized_mde(
    nobs1: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    test: str = "t",
) -> float:
    """The smallest standardized difference detected with ``power`` (two-sided ``alpha``).

    Solves :func:`two_sample_power` ``= power`` for the effect size (Brent's method to
    machine precision).

    Returns
    -------
    float
        Cohen's d; NaN when there are too few units (fewer than 4 in all for ``t``).
    """
    if not 0 < alpha < 1 or not alpha < power < 1:
        raise ValueError(f"need 0 < alpha ({alpha}) < power ({power}) < 1")
    nobs2 = ratio * nobs1
    # Below 2 degrees of freedom scipy's noncentral t is unreliable (and such a design
    # is no design): no MDE.
    if nobs1 <= 0 or nobs2 <= 0 or (test == "t" and nobs1 + nobs2 - 2 < 2):
        return _NAN
    # Bracket from the normal approximation, where the noncentral t is well behaved.
    normal_d = (_stats.norm.isf(alpha / 2) + _stats.norm.ppf(power)) * math.sqrt(
        1 / nobs1 + 1 / nobs2
    )
    upper = 1.5 * normal_d
    while not two_sample_power(upper, nobs1, alpha=alpha, ratio=ratio, test=test) >= power:
        upper *= 2
        if upper > 1e6:  # unreachable power, or scipy's noncentral t fails (few df)
            return _NAN
    return float(
        _optimize.brentq(
            lambda d: two_sample_power(d, nobs1, alpha=alpha, ratio=ratio, test=test) - power,
            0.0,
            upper,
            xtol=1e-14,
            rtol=1e-14,
        )
    )


def cuped_mde(mde: float, correlation: float) -> float:
    """The detectable effect after CUPED: ``mde * sqrt(1 - rho^2)``.

    CUPED with the optimal ``theta`` removes the share ``rho^2`` of the variance, so the
    standard error, and with it the detectable effect, shrinks by ``sqrt(1 - rho^2)``.
    """
    return mde * math.sqrt(max(1 - correlation**2, 0.0))


def pre_post_correlation(
    count_units: int,
    sum_members: float,
    sum_members_squared: float,
    sum_values: float,
    sum_value_squares: float,
    sum_value_members: float,
    sum_pre_values: float,
    sum_pre_value_squares: float,
    sum_pre_value_members: float,
    sum_value_pre_products: float,
) -> float:
    """Correlation of the units' post- and pre-period values, as CUPED uses it.

    For a cluster the value is a ratio ``m_i / n_i`` (members' summed outcome over
    members), so the correlation is that of the delta method's linearized values
    ``m_i - R n_i`` and ``p_i - P n_i`` (``R``, ``P``: pooled post and pre ratios), the
    covariate of the readout's ratio CUPED. For users every ``n_i`` is 1 and it is the
    plain Pearson correlation.

    Returns
    -------
    float
        In [-1, 1]; NaN with fewer than three units or a constant value.
    """
    k = count_units
    if k < 3 or sum_members <= 0:
        return _NAN

    def cov(sum_xy: float, sum_x: float, sum_y: float) -> float:
        return (sum_xy - sum_x * sum_y / k) / (k - 1)

    post_ratio, pre_ratio = sum_values / sum_members, sum_pre_values / sum_members
    var_n = cov(sum_members_squared, sum_members, sum_members)
    var_post = (
        cov(sum_value_squares, sum_values, sum_values)
        - 2 * post_ratio * cov(sum_value_members, sum_values, sum_members)
        + post_ratio**2 * var_n
    )
    var_pre = (
        cov(sum_pre_value_squares, sum_pre_values, sum_pre_values)
        - 2 * pre_ratio * cov(sum_pre_value_members, sum_pre_values, sum_members)
        + pre_ratio**2 * var_n
    )
    covariance = (
        cov(sum_value_pre_products, sum_values, sum_pre_values)
        - pre_ratio * cov(sum_value_members, sum_values, sum_members)
        - post_ratio * cov(sum_pre_value_members, sum_pre_values, sum_members)
        + post_ratio * pre_ratio * var_n
    )
    if var_post <= 1e-15 * max(abs(sum_value_squares), 1) or var_pre <= 0:
        return _NAN
    return float(np.clip(covariance / math.sqrt(var_post * var_pre), -1.0, 1.0))


def split_arms(traffic_split: str | None) -> tuple[str, float, float]:
    """The planned split, the control's share and the smallest treatment arm's share.

    Parameters
    ----------
    traffic_split : str or None
        Slash-separated weights, control first (``'50/50'``, ``'20/80'``, ``'10/45/45'``,
        as the raw ``experiments.traffic_split``); None means two equal arms.

    Returns
    -------
    tuple
        ``(split, control_share, variant_share)``: the split normalized to percentages
        (``'20/80'``), the control arm's share of the units and that of the smallest
        other arm (the arm whose test against control has the least power).

    Raises
    ------
    ValueError
        When the split is not at least two positive numbers.
    """
    parts = 2 if traffic_split is None else len(str(traffic_split).split("/"))
    if parts < 2:
        raise ValueError(f"traffic_split {traffic_split!r} needs a control and another arm")
    shares = parse_traffic_split(traffic_split, parts)
    label = "/".join(f"{100 * share:.4g}" for share in shares)
    return label, shares[0], min(shares[1:])


def measure_power(
    sums: pd.DataFrame,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    traffic_split: str | None = None,
) -> pd.DataFrame:
    """The design-help figures of each (metric, unit type) row of warehouse sums.

    The relative MDE is ``d * sd_unit / mean``, with ``d`` from :func:`standardized_mde`
    over ``n_1 = w_c k`` control units and ``n_2 = w_v k`` variant units (t-test; ``w_c``
    the control's share and ``w_v`` the smallest other arm's, :func:`split_arms`; equal
    arms ``k / 2`` each by default), so the variance of the difference is
    ``sd_unit^2 (1 / n_1 + 1 / n_2)``, and ``sd_unit`` the standard
    deviation of a unit's value: for users the per-user one, for clusters
    ``sd_member * sqrt(DE / m_bar)``, so that the variance of an arm's member-level mean
    over ``k`` clusters is ``sd_member^2 DE / (k m_bar)``. A negative ICC estimate is
    taken as 0 in the design effect (clustering does not help a randomized test).

    Parameters
    ----------
    sums : pandas.DataFrame
        The rows of ``int_experiment_power_sums_aggregated``.
    alpha, power : float
        Two-sided level and power.
    traffic_split : str, optional
        The planned split, control first (``'20/80'``, ``'10/45/45'``); equal arms if None.

    Returns
    -------
    pandas.DataFrame
        ``metric_name, unit_type, window_start_at, window_end_at, count_units,
        count_members, avg_members_per_unit, cluster_size_cv, icc, design_effect,
        metric_mean, metric_stddev, pre_post_correlation, alpha, power, traffic_split,
        count_units_control, count_units_variant, mde_standardized, mde_relative,
        mde_relative_cuped``; one row per input row.
    """
    split, control_share, variant_share = split_arms(traffic_split)
    rows = []
    for row in sums.itertuples(index=False):
        k, n = int(row.count_units), float(row.sum_members)
        is_cluster = row.unit_type in _CLUSTER_UNITS
        mean = row.sum_values / n if n else _NAN
        variance = (
            max((row.sum_member_value_squares - row.sum_values**2 / n) / (n - 1), 0.0)
            if n > 1
            else _NAN
        )
        mean_size = n / k if k else _NAN
        if is_cluster:
            cv = cluster_size_cv(k, n, row.sum_members_squared)
            icc = icc_anova(
                k,
                n,
                row.sum_members_squared,
                row.sum_values,
                row.sum_member_value_squares,
                row.sum_cluster_value_squares_per_member,
            )
            effect = design_effect(max(icc, 0.0), cv, mean_size) if not math.isnan(icc) else _NAN
        else:
            cv, icc, effect = _NAN, _NAN, 1.0
        d = (
            standardized_mde(
                control_share * k, alpha=alpha, power=power, ratio=variant_share / control_share
            )
            if k
            else _NAN
        )
        # No spread measured (a constant outcome, or one unit): no honest MDE.
        has_spread = k > 0 and n > 1 and variance > 0
        unit_sd = math.sqrt(variance * effect / mean_size) if has_spread else _NAN
        mde = d * unit_sd / mean if mean and not math.isnan(mean) else _NAN
        rho = (
            pre_post_correlation(
                k,
                n,
                row.sum_members_squared,
                row.sum_values,
                row.sum_cluster_value_squares,
                row.sum_cluster_value_members,
                row.sum_pre_period_values,
                row.sum_pre_period_value_squares,
                row.sum_pre_period_value_members,
                row.sum_value_pre_period_products,
            )
            if not pd.isna(row.sum_pre_period_values)
            else _NAN
        )
        rows.append(
            {
                "metric_name": row.metric_name,
                "unit_type": row.unit_type,
                "window_start_at": row.window_start_at,
                "window_end_at": row.window_end_at,
                "count_units": k,
                "count_members": int(n) if is_cluster else None,
                "avg_members_per_unit": mean_size if is_cluster else None,
                "cluster_size_cv": cv,
                "icc": icc,
                "design_effect": effect,
                "metric_mean": mean,
                "metric_stddev": math.sqrt(variance) if not math.isnan(variance) else _NAN,
                "pre_post_correlation": rho,
                "alpha": alpha,
                "power": power,
                "traffic_split": split,
                "count_units_control": control_share * k,
                "count_units_variant": variant_share * k,
                "mde_standardized": d,
                "mde_relative": mde,
                "mde_relative_cuped": cuped_mde(mde, rho) if not math.isnan(rho) else _NAN,
            }
        )
    return pd.DataFrame(rows)
