"""Find the raw tables in a folder, check them against the contract, expose them to dbt.

The raw folder is never copied: each table becomes a DuckDB view ``raw.<table>`` over
its file(s), with two lineage columns, ``_source_file`` and ``_source_row_number``,
that staging uses to keep the first of duplicated rows and to point a rejected row
back to where it came from. ``_source_file`` is the file's path relative to the raw
folder (``events/2026-01-01.parquet``, ``users.csv``), so the same file keeps its name
when the folder is moved, copied or mounted elsewhere (the incremental events model
reads only the files it has not stored). Absent optional tables become empty views
with the contract's columns, so every model downstream can rely on them existing.

Every table is checked before any view is (re)created: its required columns, and for
Parquet the required columns and the type of each contract column in each file
(``PARQUET_COMPATIBLE_TYPES``),
so a file whose schema changed stops the run before the warehouse is touched.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.lib.raw.contract import (
    PARQUET_COMPATIBLE_TYPES,
    TABLES,
    TYPE_DESCRIPTIONS,
    RawTable,
)

__all__ = ["RawDataError", "RawTableFile", "discover_raw_tables", "register_raw_tables"]

logger = logging.getLogger(__name__)

RAW_SCHEMA = "raw"
_LINEAGE = ("_source_file", "_source_row_number")
MALFORMED_TABLE = "_malformed_lines"
_CSV_OPTIONS = "header = true, all_varchar = true, filename = true, ignore_errors = true"
# One row per malformed CSV record: DuckDB's reject_errors holds one row per faulty
# column, all sharing the record's first line number and raw text.
#: The most type problems an error lists (a folder of daily files can repeat one).
_MAX_TYPE_PROBLEMS = 20
_MALFORMED_COLUMNS = (
    "source_table varchar, source_file varchar, source_line_number bigint, "
    "raw_line varchar, error_types varchar, error_message varchar"
)


class RawDataError(ValueError):
    """The raw folder does not meet the contract; the message names file and problem."""


@dataclass(frozen=True)
class RawTableFile:
    """Where one raw table was found.

    Attributes
    ----------
    table : RawTable
        The contract entry.
    path : Path or None
        File or folder; None when an optional table is absent.
    kind : str
        ``"parquet_dir"``, ``"parquet"``, ``"csv"`` or ``"absent"``.
    """

    table: RawTable
    path: Path | None
    kind: str

    def scan_sql(self) -> str:
        """A SELECT over the file(s) with the lineage columns, or an empty typed SELECT."""
        if self.kind == "absent":
            cols = ", ".join(f"cast(null as {typ}) as {name}" for name, typ in self.table.columns)
            return (
                f"select {cols}, cast(null as varchar) as _source_file, "
                "cast(null as bigint) as _source_row_number where false"
            )
        path = _sql_str(self.scan_path)
        if self.kind == "parquet_dir":
            glob = _sql_str(self.scan_path + "/**/*.parquet")
            return (
                "select * exclude (filename, file_row_number), "
                f"{self.source_file_sql('filename')} as _source_file, "
                "file_row_number as _source_row_number "
                f"from read_parquet({glob}, union_by_name = true, filename = true, "
                "file_row_number = true)"
            )
        if self.kind == "parquet":
            return (
                "select * exclude (filename, file_row_number), "
                f"{self.source_file_sql('filename')} as _source_file, "
                "file_row_number as _source_row_number "
                f"from read_parquet({path}, filename = true, file_row_number = true)"
            )
        # CSV: every column as text so ids keep leading zeros and staging does the typing.
        # ignore_errors skips malformed lines (captured apart by malformed_lines_sql), so
        # _source_row_number is the 0-based ordinal among the well-formed records.
        return (
            "select * exclude (filename), "
            f"{self.source_file_sql('filename')} as _source_file, "
            "row_number() over () - 1 as _source_row_number "
            f"from read_csv({path}, {_CSV_OPTIONS})"
        )

    def parquet_files(self, con: duckdb.DuckDBPyConnection) -> list[str]:
        """The Parquet files the scan reads, in name order (the same glob as
        :meth:`scan_sql`); empty for CSV and absent tables."""
        if self.kind == "parquet":
            return [self.scan_path]
        if self.kind != "parquet_dir":
            return []
        glob = _sql_str(self.scan_path + "/**/*.parquet")
        query = f"select file from glob({glob}) order by file"
        return [row[0] for row in con.execute(query).fetchall()]

    @property
    def scan_path(self) -> str:
        """The file or folder as DuckDB is given it: lexically normalised (``.``, ``..``
        and doubled separators removed), as DuckDB normalises the file names it returns,
        so they start with this path."""
        if self.path is None:
            raise ValueError(f"table '{self.table.name}' is absent: no path")
        return os.path.normpath(self.path)

    @property
    def relative_path(self) -> str:
        """The file or folder relative to the raw folder: its name (``users.csv``,
        ``events``)."""
        return Path(self.scan_path).name

    def source_file_sql(self, filename: str) -> str:
        """The SQL expression for ``_source_file``: the path relative to the raw folder.

        Parameters
        ----------
        filename : str
            The SQL expression of the file name DuckDB returns (``filename = true``).

        Returns
        -------
        str
            For a single file its name (``users.csv``); for a folder
            ``<table>/`` followed by the file's path inside the folder
            (``events/2026/01-01.parquet``). A file name outside the folder (which DuckDB
            does not return) fails the query with an error naming it, rather than
            storing a path that would not match next time.
        """
        if self.kind != "parquet_dir":
            return _sql_str(self.relative_path)
        prefix = _sql_str(self.scan_path + "/")
        message = _sql_str(f"{self.scan_path}: file outside the table's folder: ")
        return (
            f"case when starts_with({filename}, {prefix}) "
            f"then {_sql_str(self.table.name + '/')} || substr({filename}, length({prefix}) + 1) "
            f"else error({message} || {filename}) end"
        )

    def malformed_lines_sql(self) -> str | None:
        """A scan of a CSV that records its malformed lines in ``reject_errors``.

        DuckDB writes one ``reject_errors`` row per faulty column of a record (a line
        with 4 of 11 columns yields 7 rows), as temporary tables of the scanning
        connection; :func:`register_raw_tables` groups them into one row per record.
        Returns None for Parquet and absent tables.
        """
        if self.kind != "csv":
            return None
        return (
            f"select count(*) from read_csv({_sql_str(self.scan_path)}, {_CSV_OPTIONS}, "
            "store_rejects = true)"
        )


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _find(raw_dir: Path, table: RawTable) -> RawTableFile:
    folder = raw_dir / table.name
    candidates = [
        (folder, "parquet_dir"),
        (raw_dir / f"{table.name}.parquet", "parquet"),
        (raw_dir / f"{table.name}.csv", "csv"),
    ]
    found = [(p, k) for p, k in candidates if p.exists()]
    if not found:
        if table.required:
            raise RawDataError(
                f"{raw_dir}: required table '{table.name}' is missing "
                f"(expected {table.name}/*.parquet, {table.name}.parquet or {table.name}.csv)"
            )
        return RawTableFile(table, None, "absent")
    if len(found) > 1:
        logger.warning(
            "%s: several files for table '%s' (%s); using %s",
            raw_dir,
            table.name,
            ", ".join(p.name for p, _ in found),
            found[0][0].name,
        )
    path, kind = found[0]
    if kind == "parquet_dir" and not any(path.rglob("*.parquet")):
        raise RawDataError(f"{path}: folder for table '{table.name}' holds no .parquet file")
    return RawTableFile(table, path, kind)


def discover_raw_tables(raw_dir: Path | str) -> dict[str, RawTableFile]:
    """Locate every contract table in ``raw_dir``.

    Parameters
    ----------
    raw_dir : Path or str
        The raw folder.

    Returns
    -------
    dict
        Table name to :class:`RawTableFile`, for every table of the contract.

    Raises
    ------
    RawDataError
        The folder is missing or is not a folder, or a required table is missing.
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.exists():
        raise RawDataError(f"{raw_dir}: raw data folder does not exist (SMALLGROUPS_RAW_DIR)")
    if not raw_dir.is_dir():
        raise RawDataError(f"{raw_dir}: SMALLGROUPS_RAW_DIR must be a folder, not a file")
    known = {t.name for t in TABLES}
    for entry in sorted(raw_dir.iterdir()):
        stem = entry.name.split(".", 1)[0]
        if (
            entry.name.startswith(".")
            or stem in known
            and (entry.is_dir() or entry.suffix in (".parquet", ".csv"))
        ):
            continue
        logger.warning("%s: not a table of the raw-data contract; ignored", entry)
    return {t.name: _find(raw_dir, t) for t in TABLES}


