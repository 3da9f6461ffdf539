"""Frequentist statistics of an A/B test readout, on sufficient statistics.

Every function here works on per-arm sums (count, sum, sum of squares, sums of
products), which the warehouse computes in SQL, never on raw rows: a readout of a
million units is a few numbers per arm. The conventions follow GrowthBook's ``gbstats``
0.8.0 (the tests assert parity to 1e-6 on the same inputs): Welch's t-test with the
Welch-Satterthwaite degrees of freedom, the relative lift ``(mean_b - mean_a) / mean_a``
with its variance by the delta method, ratio metrics (``sum(m) / sum(d)`` over units) by
the delta method, and CUPED with one pooled ``theta`` over both arms. A cluster-randomized
experiment (by group or community) is analysed at the cluster level: each cluster is one
unit of a ratio metric (member outcome summed over the cluster / member count), which is
the cluster-robust estimate of the member-level difference, never a naive per-member test.
Sample-ratio mismatch is a chi-square test against the intended split, and the p-values
of an experiment's metrics are adjusted by Holm (or Benjamini-Hochberg).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as _stats

__all__ = [
    "CupedStats",
    "LiftResult",
    "RatioCupedStats",
    "RatioStats",
    "SampleStats",
    "adjust_p_values",
    "cuped_test",
    "member_srm_p_value",
    "parse_traffic_split",
    "ratio_cuped_test",
    "ratio_test",
    "srm_p_value",
    "welch_test",
]


@dataclass(frozen=True)
class SampleStats:
    """Sufficient statistics of a per-unit value in one arm."""

    n: int
    sum: float
    sum_squares: float

    @property
    def mean(self) -> float:
        return self.sum / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        """Sample variance of the per-unit value (denominator ``n - 1``)."""
        if self.n <= 1:
            return 0.0
        return max((self.sum_squares - self.sum**2 / self.n) / (self.n - 1), 0.0)


@dataclass(frozen=True)
class RatioStats:
    """Sufficient statistics of a ratio metric ``sum(m) / sum(d)`` over the units of one arm.

    For a cluster experiment a unit is a cluster, ``m`` its members' summed outcome and
    ``d`` its member count (or member-days).
    """

    n: int
    m_sum: float
    m_sum_squares: float
    d_sum: float
    d_sum_squares: float
    m_d_sum_products: float

    @property
    def mean(self) -> float:
        return self.m_sum / self.d_sum if self.d_sum else 0.0

    @property
    def variance(self) -> float:
        """Per-unit variance of the ratio by the delta method (``n * var(mean)``)."""
        if self.n <= 1 or self.d_sum == 0:
            return 0.0
        m = SampleStats(self.n, self.m_sum, self.m_sum_squares)
        d = SampleStats(self.n, self.d_sum, self.d_sum_squares)
        cov = (self.m_d_sum_products - self.m_sum * self.d_sum / self.n) / (self.n - 1)
        return max(
            m.variance / d.mean**2
            - 2 * cov * m.mean / d.mean**3
            + m.mean**2 * d.variance / d.mean**4,
            0.0,
        )


@dataclass(frozen=True)
class CupedStats:
    """Sufficient statistics of a post-period value and its pre-period value in one arm."""

    n: int
    post_sum: float
    post_sum_squares: float
    pre_sum: float
    pre_sum_squares: float
    post_pre_sum_products: float

    @property
    def post(self) -> SampleStats:
        return SampleStats(self.n, self.post_sum, self.post_sum_squares)

    @property
    def pre(self) -> SampleStats:
        return SampleStats(self.n, self.pre_sum, self.pre_sum_squares)

    @property
    def covariance(self) -> float:
        if self.n <= 1:
            return 0.0
        return (self.post_pre_sum_products - self.post_sum * self.pre_sum / self.n) / (self.n - 1)


@dataclass(frozen=True)
class RatioCupedStats:
    """Sufficient statistics of a ratio metric and its pre-period ratio in one arm.

    Per unit (a cluster): ``m`` and ``d`` the post-period numerator and denominator,
    ``p`` and ``q`` the pre-period ones; the sums of the four values, of their squares
    and of the six cross products.
    """

    n: int
    m_sum: float
    m_sum_squares: float
    d_sum: float
    d_sum_squares: float
    m_d_sum_products: float
    p_sum: float
    p_sum_squares: float
    q_sum: float
    q_sum_squares: float
    p_q_sum_products: float
    m_p_sum_products: float
    m_q_sum_products: float
    d_p_sum_products: float
    d_q_sum_products: float

    @property
    def post(self) -> RatioStats:
        return RatioStats(self.n, self.m_sum, self.m_sum_squares, self.d_sum,
                          self.d_sum_squares, self.m_d_sum_products)  # fmt: skip

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Means of ``(m, d, p, q)`` and their sample covariance matrix (``n - 1``)."""
        sums = np.array([self.m_sum, self.d_sum, self.p_sum, self.q_sum])
        mm, dd, pp, qq = (
            self.m_sum_squares,
            self.d_sum_squares,
            self.p_sum_squares,
            self.q_sum_squares,
        )
        md, mp, mq = self.m_d_sum_products, self.m_p_sum_products, self.m_q_sum_products
        dp, dq, pq = self.d_p_sum_products, self.d_q_sum_products, self.p_q_sum_products
        products = np.array(
            [[mm, md, mp, mq], [md, dd, dp, dq], [mp, dp, pp, pq], [mq, dq, pq, qq]]
        )
        n = self.n
        covariance = (products - np.outer(sums, sums) / n) / (n - 1) if n > 1 else products * 0
        return sums / n, covariance


