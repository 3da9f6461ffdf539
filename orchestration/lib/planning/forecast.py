"""Forecast what an intervention will do to a group: a shrinkage meta-regression.

The past interventions' attributed effects (``fct_intervention_attribution``: the
difference-in-differences of log activity per member-day against matched donors, with
its placebo standard error) are regressed on the target group's features at the
snapshot before the start (:func:`group_features`, from ``fct_community_health``). With
tens to hundreds of interventions a free regression per type would overfit, so the
model is hierarchical (Gaussian priors, empirical Bayes):

.. math::

    y_i = \\mu + a_{t(i)} + x_i \\cdot (b + d_{t(i)}) + u_i + e_i,
    \\quad u_i \\sim N(0, \\sigma^2), \\quad e_i \\sim N(0, s_i^2)

where ``y_i`` is the log effect (``log(1 + relative_effect)``), ``s_i`` its standard
error from the attribution (the attribution's own uncertainty), ``x_i`` the
standardised features, ``mu`` the mean effect, ``a_t ~ N(0, lambda_a^2)`` the type's
shift, ``b ~ N(0, lambda_b^2)`` slopes shared by every type, ``d_t ~ N(0, lambda_d^2)``
the type's own slopes and ``u_i`` the heterogeneity of true effects the features do not
explain. Given the hyperparameters ``(sigma, lambda_a, lambda_b, lambda_d)`` the
posterior of the coefficients is exact (Gaussian); the hyperparameters are averaged over
a grid (:data:`GRID`), each point weighted by its marginal likelihood, and a forecast is
the moment-matched mixture. The intervals are then calibrated out of sample (K-fold:
``extra_sd`` of :func:`fit_effect_model`), since the evidence cannot see a
heterogeneity much smaller than the attribution's standard errors. A forecast's
interval for the *true* effect adds the posterior variance of its mean (model
uncertainty), ``sigma^2`` and ``extra_sd^2``; the attribution noise ``s_i`` enters
through the fit only. A type never seen in fitting gets the shared
part (``mu + x . b``) with the prior variance of its own parts added: wide, as it
should be.

:func:`fit_effect_model` fits, :func:`predict_effects` predicts with intervals and the
features that drive each prediction (:func:`top_features`). Everything is deterministic
(no sampling).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "FEATURES",
    "GRID",
    "EffectModel",
    "fit_effect_model",
    "group_features",
    "predict_effects",
    "top_features",
]

#: Features of a group at a snapshot (name -> what it is), computed by
#: :func:`group_features` from ``fct_community_health``'s columns.
FEATURES = {
    "log_members": "log of members",
    "member_growth_4_weeks": "member growth over 4 weeks (clipped to [-1, 3], 0 if new)",
    "key_member_share": "key members / members",
    "key_member_active_share": "share of key members active in the week",
    "log_messages_per_member": "log(1 + posts and comments per member in the week)",
    "share_members_active": "share of members active in the week",
    "share_weight_inside": "share of members' tie weight kept inside",
    "cohesion_score": "cohesion component / 100",
    "activity_score": "activity component / 100",
    "growth_score": "growth component / 100",
}

#: Hyperparameter grid searched by :func:`fit_effect_model`, in units of the standard
#: deviation of the training outcome: sigma (unexplained heterogeneity), lambda_a (type
#: shifts), lambda_b (shared slopes), lambda_d (type slopes). lambda_a is fixed at a weak
#: 1.0: with two or three types the evidence cannot estimate the spread of type means
#: (it picks a near-zero spread and pools types whose means differ), so each type's mean
#: comes from its own interventions, and a new type gets that prior's width.
GRID = {
    "sigma": (0.0, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0),
    "lambda_a": (1.0,),
    "lambda_b": (0.01, 0.05, 0.2, 0.5, 1.0),
    "lambda_d": (0.01, 0.05, 0.2, 0.5, 1.0),
}

#: Prior standard deviation of the mean effect, in units of the outcome's spread.
_MU_PRIOR = 10.0


def group_features(health: pd.DataFrame) -> pd.DataFrame:
    """The model's :data:`FEATURES` from ``fct_community_health`` rows.

    Parameters
    ----------
    health : pandas.DataFrame
        Rows with ``count_members``, ``member_growth_rate_4_weeks``,
        ``count_key_members``, ``key_member_active_share``, ``messages_per_member``,
        ``share_members_active``, ``share_weight_inside``, ``cohesion_score``,
        ``activity_score``, ``growth_score``.

    Returns
    -------
    pandas.DataFrame
        One column per feature, same index. Missing values (a group too new to have a
        growth rate, without key members or ties) are 0, which is what they mean.
    """
    members = health["count_members"].astype(float)
    out = pd.DataFrame(index=health.index)
    out["log_members"] = np.log(members.clip(lower=1))
    out["member_growth_4_weeks"] = (
        health["member_growth_rate_4_weeks"].astype(float).fillna(0.0).clip(-1, 3)
    )
    out["key_member_share"] = health["count_key_members"].astype(float).fillna(0.0) / members.clip(
        lower=1
    )
    out["key_member_active_share"] = health["key_member_active_share"].astype(float).fillna(0.0)
    out["log_messages_per_member"] = np.log1p(
        health["messages_per_member"].astype(float).fillna(0.0).clip(lower=0)
    )
    for column in ("share_members_active", "share_weight_inside"):
        out[column] = health[column].astype(float).fillna(0.0)
    for column in ("cohesion_score", "activity_score", "growth_score"):
        out[column] = health[column].astype(float).fillna(50.0) / 100.0
    return out[list(FEATURES)]


@dataclass(frozen=True)
class EffectModel:
    """A fitted :func:`fit_effect_model`.

    Attributes
    ----------
    types : tuple of str
        The intervention types seen in fitting (sorted).
    features : tuple of str
        Feature names, in column order.
    center, scale : numpy.ndarray
        Standardisation of the features (training mean and standard deviation).
    y_center, y_scale : float
        Standardisation of the outcome.
    weights : numpy.ndarray
        Posterior weight of each grid point kept.
    means, covs : numpy.ndarray
        At each, the posterior mean and covariance of ``[mu, a_t..., b..., d_t...]``
        (standardised units).
    hypers : tuple of dict
        At each, ``sigma, lambda_a, lambda_b, lambda_d`` (standardised units).
    hyper : dict of str to float
        The grid point of largest weight.
    log_evidence : float
        Its log marginal likelihood.
    n_training : int
        Interventions fitted.
    n_by_type : dict of str to int
        Of them per type.
    extra_sd : float
        Standard deviation added to every forecast by the cross-validated calibration
        (outcome units; 0 when none was needed or run).
    """

    types: tuple[str, ...]
    features: tuple[str, ...]
    center: np.ndarray = field(repr=False)
    scale: np.ndarray = field(repr=False)
    y_center: float
    y_scale: float
    weights: np.ndarray = field(repr=False)
    means: np.ndarray = field(repr=False)
    covs: np.ndarray = field(repr=False)
    hypers: tuple = field(repr=False)
    hyper: dict
    log_evidence: float
    n_training: int
    n_by_type: dict
    extra_sd: float = 0.0

    @property
    def mean(self) -> np.ndarray:
        """Posterior mean of the coefficients, averaged over the grid (standardised)."""
        return self.weights @ self.means

    @property
    def sigma(self) -> float:
        """Unexplained heterogeneity of true effects (posterior mean, outcome units)."""
        return float(self.weights @ [h["sigma"] for h in self.hypers]) * self.y_scale


def _design(x: np.ndarray, type_index: np.ndarray, n_types: int) -> np.ndarray:
    # [1, one-hot type, x, one-hot type (x) x]; an unknown type (-1) has 0 type parts.
    n, p = x.shape
    onehot = np.zeros((n, n_types))
    known = type_index >= 0
    onehot[np.flatnonzero(known), type_index[known]] = 1.0
    interactions = (onehot[:, :, None] * x[:, None, :]).reshape(n, n_types * p)
    return np.hstack([np.ones((n, 1)), onehot, x, interactions])


def _prior_sd(n_types: int, p: int, lambda_a: float, lambda_b: float, lambda_d: float):
    return np.concatenate(
        [
            [_MU_PRIOR],
            np.full(n_types, lambda_a),
            np.full(p, lambda_b),
            np.full(n_types * p, lambda_d),
        ]
    )


def _components(z: np.ndarray, y: np.ndarray, se: np.ndarray, n_types: int, p: int, grid: dict):
    # Log evidence, posterior mean and covariance at every grid point, in coefficient
    # space (q = columns of z): log N(y; 0, Z P Z' + D) = -1/2 [y'D^-1 y - c'A^-1 c
    # + log|D| + log|P| + log|A| + n log 2 pi], A = P^-1 + Z'D^-1 Z, c = Z'D^-1 y.
    n = len(y)
    out = []
    for sigma in grid["sigma"]:
        noise = se**2 + sigma**2
        gram = (z.T / noise) @ z
        c = z.T @ (y / noise)
        base = float(y @ (y / noise) + np.log(noise).sum() + n * np.log(2 * np.pi))
        for lambda_a, lambda_b, lambda_d in itertools.product(
            grid["lambda_a"], grid["lambda_b"], grid["lambda_d"]
        ):
            prior_sd = _prior_sd(n_types, p, lambda_a, lambda_b, lambda_d)
            precision = gram + np.diag(1.0 / prior_sd**2)
            chol = np.linalg.cholesky(precision)
            half = np.linalg.solve(chol, c)
            log_evidence = -0.5 * (
                base - half @ half + 2 * np.log(prior_sd).sum() + 2 * np.log(np.diag(chol)).sum()
            )
            inverse_chol = np.linalg.inv(chol)
            cov = inverse_chol.T @ inverse_chol
            out.append(
                {
                    "hyper": {
                        "sigma": sigma,
                        "lambda_a": lambda_a,
                        "lambda_b": lambda_b,
                        "lambda_d": lambda_d,
                    },
                    "log_evidence": float(log_evidence),
                    "mean": cov @ c,
                    "cov": cov,
                }
            )
    return out


def fit_effect_model(
    y: np.ndarray,
    se: np.ndarray,
    types: np.ndarray,
    x: pd.DataFrame,
    *,
    grid: dict | None = None,
    min_weight: float = 1e-4,
    calibrate_level: float | None = 0.90,
    folds: int = 5,
    seed: int = 0,
) -> EffectModel:
    """Fit the hierarchical meta-regression of effects on group features.

    The hyperparameters are averaged over the grid, each point weighted by its
    marginal likelihood (a flat prior on the grid points; points under ``min_weight``
    are dropped and the rest renormalised): picking the single best point would
    understate the uncertainty when the heterogeneity ``sigma`` is not identified.

    Parameters
    ----------
    y : numpy.ndarray
        Attributed effects (log scale: ``log(1 + relative_effect)``), one per
        intervention.
    se : numpy.ndarray
        Their standard errors (> 0).
    types : numpy.ndarray
        Intervention type of each.
    x : pandas.DataFrame
        Features (:func:`group_features`), one row per intervention.
    grid : dict, optional
        Hyperparameter grid (default :data:`GRID`), in units of ``y``'s standard
        deviation.
    min_weight : float, default 1e-4
        Grid points with a smaller posterior weight are left out.
    calibrate_level : float or None, default 0.90
        Cross-validated calibration of the intervals at this level (None: none). With
        ``folds`` folds, each held-out effect is compared with the forecast fitted
        without it: ``extra_sd`` is the smallest ``tau >= 0`` such that the
        conformal quantile (rank ``ceil((n + 1) level)``) of
        ``|y - forecast| / sqrt(sd^2 + tau^2 + se^2)`` is at most the normal quantile of
        ``level``. It is added to every forecast's variance: the heterogeneity the
        evidence cannot see (a few hundredths against standard errors of a tenth)
        still shows out of sample.
    folds : int, default 5
        Folds of the calibration (needs at least 2 rows per fold; else no calibration).
    seed : int, default 0
        Seed of the fold assignment.

    Returns
    -------
    EffectModel

    Raises
    ------
    ValueError
        Fewer than 3 interventions, lengths that differ, or a non-positive or
        non-finite standard error.
    """
    y = np.asarray(y, dtype=float)
    se = np.asarray(se, dtype=float)
    types = np.asarray(types, dtype=object)
    values = x.to_numpy(dtype=float)
    if not len(y) == len(se) == len(types) == len(values):
        raise ValueError("y, se, types and x must have the same length")
    if len(y) < 3:
        raise ValueError(f"need at least 3 interventions to fit, got {len(y)}")
    if not (np.isfinite(se).all() and (se > 0).all() and np.isfinite(y).all()):
        raise ValueError("effects must be finite and standard errors finite and > 0")
    if not np.isfinite(values).all():
        raise ValueError("features must be finite")
    grid = grid or GRID
    center = values.mean(axis=0)
    scale = values.std(axis=0)
    # A constant feature (its spread only rounding error) is left unscaled: it is 0.
    constant = scale <= 1e-9 * np.maximum(1.0, np.abs(center))
    center = np.where(constant, values[0] if len(values) else 0.0, center)
    scale = np.where(constant, 1.0, scale)
    xs = (values - center) / scale
    y_center = float(np.average(y, weights=1 / se**2))
    y_scale = float(y.std()) if y.std() > 0 else 1.0
    ys, ses = (y - y_center) / y_scale, se / y_scale
    kinds = tuple(sorted(set(types.tolist())))
    index = np.array([kinds.index(t) for t in types])
    z = _design(xs, index, len(kinds))
    components = _components(z, ys, ses, len(kinds), xs.shape[1], grid)
    log_evidence = np.array([c["log_evidence"] for c in components])
    weight = np.exp(log_evidence - log_evidence.max())
    weight /= weight.sum()
    keep = np.flatnonzero(weight >= min_weight)
    weight = weight[keep] / weight[keep].sum()
    kept = [components[i] for i in keep]
    best = kept[int(np.argmax(weight))]
    extra_sd = 0.0
    if calibrate_level is not None and len(y) >= 2 * folds:
        # Folds by a canonical order of the rows, so the input order does not matter.
        canonical = np.lexsort((se, y))
        fold = np.empty(len(y), dtype=int)
        fold[canonical] = np.random.default_rng(seed).permutation(len(y)) % folds
        mean_out, sd_out = np.zeros(len(y)), np.zeros(len(y))
        for k in range(folds):
            inside, out = fold != k, fold == k
            part = fit_effect_model(
                y[inside], se[inside], types[inside], x.iloc[np.flatnonzero(inside)],
                grid=grid, min_weight=min_weight, calibrate_level=None,
            )  # fmt: skip
            held = predict_effects(part, types[out], x.iloc[np.flatnonzero(out)])
            mean_out[out], sd_out[out] = held["predicted"], held["sd"]
        extra_sd = _calibrate(y - mean_out, sd_out, se, calibrate_level)
    return EffectModel(
        types=kinds,
        features=tuple(x.columns),
        center=center,
        scale=scale,
        y_center=y_center,
        y_scale=y_scale,
        weights=weight,
        means=np.array([c["mean"] for c in kept]),
        covs=np.array([c["cov"] for c in kept]),
        hypers=tuple(c["hyper"] for c in kept),
        hyper=best["hyper"],
        log_evidence=float(log_evidence.max()),
        n_training=len(y),
        n_by_type={t: int((types == t).sum()) for t in kinds},
        extra_sd=extra_sd,
    )


def _calibrate(residual: np.ndarray, sd: np.ndarray, se: np.ndarray, level: float) -> float:
    # Smallest tau >= 0 whose conformal quantile of the standardised residuals is within
    # the normal quantile (bisection: the quantile falls as tau grows).
    n = len(residual)
    rank = min(int(np.ceil((n + 1) * level)), n) - 1
    target = stats.norm.ppf(0.5 + level / 2)

    def excess(tau: float) -> float:
        r = np.sort(np.abs(residual) / np.sqrt(sd**2 + tau**2 + se**2))
        return r[rank] - target

    if excess(0.0) <= 0:
        return 0.0
    low, high = 0.0, float(np.abs(residual).max()) + 1e-9
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if excess(middle) > 0 else (low, middle)
    return high


def predict_effects(
    model: EffectModel, types: np.ndarray, x: pd.DataFrame, *, level: float = 0.90
) -> pd.DataFrame:
    """Forecast the true effect of each (type, group) with an interval.

    Parameters
    ----------
    model : EffectModel
        From :func:`fit_effect_model`.
    types : numpy.ndarray
        Intervention type of each row (a type the model never saw gets the shared part
        and the prior variance of the type's own parts).
    x : pandas.DataFrame
        The groups' features, the model's columns.
    level : float, default 0.90
        Two-sided level of the interval.

    Returns
    -------
    pandas.DataFrame
        ``predicted`` (outcome scale, i.e. the log effect), ``sd`` (predictive standard
        deviation of the true effect: model uncertainty and unexplained heterogeneity),
        ``ci_low``, ``ci_high`` and ``is_known_type``, same index as ``x``.
    """
    types = np.asarray(types, dtype=object)
    xs = (x[list(model.features)].to_numpy(dtype=float) - model.center) / model.scale
    index = np.array([model.types.index(t) if t in model.types else -1 for t in types])
    z = _design(xs, index, len(model.types))
    unknown = index < 0
    # Moments of the mixture over the grid points kept.
    first, second = np.zeros(len(z)), np.zeros(len(z))
    for weight, coef, cov, hyper in zip(
        model.weights, model.means, model.covs, model.hypers, strict=True
    ):
        m = z @ coef
        v = np.einsum("ij,jk,ik->i", z, cov, z) + hyper["sigma"] ** 2
        v[unknown] += hyper["lambda_a"] ** 2 + hyper["lambda_d"] ** 2 * (xs[unknown] ** 2).sum(
            axis=1
        )
        first += weight * m
        second += weight * (v + m**2)
    mean, var = first, np.maximum(second - first**2, 0.0)
    predicted = model.y_center + model.y_scale * mean
    sd = np.sqrt(model.y_scale**2 * var + model.extra_sd**2)
    q = stats.norm.ppf(0.5 + level / 2)
    return pd.DataFrame(
        {
            "predicted": predicted,
            "sd": sd,
            "ci_low": predicted - q * sd,
            "ci_high": predicted + q * sd,
            "is_known_type": ~unknown,
        },
        index=x.index,
    )


def top_features(model: EffectModel, types: np.ndarray, x: pd.DataFrame, k: int = 3) -> list[str]:
    """The ``k`` features that move each forecast most from the type's mean, with sign.

    A feature's contribution is its slope for the type (shared + the type's own) times
    the group's standardised value, in outcome units: how much it raises or lowers the
    forecast against a group with the training mean of that feature.

    Parameters
    ----------
    model : EffectModel
    types : numpy.ndarray
    x : pandas.DataFrame
    k : int, default 3

    Returns
    -------
    list of str
        Per row, e.g. ``"key_member_share +0.081; log_members -0.034; growth_score
        +0.012"`` (largest absolute contribution first, ties by feature order).
    """
    types = np.asarray(types, dtype=object)
    xs = (x[list(model.features)].to_numpy(dtype=float) - model.center) / model.scale
    n_types, p = len(model.types), len(model.features)
    shared = model.mean[1 + n_types : 1 + n_types + p]
    own = model.mean[1 + n_types + p :].reshape(n_types, p)
    out = []
    for row, kind in zip(xs, types, strict=True):
        slope = shared + (own[model.types.index(kind)] if kind in model.types else 0.0)
        contribution = slope * row * model.y_scale
        # Rounded before ranking, so rounding noise never reorders equal contributions.
        order = sorted(range(p), key=lambda j: (-round(abs(contribution[j]), 9), j))[:k]
        out.append("; ".join(f"{model.features[j]} {contribution[j]:+.3f}" for j in order))
    return out
