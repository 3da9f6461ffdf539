"""Import the SNAP CollegeMsg message log (``src dst unix_ts`` per line) as a raw folder.

CollegeMsg (Panzarasa et al. 2009) records the private messages of an online student
community: one line per message, sender id, recipient id and Unix time in seconds,
separated by whitespace. The file is read line by line into a scratch DuckDB database
and written back ordered by time, so its size is not bounded by memory.

Mapping: every message becomes a ``mention`` event (``event_id`` = ``em<line number>``,
``user_id`` = ``u<src>``, ``target_user_id`` = ``u<dst>``, ``occurred_at`` = the Unix
time in UTC, no group, content or properties), written one file per UTC day; every id
seen in an imported message becomes a user ``u<id>`` whose ``signed_up_at`` is their
first imported message (sent or received), with ``country`` and ``locale`` null and
``acquisition_channel`` ``collegemsg``. No groups, memberships or contents exist.

Lines that are not imported are counted per reason in the summary and
``_import_report.json``: ``blank_line``, ``comment_line`` (starting with ``#`` or
``%``), ``wrong_field_count``, ``invalid_user_id`` (not a non-negative integer),
``invalid_timestamp`` (not an integer) and ``self_message`` (sender = recipient).
Repeated identical lines are real repeated messages and are all kept.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.lib.importers._common import (
    ImportSummary,
    clear_outputs,
    format_us,
    write_events_by_day,
    write_table,
)

__all__ = ["import_collegemsg"]

_BATCH_ROWS = 100_000
_READ_BATCH = 100_000
_ID_RE = re.compile(r"[0-9]{1,18}")
_TS_RE = re.compile(r"-?[0-9]{1,12}")
_SCHEMA = pa.schema(
    [("line", pa.int64()), ("src", pa.int64()), ("dst", pa.int64()), ("ts", pa.int64())]
)

_USERS_SQL = """
select 'u' || cast(id as varchar) as user_id, min(ts) as signed_up_at,
    null::varchar as country, null::varchar as locale,
    'collegemsg' as acquisition_channel
from (select src as id, ts from messages union all select dst, ts from messages)
group by id
order by id
"""
_EVENTS_SQL = """
select 'em' || cast(line as varchar) as event_id, 'u' || cast(src as varchar) as user_id,
    'mention' as event_type, ts as occurred_at,
    'u' || cast(dst as varchar) as target_user_id
from messages
order by ts, line
"""


def _classify(line: str) -> tuple[str | None, tuple[int, int, int] | None]:
    """``(reason, None)`` for a line that is skipped, ``(None, (src, dst, us))`` otherwise."""
    text = line.strip()
    if not text:
        return "blank_line", None
    if text[0] in "#%":
        return "comment_line", None
    fields = text.split()
    if len(fields) != 3:
        return "wrong_field_count", None
    src, dst, ts = fields
    if not (_ID_RE.fullmatch(src) and _ID_RE.fullmatch(dst)):
        return "invalid_user_id", None
    if not _TS_RE.fullmatch(ts):
        return "invalid_timestamp", None
    if int(src) == int(dst):
        return "self_message", None
    return None, (int(src), int(dst), int(ts) * 1_000_000)


def _insert(con: duckdb.DuckDBPyConnection, rows: list[tuple[int, int, int, int]]) -> None:
    if not rows:
        return
    columns = list(zip(*rows, strict=True))
    batch = pa.Table.from_arrays([pa.array(c, pa.int64()) for c in columns], schema=_SCHEMA)
    con.register("_batch", batch)
    con.execute("insert into messages select * from _batch")
    con.unregister("_batch")


def import_collegemsg(
    path: str | Path, out_dir: str | Path, *, memory_limit: str = "3GB"
) -> ImportSummary:
    """Convert a CollegeMsg-style ``src dst unix_ts`` file into a raw folder of the contract.

    See the module docstring for the mapping and the skip reasons. Earlier copies of the
    tables written (and of ``_import_report.json``) in ``out_dir`` are replaced.

    Parameters
    ----------
    path : str or Path
        The text file (UTF-8), e.g. ``CollegeMsg.txt``.
    out_dir : str or Path
        Raw folder to write.
    memory_limit : str
        DuckDB memory limit of the scratch database (it spills to disk beyond it).

    Returns
    -------
    ImportSummary
        Also written to ``out_dir/_import_report.json``.

    Raises
    ------
    FileNotFoundError
        ``path`` is not a file.
    """
    started = time.perf_counter()
    path, out_dir = Path(path), Path(out_dir)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not a file")
    summary = ImportSummary("collegemsg", path, out_dir)
    name = path.name
    skipped: dict[str, int] = {}
    clear_outputs(out_dir)
    with tempfile.TemporaryDirectory(prefix="smallgroups-collegemsg-") as scratch:
        con = duckdb.connect(str(Path(scratch) / "scratch.duckdb"))
        try:
            con.execute(f"set temp_directory = '{Path(scratch) / 'spill'}'")
            con.execute(f"set memory_limit = '{memory_limit.replace(chr(39), '')}'")
            con.execute("create table messages (line bigint, src bigint, dst bigint, ts bigint)")
            rows: list[tuple[int, int, int, int]] = []
            read = 0
            with path.open(encoding="utf-8", errors="replace") as lines:
                for read, line in enumerate(lines, start=1):
                    reason, message = _classify(line)
                    if reason is not None:
                        skipped[reason] = skipped.get(reason, 0) + 1
                        continue
                    rows.append((read, *message))
                    if len(rows) >= _BATCH_ROWS:
                        _insert(con, rows)
                        rows = []
            _insert(con, rows)
            summary.rows_read[name] = read
            summary.rows_skipped[name] = skipped
            ((used,),) = con.execute("select count(*) from messages").fetchall()
            summary.rows_used[name] = int(used)
            summary.rows_written["users"] = write_table(
                con.sql(_USERS_SQL).to_arrow_reader(_READ_BATCH),
                out_dir / "users.parquet",
                "users",
            )
            events, files, first_us, last_us = write_events_by_day(
                con.sql(_EVENTS_SQL).to_arrow_reader(_READ_BATCH), out_dir
            )
        finally:
            con.close()
    summary.rows_written["events"] = events
    summary.event_files = files
    summary.first_event_at, summary.last_event_at = format_us(first_us), format_us(last_us)
    summary.seconds = time.perf_counter() - started
    summary.write_report()
    return summary
