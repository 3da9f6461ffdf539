"""The potential score refitted out of time: a Python step after fct_community_health (dbt).

Reads the backtest panel (past snapshots' ranked groups and what happened over the next
4 weeks), fits the score's weights out of time and writes ``planning.potential_score_*``
(`orchestration.lib.planning.refresh`), which dbt reads back into
fct_potential_score_weights, fct_potential_score_calibration and
rpt_high_potential_communities.
"""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.defs.dbt.assets import smallgroups_dbt_assets
from orchestration.defs.settings import LaunchpadConfig, settings_from_config
from orchestration.lib.config import dbt_project_var, load_settings
from orchestration.lib.planning import refresh
from orchestration.lib.planning.refresh import PotentialSettings, refresh_potential
from orchestration.lib.warehouse import connect

__all__ = ["GROUP", "PotentialConfig", "potential_score", "potential_score_is_valid"]

GROUP = "planning"
_KEYS = {name: dg.AssetKey([GROUP, name]) for name in refresh.TABLES}


class PotentialConfig(LaunchpadConfig):
    """Refit settings (launchpad); the defaults are the library's (PotentialSettings)."""

    min_fit_snapshots: int = PotentialSettings.min_fit_snapshots
    """Fewest past snapshots with a known 4-week outcome to fit on; fewer: the seed's weights."""
    ridge: float = PotentialSettings.ridge
    """Ridge penalty per row on the weights of the [0, 1] component percentiles."""
    interval: float = PotentialSettings.interval
    """Central share of a score decile's outcomes held by its interval (0.9)."""
    n_boot: int = PotentialSettings.n_boot
    """Bootstrap resamples of the stored backtest."""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key,
            group_name=GROUP,
            deps=[
                get_asset_key_for_model([smallgroups_dbt_assets], m) for m in refresh.INPUT_MODELS
            ],
            kinds={"python", "duckdb"},
            description=f"The potential score refitted out of time: {GROUP}.{name}.",
        )
        for name, key in _KEYS.items()
    ],
    can_subset=False,
)
def potential_score(context: dg.AssetExecutionContext, config: PotentialConfig):
    """Refit the potential score's weights and rewrite the planning tables."""
    settings = settings_from_config(PotentialSettings, config)
    with connect(load_settings().duckdb_path) as con:
        stats = refresh_potential(
            con,
            settings,
            min_members=int(dbt_project_var("high_potential_min_members")),
            max_members=int(dbt_project_var("high_potential_max_members")),
            log=context.log,
        )
    rows = {
        "potential_score_weights": len(stats["weights"]),
        "potential_score_calibration": stats["n_calibration_deciles"],
        "potential_score_backtest": len(stats["rank_correlation"]),
    }
    for name, key in _KEYS.items():
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "dagster/row_count": rows[name],
                "weight_basis": stats["weight_basis"],
                "weights": stats["weights"],
                "fit_rows": stats["n_fit_rows"],
                "calibration_rows": stats["n_calibration_rows"],
                "out_of_time_rank_correlation": stats["rank_correlation"],
                "seconds": stats["seconds"],
            },
        )


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec("potential_score_is_valid", asset=key, blocking=True)
        for key in _KEYS.values()
    ],
    can_subset=False,
)
def potential_score_is_valid():
    """The weights: one row per component, sum(|weight|) = 1 when fitted (the seed's
    otherwise), one basis; the calibration: deciles 1-10 at most once, the expected
    growth inside its interval, growth >= -1; the backtest: one row per score, rank
    correlations in [-1, 1] inside their intervals."""
    with connect(load_settings().duckdb_path, read_only=True) as con:
        counts = con.execute(
            f"""
            with w as (select * from {refresh.SCHEMA}.potential_score_weights),
            c as (select * from {refresh.SCHEMA}.potential_score_calibration),
            b as (select * from {refresh.SCHEMA}.potential_score_backtest)
            select
                (select count(*) - count(distinct component) from w)
                + (select abs(count(distinct component) - {len(refresh.potential.COMPONENTS)})
                   from w),
                (select count(*) from (
                    select 1 from w where weight_basis = 'fitted'
                    having abs(sum(abs(weight)) - 1) > 1e-9)),
                (select count(distinct weight_basis) from w) - 1,
                (select count(*) - count(distinct score_decile) from c)
                + (select count(*) from c where score_decile not between 1 and 10),
                (select count(*) from c where not (median_growth between growth_low
                    and growth_high) or growth_low < -1),
                (select count(*) - count(distinct score) from b),
                (select count(*) from b where rank_correlation not between -1 and 1),
            """
        ).fetchall()[0]
    names = (
        "components_missing_or_duplicated",
        "fitted_weights_not_summing_to_1",
        "extra_weight_bases",
        "deciles_duplicated_or_out_of_range",
        "median_growth_outside_interval",
        "duplicated_backtest_scores",
        "rank_correlations_out_of_range",
    )
    failures = {name: max(int(count), 0) for name, count in zip(names, counts, strict=True)}
    for key in _KEYS.values():
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name="potential_score_is_valid",
            passed=not any(failures.values()),
            metadata=failures,
        )
