"""Freshness of what readers see: the published snapshot and the main marts.

Dagster's last-update freshness checks (``freshness_check`` on each asset): an asset is
overdue when its last materialization is older than :data:`MAX_AGE`. They run in every
``refresh_all`` run after their asset (and pass there), and between runs through the
``marts_freshness`` sensor (off until switched on, like the other automation), which
evaluates them again once they can have become overdue: a refresh that stopped
happening (schedule off, runs failing, no new files) turns them yellow in the UI with
"Asset is overdue for an update. The last update was ... ago". Severity WARN.
"""

import warnings
from datetime import timedelta

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.defs.dbt.assets import smallgroups_dbt_assets
from orchestration.defs.serving.assets import published_snapshot

__all__ = ["FRESH_MARTS", "MAX_AGE", "marts_freshness_checks", "marts_freshness_sensor"]

#: One day (the daily_refresh schedule) plus two hours for the run and a late file.
MAX_AGE = timedelta(hours=26)
#: The marts behind the dashboards: users, communities and their health, daily KPIs.
FRESH_MARTS = ("dim_users", "dim_communities", "fct_community_health", "fct_kpi_daily")

with warnings.catch_warnings():
    # Superseded by FreshnessPolicy in Dagster 1.12+, which reports freshness but is no
    # asset check; checks show pass/fail per run and in the asset's checks tab.
    warnings.simplefilter("ignore")
    marts_freshness_checks = dg.build_last_update_freshness_checks(
        assets=[
            published_snapshot,
            *(get_asset_key_for_model([smallgroups_dbt_assets], m) for m in FRESH_MARTS),
        ],
        lower_bound_delta=MAX_AGE,
        severity=dg.AssetCheckSeverity.WARN,
    )
    marts_freshness_sensor = dg.build_sensor_for_freshness_checks(
        freshness_checks=marts_freshness_checks,
        name="marts_freshness",
        minimum_interval_seconds=600,
        default_status=dg.DefaultSensorStatus.STOPPED,
    )
