"""Attribution of interventions: a Python step after the donor candidates and the daily
member sums (dbt). Reads the sums computed in DuckDB, runs the estimates of
`orchestration.lib.attribution` (difference-in-differences with a donor-placebo
interval, synthetic control, pre-trend check, KPI contributions) and writes
``attribution.intervention_attribution``, which dbt reads back into
fct_intervention_attribution and fct_growth_inflections."""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.defs.dbt.assets import smallgroups_dbt_assets
from orchestration.defs.settings import LaunchpadConfig, settings_from_config
from orchestration.lib.attribution import store
from orchestration.lib.attribution.refresh import AttributionSettings, refresh_attribution
from orchestration.lib.config import load_settings
from orchestration.lib.warehouse import connect

__all__ = [
    "GROUP",
    "AttributionConfig",
    "intervention_attribution",
    "intervention_attribution_is_valid",
]

GROUP = "attribution"
_KEY = dg.AssetKey([GROUP, "intervention_attribution"])


class AttributionConfig(LaunchpadConfig):
    """Attribution settings (launchpad); the defaults are the library's (AttributionSettings)."""

    alpha: float = AttributionSettings.alpha
    """Two-sided level of the intervals (0.05: 95% intervals)."""
    max_donors: int = AttributionSettings.max_donors
    """Donors kept by the match on pre-period trend and size."""
    min_donors: int = AttributionSettings.min_donors
    """Fewer eligible candidates than this: no estimate."""
    pre_trend_alpha: float = AttributionSettings.pre_trend_alpha
    """has_pre_trend when the pre-trend p-value is below it."""


@dg.asset(
    key=_KEY,
    group_name=GROUP,
    deps=[get_asset_key_for_model([smallgroups_dbt_assets], m) for m in store.INPUT_MODELS],
    kinds={"python", "duckdb"},
    description="Per intervention: difference-in-differences of members' activity against "
    "matched donor lookalikes with a placebo interval, synthetic control, pre-trend check "
    "and the contribution to DAU and posts per day.",
)
def intervention_attribution(context: dg.AssetExecutionContext, config: AttributionConfig):
    """Attribute every intervention and rewrite attribution.intervention_attribution."""
    settings = settings_from_config(AttributionSettings, config)
    with connect(load_settings().duckdb_path) as con:
        stats = refresh_attribution(con, settings, log=context.log)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": stats["count_interventions"],
            "estimated": stats["count_estimated"],
            "significant": stats["count_significant"],
            "with_pre_trend": stats["count_with_pre_trend"],
            "seconds": stats["seconds"],
        }
    )


@dg.asset_check(
    asset=_KEY,
    description="One row per accepted intervention; every estimated row has at least "
    "min_donors donors, its effects inside their intervals, p-values in [0, 1] and donors "
    "that are eligible candidates of its own intervention.",
    blocking=True,
)
def intervention_attribution_is_valid() -> dg.AssetCheckResult:
    with connect(load_settings().duckdb_path, read_only=True) as con:
        missing, duplicated, outside, p_values, ineligible = con.execute(
            f"""
            with attribution as (select * from {store.SCHEMA}.intervention_attribution),
            used as (
                select intervention_id, trim(unnest(string_split(donor_ids, ','))) as community_id
                from attribution where donor_ids is not null
            )
            select
                (select count(*) from main.int_intervention_windows_dated
                 anti join attribution using (intervention_id)),
                (select count(*) - count(distinct intervention_id) from attribution),
                (select count(*) from attribution where status = 'estimated' and (
                    did_effect not between did_ci_low and did_ci_high
                    or relative_effect not between relative_ci_low and relative_ci_high)),
                (select count(*) from attribution
                 where did_p_value not between 0 and 1
                    or did_placebo_p_value not between 0 and 1
                    or pre_trend_p_value not between 0 and 1),
                (select count(*) from used anti join (
                    select intervention_id, community_id from main.fct_intervention_donors
                    where is_eligible) as eligible using (intervention_id, community_id)),
            """
        ).fetchall()[0]
    failures = {
        "interventions_missing": int(missing),
        "duplicated_rows": int(duplicated),
        "effects_outside_interval": int(outside),
        "p_values_out_of_range": int(p_values),
        "donors_not_eligible": int(ineligible),
    }
    return dg.AssetCheckResult(passed=not any(failures.values()), metadata=failures)
