"""CUPED for ratio metrics (cluster experiments): an independent recomputation from the
units' values by the influence functions, its reduction to unit CUPED, and coverage."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from orchestration.lib.experiments.stats import (
    RatioCupedStats,
    member_srm_p_value,
    ratio_cuped_test,
    ratio_test,
    srm_p_value,
)


def _sums(m, d, p, q) -> RatioCupedStats:
    return RatioCupedStats(
        len(m), m.sum(), (m * m).sum(), d.sum(), (d * d).sum(), (m * d).sum(),
        p.sum(), (p * p).sum(), q.sum(), (q * q).sum(), (p * q).sum(),
        (m * p).sum(), (m * q).sum(), (d * p).sum(), (d * q).sum(),
    )  # fmt: skip


def _clusters(rng, n, rate, lift=1.0):
    """Clusters of varied size; the pre-period rate predicts the post-period one."""
    size = rng.integers(4, 60, n).astype(float)
    cluster_rate = rate * rng.gamma(4.0, 0.25, n)
    q = size * rng.uniform(20, 28, n)  # pre-period member-days
    d = size * rng.uniform(18, 24, n)  # post-period member-days
    p = rng.poisson(cluster_rate * q).astype(float)
    m = rng.poisson(lift * cluster_rate * d).astype(float)
    return m, d, p, q


def _reference(a, b, alpha=0.05):
    """The adjusted lift from the units' values: influence functions, pooled theta."""
    parts = []
    for m, d, p, q in (a, b):
        r, s = m.sum() / d.sum(), p.sum() / q.sum()
        phi_post = (m - r * d) / d.mean()
        phi_pre = (p - s * q) / q.mean()
        parts.append((r, s, phi_post, phi_pre, len(m)))
    cov = [np.cov(x[2], x[3], ddof=1) for x in parts]
    theta = sum(c[0, 1] / x[4] for c, x in zip(cov, parts, strict=True)) / sum(
        c[1, 1] / x[4] for c, x in zip(cov, parts, strict=True)
    )
    (ra, sa, post_a, pre_a, na), (rb, sb, post_b, pre_b, nb) = parts
    adjusted_a, adjusted_b = post_a - theta * pre_a, post_b - theta * pre_b
    var_a, var_b = adjusted_a.var(ddof=1), adjusted_b.var(ddof=1)
    diff = (rb - theta * sb) - (ra - theta * sa)
    rel = diff / ra
    # Influence of each unit on (A_b - A_a) / R_a, theta held fixed.
    infl_a = -(adjusted_a + rel * post_a) / ra
    infl_b = adjusted_b / ra
    se_rel = np.sqrt(infl_a.var(ddof=1) / na + infl_b.var(ddof=1) / nb)
    dof = (var_a / na + var_b / nb) ** 2 / (
        var_a**2 / (na**2 * (na - 1)) + var_b**2 / (nb**2 * (nb - 1))
    )
    quantile = sps.t.ppf(1 - alpha / 2, dof)
    reduction = 1 - (var_a / na + var_b / nb) / (post_a.var(ddof=1) / na + post_b.var(ddof=1) / nb)
    return diff, rel, rel - quantile * se_rel, rel + quantile * se_rel, reduction


def test_matches_an_independent_recomputation_from_the_units():
    rng = np.random.default_rng(5)
    a, b = _clusters(rng, 80, 0.3), _clusters(rng, 90, 0.3, lift=1.2)
    ours = ratio_cuped_test(_sums(*a), _sums(*b))
    diff, rel, low, high, reduction = _reference(a, b)
    assert ours.lift_absolute == pytest.approx(diff, abs=1e-9)
    assert ours.lift_relative == pytest.approx(rel, abs=1e-9)
    assert ours.lift_relative_ci_low == pytest.approx(low, abs=1e-9)
    assert ours.lift_relative_ci_high == pytest.approx(high, abs=1e-9)
    assert ours.variance_reduction == pytest.approx(reduction, abs=1e-9)
    assert ours.variance_reduction > 0.3  # the pre-period rate predicts the post one
    plain = ratio_test(_sums(*a).post, _sums(*b).post)
    assert ours.mean_control == pytest.approx(plain.mean_control)
    assert ours.mean_variant == pytest.approx(plain.mean_variant)
    assert (ours.lift_relative_ci_high - ours.lift_relative_ci_low) < (
        plain.lift_relative_ci_high - plain.lift_relative_ci_low
    )


