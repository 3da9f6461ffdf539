"""The raw-data asset: generate the demo data set or validate the configured folder,
then expose each raw table to dbt as a view ``raw.<table>`` (one asset per table); and
the freshness check of the raw events (dbt's freshness rule of source product.events)."""

import json
import time
from datetime import UTC, datetime, timedelta

import dagster as dg
import duckdb

from orchestration.defs.dbt.assets import dbt_project
from orchestration.defs.lock import WarehouseLock
from orchestration.lib.config import load_settings
from orchestration.lib.raw import TABLES, discover_raw_tables, register_raw_tables
from orchestration.lib.raw.demo_cache import ensure_demo_data
from orchestration.lib.raw.freshness import evaluate_freshness, freshness_rule, latest_loaded_at
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


def _source_node(manifest: dict, source_name: str, table: str) -> dict:
    for node in manifest["sources"].values():
        if node["source_name"] == source_name and node["name"] == table:
            return node
    raise KeyError(f"{dbt_project.manifest_path}: no source {source_name}.{table}")


#: dbt's freshness rule of the raw events (models/staging/product/_product__sources.yml).
EVENTS_FRESHNESS = freshness_rule(
    _source_node(
        json.loads(dbt_project.manifest_path.read_text(encoding="utf-8")), "product", "events"
    )
)
_SEVERITY = {"warn": dg.AssetCheckSeverity.WARN, "error": dg.AssetCheckSeverity.ERROR}


def _hours(delta: timedelta | None) -> float | None:
    return None if delta is None else delta.total_seconds() / 3600


@dg.asset_check(
    asset=dg.AssetKey(["raw", "events"]),
    description="The newest raw event (dbt's loaded_at_field of source product.events, "
    "rows passing its freshness filter) is younger than warn_after "
    f"({_hours(EVENTS_FRESHNESS.warn_after)} h; ERROR severity past error_after, "
    f"{_hours(EVENTS_FRESHNESS.error_after)} h). Reads the raw files, not the "
    "warehouse. The demo and imported data sets are historical: WARN at most.",
)
def raw_events_are_fresh() -> dg.AssetCheckResult:
    """Evaluate dbt's freshness rule of the raw events on the files of the raw folder."""
    settings = load_settings()
    events = discover_raw_tables(settings.raw_dir)["events"]
    with duckdb.connect() as con:
        con.execute(f"create view events as {events.scan_sql()}")
        latest = latest_loaded_at(con, "events", EVENTS_FRESHNESS)
    result = evaluate_freshness("raw/events", latest, datetime.now(UTC), EVENTS_FRESHNESS)
    historical = settings.is_demo or bool(settings.import_kind)
    severity = _SEVERITY.get(result.status, dg.AssetCheckSeverity.WARN)
    description = result.message
    if historical and severity == dg.AssetCheckSeverity.ERROR:
        severity = dg.AssetCheckSeverity.WARN
        description += " (historical data set: reported as a warning)"
    return dg.AssetCheckResult(
        passed=result.passed,
        severity=severity,
        description=description,
        metadata={
            "newest_row_at": result.latest.isoformat() if result.latest else "none",
            "checked_at": result.checked_at.isoformat(),
            "lag_hours": None if result.lag is None else round(_hours(result.lag), 1),
            "status": result.status,
            "warn_after_hours": _hours(EVENTS_FRESHNESS.warn_after),
            "error_after_hours": _hours(EVENTS_FRESHNESS.error_after),
            "source": str(events.path),
        },
    )
