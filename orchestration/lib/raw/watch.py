"""What the raw folder holds now, and whether it changed since the last refresh asked for.

The ``new_raw_files`` sensor (`orchestration.defs.raw.sensors`) keeps the
:meth:`RawFilesState.cursor` of the folder at the last run it requested and asks for a
new ``refresh_all`` run when :func:`decide_refresh` finds the folder different. The
state is the sorted list of the contract's files (``<table>.csv``, ``<table>.parquet``
and the ``*.parquet`` under a folder ``<table>/``) with their size and modification
time: a new daily file, a rewritten file or a removed one changes it; reading a file
does not. Hidden files and folders (``.events_2026-01-05.parquet.tmp``, the way to land
a file atomically: write hidden, then rename) are not part of it, nor is anything that
is not a table of the contract (the loader ignores those too).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from orchestration.lib.raw.contract import TABLES
from orchestration.lib.raw.loader import RawDataError

__all__ = ["RawFilesState", "RefreshDecision", "decide_refresh", "raw_files_state"]

#: A file modified this recently may still be being written: wait one more tick.
DEFAULT_SETTLE_SECONDS = 60


@dataclass(frozen=True)
class RawFilesState:
    """The contract files of a raw folder.

    Attributes
    ----------
    raw_dir : Path
        The folder.
    files : tuple of (str, int, int)
        ``(path relative to raw_dir, size in bytes, mtime in ns)``, sorted by path.
    """

    raw_dir: Path
    files: tuple[tuple[str, int, int], ...]

    @property
    def digest(self) -> str:
        """SHA-256 (hex) of the sorted (path, size, mtime_ns) list: equal iff same state."""
        payload = json.dumps(self.files, separators=(",", ":")).encode("utf-8")
        return hashlib.sha256(payload).hexdigest()

    @property
    def newest(self) -> tuple[str, int] | None:
        """``(relative path, mtime_ns)`` of the most recently modified file, or None."""
        if not self.files:
            return None
        path, _, mtime_ns = max(self.files, key=lambda f: (f[2], f[0]))
        return path, mtime_ns

    @property
    def run_key(self) -> str:
        """The run key of a refresh for this state: Dagster never starts two per key."""
        return f"raw-files-{self.digest[:32]}"

    def cursor(self) -> str:
        """The sensor's cursor: digest, file count and newest file (JSON, ~200 bytes)."""
        newest = self.newest
        return json.dumps(
            {
                "digest": self.digest,
                "file_count": len(self.files),
                "newest_path": newest[0] if newest else None,
                "newest_mtime_ns": newest[1] if newest else None,
            },
            sort_keys=True,
        )


def _is_hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def raw_files_state(raw_dir: Path | str) -> RawFilesState:
    """List the contract files of ``raw_dir`` with their size and modification time.

    Parameters
    ----------
    raw_dir : Path or str
        The raw folder (``SMALLGROUPS_RAW_DIR``).

    Returns
    -------
    RawFilesState
        Every ``<table>.csv``, ``<table>.parquet`` and ``<table>/**/*.parquet`` of a
        contract table, hidden files left out; empty when there is none.

    Raises
    ------
    RawDataError
        The folder does not exist or is not a folder (the message names it).
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.exists():
        raise RawDataError(f"{raw_dir}: raw data folder does not exist (SMALLGROUPS_RAW_DIR)")
    if not raw_dir.is_dir():
        raise RawDataError(f"{raw_dir}: SMALLGROUPS_RAW_DIR must be a folder, not a file")
    paths: list[Path] = []
    for table in TABLES:
        for suffix in (".csv", ".parquet"):
            single = raw_dir / f"{table.name}{suffix}"
            if single.is_file():
                paths.append(single)
        folder = raw_dir / table.name
        if folder.is_dir():
            paths.extend(
                p
                for p in folder.rglob("*.parquet")
                if p.is_file() and not _is_hidden(p.relative_to(raw_dir))
            )
    files = []
    for path in paths:
        try:
            stat = path.stat()
        except FileNotFoundError:  # removed while we listed: not part of the state
            continue
        files.append((path.relative_to(raw_dir).as_posix(), stat.st_size, stat.st_mtime_ns))
    return RawFilesState(raw_dir, tuple(sorted(files)))


@dataclass(frozen=True)
class RefreshDecision:
    """Whether to request a refresh, and why.

    Attributes
    ----------
    refresh : bool
        True: request a run (keyed by the state's ``run_key``) and store the new cursor.
    reason : str
        One line for the sensor's tick (the skip reason or what changed).
    """

    refresh: bool
    reason: str


def _previous(cursor: str | None) -> dict | None:
    if not cursor:
        return None
    try:
        previous = json.loads(cursor)
    except ValueError:
        return None
    return previous if isinstance(previous, dict) and "digest" in previous else None


def decide_refresh(
    state: RawFilesState,
    cursor: str | None,
    *,
    now_ns: int,
    settle_seconds: float = DEFAULT_SETTLE_SECONDS,
) -> RefreshDecision:
    """Compare the folder with the cursor of the last requested refresh.

    Parameters
    ----------
    state : RawFilesState
        The folder now (:func:`raw_files_state`).
    cursor : str or None
        :meth:`RawFilesState.cursor` of the state at the last requested run; None (or
        unreadable) before the first one.
    now_ns : int
        The current time, ns since the epoch (``time.time_ns()``).
    settle_seconds : float
        A folder whose newest file was modified less than this long ago is still
        landing: no decision until it has been quiet that long.

    Returns
    -------
    RefreshDecision
        ``refresh`` when the folder holds files, differs from the cursor and has
        settled.
    """
    newest = state.newest
    if newest is None:
        return RefreshDecision(False, f"{state.raw_dir}: no raw files of the contract yet")
    newest_path, newest_mtime_ns = newest
    previous = _previous(cursor)
    if previous is not None and previous["digest"] == state.digest:
        return RefreshDecision(
            False,
            f"{state.raw_dir}: unchanged since the last requested refresh "
            f"({len(state.files)} files, newest {newest_path})",
        )
    age_seconds = (now_ns - newest_mtime_ns) / 1e9
    if age_seconds < settle_seconds:
        return RefreshDecision(
            False,
            f"{state.raw_dir}: {newest_path} changed {max(age_seconds, 0):.0f} s ago; waiting "
            f"until it has been quiet for {settle_seconds:.0f} s",
        )
    if previous is None:
        return RefreshDecision(
            True, f"{state.raw_dir}: {len(state.files)} raw files, newest {newest_path}"
        )
    return RefreshDecision(
        True,
        f"{state.raw_dir}: raw files changed ({previous.get('file_count')} -> "
        f"{len(state.files)} files, newest {newest_path})",
    )
