"""The smallgroups Dagster code location: one Definitions object.

Raw tables -> dbt staging -> Python steps (message enrichment, weekly community
snapshots, pain points, growth inflections) between dbt intermediate and marts (with
dbt tests as asset checks),
run in-process by default (one process, no per-step start-up cost), plus a daily
refresh schedule that is defined but off until switched on in the UI.
"""

from __future__ import annotations

import os

import dagster as dg

from orchestration.lib.config import load_settings

# dbt reads the warehouse path from the environment: resolve it once, absolutely,
# so dbt (run from the project folder) and the Python assets open the same file.
_settings = load_settings()
os.environ["SMALLGROUPS_DUCKDB_PATH"] = str(_settings.duckdb_path)
os.environ.setdefault("DO_NOT_TRACK", "1")
# The Python community step sits between dbt layers, so Dagster runs dbt in several
# steps. "buildable" runs a test in the first step where all its parents exist (dbt's
# default, "eager", would run e.g. a seed's relationship test before its model exists).
os.environ.setdefault("DBT_INDIRECT_SELECTION", "buildable")

from orchestration.defs.communities.assets import (  # noqa: E402
    community_assignments_account_for_every_user,
    community_snapshots,
)
from orchestration.defs.dbt.assets import dbt_resource, smallgroups_dbt_assets  # noqa: E402
from orchestration.defs.kpi.assets import growth_inflections  # noqa: E402
from orchestration.defs.raw.assets import raw_tables  # noqa: E402
from orchestration.defs.text.assets import (  # noqa: E402
    community_pain_points,
    contents_enriched,
    contents_enriched_account_for_every_message,
)

refresh_all_job = dg.define_asset_job(
    "refresh_all",
    selection=dg.AssetSelection.all(),
    description="Materialize every asset: raw tables, then all dbt layers and checks.",
)

daily_refresh_schedule = dg.ScheduleDefinition(
    name="daily_refresh",
    job=refresh_all_job,
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Refresh everything at 03:00 UTC, after the day's raw files land.",
)

defs = dg.Definitions(
    assets=[
        raw_tables,
        smallgroups_dbt_assets,
        contents_enriched,
        community_snapshots,
        community_pain_points,
        growth_inflections,
    ],
    asset_checks=[
        community_assignments_account_for_every_user,
        contents_enriched_account_for_every_message,
    ],
    jobs=[refresh_all_job],
    schedules=[daily_refresh_schedule],
    resources={"dbt": dbt_resource},
    executor=dg.in_process_executor,
)
