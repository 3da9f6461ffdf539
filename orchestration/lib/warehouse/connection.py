"""Open the DuckDB warehouse with the session settings every reader and writer shares.

DuckDB allows one writing process at a time, so callers open, work and close (use the
connection as a context manager); nothing keeps a connection across steps.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

__all__ = ["connect"]


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file.

    Parameters
    ----------
    path : Path or str
        The DuckDB file; its folder is created when writing.
    read_only : bool
        Open read-only (several readers may share the file).

    Returns
    -------
    duckdb.DuckDBPyConnection
        With ``TimeZone`` set to UTC, as in ``profiles.yml``, so naive timestamps mean UTC.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise FileNotFoundError(f"{path}: the warehouse file does not exist yet (run `make run`)")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    con.execute("set TimeZone = 'UTC'")
    return con
