"""The design help's formulas (orchestration.lib.experiments.power), without Dagster:
the power equation against statsmodels' live output, the ICC, size CV, design effect
and CUPED correlation against direct computations on the rows, and simulations that the
minimum detectable effect is detected about 80% of the time by the readout's own tests."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower

from orchestration.lib.experiments import power as pw
from orchestration.lib.experiments.stats import (
    CupedStats,
    RatioStats,
    SampleStats,
    cuped_test,
    ratio_test,
    welch_test,
)

_NOBS = [2, 3.5, 5, 13.5, 40, 397, 5_000]


@pytest.mark.parametrize("nobs1", _NOBS)
@pytest.mark.parametrize("ratio", [1.0, 0.5, 3.0])
@pytest.mark.parametrize("test, reference", [("t", TTestIndPower), ("z", NormalIndPower)])
def test_power_and_mde_match_statsmodels(nobs1, ratio, test, reference):
    model = reference()
    for effect_size in (0.05, 0.3, 1.2):
        ours = pw.two_sample_power(effect_size, nobs1, ratio=ratio, test=test)
        theirs = model.power(effect_size, nobs1, 0.05, ratio=ratio, alternative="two-sided")
        if np.isnan(theirs):  # scipy's noncentral t far in the tail: ours falls back
            assert ours == pytest.approx(1.0, abs=1e-12)
        else:
            assert ours == pytest.approx(theirs, abs=1e-10)
    d = pw.standardized_mde(nobs1, ratio=ratio, test=test)
    if test == "t" and nobs1 * (1 + ratio) - 2 < 2:
        assert math.isnan(d)  # fewer than 2 degrees of freedom: no design
        return
    # statsmodels gives exactly 80% power at our effect size ...
    achieved = model.power(d, nobs1, 0.05, ratio=ratio, alternative="two-sided")
    assert achieved == pytest.approx(0.8, abs=1e-9)
    # ... its own root finder stops at a looser tolerance (up to 3e-5 relative here), so
    # ours is the closer root of statsmodels' equation, and the two agree to 1e-4.
    solved = float(model.solve_power(None, nobs1=nobs1, alpha=0.05, power=0.8, ratio=ratio))
    assert d == pytest.approx(solved, rel=1e-4)
    their_error = abs(model.power(solved, nobs1, 0.05, ratio=ratio) - 0.8)
    assert abs(achieved - 0.8) <= their_error + 1e-12


def test_power_with_few_degrees_of_freedom_where_scipys_noncentral_t_fails():
    """scipy's nct gives NaN at large noncentralities with few degrees of freedom (3 df:
    from about 23); the power integral replaces it there and agrees with nct elsewhere.
    A 5-cluster design (3 df) once stopped the pipeline: brentq met that NaN."""
    from scipy import stats

    for dof in (2, 3, 5, 12, 29):
        crit = stats.t.isf(0.025, dof)
        for noncentrality in (0.0, 0.5, 2.0, 5.0, 9.0):
            expected = stats.nct.sf(crit, dof, noncentrality) + stats.nct.cdf(
                -crit, dof, noncentrality
            )
            ours = pw._noncentral_t_power(crit, dof, noncentrality)
            if np.isnan(expected):  # nct fails here too (2 df at 9): simulate T
                rng = np.random.default_rng(0)
                z, v = rng.standard_normal(1_000_000), rng.chisquare(dof, 1_000_000)
                simulated = np.mean(np.abs((z + noncentrality) / np.sqrt(v / dof)) > crit)
                assert ours == pytest.approx(simulated, abs=1e-3)
            else:
                assert ours == pytest.approx(expected, abs=1e-12)
    crit = stats.t.isf(0.025, 3)
    assert np.isnan(stats.nct.cdf(-crit, 3, 26.5))  # what broke the root finder
    assert pw.two_sample_power(23.74, 2.5) == pytest.approx(1.0, abs=1e-6)
    for nobs1, ratio in [(2.5, 1.0), (1.0, 4.0), (2.0, 1.5), (3.5, 1.0)]:
        d = pw.standardized_mde(nobs1, ratio=ratio)
        assert math.isfinite(d)
        assert pw.two_sample_power(d, nobs1, ratio=ratio) == pytest.approx(0.8, abs=1e-9)


def test_mde_is_nan_without_degrees_of_freedom_and_rejects_bad_levels():
    assert math.isnan(pw.standardized_mde(1))  # 2 units in all: t has 0 df
    assert math.isnan(pw.standardized_mde(1.5))  # 3 units: 1 df
    assert not math.isnan(pw.standardized_mde(1, test="z"))
    with pytest.raises(ValueError):
        pw.standardized_mde(10, alpha=0.9, power=0.8)


def _cluster_rows(rng, k, icc, sizes):
    """Member outcomes of k clusters with a planted intra-cluster correlation."""
    effects = rng.normal(0, math.sqrt(icc), k)
    return [effects[i] + rng.normal(0, math.sqrt(1 - icc), n) for i, n in enumerate(sizes)]


def _sums(clusters):
    sizes = np.array([len(c) for c in clusters], dtype=float)
    totals = np.array([c.sum() for c in clusters])
    return dict(
        count_clusters=len(clusters),
        count_members=sizes.sum(),
        sum_members_squared=(sizes**2).sum(),
        sum_values=totals.sum(),
        sum_value_squares=sum((c**2).sum() for c in clusters),
        sum_cluster_value_squares_per_member=(totals**2 / sizes).sum(),
    )


def test_icc_is_the_anova_estimator_and_recovers_a_planted_correlation():
    rng = np.random.default_rng(3)
    clusters = _cluster_rows(rng, 6, 0.3, [3, 5, 2, 8, 4, 6])
    # The ANOVA estimator written out on the rows.
    values = np.concatenate(clusters)
    k, n = len(clusters), len(values)
    msb = sum(len(c) * (c.mean() - values.mean()) ** 2 for c in clusters) / (k - 1)
    msw = sum(((c - c.mean()) ** 2).sum() for c in clusters) / (n - k)
    n0 = (n - sum(len(c) ** 2 for c in clusters) / n) / (k - 1)
    expected = (msb - msw) / (msb + (n0 - 1) * msw)
    assert pw.icc_anova(**_sums(clusters)) == pytest.approx(expected, rel=1e-12)
    big = _cluster_rows(rng, 2_000, 0.1, rng.integers(2, 30, 2_000))
    assert pw.icc_anova(**_sums(big)) == pytest.approx(0.1, abs=0.01)
    assert math.isnan(pw.icc_anova(**_sums(clusters[:1])))


def test_size_cv_and_design_effect_by_hand():
    sizes = np.array([2.0, 4.0, 6.0])
    cv = pw.cluster_size_cv(3, sizes.sum(), (sizes**2).sum())
    assert cv == pytest.approx(sizes.std() / sizes.mean())  # ddof 0: sqrt(8/3) / 4
    assert cv == pytest.approx(math.sqrt(8 / 3) / 4)
    # Equal sizes: Kish's 1 + (m - 1) ICC; unequal: Eldridge's, which is the
    # size-weighted mean size sum(n^2) / sum(n) in Kish's formula.
    assert pw.design_effect(0.05, 0.0, 21) == pytest.approx(2.0)
    assert pw.design_effect(0.1, cv, 4.0) == pytest.approx(1 + (56 / 12 - 1) * 0.1)


def test_pre_post_correlation_is_pearson_for_users_and_linearized_for_clusters():
    rng = np.random.default_rng(5)
    post = rng.normal(size=50)
    pre = 0.6 * post + rng.normal(size=50)
    users = pw.pre_post_correlation(
        50, 50, 50, post.sum(), (post**2).sum(), post.sum(),
        pre.sum(), (pre**2).sum(), pre.sum(), (post * pre).sum(),
    )  # fmt: skip
    assert users == pytest.approx(np.corrcoef(post, pre)[0, 1], rel=1e-10)
    sizes = rng.integers(1, 20, 50).astype(float)
    m, p = post + 3 * sizes, pre + 2 * sizes
    r, q = m.sum() / sizes.sum(), p.sum() / sizes.sum()
    expected = np.corrcoef(m - r * sizes, p - q * sizes)[0, 1]
    clusters = pw.pre_post_correlation(
        50, sizes.sum(), (sizes**2).sum(), m.sum(), (m**2).sum(), (m * sizes).sum(),
        p.sum(), (p**2).sum(), (p * sizes).sum(), (m * p).sum(),
    )  # fmt: skip
    assert clusters == pytest.approx(expected, rel=1e-10)
    assert math.isnan(pw.pre_post_correlation(2, 2, 2, 1, 1, 1, 1, 1, 1, 1))
    assert pw.cuped_mde(0.2, 0.6) == pytest.approx(0.16)


def _frame(unit_type, clusters, pre_clusters=None):
    sizes = np.array([len(c) for c in clusters], dtype=float)
    totals = np.array([c.sum() for c in clusters])
    pre = None if pre_clusters is None else np.array([c.sum() for c in pre_clusters])
    return pd.DataFrame(
        [
            {
                "metric_name": "m",
                "unit_type": unit_type,
                "window_start_at": pd.Timestamp("2026-01-01"),
                "window_end_at": pd.Timestamp("2026-01-29"),
                "count_units": len(clusters),
                "sum_members": sizes.sum(),
                "sum_members_squared": (sizes**2).sum(),
                "sum_values": totals.sum(),
                "sum_member_value_squares": sum((c**2).sum() for c in clusters),
                "sum_cluster_value_squares_per_member": (totals**2 / sizes).sum(),
                "sum_cluster_value_squares": (totals**2).sum(),
                "sum_cluster_value_members": (totals * sizes).sum(),
                "sum_pre_period_values": None if pre is None else pre.sum(),
                "sum_pre_period_value_squares": None if pre is None else (pre**2).sum(),
                "sum_pre_period_value_members": None if pre is None else (pre * sizes).sum(),
                "sum_value_pre_period_products": None if pre is None else (totals * pre).sum(),
            }
        ]
    )


def test_measure_power_user_row_is_d_times_sd_over_mean():
    rng = np.random.default_rng(9)
    values = rng.poisson(3.0, 400).astype(float)
    pre = values + rng.poisson(1.0, 400)
    row = pw.measure_power(
        _frame("user", [np.array([v]) for v in values], [np.array([v]) for v in pre])
    ).iloc[0]
    d = float(TTestIndPower().solve_power(None, nobs1=200, alpha=0.05, power=0.8))
    assert row.design_effect == 1 and math.isnan(row.icc)
    assert row.mde_relative == pytest.approx(d * values.std(ddof=1) / values.mean(), rel=1e-6)
    rho = np.corrcoef(values, pre)[0, 1]
    assert row.mde_relative_cuped == pytest.approx(row.mde_relative * math.sqrt(1 - rho**2))


def test_measure_power_has_no_mde_without_spread_or_units():
    constant = [np.ones(n) for n in (3, 4, 2, 5, 3, 6)]
    row = pw.measure_power(_frame("community", constant)).iloc[0]
    assert row.mde_standardized > 0  # enough units for a design ...
    assert math.isnan(row.mde_relative) and math.isnan(row.mde_relative_cuped)  # ... no spread
    varied = [np.array([0.0, 1.0, 1.0]), *constant[1:]]
    assert pw.measure_power(_frame("community", varied)).iloc[0].mde_relative > 0


def test_the_user_mde_is_detected_80_percent_of_the_time_by_welch():
    rng = np.random.default_rng(11)
    n, sims, sd, mean = 150, 4_000, 2.0, 5.0
    mde = pw.standardized_mde(n) * sd / mean
    a = rng.normal(mean, sd, (sims, n))
    b = rng.normal(mean * (1 + mde), sd, (sims, n))
    rejected = [
        welch_test(
            SampleStats(n, a[i].sum(), (a[i] ** 2).sum()),
            SampleStats(n, b[i].sum(), (b[i] ** 2).sum()),
        ).p_value_absolute
        < 0.05
        for i in range(sims)
    ]
    # 4,000 draws: the standard error of a rate near 0.8 is 0.006.
    assert np.mean(rejected) == pytest.approx(0.8, abs=0.02)
    # Half the effect is detected far less often: the check can fail.
    assert pw.two_sample_power(pw.standardized_mde(n) / 2, n) < 0.4


def test_the_cluster_mde_from_the_design_effect_gives_80_percent_power():
    """Clusters of lognormal sizes with ICC 0.05: the MDE built from Eldridge's design
    effect is detected about 80% of the time by the readout's cluster-level ratio test."""
    rng = np.random.default_rng(13)
    k, icc, sims, mean = 80, 0.05, 2_000, 1.0
    sizes = np.maximum(np.round(rng.lognormal(2.5, 0.8, k)), 2)
    effect = pw.design_effect(
        icc, pw.cluster_size_cv(k, sizes.sum(), (sizes**2).sum()), sizes.mean()
    )
    assert effect > 1.5  # the clustering matters in this design
    mde_absolute = pw.standardized_mde(k / 2) * math.sqrt(effect / sizes.mean())
    rejected = 0
    for _ in range(sims):
        totals = sizes * (mean + rng.normal(0, math.sqrt(icc), k)) + np.sqrt(
            sizes * (1 - icc)
        ) * rng.normal(size=k)
        treated = rng.permutation(k) < k // 2
        totals = totals + treated * sizes * mde_absolute
        arms = [
            RatioStats(
                int(mask.sum()),
                totals[mask].sum(),
                (totals[mask] ** 2).sum(),
                sizes[mask].sum(),
                (sizes[mask] ** 2).sum(),
                (totals[mask] * sizes[mask]).sum(),
            )
            for mask in (~treated, treated)
        ]
        rejected += ratio_test(*arms).p_value_absolute < 0.05
    # 2,000 draws: standard error 0.009; the design effect is an approximation.
    assert rejected / sims == pytest.approx(0.8, abs=0.035)


