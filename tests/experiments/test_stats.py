"""Parity of the experiment statistics with gbstats 0.8.0 and statsmodels, to 1e-6."""

from __future__ import annotations

import numpy as np
import pytest

from orchestration.lib.experiments.stats import (
    CupedStats,
    RatioStats,
    SampleStats,
    adjust_p_values,
    cuped_test,
    parse_traffic_split,
    ratio_test,
    srm_p_value,
    welch_test,
)

gb_stats = pytest.importorskip("gbstats.models.statistics")
gb_tests = pytest.importorskip("gbstats.frequentist.tests")
gb_utils = pytest.importorskip("gbstats.utils")
multitest = pytest.importorskip("statsmodels.stats.multitest")
sm = pytest.importorskip("statsmodels.api")

TOL = 1e-6


def _gb(stat_a, stat_b):
    return gb_tests.TwoSidedTTest(stat_a, stat_b).compute_result()


def test_gbstats_fixture_matches_published_figures_and_live_output():
    a = SampleStats(n=3407, sum=1396.87, sum_squares=52377.9767)
    b = SampleStats(n=3461, sum=2422.7, sum_squares=134698.29)
    ours = welch_test(a, b)
    live = _gb(
        gb_stats.SampleMeanStatistic(n=3407, sum=1396.87, sum_squares=52377.9767),
        gb_stats.SampleMeanStatistic(n=3461, sum=2422.7, sum_squares=134698.29),
    )
    assert ours.lift_relative == pytest.approx(live.expected, abs=TOL)
    assert ours.lift_relative_ci_low == pytest.approx(live.ci[0], abs=TOL)
    assert ours.lift_relative_ci_high == pytest.approx(live.ci[1], abs=TOL)
    assert ours.p_value == pytest.approx(live.p_value, abs=TOL)
    # gbstats' own published figures for this fixture
    assert round(ours.lift_relative, 5) == 0.70732
    assert (round(ours.lift_relative_ci_low, 5), round(ours.lift_relative_ci_high, 5)) == (
        -0.03526,
        1.44989,
    )
    assert round(ours.p_value, 5) == 0.06191


def test_welch_absolute_matches_scipy_and_gbstats_absolute():
    rng = np.random.default_rng(1)
    x, y = rng.poisson(3.0, 400).astype(float), rng.poisson(3.3, 380).astype(float)
    ours = welch_test(SampleStats(len(x), x.sum(), (x**2).sum()),
                      SampleStats(len(y), y.sum(), (y**2).sum()))  # fmt: skip
    from scipy import stats

    reference = stats.ttest_ind(y, x, equal_var=False)
    assert ours.p_value_absolute == pytest.approx(reference.pvalue, abs=TOL)
    ci = reference.confidence_interval(0.95)
    assert ours.lift_absolute_ci_low == pytest.approx(ci.low, abs=TOL)
    assert ours.lift_absolute_ci_high == pytest.approx(ci.high, abs=TOL)


def _ratio_sums(m, d):
    return RatioStats(len(m), m.sum(), (m**2).sum(), d.sum(), (d**2).sum(), (m * d).sum())


def _gb_ratio(m, d):
    return gb_stats.RatioStatistic(
        n=len(m),
        m_statistic=gb_stats.SampleMeanStatistic(n=len(m), sum=m.sum(), sum_squares=(m**2).sum()),
        d_statistic=gb_stats.SampleMeanStatistic(n=len(d), sum=d.sum(), sum_squares=(d**2).sum()),
        m_d_sum_of_products=(m * d).sum(),
    )


def test_ratio_delta_method_matches_gbstats():
    rng = np.random.default_rng(2)
    d_a, d_b = rng.integers(1, 30, 150).astype(float), rng.integers(1, 30, 160).astype(float)
    m_a, m_b = rng.poisson(0.4 * d_a).astype(float), rng.poisson(0.5 * d_b).astype(float)
    ours = ratio_test(_ratio_sums(m_a, d_a), _ratio_sums(m_b, d_b))
    live = _gb(_gb_ratio(m_a, d_a), _gb_ratio(m_b, d_b))
    assert ours.lift_relative == pytest.approx(live.expected, abs=TOL)
    assert ours.lift_relative_ci_low == pytest.approx(live.ci[0], abs=TOL)
    assert ours.lift_relative_ci_high == pytest.approx(live.ci[1], abs=TOL)
    assert ours.p_value == pytest.approx(live.p_value, abs=TOL)


