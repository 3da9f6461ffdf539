"""The parts every importer shares: the import summary, the Arrow schemas and the writers.

:class:`ImportSummary` accounts for every source record (``read = used + skipped`` per
file) and writes ``_import_report.json``; :data:`SCHEMAS` are the Arrow schemas of the
raw tables, derived from :mod:`orchestration.lib.raw.contract` so that the importers
cannot drift from the contract; :func:`write_table` and :func:`write_events_by_day`
write Parquet in that schema (events one file per UTC day, streaming). The importers
(:mod:`.stackexchange`, :mod:`.collegemsg`) import from here, and this module imports
none of them, so there is no import cycle inside the package.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.lib.raw.contract import TABLES

__all__ = [
    "DAY_US",
    "REPORT_FILE",
    "SCHEMAS",
    "TS_TYPE",
    "ImportSummary",
    "clear_outputs",
    "format_us",
    "write_events_by_day",
    "write_table",
]

#: Timestamp type of every ``*_at`` column written.
TS_TYPE = pa.timestamp("us", tz="UTC")
#: Microseconds in a day.
DAY_US = 86_400_000_000
#: Name of the accounting report written next to the tables.
REPORT_FILE = "_import_report.json"

_ARROW_TYPES = {"varchar": pa.string(), "timestamptz": TS_TYPE, "double": pa.float64()}
#: Arrow schema of every contract table, in the contract's column order.
SCHEMAS: dict[str, pa.Schema] = {
    table.name: pa.schema([(name, _ARROW_TYPES[typ]) for name, typ in table.columns])
    for table in TABLES
}
#: Tables the importers write; :func:`clear_outputs` removes earlier copies of them.
_WRITTEN_TABLES = ("users", "groups", "group_memberships", "contents", "events")
_PARQUET = {"compression": "zstd"}


@dataclass
class ImportSummary:
    """What an import read, wrote and skipped.

    Attributes
    ----------
    source : str
        Kind of source: ``"stackexchange"`` or ``"collegemsg"``.
    input_path : Path
        The dump folder or source file.
    out_dir : Path
        The raw folder written.
    site : str or None
        Stack Exchange site name (None for other sources).
    rows_read : dict of str to int
        Records read per source file (XML ``<row>`` elements, text lines).
    rows_used : dict of str to int
        Per source file, the records that produced at least one output row.
    rows_skipped : dict of str to dict of str to int
        Per source file, records that produced no output, counted per reason.
    rows_written : dict of str to int
        Rows written per raw table.
    derived : dict of str to int
        Output rows not tied to one source record of their own (e.g. accepted-answer
        reactions taken from ``Posts.AcceptedAnswerId``), per kind.
    files_ignored : list of str
        Source files present but not imported (e.g. ``Badges.xml``).
    file_errors : dict of str to str
        Source files that could not be read to the end, with the parser's message; the
        rows before the error are imported and counted.
    first_event_at, last_event_at : str or None
        ISO time of the earliest and latest event written.
    event_files : int
        Number of files written under ``events/``.
    seconds : float
        Wall-clock time.
    """

    source: str
    input_path: Path
    out_dir: Path
    site: str | None = None
    rows_read: dict[str, int] = field(default_factory=dict)
    rows_used: dict[str, int] = field(default_factory=dict)
    rows_skipped: dict[str, dict[str, int]] = field(default_factory=dict)
    rows_written: dict[str, int] = field(default_factory=dict)
    derived: dict[str, int] = field(default_factory=dict)
    files_ignored: list[str] = field(default_factory=list)
    file_errors: dict[str, str] = field(default_factory=dict)
    first_event_at: str | None = None
    last_event_at: str | None = None
    event_files: int = 0
    seconds: float = 0.0

    def unaccounted(self) -> dict[str, int]:
        """Per source file, ``read - used - skipped`` where it is not zero (should be empty)."""
        gaps = {
            name: read - self.rows_used.get(name, 0) - sum(self.rows_skipped.get(name, {}).values())
            for name, read in self.rows_read.items()
        }
        return {name: gap for name, gap in gaps.items() if gap}

    def to_dict(self) -> dict:
        """The summary as JSON-ready data (the content of ``_import_report.json``).

        The output folder is left out so that two imports of the same source into two
        folders give identical reports but for ``seconds``.
        """
        files = {
            name: {
                "read": read,
                "used": self.rows_used.get(name, 0),
                "skipped": dict(sorted(self.rows_skipped.get(name, {}).items())),
            }
            for name, read in self.rows_read.items()
        }
        return {
            "source": self.source,
            "input": str(self.input_path),
            "site": self.site,
            "files": files,
            "files_ignored": list(self.files_ignored),
            "file_errors": dict(self.file_errors),
            "tables": dict(self.rows_written),
            "derived": dict(self.derived),
            "event_files": self.event_files,
            "first_event_at": self.first_event_at,
            "last_event_at": self.last_event_at,
            "unaccounted": self.unaccounted(),
            "seconds": round(self.seconds, 3),
        }

    def format(self) -> str:
        """Human-readable multi-line report."""
        title = f"{self.source} import" + (f" of site {self.site}" if self.site else "")
        lines = [f"{title}: {self.input_path} -> {self.out_dir}", "source rows:"]
        for name, read in self.rows_read.items():
            skipped = self.rows_skipped.get(name, {})
            lines.append(
                f"  {name:<22}read {read:>10,}  used {self.rows_used.get(name, 0):>10,}"
                f"  skipped {sum(skipped.values()):>10,}"
            )
            lines += [
                f"      {reason:<28}{count:>10,}" for reason, count in sorted(skipped.items())
            ]
        lines.append("rows written per table:")
        lines += [f"  {name:<22}{count:>12,}" for name, count in self.rows_written.items()]
        lines += [f"  (derived) {name:<32}{count:>8,}" for name, count in self.derived.items()]
        if self.first_event_at:
            lines.append(
                f"events from {self.first_event_at} to {self.last_event_at} "
                f"in {self.event_files:,} file(s)"
            )
        if self.files_ignored:
            lines.append(f"not imported: {', '.join(self.files_ignored)}")
        for name, message in self.file_errors.items():
            lines.append(f"ERROR reading {name} (rows before the error kept): {message}")
        gaps = self.unaccounted()
        if gaps:
            lines.append(f"ERROR rows not accounted for: {gaps}")
        lines.append(f"took {self.seconds:.1f} s")
        return "\n".join(lines)

    def write_report(self) -> Path:
        """Write :meth:`to_dict` to ``out_dir/_import_report.json``; return its path."""
        path = Path(self.out_dir) / REPORT_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path


def format_us(us: int | None) -> str | None:
    """Microseconds since the epoch as an ISO-8601 UTC string (None stays None)."""
    if us is None:
        return None
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC).isoformat()


def clear_outputs(out_dir: Path) -> None:
    """Create ``out_dir`` and remove earlier copies of the tables an importer writes.

    Every form the loader accepts is removed (``events/``, ``users.parquet``,
    ``users.csv``, ...) so that no stale file takes precedence over the new one; other
    files (e.g. ``experiments.parquet``) are left alone.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in _WRITTEN_TABLES:
        shutil.rmtree(out_dir / name, ignore_errors=True)
        for suffix in (".parquet", ".csv"):
            (out_dir / f"{name}{suffix}").unlink(missing_ok=True)
    (out_dir / REPORT_FILE).unlink(missing_ok=True)