def _check_columns(con: duckdb.DuckDBPyConnection, raw: RawTableFile) -> list[str]:
    try:
        described = con.execute(f"describe {raw.scan_sql()}").fetchall()
    except duckdb.Error as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise RawDataError(
            f"{raw.path}: cannot read table '{raw.table.name}': {first_line}"
        ) from exc
    present = [row[0] for row in described]
    missing = [c for c in raw.table.column_names if c not in present]
    if missing:
        raise RawDataError(
            f"{raw.path}: table '{raw.table.name}' lacks required column(s) "
            f"{', '.join(missing)} (has: {', '.join(c for c in present if c not in _LINEAGE)})"
        )
    return present


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _check_types(con: duckdb.DuckDBPyConnection, raw: RawTableFile) -> None:
    """Stop when a Parquet file lacks a required column or has one of an incompatible type.

    Each file of the table is checked on its own (a folder's scan unions the files by
    name, which would hide the one that changed: a missing column would read as nulls):
    every required column must be there, and every required column, and every
    optional one it has, must have a type of ``PARQUET_COMPATIBLE_TYPES`` for its
    contract type. Text is compatible with every contract type: like a CSV file's values,
    staging types it row by row and rejects a value that does not parse with its reason
    (one bad value must not stop the night). Extra columns are not checked.

    Raises
    ------
    RawDataError
        Naming, per problem, the file and the missing required column(s), or the file,
        the column, the type found and the type expected.
    """
    contract = {**dict(raw.table.columns), **dict(raw.table.optional_columns)}
    problems = []
    for file in raw.parquet_files(con):
        try:
            relation = con.sql(f"select * from read_parquet({_sql_str(file)})")
            types = dict(zip(relation.columns, relation.types, strict=True))
        except duckdb.Error as exc:
            first_line = str(exc).strip().splitlines()[0]
            raise RawDataError(
                f"{file}: cannot read table '{raw.table.name}': {first_line}"
            ) from exc
        # A folder's scan unions the files by name, so a daily file that lacks a required
        # column would read as nulls there (every row rejected, the file never named).
        lacking = [c for c in raw.table.column_names if c not in types]
        if lacking:
            problems.append(
                f"{file}: file of table '{raw.table.name}' lacks required column(s) "
                f"{', '.join(lacking)} (has: {', '.join(relation.columns)})"
            )
        for column, expected in contract.items():
            found = types.get(column)
            if found is None:
                continue  # a missing required column is reported above
            why = str(found) if found.id not in PARQUET_COMPATIBLE_TYPES[expected] else None
            if why is not None:
                problems.append(
                    f"{file}: column '{column}' of table '{raw.table.name}' has an "
                    f"incompatible type: found {why}, expected {TYPE_DESCRIPTIONS[expected]}"
                )
    if problems:
        more = len(problems) - _MAX_TYPE_PROBLEMS
        raise RawDataError(
            "\n".join(problems[:_MAX_TYPE_PROBLEMS])
            + (f"\n... and {more} more problem(s)" if more > 0 else "")
        )


