"""Dashboard settings and its read-only view of the published snapshot.

The dashboard never opens the working warehouse: it reads the serving snapshot
(``SMALLGROUPS_SERVING_PATH``, see :mod:`orchestration.lib.warehouse.publish`), read-only.
A refresh renames a new file over the snapshot, so :class:`Snapshot` keeps one read-only
connection per file *identity* (device, inode, modification time) and opens a new one
as soon as the path names another file; each request works on its own cursor. The file
is ATTACHed read-only to a fresh in-memory database rather than opened with
``duckdb.connect(path)``: DuckDB reuses the open database of a path while any connection
to it lives, so a request still running on the old snapshot would make the new
connection read the old file. Results
that only depend on the snapshot (e.g. the groups table) are cached per identity, so they
are recomputed once per refresh, never mixed across two snapshots.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from orchestration.lib.config import PROJECT_DIR, load_settings

__all__ = ["DashboardSettings", "Snapshot", "SnapshotMissing", "load_dashboard_settings"]


#: Catalog name of the attached snapshot.
_ALIAS = "serving"


def _use(cursor: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    cursor.execute(f"use {_ALIAS}")
    return cursor


class SnapshotMissing(RuntimeError):
    """No published snapshot at the serving path (run the pipeline first)."""


@dataclass(frozen=True)
class DashboardSettings:
    """Resolved dashboard configuration.

    Attributes
    ----------
    serving_path : Path
        The published snapshot (``SMALLGROUPS_SERVING_PATH``).
    users_path : Path
        The accounts file (``SMALLGROUPS_DASHBOARD_USERS``, default
        ``$SMALLGROUPS_STATE_DIR/dashboard_users``).
    secret_path : Path
        File holding the key that signs session cookies (created on first start, mode
        0600) unless ``SMALLGROUPS_DASHBOARD_SECRET`` gives the key.
    secret : str or None
        ``SMALLGROUPS_DASHBOARD_SECRET``, when set.
    host : str
        Interface to bind (``SMALLGROUPS_DASHBOARD_HOST``, default 127.0.0.1).
    port : int
        Port (``SMALLGROUPS_DASHBOARD_PORT``, default 8050).
    """

    serving_path: Path
    users_path: Path
    secret_path: Path
    secret: str | None
    host: str
    port: int

    def session_secret(self) -> str:
        """The cookie-signing key: the environment's, else the state file's (created).

        Returns
        -------
        str
            At least 32 characters.

        Raises
        ------
        ValueError
            ``SMALLGROUPS_DASHBOARD_SECRET`` is shorter than 32 characters.
        """
        if self.secret is not None:
            if len(self.secret) < 32:
                raise ValueError("SMALLGROUPS_DASHBOARD_SECRET must be at least 32 characters")
            return self.secret
        if not self.secret_path.exists():
            import secrets

            self.secret_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.secret_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return self.secret_path.read_text().strip()


def load_dashboard_settings(environ: dict[str, str] | None = None) -> DashboardSettings:
    """Read the dashboard settings from ``environ`` (default: the process environment).

    Parameters
    ----------
    environ : dict, optional
        Mapping to read instead of ``os.environ``.

    Returns
    -------
    DashboardSettings
        Absolute paths (relative ones are taken from the project folder).

    Raises
    ------
    ValueError
        A port that is not an integer in 1-65535.
    """
    environ = dict(os.environ if environ is None else environ)

    def path(name: str, default: Path) -> Path:
        value = environ.get(name, "").strip()
        result = Path(value).expanduser() if value else default
        return result if result.is_absolute() else PROJECT_DIR / result

    state_dir = path("SMALLGROUPS_STATE_DIR", PROJECT_DIR / ".smallgroups")
    port_text = environ.get("SMALLGROUPS_DASHBOARD_PORT", "").strip() or "8050"
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"SMALLGROUPS_DASHBOARD_PORT={port_text!r} is not a port (1-65535)")
    return DashboardSettings(
        serving_path=load_settings(environ).serving_path,
        users_path=path("SMALLGROUPS_DASHBOARD_USERS", state_dir / "dashboard_users"),
        secret_path=state_dir / "dashboard_secret",
        secret=environ.get("SMALLGROUPS_DASHBOARD_SECRET") or None,
        host=environ.get("SMALLGROUPS_DASHBOARD_HOST", "").strip() or "127.0.0.1",
        port=int(port_text),
    )


class Snapshot:
    """Read-only access to the published snapshot that follows its refreshes.

    Parameters
    ----------
    path : Path
        The serving snapshot.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._identity: tuple[int, int, int] | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._cache: dict[str, Any] = {}

    def _current(self) -> tuple[duckdb.DuckDBPyConnection, dict[str, Any]]:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            raise SnapshotMissing(
                f"no published snapshot at {self.path}: run `smallgroups run` "
                "(or point SMALLGROUPS_SERVING_PATH at one)"
            ) from None
        identity = (stat.st_dev, stat.st_ino, stat.st_mtime_ns)
        with self._lock:
            if identity != self._identity or self._con is None:
                # The old connection is dropped, not closed: a request still using a cursor
                # of it finishes on the old file, which lives until that cursor goes.
                con = duckdb.connect(":memory:")
                quoted = str(self.path).replace("'", "''")
                con.execute(f"attach '{quoted}' as {_ALIAS} (read_only)")
                self._con = con
                self._identity = identity
                self._cache = {}
            return self._con, self._cache

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the current snapshot, for one request.

        Returns
        -------
        duckdb.DuckDBPyConnection
            Close it when the request ends.

        Raises
        ------
        SnapshotMissing
            Nothing is published at ``path``.
        """
        con, _ = self._current()
        return _use(con.cursor())

    def cached(self, key: str, compute: Callable[[duckdb.DuckDBPyConnection], Any]) -> Any:
        """``compute(cursor)`` once per snapshot file, then its stored result.

        Parameters
        ----------
        key : str
            Name of the result.
        compute : callable
            Function of a cursor returning plain data (never mutated by callers).

        Returns
        -------
        object
            The result for the snapshot currently published.
        """
        con, cache = self._current()
        if key not in cache:
            cursor = _use(con.cursor())
            try:
                cache[key] = compute(cursor)
            finally:
                cursor.close()
        return cache[key]
