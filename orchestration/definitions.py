"""The smallgroups Dagster code location: one Definitions object.

Raw tables -> dbt staging -> Python steps (message enrichment, weekly community
snapshots, pain points, growth inflections, experiment readout and design help,
attribution of interventions, the potential score's out-of-time refit, pilot
replication) between dbt intermediate and marts (with dbt tests as asset checks, and an
asset check on every Python output), then the published snapshot of the marts that
readers open, all under one refresh lock, run in-process by default (one process, no
per-step start-up cost). Freshness checks: the raw events against dbt's source freshness
rule, the snapshot and the main marts against their last update.
Automation, all off until switched on in the UI: the daily refresh schedule, the
``new_raw_files`` sensor (a refresh when raw files land) and the ``marts_freshness``
sensor (re-evaluates the mart freshness checks between runs).
Importing it changes nothing in the process environment: what dbt needs is passed to
dbt (see `orchestration.defs.dbt.assets`).
"""

from __future__ import annotations

import dagster as dg

from orchestration.defs.attribution.assets import (
    intervention_attribution,
    intervention_attribution_is_valid,
)
from orchestration.defs.communities.assets import (
    community_assignments_account_for_every_user,
    community_snapshots,
)
from orchestration.defs.dbt.assets import dbt_resource, smallgroups_dbt_assets
from orchestration.defs.experiments.assets import (
    design_community_experiment_job,
    experiment_power,
    experiment_power_is_valid,
    experiment_readout,
    experiment_readout_is_valid,
)
from orchestration.defs.experiments.spillover import (
    experiment_spillover,
    experiment_spillover_is_valid,
)
from orchestration.defs.invariants import invariant_checks
from orchestration.defs.kpi.assets import growth_inflections, growth_inflections_are_valid
from orchestration.defs.lock import WarehouseLock
from orchestration.defs.planning.assets import (
    pilot_replication,
    pilot_replication_is_valid,
    potential_score,
    potential_score_is_valid,
)
from orchestration.defs.raw.assets import raw_events_are_fresh, raw_tables
from orchestration.defs.raw.sensors import new_raw_files
from orchestration.defs.serving.assets import (
    published_snapshot,
    published_snapshot_matches_working,
)
from orchestration.defs.serving.freshness import marts_freshness_checks, marts_freshness_sensor
from orchestration.defs.text.assets import (
    community_pain_points,
    community_pain_points_are_consistent,
    contents_enriched,
    contents_enriched_account_for_every_message,
)

__all__ = ["daily_refresh_schedule", "defs", "refresh_all_job"]

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
        experiment_readout,
        experiment_power,
        experiment_spillover,
        intervention_attribution,
        potential_score,
        pilot_replication,
        published_snapshot,
    ],
    asset_checks=[
        community_assignments_account_for_every_user,
        contents_enriched_account_for_every_message,
        community_pain_points_are_consistent,
        growth_inflections_are_valid,
        experiment_readout_is_valid,
        experiment_power_is_valid,
        experiment_spillover_is_valid,
        intervention_attribution_is_valid,
        potential_score_is_valid,
        pilot_replication_is_valid,
        published_snapshot_matches_working,
        raw_events_are_fresh,
        *invariant_checks,
        *marts_freshness_checks,
    ],
    jobs=[refresh_all_job, design_community_experiment_job],
    schedules=[daily_refresh_schedule],
    sensors=[new_raw_files, marts_freshness_sensor],
    resources={"dbt": dbt_resource, "warehouse_lock": WarehouseLock()},
    executor=dg.in_process_executor,
)
