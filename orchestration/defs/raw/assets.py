"""The raw-data asset: generate the demo data set or validate the configured folder,
then expose each raw table to dbt as a view ``raw.<table>`` (one asset per table)."""

import time

import dagster as dg

from orchestration.defs.lock import WarehouseLock
from orchestration.lib.config import load_settings
from orchestration.lib.raw import TABLES, register_raw_tables
from orchestration.lib.raw.demo_cache import ensure_demo_data
from orchestration.lib.warehouse import connect

RAW_GROUP = "raw"


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key=["raw", table.name],
            group_name=RAW_GROUP,
            description=f"Raw `{table.name}` rows from SMALLGROUPS_RAW_DIR "
            f"({'required' if table.required else 'optional'}; see docs/raw_contract.md).",
            kinds={"duckdb", "parquet"},
        )
        for table in TABLES
    ]
    + [
        dg.AssetSpec(
            key=["raw", "malformed_lines"],
            group_name=RAW_GROUP,
            description="CSV records of SMALLGROUPS_RAW_DIR that could not be parsed "
            "(table raw._malformed_lines; staging rejects them as malformed_line).",
            kinds={"duckdb"},
        )
    ],
    can_subset=False,
)
def raw_tables(context: dg.AssetExecutionContext, warehouse_lock: WarehouseLock):
    """Validate the raw folder (generating the demo data set first in demo mode) and
    register it in the warehouse."""
    del warehouse_lock  # held by the run from its first step to its last
    settings = load_settings()
    started = time.perf_counter()
    demo = {}
    imported = {}
    if settings.import_kind:
        imported = _import_source(context, settings)
    elif settings.is_demo:
        context.log.info(
            "SMALLGROUPS_RAW_DIR is not set: using the demo data set in %s", settings.raw_dir
        )
        demo = ensure_demo_data(
            settings.raw_dir,
            settings.truth_dir,
            n_users=settings.demo_users,
            n_days=settings.demo_days,
            seed=settings.demo_seed,
        )
        context.log.info("demo data %s", "generated" if demo["generated"] else "already present")
    with connect(settings.duckdb_path) as con:
        report = register_raw_tables(con, settings.raw_dir)
    seconds = time.perf_counter() - started
    malformed = {
        n: i["malformed_line_count"] for n, i in report.items() if i["malformed_line_count"]
    }
    if malformed:
        context.log.warning(
            "malformed CSV records skipped (see raw._malformed_lines): %s", malformed
        )
    yield dg.MaterializeResult(
        asset_key=["raw", "malformed_lines"],
        metadata={
            "dagster/row_count": sum(malformed.values()),
            "per_table": ", ".join(f"{n}: {c}" for n, c in malformed.items()) or "none",
        },
    )
    for name, info in report.items():
        yield dg.MaterializeResult(
            asset_key=["raw", name],
            metadata={
                "dagster/row_count": info["row_count"],
                "source": info["path"] or "absent (treated as empty)",
                "format": info["kind"],
                "columns": ", ".join(info["columns"]),
                "is_demo": settings.is_demo,
                "demo_generated": bool(demo.get("generated", False)),
                "imported_from": imported.get("source", "none"),
                "seconds": round(seconds, 2),
            },
        )


def _import_source(context: dg.AssetExecutionContext, settings) -> dict:
    """Convert the configured real-data source into the raw folder (every run: the
    importers are deterministic and stream, so re-importing is cheap and always current)."""
    from orchestration.lib.importers import import_collegemsg, import_stackexchange

    if not settings.import_path.exists():
        raise FileNotFoundError(
            f"{settings.import_path}: the {settings.import_kind} source to import does not exist"
        )
    context.log.info(
        "importing %s %s into %s", settings.import_kind, settings.import_path, settings.raw_dir
    )
    if settings.import_kind == "stackexchange":
        summary = import_stackexchange(settings.import_path, settings.raw_dir)
    else:
        summary = import_collegemsg(settings.import_path, settings.raw_dir)
    context.log.info("import summary: %s", summary)
    return {"source": f"{settings.import_kind}:{settings.import_path}"}
