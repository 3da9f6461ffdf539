"""The intervention forecast's model-averaged meta-regression: the posterior against
scikit-learn's ridge and the evidence against scipy for one design, planted
heterogeneity recovered with calibrated intervals, types whose drivers differ kept
apart, a rare type pooled, noise shrunk to the mean, a new type made wide, and
determinism."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.linear_model import Ridge

from orchestration.lib.planning.forecast import (
    FEATURES,
    MIN_OWN_FIT,
    _posterior,
    fit_effect_model,
    group_features,
    predict_effects,
    top_features,
)

_NAMES = list(FEATURES)


def _planted(n: int, seed: int, *, sigma: float = 0.03, slope: float = 0.15):
    """Two types: a's effect rises with feature 2, b's with feature 1; se 0.05-0.2."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(n, len(_NAMES))), columns=_NAMES)
    types = np.where(rng.random(n) < 0.5, "a", "b").astype(object)
    true = np.where(
        types == "a", 0.2 + slope * x[_NAMES[2]], 0.1 + slope * x[_NAMES[1]]
    ) + rng.normal(0, sigma, n)
    se = rng.uniform(0.05, 0.2, n)
    return x, types, true, se, true + rng.normal(0, se)


def test_posterior_mean_is_sklearn_ridge_on_scaled_columns():
    x, _, _, se, y = _planted(80, 1)
    z = np.hstack([np.ones((80, 1)), x.to_numpy()[:, :3]])
    prior = np.array([10.0, 0.5, 0.2, 1.0])
    noise = se**2 + 0.2**2
    _, mean, _ = _posterior(z, y, noise, prior)
    # Gaussian prior N(0, prior^2) on the coefficients = ridge (alpha 1) on columns
    # scaled by the prior sd, weighted by the inverse noise variance.
    ridge = Ridge(alpha=1.0, fit_intercept=False, solver="cholesky", tol=1e-12)
    ridge.fit(z * prior, y, sample_weight=1 / noise)
    np.testing.assert_allclose(mean, ridge.coef_ * prior, rtol=1e-6, atol=1e-9)


def test_log_evidence_is_the_marginal_gaussian_density():
    x, _, _, se, y = _planted(40, 2)
    z = np.hstack([np.ones((40, 1)), x.to_numpy()[:, :2]])
    prior = np.array([10.0, 0.3, 0.7])
    noise = se**2 + 0.1**2
    log_evidence, _, _ = _posterior(z, y, noise, prior)
    covariance = (z * prior) @ (z * prior).T + np.diag(noise)
    expected = stats.multivariate_normal(np.zeros(len(y)), covariance).logpdf(y)
    assert log_evidence == pytest.approx(expected, rel=1e-9)


def test_each_type_gets_its_own_fit_and_a_rare_type_the_pooled_one():
    x, types, _, se, y = _planted(120, 9)
    types = types.copy()
    types[: MIN_OWN_FIT - 1] = "rare"
    model = fit_effect_model(y, se, types, x, calibrate_level=None)
    assert model.fit_of_type == {"a": "a", "b": "b", "rare": "<pooled>"}
    # a's effect rises with feature 2 and b's with feature 1: each fit finds its own.
    slopes_a, slopes_b = model.slopes("a"), model.slopes("b")
    assert int(np.argmax(np.abs(slopes_a))) == 2 and slopes_a[2] > 0
    assert int(np.argmax(np.abs(slopes_b))) == 1 and slopes_b[1] > 0
    assert model.hyper["a"]["features"] == [_NAMES[2]]
    assert model.hyper["b"]["features"] == [_NAMES[1]]


def test_opposite_drivers_of_two_types_are_not_averaged_away():
    # Slopes shared between types would cancel here; per-type fits rank both right.
    rng = np.random.default_rng(10)
    n = 160
    x = pd.DataFrame(rng.normal(size=(n, len(_NAMES))), columns=_NAMES)
    types = np.where(np.arange(n) % 2 == 0, "a", "b").astype(object)
    true = 0.2 + np.where(types == "a", 0.15, -0.15) * x[_NAMES[0]].to_numpy()
    se = np.full(n, 0.1)
    y = true + rng.normal(0, se)
    model = fit_effect_model(y[:80], se[:80], types[:80], x[:80])
    forecast = predict_effects(model, types[80:], x[80:])
    for kind in ("a", "b"):
        mine = types[80:] == kind
        rho = stats.spearmanr(forecast["predicted"][mine], true[80:][mine]).statistic
        assert rho > 0.8, (kind, rho)


