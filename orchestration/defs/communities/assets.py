"""Community snapshots: a Python step between the dbt graph models and the community
marts. Reads the weekly graph, detects communities week by week (only weeks not yet
computed), writes the ``communities.*`` tables that dbt reads back as sources. The work
itself lives in `orchestration.lib.communities.refresh`."""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.defs.dbt.assets import smallgroups_dbt_assets
from orchestration.defs.settings import LaunchpadConfig, settings_from_config
from orchestration.lib.communities import store
from orchestration.lib.communities.refresh import refresh_snapshots
from orchestration.lib.communities.snapshots import DetectionSettings
from orchestration.lib.config import load_settings
from orchestration.lib.warehouse import connect

__all__ = [
    "GROUP",
    "CommunityDetectionConfig",
    "community_assignments_account_for_every_user",
    "community_snapshots",
]

GROUP = "communities"


class CommunityDetectionConfig(LaunchpadConfig):
    """Detection settings (launchpad); the defaults are the library's (DetectionSettings)."""

    method: str = DetectionSettings.method
    """leiden (size-aware resolution), leiden_modularity, louvain_networkx or label_propagation."""
    resolution: float | None = DetectionSettings.resolution
    """Fixed resolution; empty chooses max(1, active users / (2 x max_size))."""
    min_size: int = DetectionSettings.min_size
    """Smaller communities are dissolved: their members are unassigned."""
    max_size: int = DetectionSettings.max_size
    """Larger communities are split."""
    window_days: int = DetectionSettings.window_days
    """Days of interactions behind each weekly snapshot (default: dbt's var
    community_window_days, which the community marts' SQL reads too)."""
    seed: int = DetectionSettings.seed
    """Seed of the detection (the same seed and data give the same communities)."""
    recompute_all: bool = False
    """Drop every stored snapshot and recompute the whole history (after changing settings)."""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key=[GROUP, name],
            group_name=GROUP,
            deps=[
                get_asset_key_for_model([smallgroups_dbt_assets], model)
                for model in store.INPUT_MODELS
            ],
            kinds={"python", "duckdb"},
            description=f"communities.{name}, written by the weekly community snapshots.",
        )
        for name in store.TABLES
    ],
    can_subset=False,
)
def community_snapshots(context: dg.AssetExecutionContext, config: CommunityDetectionConfig):
    """Detect communities for every week not yet computed and measure them."""
    settings = settings_from_config(DetectionSettings, config)
    with connect(load_settings().duckdb_path) as con:
        stats = refresh_snapshots(
            con, settings, recompute_all=config.recompute_all, log=context.log
        )
    latest = stats["latest_run"]
    for name in store.TABLES:
        metadata = {
            "dagster/row_count": stats["row_counts"][name],
            "snapshots_computed": stats["snapshots_computed"],
            "seconds": round(stats["seconds"], 2),
        }
        if latest:
            metadata |= {
                "latest_snapshot": str(latest["snapshot_date"]),
                "communities": int(latest["count_communities"]),
                "users_assigned": int(latest["count_assigned"]),
                "users_unassigned": int(latest["count_unassigned"]),
                "share_assigned": round(
                    latest["count_assigned"] / max(latest["count_users"], 1), 4
                ),
                "modularity": round(float(latest["modularity"] or 0.0), 4),
                "resolution": float(latest["resolution"] or 0.0),
                "method": str(latest["method"]),
            }
        yield dg.MaterializeResult(asset_key=[GROUP, name], metadata=metadata)


@dg.asset_check(
    asset=dg.AssetKey([GROUP, "community_assignments"]),
    description="Every user of a snapshot is assigned to at most one community or "
    "unassigned; assigned + unassigned = the snapshot's users, which include every user "
    "signed up by the snapshot date; every assigned user exists in dim_users.",
    blocking=True,
)
def community_assignments_account_for_every_user() -> dg.AssetCheckResult:
    with connect(load_settings().duckdb_path, read_only=True) as con:
        duplicated = con.execute(
            f"select count(*) from (select snapshot_date, user_id from "
            f"{store.SCHEMA}.community_assignments group by all having count(*) > 1)"
        ).fetchall()[0][0]
        losing = con.execute(
            f"""
            select count(*) from {store.SCHEMA}.community_snapshot_runs as runs
            where runs.count_assigned + runs.count_unassigned != runs.count_users
              or runs.count_users < (
                select count(*) from main.dim_users where signup_date <= runs.snapshot_date)
              or runs.count_assigned != (
                select count(*) from {store.SCHEMA}.community_assignments as a
                where a.snapshot_date = runs.snapshot_date)
            """
        ).fetchall()[0][0]
        unknown = con.execute(
            f"select count(*) from {store.SCHEMA}.community_assignments as a "
            "anti join main.dim_users as u on a.user_id = u.user_id"
        ).fetchall()[0][0]
    return dg.AssetCheckResult(
        passed=duplicated == 0 and losing == 0 and unknown == 0,
        metadata={
            "users_in_two_communities": duplicated,
            "snapshots_losing_users": losing,
            "assigned_users_unknown": unknown,
        },
    )
