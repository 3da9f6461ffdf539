"""Run the community snapshot step on Parquet: the form it takes beside Spark.

On DuckDB the step (:func:`orchestration.lib.communities.refresh.refresh_snapshots`)
reads the models it needs through the warehouse connection and writes the schema
``communities`` into the same file. Beside another engine there is no such connection:
the models are tables of that engine. This bridge runs the same step, same code, on an
in-memory DuckDB whose ``main.<model>`` tables are read from Parquet, and writes the
step's tables as Parquet that the engine registers as its ``communities`` source
(on Spark: the ``on-run-start`` hook ``register_python_step_tables``,
macros/spark_python_steps.sql, as the raw layer's ``register_raw_parquet_tables``).

Inputs: one Parquet table per model of :data:`INPUT_COLUMNS` (the step's
``store.INPUT_MODELS``), in ``<in_dir>/<model>/`` (a folder of ``*.parquet`` files, as
Spark writes a table or a directory: ``dbt run-operation export_python_step_inputs``)
or ``<in_dir>/<model>.parquet``. Only the columns the step reads are loaded; a missing
table or column raises :class:`BridgeInputError` naming it.

Outputs: ``<out_dir>/<table>/part-0.parquet`` for every table of ``store.TABLES``. The
snapshots already there are read back first, so a run computes only the weeks not stored
yet, as on DuckDB. Each file is written beside its target under a hidden temporary name
(Spark and the ``*.parquet`` glob skip it), flushed to disk, then renamed over the old
file: a reader sees the old table or the new one, never half a file. Every table is
written before the first rename, so a run that fails while writing changes nothing.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import duckdb

from orchestration.lib.communities import store
from orchestration.lib.communities.refresh import refresh_snapshots
from orchestration.lib.communities.snapshots import DetectionSettings

__all__ = [
    "INPUT_COLUMNS",
    "OUTPUT_FILE",
    "BridgeInputError",
    "load_inputs",
    "load_stored_outputs",
    "run_community_step",
    "write_outputs",
    "write_parquet_atomically",
]

_log = logging.getLogger(__name__)

#: The columns the community snapshot step reads from each of its input models.
INPUT_COLUMNS: dict[str, tuple[str, ...]] = {
    "int_user_edges_weekly": ("user_id_a", "user_id_b", "week_start_date", "interaction_weight"),
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
}

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


def load_inputs(con: duckdb.DuckDBPyConnection, in_dir: Path | str) -> dict[str, int]:
    """Create ``main.<model>`` for every model of :data:`INPUT_COLUMNS` from the Parquet
    files in ``in_dir``, with the columns the step reads; return the rows per table.

    Raises
    ------
    BridgeInputError
        A table's files are missing, or a column is (the message names it). Every table
        is checked before any is loaded.
    """
    in_dir = Path(in_dir)
    files = {name: _table_files(in_dir, name) for name in INPUT_COLUMNS}
    for name, columns in INPUT_COLUMNS.items():
        _check_columns(con, files[name], name, columns)
    counts = {}
    for name, columns in INPUT_COLUMNS.items():
        con.execute(
            f"create or replace table main.{name} as "
            f"select {', '.join(columns)} from read_parquet({files[name]})"
        )
        (counts[name],) = con.execute(f"select count(*) from main.{name}").fetchone()
    return counts


def load_stored_outputs(con: duckdb.DuckDBPyConnection, out_dir: Path | str) -> dict[str, int]:
    """Read back the step's tables already written to ``out_dir`` (none: an empty dict),
    so the step recomputes only what is not stored. A stored table lacking one of the
    step's columns is refused (:class:`BridgeInputError`): the step would read it."""
    out_dir = Path(out_dir)
    present = [name for name in store.TABLES if (out_dir / name / OUTPUT_FILE).is_file()]
    if not present:
        return {}
    missing = [name for name in store.TABLES if name not in present]
    if missing:
        raise BridgeInputError(
            f"stored outputs in {out_dir} lack {', '.join(missing)} (have {', '.join(present)})"
        )
    store.ensure_tables(con)
    counts = {}
    for name in store.TABLES:
        files = _sql_str(out_dir / name / OUTPUT_FILE)
        wanted = tuple(c.split()[0] for c in store.TABLES[name].split(","))
        _check_columns(con, files, name, wanted)
        con.execute(
            f"insert into {store.SCHEMA}.{name} by name select * from read_parquet({files})"
        )
        (counts[name],) = con.execute(f"select count(*) from {store.SCHEMA}.{name}").fetchone()
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


def write_outputs(con: duckdb.DuckDBPyConnection, out_dir: Path | str) -> dict[str, int]:
    """Write every table of the schema ``communities`` to
    ``<out_dir>/<table>/part-0.parquet`` (rows sorted, so the same rows give the same
    file), all of them to temporary files first, then renamed; return the rows per table.
    A failure before the renames removes the temporary files and leaves the old ones."""
    out_dir = Path(out_dir)
    written: dict[Path, Path] = {}
    try:
        for name in store.TABLES:
            query = f"select * from {store.SCHEMA}.{name} order by all"
            target = out_dir / name / OUTPUT_FILE
            written[target] = write_parquet_atomically(con, query, target)
    except BaseException:
        for temporary in written.values():
            temporary.unlink(missing_ok=True)
        for name in store.TABLES:
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
        for name in store.TABLES
    }


def run_community_step(
    in_dir: Path | str,
    out_dir: Path | str,
    settings: DetectionSettings | None = None,
    *,
    recompute_all: bool = False,
    **options,
) -> dict:
    """The community snapshot step from Parquet inputs to Parquet outputs.

    Parameters
    ----------
    in_dir : Path or str
        The input models as Parquet (module docstring).
    out_dir : Path or str
        Where the step's tables are (read back first) and are written.
    settings, recompute_all
        As :func:`orchestration.lib.communities.refresh.refresh_snapshots`; ``recompute_all``
        also leaves the tables stored in ``out_dir`` unread.
    **options
        Passed on to ``refresh_snapshots`` (``carry_forward``, ``log``).

    Returns
    -------
    dict
        The step's figures (``refresh_snapshots``) plus ``input_rows`` and
        ``stored_rows_before`` (table -> rows) and ``written_rows`` (table -> rows in the
        files written).
    """
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        input_rows = load_inputs(con, in_dir)
        stored = {} if recompute_all else load_stored_outputs(con, out_dir)
        options.setdefault("log", _log)
        stats = refresh_snapshots(con, settings, recompute_all=recompute_all, **options)
        written = write_outputs(con, out_dir)
    finally:
        con.close()
    return stats | {
        "input_rows": input_rows,
        "stored_rows_before": stored,
        "written_rows": written,
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m orchestration.lib.warehouse.parquet_bridge IN_DIR OUT_DIR``: run the
    community snapshot step and print the rows written per table."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("in_dir", type=Path, help="the input models as Parquet")
    parser.add_argument("out_dir", type=Path, help="the step's tables as Parquet")
    parser.add_argument(
        "--recompute-all", action="store_true", help="ignore the snapshots stored in OUT_DIR"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        stats = run_community_step(args.in_dir, args.out_dir, recompute_all=args.recompute_all)
    except BridgeInputError as error:
        print(f"error: {error}")
        return 2
    print(
        f"snapshots computed {stats['snapshots_computed']} "
        f"(carried forward {stats['snapshots_carried_forward']}), "
        f"stored before {stats['snapshots_stored_before']}, {stats['seconds']:.1f} s"
    )
    for name, count in stats["written_rows"].items():
        print(f"{name}\t{count}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