@pytest.mark.parametrize(("sigma", "min_rho"), [(0.0, 0.9), (0.1, 0.7)])
def test_planted_heterogeneity_is_recovered_with_calibrated_intervals(sigma, min_rho):
    # Fit on 200 noisy effects, forecast 400 others: ranks and 90% coverage of the true
    # effects, without and with heterogeneity the features do not explain.
    x, types, true, se, y = _planted(600, 3, sigma=sigma)
    model = fit_effect_model(y[:200], se[:200], types[:200], x[:200])
    forecast = predict_effects(model, types[200:], x[200:], level=0.90)
    rho = stats.spearmanr(forecast["predicted"], true[200:]).statistic
    inside = (forecast["ci_low"] <= true[200:]) & (true[200:] <= forecast["ci_high"])
    assert rho > min_rho
    # Not too narrow. Over-wide, yes (1.0 and 0.98 here): with one fit per type (100
    # rows each) the averaged sigma stays above a true 0, and a calibration against
    # effects whose noise (se 0.05-0.2) exceeds the forecast's sd cannot narrow it.
    # docs/planning.md reports it (the bench's coverage is 0.99).
    assert inside.mean() >= 0.84
    assert (forecast["ci_low"] <= forecast["predicted"]).all()
    assert (forecast["predicted"] <= forecast["ci_high"]).all()


def test_features_without_signal_are_shrunk_to_the_mean():
    rng = np.random.default_rng(4)
    n = 120
    x = pd.DataFrame(rng.normal(size=(n, len(_NAMES))), columns=_NAMES)
    types = np.where(rng.random(n) < 0.5, "a", "b").astype(object)
    se = np.full(n, 0.1)
    y = 0.3 + rng.normal(0, se)
    model = fit_effect_model(y, se, types, x)
    forecast = predict_effects(model, types, x)
    # Forecasts vary far less than the noisy outcomes, around their mean.
    assert forecast["predicted"].std() < 0.25 * y.std()
    assert forecast["predicted"].mean() == pytest.approx(0.3, abs=0.03)


def test_a_type_never_seen_gets_the_shared_part_and_a_wider_interval():
    x, types, _, se, y = _planted(200, 5)
    model = fit_effect_model(y, se, types, x)
    known = predict_effects(model, types[:50], x[:50])
    new = predict_effects(model, np.full(50, "c", dtype=object), x[:50])
    assert known["is_known_type"].all() and not new["is_known_type"].any()
    assert (new["sd"] > known["sd"]).all()


def test_top_features_name_the_planted_driver_with_its_sign():
    x, types, _, se, y = _planted(300, 6, slope=0.3)
    model = fit_effect_model(y, se, types, x)
    row = pd.DataFrame([np.zeros(len(_NAMES))], columns=_NAMES)
    row[_NAMES[2]] = 2.0
    first = top_features(model, np.array(["a"], dtype=object), row, k=2)[0]
    assert first.startswith(f"{_NAMES[2]} +")
    row[_NAMES[2]] = -2.0
    assert top_features(model, np.array(["a"], dtype=object), row, k=1)[0].startswith(
        f"{_NAMES[2]} -"
    )


def test_fit_is_deterministic_and_independent_of_row_order():
    x, types, _, se, y = _planted(150, 7)
    first = predict_effects(fit_effect_model(y, se, types, x), types, x)
    order = np.random.default_rng(0).permutation(len(y))
    model = fit_effect_model(y[order], se[order], types[order], x.iloc[order])
    second = predict_effects(model, types, x)
    np.testing.assert_allclose(first.to_numpy(float), second.to_numpy(float), rtol=1e-8)


def test_bad_inputs_are_refused():
    x, types, _, se, y = _planted(10, 8)
    with pytest.raises(ValueError, match="at least 3"):
        fit_effect_model(y[:2], se[:2], types[:2], x[:2])
    with pytest.raises(ValueError, match="same length"):
        fit_effect_model(y, se[:5], types, x)
    with pytest.raises(ValueError, match="standard errors"):
        fit_effect_model(y, np.zeros_like(se), types, x)


def test_group_features_by_hand():
    health = pd.DataFrame(
        {
            "count_members": [10, 1, 12],
            "member_growth_rate_4_weeks": [0.5, None, -0.25],
            "count_key_members": [2, None, 0],
            "key_member_active_share": [0.5, None, 0.0],
            "messages_per_member": [np.e - 1, 0.0, 1.0],
            "share_members_active": [0.4, 0.0, 0.5],
            "share_weight_inside": [0.8, None, 0.5],
        }
    )
    out = group_features(health)
    assert list(out.columns) == _NAMES
    # 10 members, 50% more than 4 weeks before: 6.67 members then.
    assert out.loc[0].to_dict() == pytest.approx(
        {"log_members": np.log(10), "log_member_growth_4_weeks": np.log(11 / (10 / 1.5 + 1)),
         "key_member_share": 0.2, "key_member_active_share": 0.5,
         "log_messages_per_member": 1.0, "share_members_active": 0.4,
         "share_weight_inside": 0.8}
    )  # fmt: skip
    # A new group (no growth rate): 0 members 4 weeks before; no key members or ties: 0.
    assert out.loc[1, "log_member_growth_4_weeks"] == pytest.approx(np.log(2))
    assert out.loc[1, ["key_member_share", "share_weight_inside"]].eq(0).all()
    # A shrinking group: 16 members then.
    assert out.loc[2, "log_member_growth_4_weeks"] == pytest.approx(np.log(13 / 17))