@dataclass(frozen=True)
class LiftResult:
    """A variant against control: means, lifts with intervals, p-value of the relative lift."""

    units_control: int
    units_variant: int
    mean_control: float
    mean_variant: float
    lift_absolute: float
    lift_absolute_ci_low: float
    lift_absolute_ci_high: float
    p_value_absolute: float
    lift_relative: float
    lift_relative_ci_low: float
    lift_relative_ci_high: float
    p_value: float
    variance_reduction: float | None = None
    """Share of the variance removed by CUPED (None when not adjusted)."""


_NAN = float("nan")


def _welch_dof(var_a: float, n_a: int, var_b: float, n_b: int) -> float:
    num = (var_b / n_b + var_a / n_a) ** 2
    den = var_b**2 / (n_b**2 * (n_b - 1)) + var_a**2 / (n_a**2 * (n_a - 1))
    return num / den if den > 0 else _NAN


def _test(
    n_a: int,
    mean_a: float,
    var_a: float,
    n_b: int,
    mean_b: float,
    var_b: float,
    *,
    alpha: float,
    unadjusted_mean_a: float | None = None,
    unadjusted_mean_b: float | None = None,
    variance_reduction: float | None = None,
) -> LiftResult:
    """The two-sided Welch test on per-unit means and variances (absolute and relative)."""
    # The relative lift and its variance are scaled by the unadjusted means (gbstats).
    base = mean_a if unadjusted_mean_a is None else unadjusted_mean_a
    shown_b = mean_b if unadjusted_mean_b is None else unadjusted_mean_b
    diff = mean_b - mean_a
    if n_a < 2 or n_b < 2 or var_a <= 0 or var_b <= 0:
        nan = _NAN
        return LiftResult(
            n_a, n_b, base, shown_b, diff,
            nan, nan, nan, diff / base if base else nan, nan, nan, nan,
            variance_reduction,
        )  # fmt: skip
    dof = _welch_dof(var_a, n_a, var_b, n_b)
    quantile = float(_stats.t.ppf(1 - alpha / 2, dof))
    se_abs = math.sqrt(var_b / n_b + var_a / n_a)
    p_abs = float(2 * _stats.t.sf(abs(diff) / se_abs, dof))
    if base:
        rel = diff / base
        se_rel = math.sqrt(var_b / (base**2 * n_b) + var_a * shown_b**2 / (base**4 * n_a))
        p_rel = float(2 * _stats.t.sf(abs(rel) / se_rel, dof))
        rel_low, rel_high = rel - quantile * se_rel, rel + quantile * se_rel
    else:
        rel = rel_low = rel_high = p_rel = _NAN
    return LiftResult(
        units_control=n_a,
        units_variant=n_b,
        mean_control=base,
        mean_variant=shown_b,
        lift_absolute=diff,
        lift_absolute_ci_low=diff - quantile * se_abs,
        lift_absolute_ci_high=diff + quantile * se_abs,
        p_value_absolute=p_abs,
        lift_relative=rel,
        lift_relative_ci_low=rel_low,
        lift_relative_ci_high=rel_high,
        p_value=p_rel,
        variance_reduction=variance_reduction,
    )


