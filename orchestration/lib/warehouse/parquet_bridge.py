"""Run a Python step of the pipeline on Parquet: the form it takes beside Spark.

On DuckDB a step (the community snapshots,
:func:`orchestration.lib.communities.refresh.refresh_snapshots`; the growth inflections,
:func:`orchestration.lib.kpi.refresh.refresh_inflections`) reads the models it needs
through the warehouse connection and writes its schema into the same file. Beside
another engine there is no such connection: the models are tables of that engine. This
bridge runs the same step, same code, on an in-memory DuckDB whose ``main.<model>``
tables are read from Parquet, and writes the step's tables as Parquet that the engine
registers as the step's dbt source (on Spark: the ``on-run-start`` hook
``register_python_step_tables``, macros/spark_python_steps.sql, as the raw layer's
``register_raw_parquet_tables``).

Each step is described once in :data:`STEPS` (a :class:`PythonStep`: the models it
reads with their columns, its schema and tables, the function to run); the loading,
reading back and writing below are the same for every step.

Inputs: one Parquet table per input model, in ``<in_dir>/<model>/`` (a folder of
``*.parquet`` files, as Spark writes a table or a directory: ``dbt run-operation
export_python_step_inputs``) or ``<in_dir>/<model>.parquet``. Only the columns the step
reads are loaded; a missing table or column raises :class:`BridgeInputError` naming it.

Outputs: ``<out_dir>/<table>/part-0.parquet`` for every table of the step. An
incremental step (the community snapshots) first reads back the tables already there,
so a run computes only the weeks not stored yet, as on DuckDB. Each file is written
beside its target under a hidden temporary name (Spark and the ``*.parquet`` glob skip
it), flushed to disk, then renamed over the old file: a reader sees the old table or the
new one, never half a file. Every table is written before the first rename, so a run
that fails while writing changes nothing.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.lib.communities import store as community_store
from orchestration.lib.communities.refresh import refresh_snapshots
from orchestration.lib.communities.snapshots import DetectionSettings
from orchestration.lib.kpi import store as kpi_store
from orchestration.lib.kpi.refresh import SERIES, InflectionSettings, refresh_inflections
from orchestration.lib.warehouse.tables import ddl_names

__all__ = [
    "COMMUNITY_STEP",
    "INFLECTION_STEP",
    "OUTPUT_FILE",
    "STEPS",
    "BridgeInputError",
    "PythonStep",
    "load_inputs",
    "load_stored_outputs",
    "run_step",
    "write_outputs",
    "write_parquet_atomically",
]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PythonStep:
    """A Python step as the bridge runs it."""

    name: str
    """How the CLI and dbt's ``export_python_step_inputs`` name it."""
    inputs: Mapping[str, tuple[str, ...]]
    """Each model the step reads (its ``store.INPUT_MODELS``) -> the columns it reads."""
    schema: str
    """The schema the step writes (its dbt source)."""
    tables: Mapping[str, str]
    """Each table the step writes -> its column declarations (its ``store.TABLES``)."""
    run: Callable[..., dict]
    """``run(con, settings, *, recompute_all, **options)``: the step on ``con``; its figures."""
    ensure_tables: Callable[[duckdb.DuckDBPyConnection], None] | None = None
    """Creates the step's tables. Given for an incremental step: its stored tables are
    read back into them before it runs. None: the step rewrites its tables whole."""
    summary: Callable[[dict], str] = str
    """The line the CLI prints from the step's figures."""


def _run_communities(con, settings=None, *, recompute_all=False, **options) -> dict:
    return refresh_snapshots(con, settings, recompute_all=recompute_all, **options)


def _run_inflections(con, settings=None, *, recompute_all=False, **options) -> dict:
    # Rewritten whole on every run: there is nothing stored to recompute.
    del recompute_all
    return refresh_inflections(con, settings, **options)


