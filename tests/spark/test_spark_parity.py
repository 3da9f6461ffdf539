"""The same dbt models on Spark: every row of the Spark build equals DuckDB's.

One generated data set (small, with the generator's bad rows and more planted here: a
CSV events file with amounts and timestamps that do not parse, a CSV groups file with a
malformed line) is built twice with the ``spark_portable`` selector (selectors.yml:
the raw-data staging with its rejects, the core and graph intermediates, the core and
graph marts, the KPI models, the community and KPI staging models, their seeds and the
data tests of those models), in three phases around the community snapshot step and
the growth-inflection step (Python): on DuckDB from the raw folder, the steps on the
warehouse connection as Dagster runs them; on Spark (dbt-spark session method, local
mode) from the Parquet export of the raw layer (orchestration/lib/raw/parquet_export.py),
each step through the Parquet bridge (orchestration/lib/warehouse/parquet_bridge.py) on
the models Spark exported, its tables registered on Spark for the next phase. One dbt
build per engine and phase per test session. Then every model's rows, and every table
of the steps, are compared as
multisets: the same columns, the same values (doubles to 9 significant digits, as the
mart checksums compare them), only the load timestamp ``_loaded_at`` (the run's start)
and the step's timing ``seconds`` left out.

Needs pyspark and dbt-spark (the ``spark`` extra: ``make test-spark`` installs them in a
venv kept in ~/.cache/smallgroups) and Java 17; skipped without them. Marked ``spark``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import os
import shutil
import time
from collections import Counter
from pathlib import Path

import duckdb
import pytest

pytest.importorskip("pyspark", reason="the spark extra is not installed (make test-spark)")
pytest.importorskip("dbt.adapters.spark", reason="dbt-spark is not installed (make test-spark)")

from dbt.cli.main import dbtRunner  # noqa: E402

from orchestration.lib.communities import store as community_store  # noqa: E402
from orchestration.lib.communities.refresh import refresh_snapshots  # noqa: E402
from orchestration.lib.demo.generator import generate  # noqa: E402
from orchestration.lib.kpi import store as kpi_store  # noqa: E402
from orchestration.lib.kpi.refresh import refresh_inflections  # noqa: E402
from orchestration.lib.raw.loader import register_raw_tables  # noqa: E402
from orchestration.lib.raw.parquet_export import export_raw_parquet  # noqa: E402
from orchestration.lib.warehouse.parquet_bridge import (  # noqa: E402
    COMMUNITY_STEP,
    INFLECTION_STEP,
    run_step,
)

pytestmark = pytest.mark.spark

PROJECT_DIR = Path(__file__).resolve().parents[2]
#: Small: the Spark build's cost is per statement, not per row.
DATA = {"n_users": 300, "n_days": 35, "seed": 7, "bad_row_share": 0.03}
SCHEMA = "smallgroups"
#: When the row entered the warehouse (the run's start) and how long a snapshot took:
#: different per build.
RUN_COLUMNS = {"_loaded_at", "seconds"}

#: Amounts (as text) that staging must reject although Spark, with ANSI off, casts
#: them without an error: to null or to a non-finite double.
BAD_AMOUNTS = {"abc": "invalid_amount", "NaN": "invalid_amount", "1e400": "invalid_amount"}
#: Timestamps (as text) with the reason staging gives, or None when they parse.
PLANTED_TIMESTAMPS = {
    "not a time": "invalid_timestamp",
    "2026-02-30 10:00:00": "invalid_timestamp",
    "1999-12-31 23:00:00": "timestamp_before_2000",
    "2099-01-01 00:00:00": "timestamp_in_future",
    "2026-01-03T10:00:00+02:00": None,
    "2026-01-03 10:00:00Z": None,
    "2026-01-03": None,
}


def _plant_csv_tables(raw: Path) -> None:
    """Rewrite events and groups as CSV text with planted values (DuckDB writes them)."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    events = raw / "events"
    con.execute(
        f"create table events as select * from read_parquet('{events}/**/*.parquet', "
        "union_by_name = true) order by occurred_at, event_id"
    )
    con.execute("alter table events alter amount type varchar")
    con.execute("alter table events alter occurred_at type varchar")
    purchases = [
        row[0]
        for row in con.execute(
            # Purchases with a valid amount: no other reason comes before the planted one.
            "select event_id from events where event_type = 'purchase'"
            " and try_cast(amount as double) > 0 order by event_id limit ?",
            [len(BAD_AMOUNTS) + len(PLANTED_TIMESTAMPS)],
        ).fetchall()
    ]
    values = list(BAD_AMOUNTS)
    for event_id, amount in zip(purchases, values, strict=False):
        con.execute("update events set amount = ? where event_id = ?", [amount, event_id])
    for event_id, stamp in zip(purchases[len(values) :], PLANTED_TIMESTAMPS, strict=True):
        con.execute("update events set occurred_at = ? where event_id = ?", [stamp, event_id])
    shutil.rmtree(events)
    con.execute(f"copy events to '{raw / 'events.csv'}' (header)")
    con.execute(f"create table groups as select * from read_parquet('{raw / 'groups.parquet'}')")
    (raw / "groups.parquet").unlink()
    con.execute(f"copy groups to '{raw / 'groups.csv'}' (header)")
    con.close()
    # A record with too many fields: a malformed line, captured apart by the loader.
    with open(raw / "groups.csv", "a", encoding="utf-8") as handle:
        handle.write("g_broken,a,b,c,d,e,f,g,h\n")


