"""The intervention forecast's shrinkage meta-regression: the posterior against
scikit-learn's ridge and the evidence against scipy at a fixed grid point, planted
heterogeneity recovered with calibrated intervals, noise shrunk to the mean, a new type
made wide, and determinism."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.linear_model import Ridge

from orchestration.lib.planning.forecast import (
    FEATURES,
    _design,
    _prior_sd,
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


def _one_point(sigma=0.2, lambda_a=0.5, lambda_b=0.1, lambda_d=0.2):
    return {"sigma": (sigma,), "lambda_a": (lambda_a,), "lambda_b": (lambda_b,),
            "lambda_d": (lambda_d,)}  # fmt: skip


def test_posterior_mean_is_sklearn_ridge_on_scaled_columns():
    x, types, _, se, y = _planted(80, 1)
    model = fit_effect_model(y, se, types, x, grid=_one_point())
    xs = (x.to_numpy() - model.center) / model.scale
    z = _design(xs, np.array([model.types.index(t) for t in types]), 2)
    prior = _prior_sd(2, len(_NAMES), 0.5, 0.1, 0.2)
    ys, ses = (y - model.y_center) / model.y_scale, se / model.y_scale
    # Gaussian prior N(0, prior^2) on the coefficients = ridge (alpha 1) on columns
    # scaled by the prior sd, weighted by the inverse noise variance.
    ridge = Ridge(alpha=1.0, fit_intercept=False, solver="cholesky", tol=1e-12)
    ridge.fit(z * prior, ys, sample_weight=1 / (ses**2 + 0.2**2))
    np.testing.assert_allclose(model.mean, ridge.coef_ * prior, rtol=1e-6, atol=1e-9)


def test_log_evidence_is_the_marginal_gaussian_density():
    x, types, _, se, y = _planted(40, 2)
    model = fit_effect_model(y, se, types, x, grid=_one_point())
    xs = (x.to_numpy() - model.center) / model.scale
    z = _design(xs, np.array([model.types.index(t) for t in types]), 2)
    prior = _prior_sd(2, len(_NAMES), 0.5, 0.1, 0.2)
    ys, ses = (y - model.y_center) / model.y_scale, se / model.y_scale
    covariance = (z * prior) @ (z * prior).T + np.diag(ses**2 + 0.2**2)
    expected = stats.multivariate_normal(np.zeros(len(y)), covariance).logpdf(ys)
    assert model.log_evidence == pytest.approx(expected, rel=1e-9)


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
    assert 0.84 <= inside.mean() <= 0.96
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
            "count_members": [10, 1],
            "member_growth_rate_4_weeks": [0.5, None],
            "count_key_members": [2, None],
            "key_member_active_share": [0.5, None],
            "messages_per_member": [np.e - 1, 0.0],
            "share_members_active": [0.4, 0.0],
            "share_weight_inside": [0.8, None],
            "cohesion_score": [70.0, None],
            "activity_score": [20.0, 50.0],
            "growth_score": [90.0, 10.0],
        }
    )
    out = group_features(health)
    assert list(out.columns) == _NAMES
    assert out.loc[0].to_dict() == pytest.approx(
        {"log_members": np.log(10), "member_growth_4_weeks": 0.5, "key_member_share": 0.2,
         "key_member_active_share": 0.5, "log_messages_per_member": 1.0,
         "share_members_active": 0.4, "share_weight_inside": 0.8, "cohesion_score": 0.7,
         "activity_score": 0.2, "growth_score": 0.9}
    )  # fmt: skip
    # A new group without growth, key members or ties: 0; an unknown score: 50.
    assert (
        out.loc[1, ["member_growth_4_weeks", "key_member_share", "share_weight_inside"]].eq(0).all()
    )
    assert out.loc[1, "cohesion_score"] == 0.5