def welch_test(control: SampleStats, variant: SampleStats, *, alpha: float = 0.05) -> LiftResult:
    """Welch's t-test of a per-unit mean, variant against control.

    Parameters
    ----------
    control, variant : SampleStats
        Sufficient statistics of the per-unit value in each arm.
    alpha : float
        Two-sided level of the intervals (0.05 gives 95% intervals).

    Returns
    -------
    LiftResult
        The relative lift's variance is the delta method's (as gbstats'), its p-value
        the one stored as ``p_value``; intervals are NaN when an arm has fewer than two
        units or no variance.
    """
    return _test(
        control.n, control.mean, control.variance,
        variant.n, variant.mean, variant.variance, alpha=alpha,
    )  # fmt: skip


def ratio_test(control: RatioStats, variant: RatioStats, *, alpha: float = 0.05) -> LiftResult:
    """Welch-type test of a ratio metric by the delta method (also the cluster-level test).

    Parameters
    ----------
    control, variant : RatioStats
        Per-unit numerator and denominator sums of each arm (units are clusters for a
        group- or community-randomized experiment).
    alpha : float
        Two-sided level of the intervals.

    Returns
    -------
    LiftResult
    """
    return _test(
        control.n, control.mean, control.variance,
        variant.n, variant.mean, variant.variance, alpha=alpha,
    )  # fmt: skip


def cuped_test(control: CupedStats, variant: CupedStats, *, alpha: float = 0.05) -> LiftResult:
    """CUPED: the post-period mean adjusted by the unit's own pre-period value.

    ``theta = cov(post, pre) / var(pre)`` is pooled over both arms; each arm's adjusted
    mean is ``mean(post) - theta * mean(pre)`` with variance
    ``var(post) + theta^2 var(pre) - 2 theta cov``, and the relative lift is taken on the
    unadjusted control mean (as gbstats). Without pre-period variance it falls back to the
    unadjusted test (variance reduction 0).

    Returns
    -------
    LiftResult
        ``mean_control`` / ``mean_variant`` are the unadjusted means, the lifts the
        adjusted ones; ``variance_reduction`` is ``1 - var(adjusted) / var(unadjusted)``
        of the estimated absolute lift.
    """
    n = control.n + variant.n
    joint_post = SampleStats(n, control.post_sum + variant.post_sum,
                             control.post_sum_squares + variant.post_sum_squares)  # fmt: skip
    joint_pre = SampleStats(n, control.pre_sum + variant.pre_sum,
                            control.pre_sum_squares + variant.pre_sum_squares)  # fmt: skip
    if joint_pre.variance == 0 or joint_post.variance == 0 or n <= 1:
        result = welch_test(control.post, variant.post, alpha=alpha)
        return _replace(result, variance_reduction=0.0)
    joint_cov = (
        control.post_pre_sum_products
        + variant.post_pre_sum_products
        - joint_post.sum * joint_pre.sum / n
    ) / (n - 1)
    theta = joint_cov / joint_pre.variance

    def adjusted(arm: CupedStats) -> tuple[float, float]:
        mean = arm.post.mean - theta * arm.pre.mean
        var = arm.post.variance + theta**2 * arm.pre.variance - 2 * theta * arm.covariance
        return mean, max(var, 0.0)

    mean_a, var_a = adjusted(control)
    mean_b, var_b = adjusted(variant)
    raw = control.post.variance / control.n + variant.post.variance / variant.n
    new = var_a / control.n + var_b / variant.n
    reduction = 1 - new / raw if raw > 0 else 0.0
    result = _test(
        control.n, mean_a, var_a, variant.n, mean_b, var_b, alpha=alpha,
        unadjusted_mean_a=control.post.mean, unadjusted_mean_b=variant.post.mean,
        variance_reduction=reduction,
    )  # fmt: skip
    return result


