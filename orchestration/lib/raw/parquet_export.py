"""Write the raw layer as Parquet that any engine reads: the form the Spark target uses.

DuckDB reads the raw folder in place (:mod:`orchestration.lib.raw.loader` creates the
``raw.<table>`` views). Another engine cannot call DuckDB's readers, so this step runs the
same loader (same contract checks, same lineage columns ``_source_file`` and
``_source_row_number``, same captured malformed CSV lines) on an in-memory DuckDB and
writes each ``raw.<table>`` view, and ``raw._malformed_lines``, to
``<out_dir>/<table>/part-0.parquet``. One folder per table, because Spark (and Hive,
Trino, Athena) make an external table of a folder: the spark target's on-run-start hook
(``macros/spark_raw.sql``) registers ``raw.<table>`` over each folder. The rows, their
order within a file and their lineage are the ones DuckDB's staging reads, so both
engines stage the same rows.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from orchestration.lib.raw.contract import TABLES
from orchestration.lib.raw.loader import MALFORMED_TABLE, RAW_SCHEMA, register_raw_tables

__all__ = ["RAW_PARQUET_TABLES", "export_raw_parquet"]

#: The tables written: the contract's, then the captured malformed CSV lines.
RAW_PARQUET_TABLES: tuple[str, ...] = (*(t.name for t in TABLES), MALFORMED_TABLE)


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def export_raw_parquet(raw_dir: Path | str, out_dir: Path | str) -> dict[str, int]:
    """Check the raw folder against the contract and write every raw table as Parquet.

    Parameters
    ----------
    raw_dir : Path or str
        The raw folder (SMALLGROUPS_RAW_DIR).
    out_dir : Path or str
        Where ``<table>/part-0.parquet`` is written; a table's folder is replaced whole,
        so a table that shrank keeps no stale file.

    Returns
    -------
    dict
        Rows written per table (every table of :data:`RAW_PARQUET_TABLES`, absent
        optional tables with 0 rows and the contract's columns).

    Raises
    ------
    orchestration.lib.raw.loader.RawDataError
        The raw folder breaks the contract (nothing is written then).
    """
    out_dir = Path(out_dir)
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        register_raw_tables(con, raw_dir)
        counts: dict[str, int] = {}
        for name in RAW_PARQUET_TABLES:
            folder = out_dir / name
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            target = _sql_str(str(folder / "part-0.parquet"))
            # The file order of the scan (_source_file, _source_row_number) is kept.
            con.execute(f'copy (select * from {RAW_SCHEMA}."{name}") to {target} (format parquet)')
            (counts[name],) = con.execute(f"select count(*) from read_parquet({target})").fetchone()
        return counts
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m orchestration.lib.raw.parquet_export RAW_DIR OUT_DIR``: print the counts."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw_dir", type=Path)
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    for name, count in export_raw_parquet(args.raw_dir, args.out_dir).items():
        print(f"{name}\t{count}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