def test_the_cuped_mde_is_detected_80_percent_of_the_time_by_cuped():
    rng = np.random.default_rng(17)
    n, sims, rho = 200, 2_000, 0.7
    mde = pw.cuped_mde(pw.standardized_mde(n), rho)  # in sd units of the outcome, mean 1
    rejected = 0
    for _ in range(sims):
        arms = []
        for shift in (0.0, mde):
            pre = rng.normal(size=n)
            post = 1 + shift + rho * pre + math.sqrt(1 - rho**2) * rng.normal(size=n)
            arms.append(
                CupedStats(
                    n, post.sum(), (post**2).sum(), pre.sum(), (pre**2).sum(), (post * pre).sum()
                )
            )
        rejected += cuped_test(*arms).p_value_absolute < 0.05
    assert rejected / sims == pytest.approx(0.8, abs=0.03)


@pytest.mark.parametrize(
    "split, label, control_share, variant_share",
    [
        (None, "50/50", 0.5, 0.5),
        ("20/80", "20/80", 0.2, 0.8),
        ("1/3", "25/75", 0.25, 0.75),
        ("10/45/45", "10/45/45", 0.1, 0.45),
        ("50/30/20", "50/30/20", 0.5, 0.2),
    ],
)
def test_split_arms_takes_control_first_and_the_smallest_other_arm(
    split, label, control_share, variant_share
):
    assert pw.split_arms(split) == (
        label,
        pytest.approx(control_share),
        pytest.approx(variant_share),
    )