def ratio_cuped_test(
    control: RatioCupedStats, variant: RatioCupedStats, *, alpha: float = 0.05
) -> LiftResult:
    """CUPED for a ratio metric (a cluster experiment): adjusted by the pre-period ratio.

    Each arm's post ratio ``R = mean(m) / mean(d)`` and pre ratio
    ``P = mean(p) / mean(q)`` get their variances and covariance by the delta method
    over units; ``theta = (cov_a / n_a + cov_b / n_b) / (var_P_a / n_a + var_P_b / n_b)``
    is pooled over both arms and each arm's adjusted mean is ``R - theta * P``, with the
    per-unit variance ``var_R + theta^2 var_P - 2 theta cov`` (Deng et al. 2013, the
    ratio-metric CUPED). With a denominator of 1 per unit this is CUPED on the unit's own
    values. Without pre-period variance it falls back to the unadjusted ratio test
    (variance reduction 0).

    Parameters
    ----------
    control, variant : RatioCupedStats
        Per-unit sums of each arm.
    alpha : float
        Two-sided level of the intervals.

    Returns
    -------
    LiftResult
        Unadjusted means, adjusted lifts (relative to the unadjusted control ratio, as
        :func:`cuped_test`), and ``variance_reduction = 1 - var(adjusted lift) /
        var(unadjusted lift)``. The relative lift's variance is the delta method's for
        ``(A_b - A_a) / R_a`` with ``A = R - theta P``: the control's unadjusted ratio in
        the denominator brings its own variance and its covariance with ``A_a``.
    """
    arms = []
    for arm in (control, variant):
        mean, cov = arm.moments()
        m, d, p, q = mean
        if arm.n <= 1 or d == 0 or q == 0:
            return _replace(ratio_test(control.post, variant.post, alpha=alpha),
                            variance_reduction=0.0)  # fmt: skip
        g_post = np.array([1 / d, -m / d**2, 0.0, 0.0])
        g_pre = np.array([0.0, 0.0, 1 / q, -p / q**2])
        arms.append((m / d, p / q, g_post @ cov @ g_post, g_pre @ cov @ g_pre,
                     g_post @ cov @ g_pre, arm.n))  # fmt: skip
    pooled_var_pre = sum(a[3] / a[5] for a in arms)
    if pooled_var_pre <= 0:
        return _replace(ratio_test(control.post, variant.post, alpha=alpha),
                        variance_reduction=0.0)  # fmt: skip
    theta = sum(a[4] / a[5] for a in arms) / pooled_var_pre
    adjusted = [
        (post - theta * pre, max(var_post + theta**2 * var_pre - 2 * theta * cov, 0.0))
        for post, pre, var_post, var_pre, cov, _ in arms
    ]
    raw = sum(a[2] / a[5] for a in arms)
    new = sum(var / a[5] for (_, var), a in zip(adjusted, arms, strict=True))
    reduction = 1 - new / raw if raw > 0 else 0.0
    (mean_a, var_a), (mean_b, var_b) = adjusted
    result = _test(
        control.n, mean_a, var_a, variant.n, mean_b, var_b, alpha=alpha,
        unadjusted_mean_a=arms[0][0], unadjusted_mean_b=arms[1][0],
        variance_reduction=reduction,
    )  # fmt: skip
    if math.isnan(result.lift_relative_ci_low) or not arms[0][0]:
        return result
    # The relative lift divides the adjusted difference by the *unadjusted* control
    # ratio, whose variance is var_R, not the adjusted one: with a strong covariate the
    # adjusted variance is a small part of it, and treating it as the base's variance
    # (as gbstats does for unit CUPED) makes the interval too narrow.
    base, diff = arms[0][0], mean_b - mean_a
    scale = diff / base
    var_post_a, cov_a = arms[0][2], arms[0][4]
    var_rel_a = var_a + scale**2 * var_post_a + 2 * scale * (var_post_a - theta * cov_a)
    se_rel = math.sqrt(max(var_b / variant.n + var_rel_a / control.n, 0.0)) / abs(base)
    if se_rel == 0:
        return result
    dof = _welch_dof(var_a, control.n, var_b, variant.n)
    quantile = float(_stats.t.ppf(1 - alpha / 2, dof))
    return _replace(
        result,
        lift_relative_ci_low=result.lift_relative - quantile * se_rel,
        lift_relative_ci_high=result.lift_relative + quantile * se_rel,
        p_value=float(2 * _stats.t.sf(abs(result.lift_relative) / se_rel, dof)),
    )


def _replace(result: LiftResult, **changes) -> LiftResult:
    from dataclasses import replace

    return replace(result, **changes)