def _dbt(args: list[str], target: str, target_path: Path) -> None:
    result = dbtRunner().invoke(
        [
            *args,
            "--target",
            target,
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
            "--target-path",
            str(target_path),
            "--log-path",
            str(target_path / "logs"),
            "--quiet",
        ]
    )
    failed = [
        f"{r.node.unique_id}: {r.status}: {r.message}"
        for r in (result.result or [])
        if hasattr(r, "node") and str(r.status) not in ("success", "pass")
    ]
    assert result.success and not failed, (
        f"dbt {args[0]} on {target} failed: {result.exception} {failed}"
    )


def _dbt_build(target: str, target_path: Path, phase: str) -> None:
    """Build one phase of the Spark flow (``spark_before_steps``, ``spark_after_steps``,
    ``spark_after_inflections``: selectors.yml)."""
    # The generic data tests and unit tests (about 110 nodes) cost a second or more each
    # on Spark (statement overhead, not rows); the row comparison with DuckDB checks
    # more than they do. By default both builds take the lean selectors of the phases
    # (spark_before_steps_lean, spark_after_steps_lean, spark_after_inflections_lean):
    # the models, the seeds and the singular tests (assert_raw_rows_accounted_for,
    # assert_kpi_daily_has_no_gaps).
    everything = os.environ.get("SMALLGROUPS_SPARK_ALL_TESTS", "") == "1"
    selector = phase + ("" if everything else "_lean")
    _dbt(["build", "--selector", selector], target, target_path)


@pytest.fixture(scope="session")
def builds(tmp_path_factory):
    """Build the selector on DuckDB and on Spark; yield (duckdb path, spark session, seconds)."""
    os.environ["TZ"] = "UTC"  # pyspark turns timestamps into naive local datetimes
    time.tzset()
    tmp = tmp_path_factory.mktemp("spark_parity")
    raw = tmp / "raw"
    generate(raw, tmp / "truth", **DATA)
    _plant_csv_tables(raw)
    seconds = {}

    warehouse = tmp / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    register_raw_tables(con, raw)
    con.close()
    env = {
        "SMALLGROUPS_DUCKDB_PATH": str(warehouse),
        "SMALLGROUPS_RAW_PARQUET_DIR": str(tmp / "raw_parquet"),
        "SMALLGROUPS_SPARK_WAREHOUSE": str(tmp / "spark_warehouse"),
        "SMALLGROUPS_SPARK_SCHEMA": SCHEMA,
        "SMALLGROUPS_PYTHON_STEPS_PARQUET_DIR": None,
    }
    saved = {name: os.environ.get(name) for name in env}
    _set_env(env)
    try:
        started = time.monotonic()
        _dbt_build("duckdb", tmp / "target_duckdb", "spark_before_steps")
        seconds["duckdb_before_steps"] = time.monotonic() - started
        started = time.monotonic()
        # The DuckDB path: the step on the warehouse connection, as the Dagster asset.
        with duckdb.connect(str(warehouse)) as con:
            refresh_snapshots(con)
        seconds["duckdb_community_step"] = time.monotonic() - started
        started = time.monotonic()
        _dbt_build("duckdb", tmp / "target_duckdb", "spark_after_steps")
        seconds["duckdb_after_steps"] = time.monotonic() - started
        started = time.monotonic()
        # The growth-inflection step reads fct_kpi_daily (phase 2): on the connection.
        with duckdb.connect(str(warehouse)) as con:
            duckdb_inflections = refresh_inflections(con)
        seconds["duckdb_inflection_step"] = time.monotonic() - started
        started = time.monotonic()
        _dbt_build("duckdb", tmp / "target_duckdb", "spark_after_inflections")
        seconds["duckdb_after_inflections"] = time.monotonic() - started

        started = time.monotonic()
        export_raw_parquet(raw, tmp / "raw_parquet")
        seconds["parquet_export"] = time.monotonic() - started
        started = time.monotonic()
        _dbt_build("spark", tmp / "target_spark", "spark_before_steps")
        seconds["spark_before_steps"] = time.monotonic() - started
        # Beside Spark, each step in turn: its inputs exported by Spark, the step on
        # Parquet through the bridge, then the phase that reads its tables. The
        # growth-inflection step reads fct_kpi_daily, built in the community step's phase.
        phases = [
            (COMMUNITY_STEP, "spark_after_steps"),
            (INFLECTION_STEP, "spark_after_inflections"),
        ]
        bridged = {}
        for python_step, phase in phases:
            started = time.monotonic()
            _export_step_inputs(python_step.name, tmp / "step_inputs", tmp / "target_export")
            seconds[f"spark_export_{python_step.name}_inputs"] = time.monotonic() - started
            started = time.monotonic()
            bridged[python_step.name] = run_step(
                python_step, tmp / "step_inputs", tmp / "step_outputs"
            )
            seconds[f"bridge_{python_step.name}"] = time.monotonic() - started
            started = time.monotonic()
            _set_env({"SMALLGROUPS_PYTHON_STEPS_PARQUET_DIR": str(tmp / "step_outputs")})
            _dbt_build("spark", tmp / "target_spark", phase)
            seconds[phase] = time.monotonic() - started
    finally:
        _set_env(saved)
    print(f"\nthe steps through the bridge: { {k: v['written_rows'] for k, v in bridged.items()} }")
    print(
        f"inflections: DuckDB {duckdb_inflections['inflections_per_series']}, "
        f"through the bridge {bridged[INFLECTION_STEP.name]['inflections_per_series']}"
    )
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()  # the session dbt-spark started
    print(f"\nbuild seconds: { {k: round(v, 1) for k, v in seconds.items()} }")
    yield warehouse, spark
    spark.stop()


