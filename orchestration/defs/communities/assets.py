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
    """leiden, leiden_modularity, louvain_networkx or label_propagation."""
    resolution: float | None = DetectionSettings.resolution
    """Fixed resolution; empty lets resolution_rule choose it."""
    resolution_rule: str = DetectionSettings.resolution_rule
    """surprise (the graph chooses the resolution) or size_aware (max(1, active users /
    (2 x max_size)))."""
    membership_alpha: float | None = DetectionSettings.membership_alpha
    """Significance of the membership test: users whose ties inside are no more than
    chance at this level are fringe (empty turns the test off)."""
    membership_min_share: float = DetectionSettings.membership_min_share
    """Share of a user's tie weight that must fall inside their community."""
    min_size: int = DetectionSettings.min_size
    """Smaller communities are dissolved: their members are unassigned."""
    keep_min_size: int | None = DetectionSettings.keep_min_size
    """Members a community that continues last week's keeps existing with (a new one
    needs min_size; empty: min_size for both)."""
    max_size: int = DetectionSettings.max_size
    """Larger communities are split."""
    window_days: int = DetectionSettings.window_days
    """Days of interactions the cohesion and member figures measure (default: dbt's var
    community_window_days, which the community marts' SQL reads too)."""
    horizon_days: int = DetectionSettings.horizon_days
    """Days of interactions the detection graph reaches back (whole weeks)."""
    half_life_days: float | None = DetectionSettings.half_life_days
    """Half-life of the detection graph's tie weights; empty gives a hard window."""
    recent_days: int = DetectionSettings.recent_days
    """The recent period of the dormancy rule (the last week)."""
    min_recent_members: int | None = DetectionSettings.min_recent_members
    """Members with a tie inside in the recent period a community needs to stay alive
    (empty: min_size; 0 turns the rule off)."""
    dormancy_alpha: float | None = DetectionSettings.dormancy_alpha
    """A community short of those members is dissolved only when its recent ties are
    this unlikely given its own weekly rate over the window (empty: the count alone)."""
    dormancy_ratio: float | None = DetectionSettings.dormancy_ratio
    """After the other rules, a community whose members' last-week weight among themselves
    is at most this share of their weekly rate before, and significantly below it, is
    dissolved whatever the count of members tied (empty turns it off)."""
    split_alpha: float | None = DetectionSettings.split_alpha
    """Split a community at once when its recent ties fall into groups with no tie
    between them where chance would give one at this level (empty turns it off)."""
    min_member_neighbours: int = DetectionSettings.min_member_neighbours
    """Distinct members a user must be tied to in their community to count as a member
    (fewer: fringe)."""
    birth_min_degree: float = DetectionSettings.birth_min_degree
    """Average ties inside for a new community to be born at once; looser ones wait one
    snapshot as candidates (0: every birth at once)."""
    change_alpha: float | None = DetectionSettings.change_alpha
    """A split or merge the detection draws stands only when the week's ties across fell
    or rose at this level against the weeks before; a new community whose inner ties did
    not rise is 'emerged', not 'born' (empty turns both off)."""
    birth_new_ratio: float | None = DetectionSettings.birth_new_ratio
    """A born community also needs its inner weight per week before the last to be at most
    this share of the last week's, else it is 'emerged' (empty: the rise alone decides)."""
    split_apart_ratio: float = DetectionSettings.split_apart_ratio
    """A split also stands when the weight per pair across is below this share of the
    weight per pair inside (0: only a fall counts)."""
    merge_dense_ratio: float | None = DetectionSettings.merge_dense_ratio
    """A merge also stands when the weight per pair across is at least this share of the
    weight per pair inside (empty: only a rise counts)."""
    split_joined_ratio: float | None = DetectionSettings.split_joined_ratio
    """A split whose pieces were already apart before the last week (weight per pair
    across below this share of inside) is a correction of a mixture: the border stands,
    the piece is 'emerged' (empty: no such check)."""
    merge_joined_ratio: float | None = DetectionSettings.merge_joined_ratio
    """A merge also needs the last week's weight per pair across to be at least this share
    of the weight per pair inside (empty: the rise decides)."""
    seed: int = DetectionSettings.seed
    """Seed of the detection (the same seed and data give the same communities)."""
    recompute_all: bool = False
    """Drop every stored snapshot and recompute the whole history (after changing settings)."""
    carry_forward: bool = True
    """Copy a quiet snapshot from the previous one when its computation would repeat it
    (is_carried_forward on its run row); False computes every week in full (same rows)."""


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
            con,
            settings,
            recompute_all=config.recompute_all,
            carry_forward=config.carry_forward,
            log=context.log,
        )
    latest = stats["latest_run"]
    for name in store.TABLES:
        metadata = {
            "dagster/row_count": stats["row_counts"][name],
            "snapshots_computed": stats["snapshots_computed"],
            "snapshots_carried_forward": stats["snapshots_carried_forward"],
            "seconds": round(stats["seconds"], 2),
        }
        if latest:
            metadata |= {
                "latest_snapshot": str(latest["snapshot_date"]),
                "communities": int(latest["count_communities"]),
                "users_assigned": int(latest["count_assigned"]),
                "users_unassigned": int(latest["count_unassigned"]),
                "users_fringe": int(latest["count_fringe"]),
                "communities_dormant": int(latest["count_dormant"]),
                "communities_split_by_recent_ties": int(latest["count_recent_split"]),
                "splits_undone": int(latest["count_undone_splits"]),
                "merges_undone": int(latest["count_undone_merges"]),
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
    description="Every user of a snapshot is in at most one community, as a member or as "
    "a fringe user, or unassigned; members + others = the snapshot's users, which include "
    "every user signed up by the snapshot date; the members and fringe users stored match "
    "the run's counts; every assigned user exists in dim_users.",
    blocking=True,
)
def community_assignments_account_for_every_user() -> dg.AssetCheckResult:
    with connect(load_settings().duckdb_path, read_only=True) as con:
        duplicated = con.execute(
            f"select count(*) from (select snapshot_date, user_id from "
            f"{store.SCHEMA}.community_assignments group by all having count(*) > 1)"
        ).fetchall()[0][0]
        bad_status = con.execute(
            f"select count(*) from {store.SCHEMA}.community_assignments "
            "where membership_status is null "
            "or membership_status not in ('member', 'fringe', 'candidate')"
        ).fetchall()[0][0]
        losing = con.execute(
            f"""
            select count(*) from {store.SCHEMA}.community_snapshot_runs as runs
            where runs.count_assigned + runs.count_unassigned != runs.count_users
              or runs.count_users < (
                select count(*) from main.dim_users where signup_date <= runs.snapshot_date)
              or runs.count_assigned != (
                select count(*) from {store.SCHEMA}.community_assignments as a
                where a.snapshot_date = runs.snapshot_date and a.membership_status = 'member')
              or runs.count_fringe != (
                select count(*) from {store.SCHEMA}.community_assignments as a
                where a.snapshot_date = runs.snapshot_date and a.membership_status = 'fringe')
              or runs.count_candidates != (
                select count(*) from {store.SCHEMA}.community_assignments as a
                where a.snapshot_date = runs.snapshot_date and a.membership_status = 'candidate')
            """
        ).fetchall()[0][0]
        unknown = con.execute(
            f"select count(*) from {store.SCHEMA}.community_assignments as a "
            "anti join main.dim_users as u on a.user_id = u.user_id"
        ).fetchall()[0][0]
    return dg.AssetCheckResult(
        passed=duplicated == 0 and bad_status == 0 and losing == 0 and unknown == 0,
        metadata={
            "users_in_two_communities": duplicated,
            "rows_with_invalid_membership_status": bad_status,
            "snapshots_losing_users": losing,
            "assigned_users_unknown": unknown,
        },
    )
