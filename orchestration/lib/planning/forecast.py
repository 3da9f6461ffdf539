"""Forecast what an intervention will do to a group: a shrinkage meta-regression.

The past interventions' attributed effects (``fct_intervention_attribution``: the
difference-in-differences of log activity per member-day against matched donors, with
its placebo standard error) are regressed on the target group's features at the
snapshot before the start (:func:`group_features`, from ``fct_community_health``). With
tens to hundreds of noisy attributed effects a free regression on every feature would
overfit, so each fit is a Bayesian model average over small subsets of the features
(at most ``max_features``, :data:`MAX_FEATURES`), each with Gaussian priors (empirical
Bayes):

.. math::

    y_i = \\mu + a_{t(i)} + x_{i,S} \\cdot b_S + u_i + e_i,
    \\quad u_i \\sim N(0, \\sigma^2), \\quad e_i \\sim N(0, s_i^2)

where ``y_i`` is the log effect (``log(1 + relative_effect)``), ``s_i`` its standard
error from the attribution, ``x_{i,S}`` the standardised features of the subset ``S``,
``b_S ~ N(0, lambda^2)`` their slopes and ``u_i`` the heterogeneity of true effects the
features do not explain. Given ``(S, sigma, lambda)`` the posterior of the coefficients
is exact (Gaussian); the subsets and hyperparameters are averaged, each weighted by its
marginal likelihood (every subset size equally likely a priori), and a forecast is the
moment-matched mixture.

**One fit per type.** A type with at least ``min_own_fit`` (:data:`MIN_OWN_FIT`)
interventions gets its own fit (its own features and slopes: an activity's effect and
a resource boost's depend on different features, and slopes shared between types
dragged each towards the other's); a rarer type, and a type never seen, use the pooled
fit of every intervention, with a shift per type (``a_t ~ N(0, lambda_a^2)``). A type
never seen gets the pooled shared part with the shift's prior variance added: wide, as
it should be.

The intervals are calibrated out of sample, both ways (K-fold: ``sd_scale`` of
:func:`fit_effect_model`). A forecast's interval for the *true* effect is
``sd_scale`` times the square root of the posterior variance of its mean (model
uncertainty) plus ``sigma^2``; the attribution noise ``s_i`` enters through the fit
and the calibration only.

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
    "MAX_FEATURES",
    "MIN_OWN_FIT",
    "EffectModel",
    "fit_effect_model",
    "group_features",
    "predict_effects",
    "top_features",
]

#: Features of a group at a snapshot (name -> what it is), computed by
#: :func:`group_features` from ``fct_community_health``'s columns. The health
#: components (cohesion, activity, growth scores) are left out: they are sums of these
#: raw measures, and their slopes only split the same evidence three more ways.
FEATURES = {
    "log_members": "log of members",
    "log_member_growth_4_weeks": "log((members + 1) / (members 4 weeks before + 1)); "
    "a group without a row 4 weeks before had 0 members then (it is new: it grew)",
    "key_member_share": "key members / members",
    "key_member_active_share": "share of key members active in the week",
    "log_messages_per_member": "log(1 + posts and comments per member in the week)",
    "share_members_active": "share of members active in the week",
    "share_weight_inside": "share of members' tie weight kept inside",
}

#: Hyperparameter grid of :func:`fit_effect_model`, in units of the standard deviation
#: of the training outcome: sigma (unexplained heterogeneity), lambda (slopes of the
#: standardised features), lambda_a (type shifts of the pooled fit). lambda_a is fixed
#: at a weak 1.0: with two or three types the evidence cannot estimate the spread of
#: type means (it picks a near-zero spread and pools types whose means differ).
GRID = {
    "sigma": (0.0, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0),
    "lambda": (0.2, 0.5, 1.0, 2.0),
    "lambda_a": (1.0,),
}

#: Largest feature subset averaged over. Chosen by 5-fold cross-validation (3 repeats)
#: on the bench's training interventions only (2 and 3 tied; the smaller was kept).
MAX_FEATURES = 2

#: A type with fewer interventions than this uses the pooled fit (with its own shift).
MIN_OWN_FIT = 8

#: Prior standard deviation of the mean effect, in units of the outcome's spread.
_MU_PRIOR = 10.0

_POOLED = "<pooled>"


def group_features(health: pd.DataFrame) -> pd.DataFrame:
    """The model's :data:`FEATURES` from ``fct_community_health`` rows.

    Parameters
    ----------
    health : pandas.DataFrame
        Rows with ``count_members``, ``member_growth_rate_4_weeks``,
        ``count_key_members``, ``key_member_active_share``, ``messages_per_member``,
        ``share_members_active``, ``share_weight_inside``.

    Returns
    -------
    pandas.DataFrame
        One column per feature, same index. Missing values (without key members or
        ties) are 0, which is what they mean; a group without a growth rate (no row 4
        weeks before: new) had 0 members then.
    """
    members = health["count_members"].astype(float).clip(lower=1)
    growth = health["member_growth_rate_4_weeks"].astype(float)
    # The rate is members / members 4 weeks before - 1: back to the members then.
    before = (members / (1.0 + growth.clip(lower=-0.999999))).where(growth.notna(), 0.0)
    out = pd.DataFrame(index=health.index)
    out["log_members"] = np.log(members)
    out["log_member_growth_4_weeks"] = np.log((members + 1.0) / (before + 1.0))
    out["key_member_share"] = health["count_key_members"].astype(float).fillna(0.0) / members
    out["key_member_active_share"] = health["key_member_active_share"].astype(float).fillna(0.0)
    out["log_messages_per_member"] = np.log1p(
        health["messages_per_member"].astype(float).fillna(0.0).clip(lower=0)
    )
    for column in ("share_members_active", "share_weight_inside"):
        out[column] = health[column].astype(float).fillna(0.0)
    return out[list(FEATURES)]


@dataclass(frozen=True)
class _Fit:
    """One model average (a type's own, or the pooled one) over subsets and the grid.

    Coefficients are in the full space ``[mu, a_t for t in shift_types, b for every
    feature]`` (standardised units), 0 with 0 variance where a subset leaves a feature
    out.
    """

    shift_types: tuple[str, ...]
    weights: np.ndarray = field(repr=False)
    means: np.ndarray = field(repr=False)
    covs: np.ndarray = field(repr=False)
    sigmas: np.ndarray = field(repr=False)
    lambda_a: float
    best: dict
    log_evidence: float

    @property
    def mean(self) -> np.ndarray:
        return self.weights @ self.means

    @property
    def sigma(self) -> float:
        return float(self.weights @ self.sigmas)


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
    fits : dict of str to _Fit
        The model averages: one per type with at least ``min_own_fit`` interventions
        and the pooled one (key ``"<pooled>"``).
    fit_of_type : dict of str to str
        Which fit forecasts each type seen (the type itself or ``"<pooled>"``).
    hyper : dict of str to dict
        Per fit, its most probable subset and grid point (``features``, ``sigma``,
        ``lambda``; outcome-sd units).
    log_evidence : dict of str to float
        Per fit, the largest log marginal likelihood.
    n_training : int
        Interventions fitted.
    n_by_type : dict of str to int
        Of them per type.
    sd_scale : float
        Factor of every forecast's standard deviation from the cross-validated
        calibration (1 when not run).
    """

    types: tuple[str, ...]
    features: tuple[str, ...]
    center: np.ndarray = field(repr=False)
    scale: np.ndarray = field(repr=False)
    y_center: float
    y_scale: float
    fits: dict = field(repr=False)
    fit_of_type: dict
    hyper: dict
    log_evidence: dict
    n_training: int
    n_by_type: dict
    sd_scale: float = 1.0

    @property
    def sigma(self) -> float:
        """Unexplained heterogeneity of true effects (outcome units), averaged over the
        types by their interventions."""
        total = sum(self.n_by_type.values())
        value = sum(n * self.fits[self.fit_of_type[t]].sigma for t, n in self.n_by_type.items())
        return float(value / total) * self.y_scale

    def slopes(self, kind: str) -> np.ndarray:
        """Posterior mean slopes (standardised features, outcome-sd units) for ``kind``
        (a type never seen: the pooled fit's)."""
        fit = self.fits[self.fit_of_type.get(kind, _POOLED)]
        return fit.mean[1 + len(fit.shift_types) :]


def _posterior(z: np.ndarray, y: np.ndarray, noise: np.ndarray, prior_sd: np.ndarray):
    """Log evidence, posterior mean and covariance of ``y = z c + e``.

    ``c ~ N(0, diag(prior_sd^2))``, ``e ~ N(0, diag(noise))``:
    ``log N(y; 0, Z P Z' + D) = -1/2 [y'D^-1 y - h'h + log|D| + log|P| + log|A| + n log
    2 pi]``, ``A = P^-1 + Z'D^-1 Z = L L'``, ``h = L^-1 Z'D^-1 y``.
    """
    n = len(y)
    gram = (z.T / noise) @ z
    c = z.T @ (y / noise)
    precision = gram + np.diag(1.0 / prior_sd**2)
    chol = np.linalg.cholesky(precision)
    half = np.linalg.solve(chol, c)
    log_evidence = -0.5 * (
        float(y @ (y / noise) + np.log(noise).sum() + n * np.log(2 * np.pi))
        - half @ half
        + 2 * np.log(prior_sd).sum()
        + 2 * np.log(np.diag(chol)).sum()
    )
    inverse_chol = np.linalg.inv(chol)
    cov = inverse_chol.T @ inverse_chol
    return float(log_evidence), cov @ c, cov


def _model_average(
    y: np.ndarray,
    se: np.ndarray,
    xs: np.ndarray,
    types: np.ndarray,
    shift_types: tuple[str, ...],
    names: tuple[str, ...],
    grid: dict,
    max_features: int,
    min_weight: float,
) -> _Fit:
    # Every (subset of at most max_features features, sigma, lambda), weighted by its
    # evidence; a flat prior over subset sizes, uniform within a size and over the grid.
    n, p = xs.shape
    k_shift = len(shift_types)
    width = 1 + k_shift + p
    onehot = np.zeros((n, k_shift))
    for j, kind in enumerate(shift_types):
        onehot[types == kind, j] = 1.0
    base = np.hstack([np.ones((n, 1)), onehot])
    sizes = range(min(max_features, p) + 1)
    rows = []
    for size in sizes:
        subsets = list(itertools.combinations(range(p), size))
        lambdas = grid["lambda"] if size else grid["lambda"][:1]
        log_prior = -np.log(len(sizes)) - np.log(len(subsets)) - np.log(len(lambdas))
        for subset in subsets:
            z = np.hstack([base, xs[:, list(subset)]])
            columns = [*range(1 + k_shift), *(1 + k_shift + j for j in subset)]
            for sigma, lambda_a, lam in itertools.product(grid["sigma"], grid["lambda_a"], lambdas):
                prior_sd = np.concatenate(
                    [[_MU_PRIOR], np.full(k_shift, lambda_a), np.full(size, lam)]
                )
                log_evidence, mean, cov = _posterior(z, y, se**2 + sigma**2, prior_sd)
                full_mean = np.zeros(width)
                full_mean[columns] = mean
                full_cov = np.zeros((width, width))
                full_cov[np.ix_(columns, columns)] = cov
                hyper = {
                    "features": [names[j] for j in subset],
                    "sigma": sigma,
                    "lambda": lam if size else None,
                }
                rows.append((log_evidence + log_prior, log_evidence, full_mean, full_cov, hyper))
    score = np.array([r[0] for r in rows])
    weight = np.exp(score - score.max())
    weight /= weight.sum()
    keep = np.flatnonzero(weight >= min_weight)
    weight = weight[keep] / weight[keep].sum()
    kept = [rows[i] for i in keep]
    best = kept[int(np.argmax(weight))]
    return _Fit(
        shift_types=shift_types,
        weights=weight,
        means=np.array([r[2] for r in kept]),
        covs=np.array([r[3] for r in kept]),
        sigmas=np.array([r[4]["sigma"] for r in kept]),
        lambda_a=float(grid["lambda_a"][0]),
        best=best[4],
        log_evidence=float(max(r[1] for r in rows)),
    )


def fit_effect_model(
    y: np.ndarray,
    se: np.ndarray,
    types: np.ndarray,
    x: pd.DataFrame,
    *,
    grid: dict | None = None,
    max_features: int = MAX_FEATURES,
    min_own_fit: int = MIN_OWN_FIT,
    min_weight: float = 1e-4,
    calibrate_level: float | None = 0.90,
    folds: int = 5,
    seed: int = 0,
) -> EffectModel:
    """Fit the model-averaged meta-regression of effects on group features.

    Feature subsets and hyperparameters are averaged, each weighted by its marginal
    likelihood (points under ``min_weight`` are dropped and the rest renormalised):
    picking the single best would understate the uncertainty when neither the
    heterogeneity ``sigma`` nor the driving features are clearly identified.

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
        Hyperparameter grid (default :data:`GRID`: ``sigma``, ``lambda``,
        ``lambda_a``), in units of ``y``'s standard deviation.
    max_features : int, default :data:`MAX_FEATURES`
        Largest feature subset averaged over.
    min_own_fit : int, default :data:`MIN_OWN_FIT`
        A type with at least this many interventions gets its own fit; the others use
        the pooled fit.
    min_weight : float, default 1e-4
        Subsets and grid points with a smaller posterior weight are left out.
    calibrate_level : float or None, default 0.90
        Cross-validated calibration of the intervals at this level (None: none). With
        ``folds`` folds, each held-out effect is compared with the forecast fitted
        without it: ``sd_scale`` is the smallest ``c >= 0`` such that the
        conformal quantile (rank ``ceil((n + 1) level)``) of
        ``|y - forecast| / sqrt(c^2 sd^2 + se^2)`` is at most the normal quantile of
        ``level``. Every forecast's sd is multiplied by it: above 1 when the evidence
        missed heterogeneity, below 1 when the model average over-states its
        uncertainty.
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
    names = tuple(x.columns)
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
    n_by_type = {t: int((types == t).sum()) for t in kinds}

    def average(rows: np.ndarray, shift_types: tuple[str, ...]) -> _Fit:
        return _model_average(
            ys[rows], ses[rows], xs[rows], types[rows], shift_types, names, grid,
            max_features, min_weight,
        )  # fmt: skip

    fits = {_POOLED: average(np.arange(len(y)), kinds if len(kinds) > 1 else ())}
    fit_of_type = {}
    for kind in kinds:
        if n_by_type[kind] >= min_own_fit:
            fits[kind] = average(np.flatnonzero(types == kind), ())
            fit_of_type[kind] = kind
        else:
            fit_of_type[kind] = _POOLED
    model = EffectModel(
        types=kinds,
        features=names,
        center=center,
        scale=scale,
        y_center=y_center,
        y_scale=y_scale,
        fits=fits,
        fit_of_type=fit_of_type,
        hyper={
            key: {
                **fit.best,
                "sigma": round(fit.best["sigma"] * y_scale, 6),
                "lambda": None if fit.best["lambda"] is None else fit.best["lambda"] * y_scale,
            }
            for key, fit in fits.items()
        },
        log_evidence={key: fit.log_evidence for key, fit in fits.items()},
        n_training=len(y),
        n_by_type=n_by_type,
    )
    if calibrate_level is None or len(y) < 2 * folds:
        return model
    # Folds by a canonical order of the rows, so the input order does not matter.
    canonical = np.lexsort((se, y))
    fold = np.empty(len(y), dtype=int)
    fold[canonical] = np.random.default_rng(seed).permutation(len(y)) % folds
    mean_out, sd_out = np.zeros(len(y)), np.zeros(len(y))
    for k in range(folds):
        inside, out = fold != k, fold == k
        part = fit_effect_model(
            y[inside], se[inside], types[inside], x.iloc[np.flatnonzero(inside)],
            grid=grid, max_features=max_features, min_own_fit=min_own_fit,
            min_weight=min_weight, calibrate_level=None,
        )  # fmt: skip
        held = predict_effects(part, types[out], x.iloc[np.flatnonzero(out)])
        mean_out[out], sd_out[out] = held["predicted"], held["sd"]
    sd_scale = _calibrate(y - mean_out, sd_out, se, calibrate_level)
    return EffectModel(**{**model.__dict__, "sd_scale": sd_scale})


def _calibrate(residual: np.ndarray, sd: np.ndarray, se: np.ndarray, level: float) -> float:
    # Smallest c >= 0 whose conformal quantile of the standardised residuals is within
    # the normal quantile (bisection: the quantile falls as c grows).
    n = len(residual)
    rank = min(int(np.ceil((n + 1) * level)), n) - 1
    target = stats.norm.ppf(0.5 + level / 2)
    sd = np.maximum(sd, 1e-12)

    def excess(c: float) -> float:
        r = np.sort(np.abs(residual) / np.sqrt((c * sd) ** 2 + se**2))
        return r[rank] - target

    if excess(0.0) <= 0:
        return 0.0
    low, high = 0.0, 1.0
    while excess(high) > 0:
        high *= 2.0
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
        Intervention type of each row (a type the model never saw gets the pooled fit's
        shared part and the prior variance of a type's shift).
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
    known = np.array([t in model.fit_of_type for t in types], dtype=bool)
    mean, var = np.zeros(len(xs)), np.zeros(len(xs))
    for key, fit in model.fits.items():
        rows = (
            np.flatnonzero([model.fit_of_type.get(t, _POOLED) == key for t in types])
            if len(types)
            else np.array([], dtype=int)
        )
        if not len(rows):
            continue
        onehot = np.zeros((len(rows), len(fit.shift_types)))
        for j, kind in enumerate(fit.shift_types):
            onehot[types[rows] == kind, j] = 1.0
        z = np.hstack([np.ones((len(rows), 1)), onehot, xs[rows]])
        first, second = np.zeros(len(rows)), np.zeros(len(rows))
        for weight, coef, cov, sigma in zip(
            fit.weights, fit.means, fit.covs, fit.sigmas, strict=True
        ):
            m = z @ coef
            v = np.einsum("ij,jk,ik->i", z, cov, z) + sigma**2
            first += weight * m
            second += weight * (v + m**2)
        mean[rows] = first
        var[rows] = np.maximum(second - first**2, 0.0)
        # A type never seen: its shift is unknown, with the prior's variance.
        var[rows[~known[rows]]] += fit.lambda_a**2
    predicted = model.y_center + model.y_scale * mean
    sd = model.sd_scale * model.y_scale * np.sqrt(var)
    q = stats.norm.ppf(0.5 + level / 2)
    return pd.DataFrame(
        {
            "predicted": predicted,
            "sd": sd,
            "ci_low": predicted - q * sd,
            "ci_high": predicted + q * sd,
            "is_known_type": known,
        },
        index=x.index,
    )


def top_features(model: EffectModel, types: np.ndarray, x: pd.DataFrame, k: int = 3) -> list[str]:
    """The ``k`` features that move each forecast most from the type's mean, with sign.

    A feature's contribution is its model-averaged slope for the type (the type's own
    fit, or the pooled one) times the group's standardised value, in outcome units: how
    much it raises or lowers the forecast against a group with the training mean of that
    feature. A feature no likely subset holds contributes 0.

    Parameters
    ----------
    model : EffectModel
    types : numpy.ndarray
    x : pandas.DataFrame
    k : int, default 3

    Returns
    -------
    list of str
        Per row, e.g. ``"key_member_share +0.081; log_members -0.034;
        share_weight_inside +0.000"`` (largest absolute contribution first, ties by
        feature order).
    """
    types = np.asarray(types, dtype=object)
    xs = (x[list(model.features)].to_numpy(dtype=float) - model.center) / model.scale
    p = len(model.features)
    slopes = {}
    out = []
    for row, kind in zip(xs, types, strict=True):
        if kind not in slopes:
            slopes[kind] = model.slopes(kind)
        contribution = slopes[kind] * row * model.y_scale
        # Rounded before ranking, so rounding noise never reorders equal contributions.
        order = sorted(range(p), key=lambda j: (-round(abs(contribution[j]), 9), j))[:k]
        out.append("; ".join(f"{model.features[j]} {contribution[j]:+.3f}" for j in order))
    return out