def _export_step_inputs(step: str, out_dir: Path, target_path: Path) -> None:
    """``dbt run-operation export_python_step_inputs`` of ``step`` on the spark target."""
    args = json.dumps({"out_dir": str(out_dir), "step": step})
    _dbt(["run-operation", "export_python_step_inputs", "--args", args], "spark", target_path)


def _set_env(values: dict[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _models() -> list[str]:
    """The models of the selector, from the DuckDB build's manifest-free listing."""
    result = dbtRunner().invoke(
        [
            "ls",
            "--selector",
            "spark_portable",
            "--resource-type",
            "model",
            "--output",
            "name",
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
            "--target",
            "duckdb",
            "--quiet",
        ]
    )
    assert result.success, result.exception
    return sorted(result.result)


def _normal(value: object) -> object:
    """A value both engines' rows compare on: doubles and decimals at 9 significant
    digits, timestamps and dates as ISO text, JSON text as its parsed object."""
    if value is None:
        return None
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float | decimal.Decimal):
        number = float(value)
        if math.isnan(number):
            return "nan"
        if math.isinf(number):
            return "inf" if number > 0 else "-inf"
        return f"{number:.9g}"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return repr(value)


def _sort_key(row: tuple) -> tuple:
    return tuple((v is None, str(v)) for v in row)


def _duckdb_rows(warehouse: Path, relation: str) -> tuple[list[str], list[tuple]]:
    # Not read-only: dbt-duckdb, in this process, may still hold the file open read-write.
    with duckdb.connect(str(warehouse)) as con:
        found = con.sql(f"select * from {relation}")
        columns = [c for c in found.columns if c not in RUN_COLUMNS]
        rows = con.sql(f"select {', '.join(columns)} from {relation}").fetchall()
    return columns, rows


def _spark_rows(spark, relation: str, columns: list[str]) -> tuple[list[str], list[tuple]]:
    frame = spark.table(relation)
    present = [c for c in frame.columns if c not in RUN_COLUMNS]
    rows = [tuple(row[c] for c in columns if c in present) for row in frame.collect()]
    return present, rows


def test_every_model_has_the_same_rows_on_spark(builds):
    warehouse, spark = builds
    models = _models()
    assert len(models) >= 20, models
    # The models on both engines, and the Python steps' tables: on DuckDB written by
    # the steps into the warehouse, on Spark the bridge's Parquet registered as tables.
    relations = {model: (f"main.{model}", f"{SCHEMA}.{model}") for model in models}
    relations |= {
        f"{step_store.SCHEMA}.{name}": (f"{step_store.SCHEMA}.{name}",) * 2
        for step_store in (community_store, kpi_store)
        for name in step_store.TABLES
    }
    problems = []
    counts = {}
    for model, (duck_relation, spark_relation) in relations.items():
        columns, duck = _duckdb_rows(warehouse, duck_relation)
        spark_columns, sparked = _spark_rows(spark, spark_relation, columns)
        if sorted(columns) != sorted(spark_columns):
            problems.append(f"{model}: columns {sorted(columns)} != {sorted(spark_columns)}")
            continue
        duck_rows = Counter(tuple(_normal(v) for v in row) for row in duck)
        spark_rows = Counter(tuple(_normal(v) for v in row) for row in sparked)
        counts[model] = len(duck)
        if duck_rows != spark_rows:
            only_duck = sorted((duck_rows - spark_rows).elements(), key=_sort_key)[:3]
            only_spark = sorted((spark_rows - duck_rows).elements(), key=_sort_key)[:3]
            problems.append(
                f"{model}: {len(duck)} DuckDB rows, {len(sparked)} Spark rows; "
                f"only DuckDB {only_duck}; only Spark {only_spark} (columns {columns})"
            )
    print(f"\nrows compared: {counts}")
    assert not problems, "\n".join(problems)
    # Not trivial: the data set has 300 users and 7 declared groups.
    least = {"dim_users": 300, "dim_groups": 5, "fct_user_activity_daily": 1000}
    least |= {"fct_user_edges": 1000, "fct_group_members_daily": 100}
    least |= {"stg_product__rejected_rows": 50}
    least |= {"int_kpi_days": 30, "fct_retention_cohorts": 50, "metricflow_time_spine": 4000}
    least |= {"int_group_member_days_spined": 100}
    # The community step's tables and the models that read them (35 days: 5 snapshots).
    least |= {"communities.community_snapshot_runs": 5, "stg_communities__snapshot_runs": 5}
    least |= {"communities.community_assignments": 100, "stg_communities__assignments": 100}
    least |= {"stg_communities__stats": 10, "stg_communities__member_metrics": 100}
    least |= {"int_detected_communities_daily": 30, "fct_kpi_daily": 30}
    # The growth-inflection step (it reads fct_kpi_daily) and its staging: 2 bends in
    # the 35 days (sign-ups and active groups).
    least |= {"kpi.growth_inflections": 2, "stg_kpi__growth_inflections": 2}
    small = {m: counts[m] for m, n in least.items() if counts[m] < n}
    assert not small, f"nearly empty: {small}"
    # The KPI reads the step's output: detected communities are counted on most days.
    with duckdb.connect(str(warehouse)) as con:
        (days_with_communities,) = con.execute(
            "select count(*) from main.fct_kpi_daily where count_active_detected_communities > 0"
        ).fetchone()
    assert days_with_communities >= 20, days_with_communities


def test_bad_casts_are_rejected_on_spark_with_ansi_off(builds):
    """dbt-spark turns ANSI mode off, so a bad cast gives null (or a non-finite double)
    instead of an error: the planted amounts and timestamps still end up in the rejects
    with their reason, and the malformed CSV line too."""
    _, spark = builds
    assert spark.conf.get("spark.sql.ansi.enabled") == "false"
    rejected = spark.sql(
        f"select rejection_reason, raw_record from {SCHEMA}.stg_product__rejected_rows"
        " where source_table in ('events', 'groups')"
    ).collect()
    by_amount = {}
    by_stamp = {}
    malformed = 0
    for row in rejected:
        record = json.loads(row.raw_record)
        if row.rejection_reason == "malformed_line":
            malformed += "g_broken" in record["raw_line"]
            continue
        if record.get("amount") in BAD_AMOUNTS:
            by_amount[record["amount"]] = row.rejection_reason
        if record.get("occurred_at") in PLANTED_TIMESTAMPS:
            by_stamp[record["occurred_at"]] = row.rejection_reason
    assert by_amount == BAD_AMOUNTS
    expected = {k: v for k, v in PLANTED_TIMESTAMPS.items() if v is not None}
    assert {k: by_stamp.get(k) for k in expected} == expected
    # The ones that parse are not rejected for their timestamp.
    timestamp_reasons = set(expected.values()) | {"missing_timestamp"}
    parsed = {k: by_stamp.get(k) for k in PLANTED_TIMESTAMPS if k not in expected}
    assert not {k: r for k, r in parsed.items() if r in timestamp_reasons}, parsed
    assert malformed == 1
