"""One refresh at a time: an advisory lock beside the working warehouse.

Two refreshes writing one warehouse would interleave their dbt and Python steps (DuckDB
only stops them at the moment both open the file, which can be half-way through a run).
Every refresh therefore takes ``<warehouse>.lock`` (``flock``, exclusive) for its whole
duration; a second refresh waits up to ``wait_seconds`` and then stops with a message
naming the holder (its pid, run id and start time, written in the lock file). The kernel
releases the lock when its process ends, so a refresh killed with ``kill -9`` never
leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["WarehouseBusyError", "lock_holder", "lock_path", "warehouse_lock"]


class WarehouseBusyError(RuntimeError):
    """Another refresh holds the warehouse; the message names it."""


def lock_path(warehouse_path: Path) -> Path:
    """The lock file of a warehouse: ``<warehouse>.lock`` beside it."""
    warehouse_path = Path(warehouse_path)
    return warehouse_path.with_name(warehouse_path.name + ".lock")


def _holder(handle) -> str:
    handle.seek(0)
    text = handle.read().strip()
    try:
        info = json.loads(text)
    except ValueError:
        return "another process"
    return f"pid {info.get('pid')} (run {info.get('run_id')}, since {info.get('since')})"


@contextmanager
def warehouse_lock(
    warehouse_path: Path,
    *,
    run_id: str,
    wait_seconds: float = 0.0,
    poll_seconds: float = 1.0,
    on_wait=None,
) -> Iterator[Path]:
    """Hold the warehouse's refresh lock for the duration of the ``with`` block.

    Parameters
    ----------
    warehouse_path : Path
        The working warehouse.
    run_id : str
        Written into the lock file, so a waiting refresh can name the holder.
    wait_seconds : float
        How long to wait for a running refresh to finish before giving up.
    poll_seconds : float
        How often to retry while waiting.
    on_wait : callable, optional
        Called once with the holder's description when the lock is busy.

    Yields
    ------
    Path
        The lock file.

    Raises
    ------
    WarehouseBusyError
        The lock is still held after ``wait_seconds``.
    """
    path = lock_path(warehouse_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held across the yield
    try:
        deadline = time.monotonic() + max(wait_seconds, 0.0)
        told = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(handle)
                if time.monotonic() >= deadline:
                    raise WarehouseBusyError(
                        f"{warehouse_path}: another refresh is running ({holder}); this one "
                        f"waited {wait_seconds:.0f} s and stops without touching the warehouse "
                        "(SMALLGROUPS_LOCK_WAIT_SECONDS sets how long to wait)"
                    ) from None
                if on_wait is not None and not told:
                    on_wait(holder)
                    told = True
                time.sleep(poll_seconds)
        handle.seek(0)
        handle.truncate()
        handle.write(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "run_id": run_id,
                    "since": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            )
        )
        handle.flush()
        try:
            yield path
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()


def lock_holder(warehouse_path: Path) -> str | None:
    """Who holds the warehouse's refresh lock right now, without waiting for it.

    Parameters
    ----------
    warehouse_path : Path
        The working warehouse.

    Returns
    -------
    str or None
        The holder (pid, run id, start time) while a refresh runs; None when none does
        (no lock file, an empty one, or a lock nobody holds: a refresh killed with
        ``kill -9`` leaves its line behind but not the lock).

    Notes
    -----
    A lock file naming a holder is confirmed by taking the lock for an instant; a
    refresh starting in that instant sees it busy and retries a second later (it waits
    up to ``SMALLGROUPS_LOCK_WAIT_SECONDS``; with 0 it would stop).
    """
    path = lock_path(warehouse_path)
    try:
        handle = open(path, encoding="utf-8")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return None
    try:
        if not handle.read().strip():
            return None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder(handle)
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return None
    finally:
        handle.close()
