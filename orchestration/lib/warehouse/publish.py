"""Publish the marts as one consistent, read-only snapshot that readers open instead of
the working warehouse.

DuckDB lets one process write a file, and a reader holding the file open blocks the next
writer ("Conflicting lock is held"). So the pipeline never shares its working warehouse:
at the end of a successful run it copies the marts (and the rejects) into a new file
beside the serving path, checkpoints it, fsyncs it, and renames it over the previous
snapshot in one ``os.replace``. A reader that holds the old snapshot open keeps reading
the old file (its inode stays alive until it closes); the next connection opens the new
one. Nobody ever sees a mix, and a run that fails before publishing leaves the previous
snapshot in place.

Each snapshot carries the table ``smallgroups_publication``: one row per published table
with the run id, the publication time and its row count, so a reader can tell which run
it reads and check what it reads against it.

The snapshot is written in DuckDB storage format ``v1.4.0`` (``SERVING_STORAGE_VERSION``)
so that BI drivers and DuckDB command-line tools of the 1.4 and 1.5 series open it as
well as DuckDB 2.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

__all__ = [
    "PUBLICATION_TABLE",
    "SERVING_STORAGE_VERSION",
    "Publication",
    "publish_snapshot",
    "read_publication",
    "remove_stale_temporaries",
    "serving_tables_from_manifest",
]

#: The bookkeeping table of every snapshot.
PUBLICATION_TABLE = "smallgroups_publication"
#: Storage format of the snapshot: readable by DuckDB >= 1.4 (BI drivers lag behind).
SERVING_STORAGE_VERSION = "v1.4.0"
#: Tables published beside the marts: the rejects, so data owners see what was refused.
EXTRA_TABLES = ("stg_product__rejected_rows",)
_TEMP_SUFFIX = ".publishing"


@dataclass(frozen=True)
class Publication:
    """What one publication wrote.

    Attributes
    ----------
    path : Path
        The serving file.
    run_id : str
        The run that published it.
    published_at : datetime
        UTC time of the rename.
    row_counts : dict
        Table name to row count, in publication order.
    seconds : float
        Time spent copying and renaming.
    size_bytes : int
        Size of the serving file.
    """

    path: Path
    run_id: str
    published_at: datetime
    row_counts: dict[str, int]
    seconds: float
    size_bytes: int


def serving_tables_from_manifest(manifest: dict) -> list[str]:
    """The relations a snapshot holds: every dbt model under ``models/marts`` (not
    ephemeral) plus :data:`EXTRA_TABLES`, sorted by name.

    Parameters
    ----------
    manifest : dict
        dbt's ``manifest.json``, loaded.

    Returns
    -------
    list of str
        Relation names in the working warehouse's ``main`` schema.
    """
    marts = {
        node["alias"] or node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and len(node["fqn"]) > 2
        and node["fqn"][1] == "marts"
        and node["config"].get("materialized") != "ephemeral"
    }
    return sorted(marts) + [t for t in EXTRA_TABLES if t not in marts]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temporaries(serving_path: Path) -> list[Path]:
    """Delete half-written snapshots that a killed run left beside ``serving_path``.

    Parameters
    ----------
    serving_path : Path
        The serving file.

    Returns
    -------
    list of Path
        The files removed.
    """
    folder = serving_path.parent
    if not folder.exists():
        return []
    stale = sorted(folder.glob(f".{serving_path.name}.*{_TEMP_SUFFIX}*"))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def publish_snapshot(
    working_path: Path,
    serving_path: Path,
    tables: Sequence[str],
    run_id: str,
    *,
    optional: Iterable[str] = (),
) -> Publication:
    """Copy ``tables`` of the working warehouse into a new serving file, atomically.

    Parameters
    ----------
    working_path : Path
        The pipeline's warehouse (opened read-only; the caller holds the run's lock).
    serving_path : Path
        The serving file to replace.
    tables : sequence of str
        Relations of the working warehouse's ``main`` schema to publish.
    run_id : str
        Recorded in ``smallgroups_publication``.
    optional : iterable of str
        Tables that may be absent (e.g. a mart a data set without contents never builds);
        any other absent table stops the publication.

    Returns
    -------
    Publication

    Raises
    ------
    FileNotFoundError
        The working warehouse does not exist.
    ValueError
        A required table is missing from the working warehouse; nothing is published.
    """
    started = time.perf_counter()
    working_path, serving_path = Path(working_path), Path(serving_path)
    if not working_path.exists():
        raise FileNotFoundError(f"{working_path}: the working warehouse does not exist")
    if working_path.resolve() == serving_path.resolve():
        raise ValueError(
            f"SMALLGROUPS_SERVING_PATH ({serving_path}) must differ from the working "
            "warehouse SMALLGROUPS_DUCKDB_PATH"
        )
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(serving_path)
    temporary = serving_path.with_name(f".{serving_path.name}.{os.getpid()}{_TEMP_SUFFIX}")
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"attach {_sql_str(str(working_path))} as working (read_only)")
        present = {
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables "
                "where table_catalog = 'working' and table_schema = 'main'"
            ).fetchall()
        }
        optional = set(optional)
        missing = [t for t in tables if t not in present and t not in optional]
        if missing:
            raise ValueError(
                f"{working_path}: cannot publish, missing table(s) {', '.join(missing)}"
            )
        con.execute(
            f"attach {_sql_str(str(temporary))} as serving "
            f"(storage_version '{SERVING_STORAGE_VERSION}')"
        )
        row_counts: dict[str, int] = {}
        for table in tables:
            if table not in present:
                continue
            con.execute(
                f"create table serving.main.{_quote(table)} as "
                f"select * from working.main.{_quote(table)}"
            )
            (count,) = con.execute(f"select count(*) from serving.main.{_quote(table)}").fetchone()
            row_counts[table] = int(count)
        published_at = datetime.now(UTC).replace(microsecond=0)
        con.execute(
            f"create table serving.main.{PUBLICATION_TABLE} ("
            "run_id varchar not null, published_at timestamptz not null, "
            "table_name varchar not null, row_count bigint not null)"
        )
        con.executemany(
            f"insert into serving.main.{PUBLICATION_TABLE} values (?, ?, ?, ?)",
            [(run_id, published_at, name, count) for name, count in row_counts.items()],
        )
        con.execute("checkpoint serving")
        con.execute("detach serving")
    except BaseException:
        con.close()
        temporary.unlink(missing_ok=True)
        Path(f"{temporary}.wal").unlink(missing_ok=True)
        raise
    con.close()
    _fsync(temporary)
    os.replace(temporary, serving_path)
    _fsync(serving_path.parent)
    return Publication(
        path=serving_path,
        run_id=run_id,
        published_at=published_at,
        row_counts=row_counts,
        seconds=time.perf_counter() - started,
        size_bytes=serving_path.stat().st_size,
    )


def read_publication(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """The run id, publication time and row counts of the snapshot ``con`` reads.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection to a serving file.

    Returns
    -------
    dict
        ``run_id``, ``published_at`` and ``row_counts`` (table to count).
    """
    rows = con.execute(
        f"select run_id, published_at, table_name, row_count from {PUBLICATION_TABLE} "
        "order by table_name"
    ).fetchall()
    if not rows:
        raise ValueError("the snapshot records no published table")
    return {
        "run_id": rows[0][0],
        "published_at": rows[0][1],
        "row_counts": {name: int(count) for _, _, name, count in rows},
    }