def _conform(batch: pa.RecordBatch | pa.Table, schema: pa.Schema) -> pa.Table:
    """Select and cast the columns of ``schema``; int64 microseconds become timestamps,
    columns absent from ``batch`` become nulls."""
    n = batch.num_rows
    names = set(batch.schema.names)
    columns = []
    for target in schema:
        if target.name not in names:
            columns.append(pa.nulls(n, target.type))
            continue
        column = batch.column(target.name)
        if column.type != target.type:
            if pa.types.is_null(column.type):
                column = pa.nulls(n, target.type)
            else:
                column = column.cast(target.type)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)


def write_table(batches: Iterable[pa.RecordBatch], path: Path, table: str) -> int:
    """Write record batches as one Parquet file with the contract schema of ``table``.

    Parameters
    ----------
    batches : iterable of pyarrow.RecordBatch
        Rows in the wanted order; ``*_at`` columns may be int64 microseconds (UTC).
    path : Path
        File to write (an empty table still gets a file).
    table : str
        Contract table name, for the schema.

    Returns
    -------
    int
        Rows written.
    """
    schema = SCHEMAS[table]
    rows = 0
    with pq.ParquetWriter(path, schema, **_PARQUET) as writer:
        for batch in batches:
            if batch.num_rows:
                writer.write_table(_conform(batch, schema))
                rows += batch.num_rows
    return rows