def parse_traffic_split(split: str | None, n_variants: int) -> list[float]:
    """The intended share of each variant from ``'50/50'``, ``'10/45/45'`` (equal if None).

    Parameters
    ----------
    split : str or None
        Slash-separated positive weights in the variants' sort order (control first when
        it sorts first); None or empty means an equal split.
    n_variants : int
        Number of variants observed.

    Raises
    ------
    ValueError
        When a weight is not a positive number or their count differs from ``n_variants``.
    """
    if split is None or not str(split).strip():
        return [1.0 / n_variants] * n_variants
    try:
        weights = [float(part) for part in str(split).split("/")]
    except ValueError as error:
        raise ValueError(f"traffic_split {split!r} is not slash-separated numbers") from error
    if len(weights) != n_variants or any(not w > 0 for w in weights):
        raise ValueError(
            f"traffic_split {split!r} needs {n_variants} positive weights, one per variant"
        )
    total = sum(weights)
    return [w / total for w in weights]


def srm_p_value(counts: list[int], weights: list[float] | None = None) -> float:
    """Chi-square p-value of the observed units per variant against the intended split.

    Parameters
    ----------
    counts : list of int
        Units (or members) per variant.
    weights : list of float, optional
        Intended shares (any positive scale); equal when omitted.

    Returns
    -------
    float
        1.0 when nothing was assigned.
    """
    total = sum(counts)
    if not total or len(counts) < 2:
        return 1.0
    weights = weights or [1.0] * len(counts)
    scale = sum(weights)
    chi2 = sum(
        (o - w / scale * total) ** 2 / (w / scale * total)
        for o, w in zip(counts, weights, strict=True)
    )
    return float(_stats.chi2.sf(chi2, len(counts) - 1))


def member_srm_p_value(
    clusters: list[int], members: list[int], cluster_size_sum_squares: float
) -> float:
    """Chi-square p-value of the members per variant of a cluster-randomized experiment.

    Whole clusters are assigned, so members per variant are not a multinomial draw: a
    plain chi-square of members flags nearly every experiment with a few large clusters.
    Given the clusters per variant ``n_k`` (whose split the unit-level SRM tests against
    the intended one), a random assignment gives variant ``k`` the members of ``n_k``
    clusters drawn without replacement: expected ``n_k * mean(s)``, covariance
    ``G / (G - 1) * var(s) * (diag(n) - n n' / G)`` over the ``G`` cluster sizes ``s``.
    The statistic is the Pearson form of that covariance, chi-square with one degree of
    freedom fewer than variants: it flags members per arm that the intended split of
    clusters cannot explain (large clusters piling up in one arm, members lost in one).

    Parameters
    ----------
    clusters : list of int
        Clusters per variant.
    members : list of int
        Members per variant.
    cluster_size_sum_squares : float
        ``sum(s_i^2)`` over every assigned cluster.

    Returns
    -------
    float
        1.0 when the clusters all have the same size or fewer than two variants.
    """
    g, total = sum(clusters), sum(members)
    if len(members) < 2 or g < 2 or not total or any(n <= 0 for n in clusters):
        return 1.0
    mean = total / g
    variance = cluster_size_sum_squares / g - mean**2  # population variance of sizes
    scale = variance * g / (g - 1)
    if scale <= 1e-12 * max(mean**2, 1.0):
        return 1.0
    chi2 = sum((m - n * mean) ** 2 / (n * scale) for n, m in zip(clusters, members, strict=True))
    return float(_stats.chi2.sf(chi2, len(members) - 1))


def adjust_p_values(p_values, method: str = "holm") -> np.ndarray:
    """Family-wise (Holm) or false-discovery (Benjamini-Hochberg) adjusted p-values.

    Parameters
    ----------
    p_values : array-like of float
        Raw p-values of one experiment's metrics; NaN values stay NaN and do not count.
    method : {'holm', 'bh'}
        Holm's step-down (controls the family-wise error) or Benjamini-Hochberg's step-up.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values in the input order, capped at 1.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    valid = ~np.isnan(p)
    values = p[valid]
    m = len(values)
    if m == 0:
        return out
    order = np.argsort(values, kind="mergesort")
    ranked = values[order]
    if method == "holm":
        adjusted = np.maximum.accumulate((m - np.arange(m)) * ranked)
    elif method == "bh":
        adjusted = np.minimum.accumulate((m / np.arange(m, 0, -1)) * ranked[::-1])[::-1]
    else:
        raise ValueError(f"unknown p-value adjustment {method!r}: use 'holm' or 'bh'")
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    out[valid] = result
    return out