def test_cuped_matches_gbstats_regression_adjustment():
    rng = np.random.default_rng(3)
    pre_a, pre_b = rng.gamma(2.0, 2.0, 500), rng.gamma(2.0, 2.0, 520)
    post_a = 0.8 * pre_a + rng.normal(0, 1, 500)
    post_b = 0.8 * pre_b + rng.normal(0.3, 1, 520)

    def ours_stats(post, pre):
        return CupedStats(len(post), post.sum(), (post**2).sum(), pre.sum(), (pre**2).sum(),
                          (post * pre).sum())  # fmt: skip

    def gb(post, pre):
        return gb_stats.RegressionAdjustedStatistic(
            n=len(post),
            post_statistic=gb_stats.SampleMeanStatistic(
                n=len(post), sum=post.sum(), sum_squares=(post**2).sum()
            ),
            pre_statistic=gb_stats.SampleMeanStatistic(
                n=len(pre), sum=pre.sum(), sum_squares=(pre**2).sum()
            ),
            post_pre_sum_of_products=(post * pre).sum(),
            theta=0,
        )

    ours = cuped_test(ours_stats(post_a, pre_a), ours_stats(post_b, pre_b))
    live = _gb(gb(post_a, pre_a), gb(post_b, pre_b))
    assert ours.lift_relative == pytest.approx(live.expected, abs=TOL)
    assert ours.lift_relative_ci_low == pytest.approx(live.ci[0], abs=TOL)
    assert ours.lift_relative_ci_high == pytest.approx(live.ci[1], abs=TOL)
    assert ours.p_value == pytest.approx(live.p_value, abs=TOL)
    # The pre-period explains most of the variance here: CUPED must say so.
    assert ours.variance_reduction > 0.5
    unadjusted = welch_test(ours_stats(post_a, pre_a).post, ours_stats(post_b, pre_b).post)
    width = ours.lift_relative_ci_high - ours.lift_relative_ci_low
    assert width < unadjusted.lift_relative_ci_high - unadjusted.lift_relative_ci_low


def test_cluster_ratio_matches_statsmodels_cluster_robust_ols():
    """The cluster-level delta method is CR0 cluster-robust OLS up to (G - 1) / G per arm."""
    rng = np.random.default_rng(4)
    sizes = rng.integers(2, 40, 90)
    treated = np.arange(90) % 2
    cluster_effect = rng.normal(0, 0.5, 90)
    cluster_ids = np.repeat(np.arange(90), sizes)
    y = rng.poisson(np.exp(0.3 + cluster_effect[cluster_ids] + 0.2 * treated[cluster_ids]))
    y = y.astype(float)
    x = sm.add_constant(treated[cluster_ids].astype(float))
    fit = sm.OLS(y, x).fit(
        cov_type="cluster", cov_kwds={"groups": cluster_ids, "use_correction": False}
    )
    sums = np.bincount(cluster_ids, weights=y)
    arms = []
    for arm in (0, 1):
        m, d = sums[treated == arm], sizes[treated == arm].astype(float)
        arms.append(_ratio_sums(m, d))
    ours = ratio_test(*arms)
    assert ours.lift_absolute == pytest.approx(fit.params[1], abs=TOL)
    var_cr0 = sum(a.variance / a.n * (a.n - 1) / a.n for a in arms)
    assert var_cr0 == pytest.approx(fit.bse[1] ** 2, abs=TOL)


def test_srm_matches_gbstats_check_srm():
    assert srm_p_value([5000, 5100]) == pytest.approx(
        gb_utils.check_srm([5000, 5100], [0.5, 0.5]), abs=TOL
    )
    weights = parse_traffic_split("10/45/45", 3)
    counts = [980, 4600, 4400]
    assert srm_p_value(counts, weights) == pytest.approx(
        gb_utils.check_srm(counts, weights), abs=TOL
    )
    assert srm_p_value([5000, 5000]) == pytest.approx(1.0)
    assert srm_p_value([4500, 5500]) < 0.001


@pytest.mark.parametrize(("ours", "theirs"), [("holm", "holm"), ("bh", "fdr_bh")])
def test_adjusted_p_values_match_statsmodels_multipletests(ours, theirs):
    rng = np.random.default_rng(5)
    for size in (1, 2, 5, 8):
        p = rng.uniform(0, 0.2, size)
        p[0] = p[-1]  # ties
        expected = multitest.multipletests(p, method=theirs)[1]
        np.testing.assert_allclose(adjust_p_values(p, ours), expected, atol=TOL)
    assert np.isnan(adjust_p_values([0.01, np.nan], ours)[1])


def test_bad_settings_are_clear_errors():
    with pytest.raises(ValueError, match="2 positive weights"):
        parse_traffic_split("10/45/45", 2)
    with pytest.raises(ValueError, match="slash-separated"):
        parse_traffic_split("half/half", 2)
    with pytest.raises(ValueError, match="unknown p-value adjustment"):
        adjust_p_values([0.1], "bonferroni")
    assert parse_traffic_split(None, 4) == [0.25] * 4
