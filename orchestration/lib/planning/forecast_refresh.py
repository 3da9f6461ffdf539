"""The intervention forecast step: past attributed effects -> a forecast per group and type.

:func:`prepare_training` turns the attribution rows into the model's outcomes (the log
effect and its standard error, from the attribution's interval) and says why a row is
left out; :func:`forecast_interventions` fits the shrinkage meta-regression of
:mod:`~orchestration.lib.planning.forecast` on them and forecasts every (group of the
latest snapshot, intervention type) with a 90% interval, the expected contribution to
DAU and posts per day, the features that drive it and an out-of-time check of the
model's quality (fit on the earlier interventions, test on the later ones);
:func:`refresh_forecasts` runs both on an open warehouse connection and rewrites the
outputs. All pure except the last; deterministic (no sampling).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import asdict, dataclass

import duckdb
import numpy as np
import pandas as pd
from scipy import stats

from orchestration.lib.planning import forecast_store as store
from orchestration.lib.planning.forecast import (
    fit_effect_model,
    group_features,
    predict_effects,
    top_features,
)
from orchestration.lib.warehouse.tables import ddl_names

__all__ = [
    "MODEL_NAME",
    "ForecastSettings",
    "forecast_interventions",
    "prepare_training",
    "quality_out_of_time",
    "refresh_forecasts",
    "round_inputs",
]

_log = logging.getLogger(__name__)

#: Prefix of ``model_version`` (the method; the suffix is a digest of the training data).
MODEL_NAME = "shrinkage-meta-regression-v2"


@dataclass(frozen=True)
class ForecastSettings:
    """Forecast settings (the defaults are the documented ones)."""

    level: float = 0.90
    """Two-sided level of the forecast intervals."""
    attribution_alpha: float = 0.05
    """The attribution's alpha (its intervals' level), to turn them into standard errors."""
    min_training_interventions: int = 5
    """Fewer usable attributed interventions than this: no forecast at all."""
    min_type_interventions: int = 3
    """A type is forecast only with at least this many usable interventions of it."""
    holdout_share: float = 0.3
    """Share of the latest interventions (by start) held out for the quality figures."""
    top_k_features: int = 3
    """Features named in top_features."""

    def __post_init__(self) -> None:
        if not 0 < self.level < 1 or not 0 < self.attribution_alpha < 1:
            raise ValueError("level and attribution_alpha must be between 0 and 1")
        if self.min_training_interventions < 3 or self.min_type_interventions < 1:
            raise ValueError("min_training_interventions >= 3 and min_type_interventions >= 1")
        if not 0 < self.holdout_share < 1:
            raise ValueError("holdout_share must be between 0 and 1")


def _se_from_interval(low, high, n_donors, alpha: float, transform=None) -> np.ndarray:
    # The attribution's interval is estimate +- t(1 - alpha/2, n_donors - 1) x scale.
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    if transform is not None:
        low, high = transform(low), transform(high)
    dof = np.maximum(np.asarray(n_donors, dtype=float) - 1, 1)
    return (high - low) / (2 * stats.t.ppf(1 - alpha / 2, dof))


def prepare_training(raw: pd.DataFrame, settings: ForecastSettings | None = None) -> pd.DataFrame:
    """The model's outcomes per attributed intervention, and why a row is not used.

    Parameters
    ----------
    raw : pandas.DataFrame
        :func:`~orchestration.lib.planning.forecast_store.read_training`.
    settings : ForecastSettings, optional

    Returns
    -------
    pandas.DataFrame
        ``raw`` with ``log_effect = log(1 + relative_effect)`` and ``log_effect_se`` (the
        half-width of the attribution's interval on the log scale over its t quantile),
        the DAU and posts effects per member and day (``contribution / avg_members_post``)
        with their standard errors, ``is_used`` and ``exclusion_reason``
        (``not_estimated: <status>``, ``no_health_row_at_snapshot``,
        ``no_effect_interval``, ``zero_width_interval``; null when used).
    """
    settings = settings or ForecastSettings()
    out = raw.copy()
    alpha = settings.attribution_alpha
    with np.errstate(invalid="ignore", divide="ignore"):
        out["log_effect"] = np.log1p(out["relative_effect"].astype(float))
        out["log_effect_se"] = _se_from_interval(
            out["relative_ci_low"], out["relative_ci_high"], out["n_donors"], alpha, np.log1p
        )
        members = out["avg_members_post"].astype(float)
        for prefix, column, low, high in (
            ("dau", "contribution_dau", "contribution_dau_ci_low", "contribution_dau_ci_high"),
            ("posts", "contribution_posts_per_day", "contribution_posts_ci_low",
             "contribution_posts_ci_high"),
        ):  # fmt: skip
            out[f"{prefix}_effect_per_member"] = out[column].astype(float) / members
            out[f"{prefix}_effect_se"] = (
                _se_from_interval(out[low], out[high], out["n_donors"], alpha) / members
            )
    reason = pd.Series(None, index=out.index, dtype=object)
    estimated = out["status"] == "estimated"
    reason[~estimated] = "not_estimated: " + out.loc[~estimated, "status"].astype(str)
    no_health = estimated & ~out["has_health_row"].astype(bool)
    reason[no_health] = "no_health_row_at_snapshot"
    no_interval = reason.isna() & ~(
        np.isfinite(out["log_effect"]) & np.isfinite(out["log_effect_se"])
    )
    reason[no_interval] = "no_effect_interval"
    zero = reason.isna() & ~(out["log_effect_se"] > 0)
    reason[zero] = "zero_width_interval"
    out["is_used"] = reason.isna()
    out["exclusion_reason"] = reason.astype(object).where(reason.notna(), None)
    return out


#: Significant digits the step's float inputs are rounded to before the fit.
INPUT_DIGITS = 9


def round_inputs(frame: pd.DataFrame, digits: int = INPUT_DIGITS) -> pd.DataFrame:
    """``frame`` with every float column rounded to ``digits`` significant digits.

    The attribution and health marts sum floats in an order that differs between a full
    build and a day-by-day one, so their last bits differ; the fit (an evidence-weighted
    grid, a digest of the outcomes in ``model_version``) would carry that into the
    forecasts. Rounded first, both builds forecast the same.
    """
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_float_dtype(out[column]):
            continue
        x = out[column].to_numpy(dtype=float, copy=True)
        ok = np.isfinite(x) & (x != 0)
        scale = 10.0 ** (digits - 1 - np.floor(np.log10(np.abs(x[ok]))))
        x[ok] = np.round(x[ok] * scale) / scale
        out[column] = x
    return out


def _version(used: pd.DataFrame) -> str:
    digest = hashlib.sha256()
    for row in used.sort_values("intervention_id").itertuples(index=False):
        digest.update(
            f"{row.intervention_id}|{row.log_effect:.12g}|{row.log_effect_se:.12g};".encode()
        )
    return f"{MODEL_NAME}:{len(used)}:{digest.hexdigest()[:12]}"


def _fit_outcome(
    used: pd.DataFrame, y_column: str, se_column: str, minimum: int, *, level: float | None
):
    ok = np.isfinite(used[y_column]) & (used[se_column] > 0) & np.isfinite(used[se_column])
    rows = used[ok]
    if len(rows) < minimum:
        return None
    return fit_effect_model(
        rows[y_column].to_numpy(),
        rows[se_column].to_numpy(),
        rows["intervention_type"].to_numpy(),
        group_features(rows),
        calibrate_level=level,
    )


def quality_out_of_time(used: pd.DataFrame, settings: ForecastSettings) -> dict:
    """Fit on the earlier interventions, test on the later ones (by ``started_at``).

    The test compares forecasts with the *attributed* effects (the warehouse has no
    planted truth): the Spearman rank correlation, and the share of attributed effects
    inside the forecast interval widened by their own standard error
    (``sqrt(sd^2 + se^2)``), which should be near ``level`` when both are honest.

    Parameters
    ----------
    used : pandas.DataFrame
        The used rows of :func:`prepare_training`.
    settings : ForecastSettings

    Returns
    -------
    dict
        ``n_fit``, ``n_test``, ``rank_correlation``, ``coverage`` (None when the split
        leaves fewer than ``min_training_interventions`` to fit or 5 to test).
    """
    ordered = used.sort_values(["started_at", "intervention_id"])
    n_test = int(round(settings.holdout_share * len(ordered)))
    fit_rows, test_rows = (
        ordered.iloc[: len(ordered) - n_test],
        ordered.iloc[len(ordered) - n_test :],
    )
    empty = {"n_fit": len(fit_rows), "n_test": n_test, "rank_correlation": None, "coverage": None}
    if len(fit_rows) < settings.min_training_interventions or n_test < 5:
        return empty
    model = _fit_outcome(
        fit_rows, "log_effect", "log_effect_se", settings.min_training_interventions,
        level=settings.level,
    )  # fmt: skip
    forecast = predict_effects(
        model, test_rows["intervention_type"].to_numpy(), group_features(test_rows),
        level=settings.level,
    )  # fmt: skip
    y, se = test_rows["log_effect"].to_numpy(), test_rows["log_effect_se"].to_numpy()
    q = stats.norm.ppf(0.5 + settings.level / 2)
    inside = np.abs(y - forecast["predicted"].to_numpy()) <= q * np.sqrt(
        forecast["sd"].to_numpy() ** 2 + se**2
    )
    rho = stats.spearmanr(forecast["predicted"], y).statistic if n_test > 2 else np.nan
    return {
        "n_fit": len(fit_rows),
        "n_test": n_test,
        "rank_correlation": None if not np.isfinite(rho) else round(float(rho), 4),
        "coverage": round(float(inside.mean()), 4),
    }


def forecast_interventions(
    training: pd.DataFrame, candidates: pd.DataFrame, settings: ForecastSettings | None = None
) -> tuple[pd.DataFrame, dict]:
    """Forecast every (candidate group, intervention type).

    Parameters
    ----------
    training : pandas.DataFrame
        :func:`prepare_training`'s output.
    candidates : pandas.DataFrame
        :func:`~orchestration.lib.planning.forecast_store.read_candidates`: the groups
        of the latest snapshot with their health columns.
    settings : ForecastSettings, optional

    Returns
    -------
    (pandas.DataFrame, dict)
        The forecasts (the columns of ``forecasts.intervention_forecasts``; candidates
        of the group kinds seen in training, types with at least
        ``min_type_interventions`` used interventions; empty below
        ``min_training_interventions``), sorted by group kind, community and type; and
        the figures: ``n_training``, ``n_by_type``, ``types_forecast``, ``model_version``,
        ``sigma``, ``hyper`` and the out-of-time ``quality``
        (:func:`quality_out_of_time`).
    """
    settings = settings or ForecastSettings()
    columns = ddl_names(store.TABLES["intervention_forecasts"])
    used = training[training["is_used"]]
    version = _version(used)
    figures = {"n_training": len(used), "model_version": version, "types_forecast": []}
    if len(used) < settings.min_training_interventions:
        figures["reason"] = (
            f"{len(used)} usable attributed interventions, fewer than "
            f"min_training_interventions ({settings.min_training_interventions})"
        )
        return pd.DataFrame(columns=columns), figures
    model = _fit_outcome(
        used, "log_effect", "log_effect_se", settings.min_training_interventions,
        level=settings.level,
    )  # fmt: skip
    # The contributions are point forecasts (the contract has no interval for them): no
    # calibration of their intervals.
    dau_model = _fit_outcome(
        used, "dau_effect_per_member", "dau_effect_se", settings.min_training_interventions,
        level=None,
    )  # fmt: skip
    posts_model = _fit_outcome(
        used, "posts_effect_per_member", "posts_effect_se", settings.min_training_interventions,
        level=None,
    )  # fmt: skip
    kinds = sorted(set(used["group_kind"]))
    types = [t for t in model.types if model.n_by_type[t] >= settings.min_type_interventions]
    pool = candidates[candidates["group_kind"].isin(kinds)].reset_index(drop=True)
    frames = []
    if len(pool) and types:
        features = group_features(pool)
        members = pool["count_members"].astype(float).to_numpy()
        for kind in types:
            kind_array = np.full(len(pool), kind, dtype=object)
            effect = predict_effects(model, kind_array, features, level=settings.level)
            frame = pd.DataFrame(
                {
                    "community_id": pool["community_id"],
                    "group_kind": pool["group_kind"],
                    "snapshot_date": pool["snapshot_date"],
                    "intervention_type": kind,
                    "predicted_effect": np.expm1(effect["predicted"].to_numpy()),
                    "effect_ci_low": np.expm1(effect["ci_low"].to_numpy()),
                    "effect_ci_high": np.expm1(effect["ci_high"].to_numpy()),
                    "top_features": top_features(
                        model, kind_array, features, settings.top_k_features
                    ),
                }
            )
            for column, fitted in (
                ("expected_dau_contribution", dau_model),
                ("expected_posts_per_day_contribution", posts_model),
            ):
                if fitted is None:
                    frame[column] = np.nan
                else:
                    per_member = predict_effects(fitted, kind_array, features)["predicted"]
                    frame[column] = per_member.to_numpy() * members
            frames.append(frame)
    forecasts = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    forecasts["n_training_interventions"] = len(used)
    forecasts["model_version"] = version
    forecasts = forecasts.sort_values(["group_kind", "community_id", "intervention_type"])
    figures.update(
        n_by_type=model.n_by_type,
        types_forecast=types,
        sigma=round(model.sigma, 6),
        hyper=model.hyper,
        quality=quality_out_of_time(used, settings),
    )
    return forecasts.reindex(columns=columns).reset_index(drop=True), figures


def refresh_forecasts(
    con: duckdb.DuckDBPyConnection,
    settings: ForecastSettings | None = None,
    *,
    log: logging.Logger | None = None,
) -> dict:
    """Fit on the attributed interventions, forecast the latest snapshot's groups, write.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Writable warehouse connection with the models of :data:`store.INPUT_MODELS`.
    settings : ForecastSettings, optional
    log : logging.Logger, optional

    Returns
    -------
    dict
        The figures of :func:`forecast_interventions` plus ``count_forecasts``,
        ``count_attributed``, ``excluded_by_reason``, ``settings`` and ``seconds``.
    """
    log = log or _log
    settings = settings or ForecastSettings()
    started = time.perf_counter()
    training = prepare_training(round_inputs(store.read_training(con)), settings)
    candidates = round_inputs(store.read_candidates(con))
    forecasts, figures = forecast_interventions(training, candidates, settings)
    training = training.assign(model_version=figures["model_version"])
    store.write_forecasts(con, forecasts, training)
    excluded = training.loc[~training["is_used"], "exclusion_reason"].value_counts()
    log.info(
        "%d forecast(s) from %d of %d attributed intervention(s)",
        len(forecasts), figures["n_training"], len(training),
    )  # fmt: skip
    return {
        **figures,
        "count_forecasts": len(forecasts),
        "count_attributed": len(training),
        "excluded_by_reason": {str(k): int(v) for k, v in sorted(excluded.items())},
        "settings": asdict(settings),
        "seconds": round(time.perf_counter() - started, 3),
    }