COMMUNITY_STEP = PythonStep(
    name="community_snapshots",
    inputs={
        "int_user_edges_weekly": (
            "user_id_a",
            "user_id_b",
            "week_start_date",
            "interaction_weight",
        ),
        "int_co_memberships_paired": (
            "user_id_a",
            "user_id_b",
            "co_membership_weight",
            "shared_since",
            "shared_until",
        ),
        "dim_users": ("user_id", "signup_date"),
        "fct_user_activity_daily": ("activity_date",),
        "stg_product__group_memberships": ("user_id", "group_id", "joined_at", "left_at"),
        "edge_kind_weights": ("interaction_kind", "weight"),
    },
    schema=community_store.SCHEMA,
    tables=community_store.TABLES,
    run=_run_communities,
    ensure_tables=community_store.ensure_tables,
    summary=lambda stats: (
        f"snapshots computed {stats['snapshots_computed']} "
        f"(carried forward {stats['snapshots_carried_forward']}), "
        f"stored before {stats['snapshots_stored_before']}, {stats['seconds']:.1f} s"
    ),
)

INFLECTION_STEP = PythonStep(
    name="growth_inflections",
    inputs={
        "fct_kpi_daily": ("kpi_date", *SERIES),
        "stg_product__interventions": ("intervention_id", "started_at"),
        "stg_product__experiments": ("experiment_id", "started_at"),
    },
    schema=kpi_store.SCHEMA,
    tables=kpi_store.TABLES,
    run=_run_inflections,
    summary=lambda stats: (
        f"inflections {stats['count_inflections']} {stats['inflections_per_series']}, "
        f"{stats['seconds']:.1f} s"
    ),
)

#: Every step the bridge runs, by name.
STEPS: dict[str, PythonStep] = {step.name: step for step in (COMMUNITY_STEP, INFLECTION_STEP)}

#: The file of each output table's folder.
OUTPUT_FILE = "part-0.parquet"


class BridgeInputError(LookupError):
    """An input table (or a stored output) is missing, or lacks a column the step reads."""


