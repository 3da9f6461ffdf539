"""An order-independent checksum of every table of a DuckDB file, to prove two builds agree.

Used by the idempotence test (an unchanged rerun publishes identical marts) and by
``bench/compare_builds.py`` (a refactoring left every table the same). Columns that only
record when a row was written (``_loaded_at``, ``enriched_at``, ...) and step timings are
left out; doubles are compared at 9 significant digits, so a different summation order of
the same numbers does not count as a change (a different ranking still does).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

__all__ = ["VOLATILE_COLUMNS", "table_checksums", "table_columns"]

#: Columns that record when or how fast a row was written, not what it says.
VOLATILE_COLUMNS = frozenset(
    {
        "_loaded_at",
        "enriched_at",
        "built_at",
        "terms_built_at",
        "computed_at",
        "seconds",
        "_dbt_run_at",
    }
)
_SKIPPED_SCHEMAS = ("raw", "information_schema", "pg_catalog")
_MODULUS = 2305843009213693951  # 2**61 - 1: row hashes are summed modulo this prime


def _column_expression(name: str, data_type: str, raw_dir: str | None) -> str:
    quoted = '"' + name.replace('"', '""') + '"'
    if data_type in ("DOUBLE", "FLOAT", "REAL"):
        # 9 significant digits: a sum taken in another order may differ in the last bits.
        return (
            f"case when {quoted} is null or isnan({quoted}) or isinf({quoted}) "
            f"then cast({quoted} as varchar) else format('{{:.9g}}', {quoted}) end"
        )
    text = f"cast({quoted} as varchar)"
    if raw_dir and data_type in ("VARCHAR", "JSON"):
        # Base models record each row's file (and rejects embed it in the raw record):
        # the same file read from another folder is the same row.
        literal = raw_dir.replace("'", "''")
        return f"replace({text}, '{literal}', '<raw>')"
    return text


def table_columns(path: Path | str) -> dict[str, list[tuple[str, str]]]:
    """``schema.table`` -> its (column, type) pairs in order, for every table and view."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "select table_schema, table_name, column_name, data_type "
            "from information_schema.columns "
            f"where table_schema not in {_SKIPPED_SCHEMAS} "
            "order by table_schema, table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    result: dict[str, list[tuple[str, str]]] = {}
    for schema, table, column, data_type in rows:
        result.setdefault(f"{schema}.{table}", []).append((column, data_type))
    return result


def table_checksums(
    path: Path | str,
    raw_dir: Path | str | None = None,
    columns: dict[str, list[tuple[str, str]]] | None = None,
) -> dict[str, tuple[int, int]]:
    """Row count and checksum of every table and view of a warehouse.

    Parameters
    ----------
    path : Path or str
        The DuckDB file (opened read-only).
    raw_dir : Path or str, optional
        The raw folder the build read: its path inside text values is replaced by a
        placeholder, so two builds of the same files from different folders agree.
    columns : dict, optional
        ``schema.table`` -> the (column, type) pairs to checksum (default: all of the
        table's), e.g. only the columns two builds share.

    Returns
    -------
    dict
        ``schema.table`` -> (row count, sum of the row hashes modulo 2**61 - 1). The
        checksum does not depend on row order; the volatile columns are left out.
    """
    raw = str(raw_dir) if raw_dir else None
    columns = columns if columns is not None else table_columns(path)
    con = duckdb.connect(str(path), read_only=True)
    try:
        result = {}
        for name, pairs in columns.items():
            kept = [(n, t) for n, t in pairs if n not in VOLATILE_COLUMNS]
            row = " || '\x1f' || ".join(
                f"coalesce({_column_expression(n, t, raw)}, '\x00')" for n, t in kept
            )
            schema, table = name.split(".", 1)
            count, checksum = con.execute(
                f"select count(*), coalesce(sum(hash({row or '1'}) % {_MODULUS}), 0) "
                f'from "{schema}"."{table}"'
            ).fetchall()[0]
            result[name] = (int(count), int(checksum) % _MODULUS)
        return result
    finally:
        con.close()