def _day_slices(batch: pa.RecordBatch) -> Iterator[tuple[int, pa.RecordBatch]]:
    """Split a batch ordered by ``occurred_at`` (int64 microseconds) into runs of one day."""
    us = batch.column("occurred_at").to_numpy(zero_copy_only=False).astype(np.int64)
    days = np.floor_divide(us, DAY_US)
    if days.size > 1 and np.any(np.diff(days) < 0):
        raise ValueError("events must be ordered by occurred_at")
    cuts = np.flatnonzero(np.diff(days)) + 1
    starts = np.concatenate(([0], cuts))
    ends = np.concatenate((cuts, [days.size]))
    for start, end in zip(starts, ends, strict=True):
        yield int(days[start]), batch.slice(int(start), int(end - start))


def write_events_by_day(
    batches: Iterable[pa.RecordBatch], out_dir: Path
) -> tuple[int, int, int | None, int | None]:
    """Write events, ordered by time, as ``events/<YYYY-MM-DD>.parquet``, one file per day.

    Only one file is open at a time, so memory stays flat whatever the number of events.
    Without any event, an empty ``events.parquet`` is written instead (the loader needs
    the table and refuses an empty ``events/`` folder).

    Parameters
    ----------
    batches : iterable of pyarrow.RecordBatch
        Events ordered by ``occurred_at`` (non-null int64 microseconds, UTC), with the
        contract's column names.
    out_dir : Path
        The raw folder.

    Returns
    -------
    tuple
        ``(rows, files, first_us, last_us)``.

    Raises
    ------
    ValueError
        The batches are not ordered by ``occurred_at``.
    """
    schema = SCHEMAS["events"]
    events_dir = out_dir / "events"
    rows = files = 0
    first_us = last_us = None
    current_day: int | None = None
    writer: pq.ParquetWriter | None = None
    try:
        for batch in batches:
            if not batch.num_rows:
                continue
            for day, part in _day_slices(batch):
                if current_day is not None and day < current_day:
                    raise ValueError("events must be ordered by occurred_at")
                if day != current_day:
                    if writer is not None:
                        writer.close()
                    events_dir.mkdir(parents=True, exist_ok=True)
                    name = datetime.fromtimestamp(day * 86_400, tz=UTC).strftime("%Y-%m-%d")
                    writer = pq.ParquetWriter(events_dir / f"{name}.parquet", schema, **_PARQUET)
                    current_day = day
                    files += 1
                writer.write_table(_conform(part, schema))
                rows += part.num_rows
                times = part.column("occurred_at")
                if first_us is None:
                    first_us = times[0].as_py()
                last_us = times[part.num_rows - 1].as_py()
    finally:
        if writer is not None:
            writer.close()
    if not rows:
        pq.write_table(schema.empty_table(), out_dir / "events.parquet", **_PARQUET)
    return rows, files, first_us, last_us