def _sql_str(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _table_files(folder: Path, name: str) -> str:
    """The Parquet files of table ``name`` under ``folder`` (as a read_parquet argument)."""
    directory = folder / name
    if directory.is_dir():
        if not any(directory.glob("*.parquet")):
            raise BridgeInputError(f"table {name}: no *.parquet file in {directory}")
        return _sql_str(directory / "*.parquet")
    single = folder / f"{name}.parquet"
    if single.is_file():
        return _sql_str(single)
    raise BridgeInputError(f"table {name}: neither {directory}/*.parquet nor {single} exists")


def _check_columns(
    con: duckdb.DuckDBPyConnection, files: str, name: str, wanted: tuple[str, ...]
) -> None:
    present = {
        row[0] for row in con.execute(f"describe select * from read_parquet({files})").fetchall()
    }
    missing = [c for c in wanted if c not in present]
    if missing:
        raise BridgeInputError(
            f"table {name} ({files}) has no column {', '.join(missing)} "
            f"(it has {', '.join(sorted(present))})"
        )


def load_inputs(
    con: duckdb.DuckDBPyConnection, step: PythonStep, in_dir: Path | str
) -> dict[str, int]:
    """Create ``main.<model>`` for every input model of ``step`` from the Parquet files
    in ``in_dir``, with the columns the step reads; return the rows per table.

    Raises
    ------
    BridgeInputError
        A table's files are missing, or a column is (the message names it). Every table
        is checked before any is loaded.
    """
    in_dir = Path(in_dir)
    files = {name: _table_files(in_dir, name) for name in step.inputs}
    for name, columns in step.inputs.items():
        _check_columns(con, files[name], name, columns)
    counts = {}
    for name, columns in step.inputs.items():
        con.execute(
            f"create or replace table main.{name} as "
            f"select {', '.join(columns)} from read_parquet({files[name]})"
        )
        (counts[name],) = con.execute(f"select count(*) from main.{name}").fetchone()
    return counts


def load_stored_outputs(
    con: duckdb.DuckDBPyConnection, step: PythonStep, out_dir: Path | str
) -> dict[str, int]:
    """Read back ``step``'s tables already written to ``out_dir`` (none: an empty dict),
    so an incremental step recomputes only what is not stored. A stored table lacking
    one of the step's columns is refused (:class:`BridgeInputError`): the step would
    read it. A step that rewrites its tables whole (no ``ensure_tables``) reads nothing."""
    out_dir = Path(out_dir)
    present = [name for name in step.tables if (out_dir / name / OUTPUT_FILE).is_file()]
    if step.ensure_tables is None or not present:
        return {}
    missing = [name for name in step.tables if name not in present]
    if missing:
        raise BridgeInputError(
            f"stored outputs in {out_dir} lack {', '.join(missing)} (have {', '.join(present)})"
        )
    step.ensure_tables(con)
    counts = {}
    for name, columns in step.tables.items():
        files = _sql_str(out_dir / name / OUTPUT_FILE)
        _check_columns(con, files, name, tuple(ddl_names(columns)))
        con.execute(f"insert into {step.schema}.{name} by name select * from read_parquet({files})")
        (counts[name],) = con.execute(f"select count(*) from {step.schema}.{name}").fetchone()
    return counts


def write_parquet_atomically(
    con: duckdb.DuckDBPyConnection, query: str, target: Path | str
) -> Path:
    """Write ``query``'s rows to a hidden temporary file beside ``target`` and flush it
    to disk; return the temporary path, for :func:`os.replace` onto ``target``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    con.execute(f"copy ({query}) to {_sql_str(temporary)} (format parquet)")
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    return temporary


def write_outputs(
    con: duckdb.DuckDBPyConnection, step: PythonStep, out_dir: Path | str
) -> dict[str, int]:
    """Write every table of ``step`` to ``<out_dir>/<table>/part-0.parquet`` (rows
    sorted, so the same rows give the same file), all of them to temporary files first,
    then renamed; return the rows per table. A failure before the renames removes the
    temporary files and leaves the old ones."""
    out_dir = Path(out_dir)
    written: dict[Path, Path] = {}
    try:
        for name in step.tables:
            query = f"select * from {step.schema}.{name} order by all"
            target = out_dir / name / OUTPUT_FILE
            written[target] = write_parquet_atomically(con, query, target)
    except BaseException:
        # Every temporary file this run may have left, the one that failed included.
        for name in step.tables:
            (out_dir / name / f".{OUTPUT_FILE}.tmp").unlink(missing_ok=True)
        raise
    for target, temporary in written.items():
        os.replace(temporary, target)
    return {
        name: int(
            con.execute(
                f"select count(*) from read_parquet({_sql_str(out_dir / name / OUTPUT_FILE)})"
            ).fetchone()[0]
        )
        for name in step.tables
    }


def run_step(
    step: PythonStep | str,
    in_dir: Path | str,
    out_dir: Path | str,
    settings: DetectionSettings | InflectionSettings | None = None,
    *,
    recompute_all: bool = False,
    **options,
) -> dict:
    """A Python step from Parquet inputs to Parquet outputs.

    Parameters
    ----------
    step : PythonStep or str
        The step, or its name in :data:`STEPS`.
    in_dir : Path or str
        The input models as Parquet (module docstring).
    out_dir : Path or str
        Where the step's tables are (read back first, for an incremental step) and are
        written.
    settings
        The step's settings (``DetectionSettings``, ``InflectionSettings``; default:
        the documented ones).
    recompute_all : bool, default False
        An incremental step recomputes everything and leaves the tables stored in
        ``out_dir`` unread.
    **options
        Passed on to the step (``carry_forward``, ``log``).

    Returns
    -------
    dict
        The step's figures plus ``input_rows`` and ``stored_rows_before`` (table ->
        rows) and ``written_rows`` (table -> rows in the files written).
    """
    step = STEPS[step] if isinstance(step, str) else step
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        input_rows = load_inputs(con, step, in_dir)
        stored = {} if recompute_all else load_stored_outputs(con, step, out_dir)
        options.setdefault("log", _log)
        stats = step.run(con, settings, recompute_all=recompute_all, **options)
        written = write_outputs(con, step, out_dir)
    finally:
        con.close()
    return stats | {
        "input_rows": input_rows,
        "stored_rows_before": stored,
        "written_rows": written,
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m orchestration.lib.warehouse.parquet_bridge STEP IN_DIR OUT_DIR``: run
    the step named STEP (:data:`STEPS`) and print the rows written per table."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=sorted(STEPS), help="the step to run")
    parser.add_argument("in_dir", type=Path, help="the input models as Parquet")
    parser.add_argument("out_dir", type=Path, help="the step's tables as Parquet")
    parser.add_argument(
        "--recompute-all",
        action="store_true",
        help="ignore the tables stored in OUT_DIR (an incremental step)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    step = STEPS[args.step]
    try:
        stats = run_step(step, args.in_dir, args.out_dir, recompute_all=args.recompute_all)
    except BridgeInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{step.name}: {step.summary(stats)}")
    for name, count in stats["written_rows"].items():
        print(f"{name}\t{count}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
