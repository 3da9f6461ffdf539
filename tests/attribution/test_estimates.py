"""The attribution's estimators on hand-made inputs with known answers."""

import numpy as np
import pytest
from scipy import stats

from orchestration.lib.attribution.estimates import (
    difference_in_differences,
    pre_trend,
    synthetic_control,
    synthetic_control_weights,
)


def test_did_on_logs_by_hand():
    donors_pre = np.array([1.0, 2.0, 4.0])
    donors_post = donors_pre * np.array([1.1, 1.0, 1.2])
    result = difference_in_differences(1.0, 1.5, donors_pre, donors_post, alpha=0.05)
    delta = np.log([1.1, 1.0, 1.2])
    log_effect = np.log(1.5) - delta.mean()
    scale = delta.std(ddof=1) * np.sqrt(1 + 1 / 3)
    assert result.log_effect == pytest.approx(log_effect, abs=1e-12)
    assert result.relative_effect == pytest.approx(np.expm1(log_effect), abs=1e-12)
    t = stats.t.ppf(0.975, 2)
    assert result.relative_ci_low == pytest.approx(np.expm1(log_effect - t * scale), abs=1e-12)
    assert result.relative_ci_high == pytest.approx(np.expm1(log_effect + t * scale), abs=1e-12)
    assert result.p_value == pytest.approx(2 * stats.t.sf(abs(log_effect) / scale, 2), abs=1e-12)
    counterfactual = np.exp(delta.mean())
    assert result.counterfactual == pytest.approx(counterfactual, abs=1e-12)
    assert result.effect == pytest.approx(1.5 - counterfactual, abs=1e-12)
    assert result.ci_low == pytest.approx(result.relative_ci_low * counterfactual, abs=1e-12)
    # Each donor's placebo effect is below the target's: the smallest permutation p-value.
    assert result.placebo_p_value == pytest.approx(1 / 4)


def test_did_without_effect_and_parallel_donors_is_zero():
    donors_pre = np.array([1.0, 2.0, 3.0, 5.0])
    result = difference_in_differences(2.5, 2.5 * 1.1, donors_pre, donors_pre * 1.1)
    assert result.relative_effect == pytest.approx(0, abs=1e-12)
    assert abs(result.ci_low) < 1e-12 and abs(result.ci_high) < 1e-12


def test_did_refuses_too_few_donors():
    with pytest.raises(ValueError, match="two donors"):
        difference_in_differences(1.0, 1.2, np.array([1.0]), np.array([1.1]))


def test_pre_trend_flags_a_diverging_target_and_not_a_parallel_one():
    rng = np.random.default_rng(3)
    days = np.arange(28.0)
    donors = 1 + 0.002 * days + rng.normal(0, 0.01, (8, 28)) + rng.normal(0, 0.002, (8, 1)) * days
    parallel = pre_trend(days, 1.3 + 0.002 * days, donors)
    diverging = pre_trend(days, 1 + 0.03 * days, donors)
    assert not parallel.has_pre_trend and parallel.p_value > 0.2
    assert diverging.has_pre_trend and diverging.p_value < 1e-3
    assert diverging.slope_difference == pytest.approx(0.028, abs=0.003)


def test_synthetic_control_recovers_a_planted_convex_combination():
    rng = np.random.default_rng(0)
    donors_pre = rng.gamma(4, 0.25, (5, 30))
    donors_post = rng.gamma(4, 0.25, (5, 20))
    planted = np.array([0.0, 0.3, 0.0, 0.7, 0.0])
    result = synthetic_control(
        planted @ donors_pre, planted @ donors_post + 0.25, donors_pre, donors_post
    )
    np.testing.assert_allclose(result.weights, planted, atol=1e-6)
    assert result.effect == pytest.approx(0.25, abs=1e-6)
    assert result.pre_rmse < 1e-6


def test_synthetic_control_weights_meet_the_simplex_optimality_conditions():
    # A target outside the donors' hull: the KKT conditions of min ||t - w D||^2 on the
    # simplex (equal gradient on used donors, no smaller one on unused ones) hold.
    rng = np.random.default_rng(1)
    donors = rng.gamma(4, 0.25, (6, 25))
    target = donors[2] * 1.3 + rng.normal(0, 0.05, 25)
    w = synthetic_control_weights(target, donors)
    assert w.min() >= 0 and w.sum() == pytest.approx(1, abs=1e-12)
    gradient = 2 * donors @ (w @ donors - target)
    used = w > 1e-8
    assert np.ptp(gradient[used]) < 1e-5
    assert (gradient[~used] >= gradient[used].max() - 1e-5).all()