def test_denominator_one_is_unit_cuped_with_the_pooled_theta():
    rng = np.random.default_rng(3)
    arms = []
    for lift in (1.0, 1.3):
        pre = rng.poisson(3.0, 500).astype(float)
        post = rng.poisson(lift * (0.5 + 0.8 * pre)).astype(float)
        arms.append((post, np.ones(500), pre, np.ones(500)))
    ours = ratio_cuped_test(_sums(*arms[0]), _sums(*arms[1]))
    (ya, _, xa, _), (yb, _, xb, _) = arms
    theta = (np.cov(ya, xa)[0, 1] + np.cov(yb, xb)[0, 1]) / (xa.var(ddof=1) + xb.var(ddof=1))
    expected = (yb.mean() - theta * xb.mean()) - (ya.mean() - theta * xa.mean())
    assert ours.lift_absolute == pytest.approx(expected, abs=1e-9)


def test_without_pre_period_variance_it_is_the_unadjusted_test():
    rng = np.random.default_rng(2)
    a, b = _clusters(rng, 30, 0.3), _clusters(rng, 30, 0.3)
    flat = [(m, d, np.ones_like(m), np.ones_like(m)) for m, d, _, _ in (a, b)]
    ours = ratio_cuped_test(_sums(*flat[0]), _sums(*flat[1]))
    plain = ratio_test(_sums(*a).post, _sums(*b).post)
    assert ours.variance_reduction == 0.0
    assert ours.p_value == pytest.approx(plain.p_value)


def test_coverage_of_the_planted_effect():
    # 1,000 simulated cluster experiments (60 clusters per arm, +20%): the 95% interval
    # of the adjusted relative lift covers the planted effect about 95% of the time.
    rng = np.random.default_rng(7)
    covered, reductions = 0, []
    for _ in range(1000):
        a, b = _clusters(rng, 60, 0.3), _clusters(rng, 60, 0.3, lift=1.2)
        r = ratio_cuped_test(_sums(*a), _sums(*b))
        covered += r.lift_relative_ci_low <= 0.2 <= r.lift_relative_ci_high
        reductions.append(r.variance_reduction)
    assert 0.93 <= covered / 1000 <= 0.97
    assert np.mean(reductions) > 0.3


def test_member_srm_accounts_for_whole_clusters_being_assigned():
    # A/A: 200 clusters of lognormal sizes, half to each arm at random, 4,000 times. The
    # test conditional on the clusters per arm keeps its level (a normal approximation:
    # with only 40 such clusters it is conservative); a plain chi-square of members
    # does not.
    rng = np.random.default_rng(9)
    for n_clusters, low in ((200, 0.04), (40, 0.02)):
        sizes = np.round(rng.lognormal(3.0, 1.0, n_clusters)).astype(int) + 1
        squares, half = float((sizes**2).sum()), n_clusters // 2
        ours, naive = [], []
        for _ in range(4000):
            treated = rng.permutation(n_clusters) < half
            members = [int(sizes[~treated].sum()), int(sizes[treated].sum())]
            ours.append(member_srm_p_value([half, half], members, squares))
            naive.append(srm_p_value(members))
        assert low <= np.mean(np.array(ours) < 0.05) <= 0.065
        assert np.mean(np.array(naive) < 0.05) > 0.5
    # Two arms: the z-test of one arm's members against the hypergeometric variance.
    g, n1 = 40, 20
    var = n1 * (g - n1) / (g - 1) * sizes.var()
    z = (members[0] - n1 * sizes.mean()) / np.sqrt(var)
    assert member_srm_p_value([20, 20], members, squares) == pytest.approx(
        2 * sps.norm.sf(abs(z)), rel=1e-9
    )
    # Clusters of one member each: no evidence either way; the treatment's clusters
    # three times as large as the control's: flagged.
    assert member_srm_p_value([500, 500], [500, 500], 1000.0) == 1.0
    big = np.r_[np.full(30, 10), np.full(30, 30)]
    assert member_srm_p_value([30, 30], [300, 900], float((big**2).sum())) < 1e-6
