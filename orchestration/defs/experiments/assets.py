"""Experiment readout: a Python step after the experiment intermediates. Reads the
per-arm sufficient statistics computed in dbt, runs the statistics of
`orchestration.lib.experiments` (Welch / delta method, CUPED, SRM, Holm) and writes the
``experiments.*`` tables that dbt reads back into the experiment marts."""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.defs.dbt.assets import smallgroups_dbt_assets
from orchestration.defs.settings import LaunchpadConfig, settings_from_config
from orchestration.lib.config import load_settings
from orchestration.lib.experiments import store
from orchestration.lib.experiments.refresh import ExperimentSettings, refresh_experiments
from orchestration.lib.warehouse import connect

__all__ = ["GROUP", "ExperimentConfig", "experiment_readout", "experiment_readout_is_valid"]

GROUP = "experiments"
_KEYS = {name: dg.AssetKey([GROUP, name]) for name in store.TABLES}


class ExperimentConfig(LaunchpadConfig):
    """Readout settings (launchpad); the defaults are the library's (ExperimentSettings)."""

    alpha: float = ExperimentSettings.alpha
    """Two-sided level of the intervals (0.05: 95% intervals)."""
    adjustment_method: str = ExperimentSettings.adjustment_method
    """Multiple-testing adjustment across an experiment's metrics: holm or bh."""
    control_variant: str = ExperimentSettings.control_variant
    """Name of the control variant."""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key,
            group_name=GROUP,
            deps=[get_asset_key_for_model([smallgroups_dbt_assets], m) for m in store.INPUT_MODELS],
            kinds={"python", "duckdb"},
            description=f"Experiment readout table {GROUP}.{name}.",
        )
        for name, key in _KEYS.items()
    ],
    can_subset=False,
)
def experiment_readout(context: dg.AssetExecutionContext, config: ExperimentConfig):
    """Analyse every experiment and rewrite the readout tables."""
    settings = settings_from_config(ExperimentSettings, config)
    with connect(load_settings().duckdb_path) as con:
        stats = refresh_experiments(con, settings, log=context.log)
    rows = {
        "experiment_results": stats["count_results"],
        "experiment_health": stats["count_experiments"] - stats["count_without_units"],
        "experiment_problems": stats["count_problems"],
    }
    for name, key in _KEYS.items():
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "dagster/row_count": rows[name],
                "experiments": stats["count_experiments"],
                "experiments_with_srm": stats["count_with_srm"],
                "seconds": stats["seconds"],
            },
        )


@dg.asset_check(
    asset=_KEYS["experiment_results"],
    description="One row per (experiment, metric, variant, adjustment); adjustment none or "
    "cuped; p-values in [0, 1] with the adjusted one not below the raw one; the relative "
    "lift inside its interval; one health row per experiment with results; a variance "
    "reduction on every cuped row; a member-level SRM p-value in [0, 1] for every cluster "
    "experiment.",
    blocking=True,
)
def experiment_readout_is_valid() -> dg.AssetCheckResult:
    with connect(load_settings().duckdb_path, read_only=True) as con:
        (
            duplicated,
            adjustments,
            p_values,
            intervals,
            missing_health,
            cuped_without_reduction,
            clusters_without_member_srm,
        ) = con.execute(
            f"""
            with results as (select * from {store.SCHEMA}.experiment_results)
            select
                (select count(*) - count(distinct (experiment_id, metric_name, variant,
                                                   adjustment)) from results),
                count(*) filter (where adjustment not in ('none', 'cuped')),
                count(*) filter (
                    where p_value not between 0 and 1
                       or p_value_adjusted not between 0 and 1
                       or p_value_adjusted < p_value - 1e-12),
                count(*) filter (
                    where lift_relative not between lift_relative_ci_low
                                               and lift_relative_ci_high),
                (select count(distinct experiment_id) from results
                 where experiment_id not in (
                     select experiment_id from {store.SCHEMA}.experiment_health)),
                count(*) filter (where adjustment = 'cuped' and variance_reduction is null),
                (select count(*) from {store.SCHEMA}.experiment_health
                 where experiment_id in (
                     select experiment_id from results
                     where analysis_unit in ('group', 'community'))
                   and (member_srm_p_value is null
                        or member_srm_p_value not between 0 and 1)),
            from results
            """
        ).fetchall()[0]
    failures = {
        "duplicated_rows": int(duplicated),
        "unknown_adjustments": int(adjustments),
        "p_values_out_of_range": int(p_values),
        "lifts_outside_interval": int(intervals),
        "experiments_without_health": int(missing_health),
        "cuped_rows_without_variance_reduction": int(cuped_without_reduction),
        "cluster_experiments_without_member_srm": int(clusters_without_member_srm),
    }
    return dg.AssetCheckResult(passed=not any(failures.values()), metadata=failures)
