"""Planning (issue 17): two Python steps between dbt marts.

``potential_score`` reads the backtest panel (past snapshots' ranked groups and what
happened over the next 4 weeks), fits the score's weights out of time and writes
``planning.potential_score_*`` (`orchestration.lib.planning.refresh`), which dbt reads
back into fct_potential_score_weights, fct_potential_score_calibration,
fct_potential_score_backtest and rpt_high_potential_communities.

``pilot_replication`` ranks the lookalikes of every significant pilot that have not had
it (`orchestration.lib.planning.replication`) into ``planning.pilot_replication``, read
back as rpt_pilot_replication; it depends on fct_intervention_forecasts when the dbt
project has that model, and ranks by similarity otherwise.
"""

import contextlib

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.defs.dbt.assets import smallgroups_dbt_assets
from orchestration.defs.settings import LaunchpadConfig, settings_from_config
from orchestration.lib.config import dbt_project_var, load_settings
from orchestration.lib.planning import refresh, replication
from orchestration.lib.planning.refresh import PotentialSettings, refresh_potential
from orchestration.lib.warehouse import connect

__all__ = [
    "GROUP",
    "PotentialConfig",
    "pilot_replication",
    "pilot_replication_is_valid",
    "potential_score",
    "potential_score_is_valid",
]

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


def _replication_deps() -> list[dg.AssetKey]:
    """The models the replication reads, and the forecasts' when the project has them."""
    deps = [get_asset_key_for_model([smallgroups_dbt_assets], m) for m in replication.INPUT_MODELS]
    # Absent from this project (get_asset_key_for_model raises): rank by similarity.
    with contextlib.suppress(Exception):
        deps.append(get_asset_key_for_model([smallgroups_dbt_assets], replication.FORECAST_MODEL))
    return deps


_REPLICATION_KEY = dg.AssetKey([GROUP, "pilot_replication"])


@dg.asset(
    key=_REPLICATION_KEY,
    group_name=GROUP,
    deps=_replication_deps(),
    kinds={"python", "duckdb"},
    description="Per significant pilot: its lookalikes that have not had it, ranked by "
    "forecast effect (by similarity without a forecast), the roll-out's expected "
    "contribution to DAU and posts per day and the verifying design's detectable effect.",
)
def pilot_replication(context: dg.AssetExecutionContext):
    """Rank the replications of every significant pilot and rewrite planning.pilot_replication."""
    with connect(load_settings().duckdb_path) as con:
        stats = replication.refresh_replication(
            con, top_n=int(dbt_project_var("pilot_replication_top_n")), log=context.log
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": stats["count_rows"],
            "pilots": stats["count_pilots"],
            "ranking_basis": stats["ranking_basis"],
            "forecasts_present": stats["forecasts_present"],
            "top_n": stats["top_n"],
            "seconds": stats["seconds"],
        }
    )


@dg.asset_check(
    asset=_REPLICATION_KEY,
    description="One row per (pilot, candidate) and per (pilot, rank), ranks 1..n without "
    "gaps; every pilot a significant positive attribution; no candidate the pilot itself "
    "or a group that had an intervention of the type; forecast-ranked rows before "
    "similarity-ranked ones; predicted effects inside their intervals.",
    blocking=True,
)
def pilot_replication_is_valid() -> dg.AssetCheckResult:
    with connect(load_settings().duckdb_path, read_only=True) as con:
        counts = con.execute(
            f"""
            with r as (select * from {refresh.SCHEMA}.pilot_replication)
            select
                (select count(*) - count(distinct (intervention_id, group_kind, community_id))
                 from r)
                + (select count(*) - count(distinct (intervention_id, replication_rank))
                   from r),
                (select count(*) from (select intervention_id from r group by all
                    having max(replication_rank) != count(*) or min(replication_rank) != 1)),
                (select count(*) from r anti join main.fct_intervention_attribution as a
                    on a.intervention_id = r.intervention_id and a.status = 'estimated'
                    and a.did_ci_low > 0),
                (select count(*) from r semi join main.fct_intervention_attribution as a
                    on a.group_kind = r.group_kind and a.community_id = r.community_id
                    and a.intervention_type = r.intervention_type),
                (select count(*) from r as s join r as f
                    on s.intervention_id = f.intervention_id
                    and s.ranking_basis = 'similarity' and f.ranking_basis = 'forecast'
                    and s.replication_rank < f.replication_rank),
                (select count(*) from r where predicted_effect not between effect_ci_low
                    and effect_ci_high),
            """
        ).fetchall()[0]
    names = (
        "duplicated_rows",
        "ranks_with_gaps",
        "pilots_not_significant",
        "candidates_that_had_it",
        "similarity_ranked_before_forecast",
        "effects_outside_interval",
    )
    failures = {name: int(count) for name, count in zip(names, counts, strict=True)}
    return dg.AssetCheckResult(passed=not any(failures.values()), metadata=failures)