def register_raw_tables(
    con: duckdb.DuckDBPyConnection, raw_dir: Path | str
) -> dict[str, dict[str, object]]:
    """Validate the raw folder and create one view ``raw.<table>`` per contract table.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A writable connection to the warehouse.
    raw_dir : Path or str
        The raw folder.

    Returns
    -------
    dict
        Per table: ``kind``, ``path``, ``row_count`` and ``columns`` (for metadata).

    Raises
    ------
    RawDataError
        On any violation of the contract, naming the file and the problem: a missing
        required column (for a folder of Parquet files, in any one file), a Parquet
        column of an incompatible type (file, column, type found and expected), an
        unreadable file. The columns and types of every table
        are checked before any view is created or replaced.
    """
    found = discover_raw_tables(raw_dir)
    # Every table is checked before anything in the warehouse changes.
    checked = {}
    for name, raw in found.items():
        checked[name] = _check_columns(con, raw)
        _check_types(con, raw)
    report: dict[str, dict[str, object]] = {}
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    malformed = f"{RAW_SCHEMA}.{MALFORMED_TABLE}"
    con.execute(f"create or replace table {malformed} ({_MALFORMED_COLUMNS})")
    for name, raw in found.items():
        columns = checked[name]
        con.execute(f"create or replace view {RAW_SCHEMA}.{name} as {raw.scan_sql()}")
        try:
            (row_count,) = con.execute(f"select count(*) from {RAW_SCHEMA}.{name}").fetchone()
        except duckdb.Error as exc:
            first_line = str(exc).strip().splitlines()[0]
            raise RawDataError(
                f"{raw.path}: cannot read table '{name}' (corrupt file?): {first_line}"
            ) from exc
        count_malformed = _capture_malformed_lines(con, raw)
        report[name] = {
            "kind": raw.kind,
            "path": str(raw.path) if raw.path else None,
            "row_count": int(row_count),
            "malformed_line_count": count_malformed,
            "columns": [c for c in columns if c not in _LINEAGE],
        }
    return report


def _capture_malformed_lines(con: duckdb.DuckDBPyConnection, raw: RawTableFile) -> int:
    """Copy the malformed records of a CSV into the persistent ``raw._malformed_lines``.

    The rejects tables of ``store_rejects`` are temporary and live only in this
    connection; dbt reads the persistent copy. Returns the number of records.
    """
    scan = raw.malformed_lines_sql()
    if scan is None:
        return 0
    # The rejects tables of an earlier scan would otherwise be read again.
    con.execute("drop table if exists temp.reject_errors")
    con.execute("drop table if exists temp.reject_scans")
    con.execute(scan).fetchall()
    (count,) = con.execute(
        f"""
        insert into {RAW_SCHEMA}.{MALFORMED_TABLE}
        select
            {_sql_str(raw.table.name)},
            {_sql_str(raw.relative_path)},
            line,
            any_value(csv_line),
            string_agg(distinct error_type, ', ' order by error_type),
            arg_min(error_message, column_idx),
        from reject_errors
        group by line
        order by line
        """
    ).fetchone()
    return int(count)
