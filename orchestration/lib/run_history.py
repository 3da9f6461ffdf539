"""Cheaper writes to Dagster's run history (the SQLite files under ``$DAGSTER_HOME``).

Dagster's default SQLite storage opens a new connection for every event it records and
closes it again: every commit fsyncs, and every close of the last connection to a file
checkpoints its write-ahead log (another fsync). A refresh records about 2,200 events
(a planned and an evaluated event per dbt test, ~500 of them, and the same per asset),
each touching two or three files, so on a shared disk the run history alone cost more
than the dbt nodes: creating the run (its "planned" events, before any step starts) took
48 s of a 224 s one-day refresh at 3,000 users x 30 days on the loaded machine, and
55 s against 10 s without the fsyncs measured back to back (load 6 to 7).

:func:`relaxed_run_history_sync` sets ``PRAGMA synchronous = OFF`` on the SQLite
connections this process opens to files under ``$DAGSTER_HOME``, for the duration of a
``smallgroups run``. SQLite keeps such a file intact when the process crashes or is
killed (the kill test kills runs with SIGKILL); only an operating-system crash or a power
cut before the data reaches the disk can lose or damage recent run history. The run
history is bookkeeping: no step reads it to decide what to compute (the warehouse and
its published snapshot, which hold the data and are fsynced when published, are DuckDB
files, untouched by this). The Dagster UI, the daemon and other processes keep
SQLite's default.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["relaxed_run_history_sync"]


def _is_under(path: str, folder: Path) -> bool:
    try:
        return Path(path).resolve().is_relative_to(folder)
    except (OSError, ValueError):
        return False


@contextmanager
def relaxed_run_history_sync(dagster_home: str | os.PathLike | None = None) -> Iterator[None]:
    """Within the block, SQLite connections opened through SQLAlchemy to files under
    ``dagster_home`` do not fsync (``PRAGMA synchronous = OFF``).

    Parameters
    ----------
    dagster_home : path, optional
        The Dagster home (default: ``$DAGSTER_HOME``). Without one, nothing changes.

    Yields
    ------
    None
        Connections opened after the block keep SQLite's default again.
    """
    home = dagster_home or os.environ.get("DAGSTER_HOME")
    if not home:
        yield
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    folder = Path(home).resolve()

    def _relax(dbapi_connection, _record) -> None:
        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        files = dbapi_connection.execute("pragma database_list").fetchall()
        if any(name == "main" and _is_under(file, folder) for _, name, file in files):
            dbapi_connection.execute("pragma synchronous = off")

    event.listen(Engine, "connect", _relax)
    try:
        yield
    finally:
        event.remove(Engine, "connect", _relax)
