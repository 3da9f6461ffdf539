"""One refresh at a time: an advisory lock beside the working warehouse.

Two refreshes writing one warehouse would interleave their dbt and Python steps (DuckDB
only stops them at the moment both open the file, which can be half-way through a run).
Every refresh therefore takes ``<warehouse>.lock`` (``flock``, exclusive) for its whole
duration; a second refresh waits up to ``wait_seconds`` and then stops with a message
naming the holder (its pid, run id, host and start time, written in the lock file). The
kernel releases the lock when its process ends, so a refresh killed with ``kill -9`` never
leaves a stale lock behind.

A holder that ends normally empties the lock file; one killed with ``kill -9`` leaves its
line behind. The next refresh reads that line when it takes the lock and, when the
holder's process is gone (:func:`holder_is_dead`), hands it to ``on_dead_holder``: the
Dagster resource uses it to mark the killed run as failed, which nothing else would.
Until a next refresh comes, :func:`dead_lock_holder` tells the same without taking the
lock for longer than an instant (the ``new_raw_files`` sensor asks at every tick).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "WarehouseBusyError",
    "dead_lock_holder",
    "holder_is_dead",
    "lock_holder",
    "lock_path",
    "warehouse_lock",
]

logger = logging.getLogger(__name__)


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


def _recorded_holder(handle) -> dict | None:
    """The holder line left in the lock file (a JSON object), or None when it is empty or
    not one (a lock file of another tool, a line cut short)."""
    handle.seek(0)
    text = handle.read().strip()
    if not text:
        return None
    try:
        info = json.loads(text)
    except ValueError:
        return None
    return info if isinstance(info, dict) else None


def _process_state(pid: int) -> tuple[str, float] | None:
    """The state letter (``R``, ``S``, ``Z``...) of process ``pid`` and when it started
    (seconds since the epoch), from ``/proc``; None when it cannot be told (no such
    process, no ``/proc``)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
        # Fields 3 (state) and 22 (starttime, clock ticks since boot); the command
        # (field 2) may hold spaces, so count from its closing parenthesis.
        fields = stat.rsplit(")", 1)[1].split()
        return fields[0], boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, StopIteration, ValueError, IndexError):
        return None


def holder_is_dead(holder: dict) -> bool:
    """Whether the process that wrote a lock-file line is gone.

    Parameters
    ----------
    holder : dict
        The line a holder wrote: ``pid``, ``run_id``, ``since`` (ISO time) and ``host``
        (absent in lines written before it was recorded).

    Returns
    -------
    bool
        True when the line names a pid on this host that no longer exists, is a zombie,
        or now belongs to a process started after the holder took the lock (the pid was
        reused). False when it names another host (its pids cannot be checked from
        here), has no usable pid, or the process still runs.
    """
    host = holder.get("host")
    if host is not None and host != socket.gethostname():
        return False
    pid = holder.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, another user's
    state = _process_state(pid)
    if state is None:
        return False
    letter, started = state
    if letter in ("Z", "X"):  # a zombie: ended, not yet reaped by its parent
        return True
    try:
        since = datetime.fromisoformat(str(holder.get("since"))).timestamp()
    except ValueError:
        return False
    # "since" has whole seconds; a process started more than a second after it is not
    # the one that wrote it.
    return started > since + 1.0


@contextmanager
def warehouse_lock(
    warehouse_path: Path,
    *,
    run_id: str,
    wait_seconds: float = 0.0,
    poll_seconds: float = 1.0,
    on_wait=None,
    on_dead_holder: Callable[[dict], None] | None = None,
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
    on_dead_holder : callable, optional
        Called, once the lock is taken and before the ``with`` block runs, with the line
        (``pid``, ``run_id``, ``since``, ``host``) a previous holder left in the lock file
        when that holder's process is dead (:func:`holder_is_dead`): it was killed before
        it could release the lock. An exception it raises is logged, not raised: the
        refresh goes on.

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
        previous = _recorded_holder(handle)
        handle.seek(0)
        handle.truncate()
        handle.write(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "run_id": run_id,
                    "since": datetime.now(UTC).isoformat(timespec="seconds"),
                    "host": socket.gethostname(),
                }
            )
        )
        handle.flush()
        if previous is not None and holder_is_dead(previous):
            logger.warning(
                "%s: the previous refresh (pid %s, run %s, since %s) died holding the lock",
                warehouse_path,
                previous.get("pid"),
                previous.get("run_id"),
                previous.get("since"),
            )
            if on_dead_holder is not None:
                try:
                    on_dead_holder(previous)
                except Exception:  # noqa: BLE001 - bookkeeping must not stop the refresh
                    logger.exception("%s: on_dead_holder failed; carrying on", warehouse_path)
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


def dead_lock_holder(warehouse_path: Path) -> dict | None:
    """The line a refresh killed while holding the lock left behind, when nobody holds it.

    Parameters
    ----------
    warehouse_path : Path
        The working warehouse.

    Returns
    -------
    dict or None
        The line (``pid``, ``run_id``, ``since``, ``host``) when the lock file names a
        holder, the lock is free and that holder's process is dead
        (:func:`holder_is_dead`); None otherwise (no lock file, an empty one, a lock held
        right now, a holder still alive or on another host). The file is left as it is:
        the next refresh that takes the lock reports the same holder, and reporting its
        run failed twice does nothing the second time.

    Notes
    -----
    The lock is taken for an instant to tell a held lock from a stale line, as
    :func:`lock_holder` does.
    """
    path = lock_path(warehouse_path)
    try:
        handle = open(path, encoding="utf-8")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return None
    try:
        holder = _recorded_holder(handle)
        if holder is None:
            return None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        try:
            # Read again under the lock: a refresh may have ended (emptying the file) or
            # started and ended between the first read and the lock.
            holder = _recorded_holder(handle)
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return holder if holder is not None and holder_is_dead(holder) else None
    finally:
        handle.close()
