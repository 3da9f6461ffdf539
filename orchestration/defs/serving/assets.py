"""The end of every refresh: publish the marts as the snapshot readers open.

``published_snapshot`` depends on every mart (and the rejects), so it runs last and only
when everything before it succeeded: a failed run publishes nothing and readers keep the
previous snapshot. The work lives in `orchestration.lib.warehouse.publish`.
"""

import json

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.defs.dbt.assets import dbt_project, smallgroups_dbt_assets
from orchestration.defs.lock import WarehouseLock
from orchestration.lib.config import load_settings
from orchestration.lib.warehouse import connect
from orchestration.lib.warehouse.publish import (
    PUBLICATION_TABLE,
    publish_snapshot,
    read_publication,
    serving_tables_from_manifest,
)
from orchestration.lib.warehouse.ui_metadata import growth_curve_md, rejects_md, top_groups_md

__all__ = [
    "GROUP",
    "SERVING_TABLES",
    "published_snapshot",
    "published_snapshot_matches_working",
]

GROUP = "serving"
_KEY = dg.AssetKey([GROUP, "published_snapshot"])
#: The relations every snapshot holds (the marts and the rejects), from the manifest.
SERVING_TABLES = serving_tables_from_manifest(
    json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))
)


@dg.asset(
    key=_KEY,
    group_name=GROUP,
    deps=[get_asset_key_for_model([smallgroups_dbt_assets], t) for t in SERVING_TABLES],
    kinds={"duckdb"},
    description="The marts and the rejects copied into the serving file "
    "(SMALLGROUPS_SERVING_PATH) and renamed over the previous snapshot at the end of a "
    "successful run: what BI tools, the dashboard and MetricFlow read.",
)
def published_snapshot(
    context: dg.AssetExecutionContext, warehouse_lock: WarehouseLock
) -> dg.MaterializeResult:
    """Publish the working warehouse's marts as the new snapshot (under the run's lock)."""
    del warehouse_lock  # held by the run from its first step to its last
    settings = load_settings()
    publication = publish_snapshot(
        settings.duckdb_path, settings.serving_path, SERVING_TABLES, context.run_id
    )
    context.log.info(
        "published %d tables to %s in %.1f s",
        len(publication.row_counts),
        publication.path,
        publication.seconds,
    )
    table = "\n".join(
        ["| table | rows |", "|---|---:|"]
        + [f"| {name} | {count:,} |" for name, count in publication.row_counts.items()]
    )
    # What a reader of the UI asks first, read back from the file just published.
    with connect(publication.path, read_only=True) as serving:
        rejected, rejects = rejects_md(serving)
        top_groups = top_groups_md(serving)
        growth = growth_curve_md(serving)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(publication.path)),
            "run_id": publication.run_id,
            "published_at": publication.published_at.isoformat(),
            "tables": len(publication.row_counts),
            "dagster/row_count": sum(publication.row_counts.values()),
            "size_mb": round(publication.size_bytes / 2**20, 2),
            "seconds": round(publication.seconds, 2),
            "row_counts": dg.MetadataValue.md(table),
            "rejected_rows": rejected,
            "rejected_rows_by_reason": dg.MetadataValue.md(rejects),
            "top_groups": dg.MetadataValue.md(top_groups),
            "growth_curve": dg.MetadataValue.md(growth),
        }
    )


@dg.asset_check(
    asset=_KEY,
    description="The snapshot holds every mart and the rejects, each with the row count of "
    "the working warehouse and of its own publication record.",
)
def published_snapshot_matches_working() -> dg.AssetCheckResult:
    settings = load_settings()
    with connect(settings.serving_path, read_only=True) as serving:
        publication = read_publication(serving)
        served = {
            table: serving.execute(f'select count(*) from "{table}"').fetchone()[0]
            for table in publication["row_counts"]
        }
    with connect(settings.duckdb_path, read_only=True) as working:
        built = {
            table: working.execute(f'select count(*) from "{table}"').fetchone()[0]
            for table in publication["row_counts"]
        }
    missing = sorted(set(SERVING_TABLES) - set(publication["row_counts"]))
    differ = sorted(
        t for t, n in publication["row_counts"].items() if not (n == served[t] == built[t])
    )
    return dg.AssetCheckResult(
        passed=not missing and not differ,
        metadata={
            "run_id": str(publication["run_id"]),
            "missing_tables": ", ".join(missing) or "none",
            "tables_with_other_counts": ", ".join(differ) or "none",
            "bookkeeping_table": PUBLICATION_TABLE,
        },
    )
