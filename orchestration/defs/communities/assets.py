"""Community snapshots: a Python step between the dbt graph models and the community
marts. Reads the weekly graph, detects communities week by week (only weeks not yet
computed), writes the ``communities.*`` tables that dbt reads back as sources."""

import time
from datetime import timedelta

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.defs.dbt.assets import smallgroups_dbt_assets
from orchestration.lib.communities import store
from orchestration.lib.communities.snapshots import (
    DetectionSettings,
    detect_snapshot,
    snapshot_dates,
)
from orchestration.lib.config import load_settings
from orchestration.lib.warehouse import connect

GROUP = "communities"
_INPUT_MODELS = (
    "int_user_edges_weekly",
    "int_co_memberships_paired",
    "dim_users",
    "fct_user_activity_daily",
    "stg_product__group_memberships",
    "edge_kind_weights",
)


class CommunityDetectionConfig(dg.Config):
    """Detection settings (launchpad); the defaults are the documented ones."""

    method: str = "leiden"
    """leiden (size-aware resolution), leiden_modularity, louvain_networkx or label_propagation."""
    resolution: float | None = None
    """Fixed resolution; empty chooses max(1, active users / (2 x max_size))."""
    min_size: int = 5
    """Smaller communities are dissolved: their members are unassigned."""
    max_size: int = 300
    """Larger communities are split."""
    window_days: int = 28
    """Days of interactions behind each weekly snapshot."""
    seed: int = 42
    recompute_all: bool = False
    """Drop every stored snapshot and recompute the whole history (after changing settings)."""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key=[GROUP, name],
            group_name=GROUP,
            deps=[get_asset_key_for_model([smallgroups_dbt_assets], m) for m in _INPUT_MODELS],
            kinds={"python", "duckdb"},
            description=f"communities.{name}, written by the weekly community snapshots.",
        )
        for name in store.TABLES
    ],
    can_subset=False,
)
def community_snapshots(context: dg.AssetExecutionContext, config: CommunityDetectionConfig):
    """Detect communities for every week not yet computed and measure them."""
    settings = DetectionSettings(
        method=config.method,
        resolution=config.resolution,
        min_size=config.min_size,
        max_size=config.max_size,
        window_days=config.window_days,
        seed=config.seed,
    )
    started = time.perf_counter()
    computed = []
    with connect(load_settings().duckdb_path) as con:
        outdated = store.stored_fingerprints(con) - {settings.fingerprint}
        if outdated:
            context.log.warning(
                "stored snapshots were made with other settings or an older algorithm (%s): "
                "recomputing all of them",
                ", ".join(sorted(str(f) for f in outdated)),
            )
        store.ensure_tables(con, recreate=config.recompute_all or bool(outdated))
        span = store.activity_span(con)
        wanted = snapshot_dates(*span) if span else []
        stored = store.stored_snapshots(con)
        stale = [d for d, provisional in stored.items() if provisional]
        store.delete_snapshots(con, stale)
        todo = [(d, p) for d, p in wanted if d not in stored or stored[d]]
        context.log.info(
            "%d snapshot(s) wanted, %d stored, computing %d", len(wanted), len(stored), len(todo)
        )
        for snapshot_date, is_provisional in todo:
            window_start = snapshot_date - timedelta(days=settings.window_days - 1)
            window = store.read_window_edges(con, snapshot_date, settings.window_days)
            result = detect_snapshot(
                window[["user_id_a", "user_id_b", "edge_weight"]],
                store.read_users(con, snapshot_date),
                store.read_declared_membership(con, snapshot_date),
                store.read_previous_assignment(con, snapshot_date),
                snapshot_date,
                settings,
                interaction_edges=store.interaction_edges(window),
            )
            store.write_snapshot(
                con, result, is_provisional=is_provisional, window_start=window_start
            )
            computed.append(result.run)
            context.log.info(
                "snapshot %s: %d communities, %d of %d users assigned, modularity %.3f, %.1f s",
                snapshot_date,
                result.run["count_communities"],
                result.run["count_assigned"],
                result.run["count_users"],
                result.run["modularity"] or 0.0,
                result.run["seconds"],
            )
        latest = con.execute(
            f"select * from {store.SCHEMA}.community_snapshot_runs "
            "order by snapshot_date desc limit 1"
        ).df()
        row_counts = {
            name: con.execute(f"select count(*) from {store.SCHEMA}.{name}").fetchall()[0][0]
            for name in store.TABLES
        }
    summary = latest.iloc[0].to_dict() if not latest.empty else {}
    for name in store.TABLES:
        metadata = {
            "dagster/row_count": int(row_counts[name]),
            "snapshots_computed": len(computed),
            "seconds": round(time.perf_counter() - started, 2),
        }
        if summary:
            metadata |= {
                "latest_snapshot": str(summary["snapshot_date"]),
                "communities": int(summary["count_communities"]),
                "users_assigned": int(summary["count_assigned"]),
                "users_unassigned": int(summary["count_unassigned"]),
                "share_assigned": round(
                    summary["count_assigned"] / max(summary["count_users"], 1), 4
                ),
                "modularity": round(float(summary["modularity"] or 0.0), 4),
                "resolution": float(summary["resolution"] or 0.0),
                "method": str(summary["method"]),
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
