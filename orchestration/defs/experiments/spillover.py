"""Interference in user-randomized experiments: a Python step after the experiment
intermediates. Reads each unit's outcome and exposure to the other variants (computed in
dbt, ``int_experiment_spillover_units_measured``), runs
`orchestration.lib.experiments.spillover` (exposure bins, the spillover regression with
robust errors, the materiality flag) and writes ``experiments.experiment_spillover`` and
``experiments.experiment_spillover_summary``, read back by ``fct_experiment_spillover``
and ``fct_experiment_health``."""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.defs.dbt.assets import smallgroups_dbt_assets
from orchestration.defs.settings import LaunchpadConfig, settings_from_config
from orchestration.lib.config import load_settings
from orchestration.lib.experiments import store
from orchestration.lib.experiments.refresh import SpilloverSettings, refresh_spillover
from orchestration.lib.warehouse import connect

__all__ = ["SpilloverConfig", "experiment_spillover", "experiment_spillover_is_valid"]

GROUP = "experiments"
_KEYS = {name: dg.AssetKey([GROUP, name]) for name in store.SPILLOVER_TABLES}


class SpilloverConfig(LaunchpadConfig):
    """Interference settings (launchpad); the defaults are the library's (SpilloverSettings)."""

    alpha: float = SpilloverSettings.alpha
    """Two-sided level of the intervals and of has_spillover."""
    materiality_share: float = SpilloverSettings.materiality_share
    """Share of the readout's lift from which a significant spillover is material."""
    adjustment_method: str = SpilloverSettings.adjustment_method
    """Adjustment across an experiment's (metric, exposure kind) estimates: holm or bh."""
    control_variant: str = SpilloverSettings.control_variant
    """Name of the control variant."""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key,
            group_name=GROUP,
            deps=[
                get_asset_key_for_model([smallgroups_dbt_assets], m)
                for m in store.SPILLOVER_INPUT_MODELS
            ],
            kinds={"python", "duckdb"},
            description=f"Interference of user experiments: {GROUP}.{name}.",
        )
        for name, key in _KEYS.items()
    ],
    can_subset=False,
)
def experiment_spillover(context: dg.AssetExecutionContext, config: SpilloverConfig):
    """Measure exposure and spillover of every user experiment and rewrite the tables."""
    settings = settings_from_config(SpilloverSettings, config)
    with connect(load_settings().duckdb_path) as con:
        stats = refresh_spillover(con, settings, log=context.log)
    rows = {
        "experiment_spillover": stats["count_rows"],
        "experiment_spillover_summary": stats["count_experiments"],
    }
    for name, key in _KEYS.items():
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "dagster/row_count": rows[name],
                "user_experiments": stats["count_experiments"],
                "with_spillover": stats["count_with_spillover"],
                "recommend_randomize_by_community": stats["count_recommend_community"],
                "seconds": stats["seconds"],
            },
        )


@dg.asset_check(
    asset=_KEYS["experiment_spillover"],
    description="One row per (experiment, metric, exposure kind, exposure level); the bins' "
    "units add up to the control units; exposures in [0, 1]; p-values in [0, 1] with the "
    "adjusted one not below the raw one; the estimate inside its interval; one summary row "
    "per user experiment.",
    blocking=True,
)
def experiment_spillover_is_valid() -> dg.AssetCheckResult:
    with connect(load_settings().duckdb_path, read_only=True) as con:
        duplicated, bins_off, exposure_off, p_off, outside, summary_off = con.execute(
            f"""
            with spill as (select * from {store.SCHEMA}.experiment_spillover),
            bins as (
                select experiment_id, metric_name, exposure_kind, sum(units) as units
                from spill where exposure_level != 'all' group by all
            ),
            controls as (
                select experiment_id, metric_name, count(*) as units
                from main.int_experiment_spillover_units_measured
                where variant = 'control' group by all
            )
            select
                (select count(*) - count(distinct (experiment_id, metric_name, exposure_kind,
                                                   exposure_level)) from spill),
                (select count(*) from bins join controls using (experiment_id, metric_name)
                 where bins.units != controls.units),
                (select count(*) from spill where mean_exposure not between 0 and 1),
                (select count(*) from spill
                 where p_value not between 0 and 1
                    or p_value_adjusted not between 0 and 1
                    or p_value_adjusted < p_value - 1e-12),
                (select count(*) from spill
                 where spillover_estimate not between ci_low and ci_high),
                (select count(*) from main.stg_product__experiments
                 where unit_type = 'user' and experiment_id not in (
                     select experiment_id
                     from {store.SCHEMA}.experiment_spillover_summary)),
            """
        ).fetchall()[0]
    failures = {
        "duplicated_rows": int(duplicated),
        "bins_not_adding_up_to_control_units": int(bins_off),
        "exposures_out_of_range": int(exposure_off),
        "p_values_out_of_range": int(p_off),
        "estimates_outside_interval": int(outside),
        "user_experiments_without_summary": int(summary_off),
    }
    return dg.AssetCheckResult(passed=not any(failures.values()), metadata=failures)
