"""Experiment readout: a Python step after the experiment intermediates. Reads the
per-arm sufficient statistics computed in dbt, runs the statistics of
`orchestration.lib.experiments` (Welch / delta method, CUPED, SRM, Holm) and writes the
``experiments.*`` tables that dbt reads back into the experiment marts; and the design
help `experiment_power` (ICC, design effect and minimum detectable effect per catalog
metric and unit type, `orchestration.lib.experiments.power`)."""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.defs.dbt.assets import smallgroups_dbt_assets
from orchestration.defs.settings import LaunchpadConfig, settings_from_config
from orchestration.lib.config import load_settings
from orchestration.lib.experiments import store
from orchestration.lib.experiments.refresh import (
    DesignSettings,
    ExperimentSettings,
    PowerSettings,
    design_community_experiment,
    refresh_experiments,
    refresh_power,
)
from orchestration.lib.warehouse import connect

__all__ = [
    "GROUP",
    "DesignConfig",
    "design_community_experiment_job",
    "ExperimentConfig",
    "PowerConfig",
    "experiment_power",
    "experiment_power_is_valid",
    "experiment_readout",
    "experiment_readout_is_valid",
]

GROUP = "experiments"
_KEYS = {name: dg.AssetKey([GROUP, name]) for name in store.TABLES}
_POWER_KEY = dg.AssetKey([GROUP, "experiment_power"])


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


class PowerConfig(LaunchpadConfig):
    """Design-help settings (launchpad); the defaults are the library's (PowerSettings)."""

    alpha: float = PowerSettings.alpha
    """Two-sided level of the planned test."""
    power: float = PowerSettings.power
    """Power at which the minimum detectable effect is given."""
    traffic_split: str | None = PowerSettings.traffic_split
    """Planned split, control first ('20/80', '10/45/45'); the MDE is the smallest other
    arm's against control. Empty: two equal arms."""


@dg.asset(
    key=_POWER_KEY,
    group_name=GROUP,
    deps=[get_asset_key_for_model([smallgroups_dbt_assets], m) for m in store.POWER_INPUT_MODELS],
    kinds={"python", "duckdb"},
    description="Design help: per catalog metric and unit type, the intra-cluster correlation, "
    "cluster-size variation, design effect and minimum detectable relative effect (with and "
    "without CUPED) over the units of the recent window.",
)
def experiment_power(context: dg.AssetExecutionContext, config: PowerConfig):
    """Measure the design figures and rewrite experiments.experiment_power."""
    settings = settings_from_config(PowerSettings, config)
    with connect(load_settings().duckdb_path) as con:
        stats = refresh_power(con, settings, log=context.log)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": stats["count_rows"],
            "rows_with_mde": stats["count_with_mde"],
            "seconds": stats["seconds"],
        }
    )


@dg.asset_check(
    asset=_POWER_KEY,
    description="One row per (metric, unit type) of the catalog; ICC at most 1, design effect "
    "at least 1, cluster-size CV not negative, pre/post correlation in [-1, 1], MDEs positive "
    "and the CUPED one not above the unadjusted one.",
    blocking=True,
)
def experiment_power_is_valid() -> dg.AssetCheckResult:
    with connect(load_settings().duckdb_path, read_only=True) as con:
        expected, duplicated, missing, out_of_range, cuped_above = con.execute(
            f"""
            with power as (select * from {store.SCHEMA}.experiment_power),
            catalog as (
                select metric_name, unnest(string_split(unit_types, '|')) as unit_type
                from main.experiment_metrics
            )
            select
                (select count(*) from catalog),
                (select count(*) - count(distinct (metric_name, unit_type)) from power),
                (select count(*) from catalog anti join power using (metric_name, unit_type)),
                (select count(*) from power
                 where icc > 1 or design_effect < 1 or cluster_size_cv < 0
                    or pre_post_correlation not between -1 and 1
                    or mde_relative <= 0 or mde_relative_cuped <= 0),
                (select count(*) from power
                 where mde_relative_cuped > mde_relative * (1 + 1e-12)),
            """
        ).fetchall()[0]
    failures = {
        "duplicated_rows": int(duplicated),
        "catalog_rows_missing": int(missing),
        "figures_out_of_range": int(out_of_range),
        "cuped_mde_above_unadjusted": int(cuped_above),
    }
    return dg.AssetCheckResult(
        passed=not any(failures.values()), metadata={**failures, "catalog_rows": int(expected)}
    )


class DesignConfig(LaunchpadConfig):
    """Community-randomized design (launchpad); the defaults are the library's
    (DesignSettings). Same as `smallgroups experiment design`."""

    out: str
    """File to write the experiment_assignments to (.csv, else Parquet); never inside the
    raw folder."""
    experiment_id: str | None = DesignSettings.experiment_id
    """Id written in the file; default community_<snapshot date>_seed<seed>."""
    size_bins: int = DesignSettings.size_bins
    """Quantile bins of community size."""
    health_bins: int = DesignSettings.health_bins
    """Quantile bins of health_score."""
    seed: int = DesignSettings.seed
    """Seed of the assignment."""
    assigned_at: str | None = DesignSettings.assigned_at
    """UTC start written as assigned_at; default the midnight after the last event."""


@dg.op(description="Design a community-randomized experiment and write its assignment file.")
def design_community_experiment_op(context: dg.OpExecutionContext, config: DesignConfig) -> None:
    from pathlib import Path

    settings = load_settings()
    with connect(settings.duckdb_path, read_only=True) as con:
        summary = design_community_experiment(
            con,
            Path(config.out),
            settings.raw_dir,
            settings_from_config(DesignSettings, config),
            log=context.log,
        )
    context.log.info("design: %s", summary)


@dg.job(
    description="Design a community-randomized experiment on the latest detected communities "
    "(strata by size and health, fixed seed) and write an experiment_assignments file.",
)
def design_community_experiment_job():
    design_community_experiment_op()