@pytest.mark.parametrize("split", ["100", "half/half", "0/100", "-10/110"])
def test_split_arms_rejects_a_malformed_split(split):
    with pytest.raises(ValueError):
        pw.split_arms(split)


@pytest.mark.parametrize(
    "split, n1_share, n2_share", [("20/80", 0.2, 0.8), ("10/45/45", 0.1, 0.45)]
)
def test_measure_power_honours_an_unequal_split(split, n1_share, n2_share):
    """n_1, n_2 from the split: statsmodels' t-test power at our MDE is 80%, the
    variance of the difference is sd^2 (1/n_1 + 1/n_2), and the MDE is larger than with
    equal arms by the closed-form factor sqrt((1/n_1 + 1/n_2) / (4/k)) (the normal
    approximation, exact up to the t's degrees of freedom)."""
    rng = np.random.default_rng(19)
    k = 2_000
    values = rng.poisson(3.0, k).astype(float)
    frame = _frame("user", [np.array([v]) for v in values])
    equal = pw.measure_power(frame).iloc[0]
    row = pw.measure_power(frame, traffic_split=split).iloc[0]
    n1, n2 = n1_share * k, n2_share * k
    assert (row.count_units_control, row.count_units_variant) == pytest.approx((n1, n2))
    assert row.traffic_split == split and equal.traffic_split == "50/50"
    achieved = TTestIndPower().power(row.mde_standardized, n1, 0.05, ratio=n2 / n1)
    assert achieved == pytest.approx(0.8, abs=1e-9)
    solved = TTestIndPower().solve_power(None, nobs1=n1, alpha=0.05, power=0.8, ratio=n2 / n1)
    assert row.mde_standardized == pytest.approx(float(solved), rel=1e-4)
    sd, mean = values.std(ddof=1), values.mean()
    assert row.mde_relative == pytest.approx(row.mde_standardized * sd / mean, rel=1e-12)
    closed_form = stats.norm.isf(0.025) + stats.norm.ppf(0.8)  # z_{alpha/2} + z_{power}
    assert row.mde_standardized == pytest.approx(closed_form * math.sqrt(1 / n1 + 1 / n2), rel=2e-3)
    assert row.mde_relative / equal.mde_relative == pytest.approx(
        math.sqrt((1 / n1 + 1 / n2) / (4 / k)), rel=1e-3
    )


