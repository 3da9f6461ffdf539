"""Intervention forecasts: a Python step after the attribution of past interventions and
the community health mart (dbt). Fits the shrinkage meta-regression of
`orchestration.lib.planning.forecast` on the attributed effects and writes one forecast
per (group of the latest snapshot, intervention type) to
``forecasts.intervention_forecasts`` (read back by fct_intervention_forecasts) and, per
attributed intervention, whether the fit used it and why not to
``forecasts.intervention_forecast_training``."""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.defs.dbt.assets import smallgroups_dbt_assets
from orchestration.defs.settings import LaunchpadConfig, settings_from_config
from orchestration.lib.config import load_settings
from orchestration.lib.planning import forecast_store as store
from orchestration.lib.planning.forecast_refresh import ForecastSettings, refresh_forecasts
from orchestration.lib.warehouse import connect

__all__ = [
    "GROUP",
    "ForecastConfig",
    "intervention_forecast_training_is_complete",
    "intervention_forecasts",
    "intervention_forecasts_are_valid",
]

GROUP = "forecasts"
_FORECASTS = dg.AssetKey([GROUP, "intervention_forecasts"])
_TRAINING = dg.AssetKey([GROUP, "intervention_forecast_training"])


class ForecastConfig(LaunchpadConfig):
    """Forecast settings (launchpad); the defaults are the library's (ForecastSettings)."""

    level: float = ForecastSettings.level
    """Two-sided level of the forecast intervals (0.90)."""
    attribution_alpha: float = ForecastSettings.attribution_alpha
    """The attribution's alpha, to turn its intervals into standard errors."""
    min_training_interventions: int = ForecastSettings.min_training_interventions
    """Fewer usable attributed interventions than this: no forecast."""
    min_type_interventions: int = ForecastSettings.min_type_interventions
    """A type is forecast only with at least this many usable interventions of it."""
    holdout_share: float = ForecastSettings.holdout_share
    """Share of the latest interventions held out for the quality figures."""
    top_k_features: int = ForecastSettings.top_k_features
    """Features named in top_features."""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            _FORECASTS,
            deps=[get_asset_key_for_model([smallgroups_dbt_assets], m) for m in store.INPUT_MODELS],
            description="Per (group of the latest snapshot, intervention type): the forecast "
            "effect on members' activity with a 90% interval, the expected DAU and posts per "
            "day contribution and the features that drive it.",
            kinds={"python", "duckdb"},
            group_name=GROUP,
        ),
        dg.AssetSpec(
            _TRAINING,
            deps=[get_asset_key_for_model([smallgroups_dbt_assets], m) for m in store.INPUT_MODELS],
            description="Per attributed intervention: the outcome the forecast was fitted on, "
            "whether it was used and why not.",
            kinds={"python", "duckdb"},
            group_name=GROUP,
        ),
    ],
    name="forecasts__intervention_forecasts",
)
def intervention_forecasts(context: dg.AssetExecutionContext, config: ForecastConfig):
    """Fit on the attributed interventions and rewrite both forecast tables."""
    settings = settings_from_config(ForecastSettings, config)
    with connect(load_settings().duckdb_path) as con:
        figures = refresh_forecasts(con, settings, log=context.log)
    quality = figures.get("quality") or {}
    yield dg.MaterializeResult(
        asset_key=_FORECASTS,
        metadata={
            "dagster/row_count": figures["count_forecasts"],
            "n_training_interventions": figures["n_training"],
            "model_version": figures["model_version"],
            "types_forecast": ", ".join(figures["types_forecast"]) or "none",
            "unexplained_effect_sd_log": figures.get("sigma"),
            "out_of_time_n_test": quality.get("n_test"),
            "out_of_time_rank_correlation": quality.get("rank_correlation"),
            "out_of_time_coverage": quality.get("coverage"),
            "why_empty": figures.get("reason", ""),
            "seconds": figures["seconds"],
        },
    )
    yield dg.MaterializeResult(
        asset_key=_TRAINING,
        metadata={
            "dagster/row_count": figures["count_attributed"],
            "used": figures["n_training"],
            "excluded_by_reason": dg.MetadataValue.json(figures["excluded_by_reason"]),
        },
    )


_FORECAST_SQL = f"""
with forecasts as (select * from {store.SCHEMA}.intervention_forecasts),
latest as (
    select group_kind, community_id from main.fct_community_health
    where snapshot_date = (select max(snapshot_date) from main.fct_community_health)
)
select
    (select count(*) from (select community_id, intervention_type from forecasts
     group by all having count(*) > 1)),
    (select count(*) from forecasts
     where predicted_effect is null or effect_ci_low <= -1
        or not (effect_ci_low <= predicted_effect and predicted_effect <= effect_ci_high)),
    (select count(*) from forecasts anti join latest using (group_kind, community_id)),
    (select count(*) from forecasts
     where n_training_interventions != (
        select count(*) from {store.SCHEMA}.intervention_forecast_training where is_used)),
"""

_TRAINING_SQL = f"""
with training as (select * from {store.SCHEMA}.intervention_forecast_training)
select
    (select count(*) - count(distinct intervention_id) from training),
    (select count(*) from main.fct_intervention_attribution
     anti join training using (intervention_id)),
    (select count(*) from training
     where is_used = (exclusion_reason is not null)
        or (is_used and not (log_effect_se > 0 and isfinite(log_effect)))),
"""


def _counts(sql: str, names: tuple[str, ...]) -> dg.AssetCheckResult:
    with connect(load_settings().duckdb_path, read_only=True) as con:
        counts = con.execute(sql).fetchall()[0]
    failures = {name: int(value) for name, value in zip(names, counts, strict=True)}
    return dg.AssetCheckResult(passed=not any(failures.values()), metadata=failures)


@dg.asset_check(
    asset=_FORECASTS,
    additional_deps=[_TRAINING],
    description="One forecast per (group, type); every forecast inside its own interval "
    "and above -100%, of a group of the latest snapshot, and counting the used training "
    "rows.",
    blocking=True,
)
def intervention_forecasts_are_valid() -> dg.AssetCheckResult:
    return _counts(
        _FORECAST_SQL,
        (
            "duplicated_forecasts",
            "forecasts_outside_interval",
            "forecasts_of_unknown_groups",
            "forecasts_with_wrong_training_count",
        ),
    )


@dg.asset_check(
    asset=_TRAINING,
    description="One training row per attributed intervention, none missing; an exclusion "
    "reason exactly when a row is unused, and a finite outcome with a positive standard "
    "error when used.",
    blocking=True,
)
def intervention_forecast_training_is_complete() -> dg.AssetCheckResult:
    return _counts(
        _TRAINING_SQL,
        (
            "duplicated_training_rows",
            "attributed_interventions_missing",
            "training_rows_with_inconsistent_reason",
        ),
    )