def test_an_unequal_split_mde_is_detected_80_percent_of_the_time_by_welch():
    """20/80 over 500 units: the MDE with n_1 = 100, n_2 = 400 has 80% power in Welch's
    test on simulated arms (an equal-split MDE, smaller, would not)."""
    rng = np.random.default_rng(23)
    k, sims, sd, mean = 500, 4_000, 2.0, 5.0
    values = rng.normal(mean, sd, k)
    row = pw.measure_power(
        _frame("user", [np.array([v]) for v in values]), traffic_split="20/80"
    ).iloc[0]
    n1, n2 = 100, 400
    shift = row.mde_standardized * sd
    a = rng.normal(mean, sd, (sims, n1))
    b = rng.normal(mean + shift, sd, (sims, n2))
    rejected = [
        welch_test(
            SampleStats(n1, a[i].sum(), (a[i] ** 2).sum()),
            SampleStats(n2, b[i].sum(), (b[i] ** 2).sum()),
        ).p_value_absolute
        < 0.05
        for i in range(sims)
    ]
    assert np.mean(rejected) == pytest.approx(0.8, abs=0.02)
    equal_shift = pw.standardized_mde(k / 2) * sd
    assert pw.two_sample_power(equal_shift / sd, n1, ratio=4.0) < 0.7
