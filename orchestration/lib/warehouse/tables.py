"""What every Python step's store does to its output tables, written once.

The stores (``lib/<domain>/store.py``) declare their tables as column DDL strings
(``"snapshot_date date, user_id varchar, ..."``) and replace a snapshot's rows in one
transaction. The helpers here parse those declarations, read what a stored table really
has (a table written by an older version is rebuilt, not mixed) and wrap a block of
statements in a transaction that is rolled back on any error, so a step killed or failing
mid-write leaves the previous rows in place.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pandas as pd

__all__ = ["ddl_columns", "ddl_names", "insert_frame", "stored_columns", "transaction"]


def ddl_columns(ddl: str) -> list[tuple[str, str]]:
    """The (name, type) pairs of a column declaration such as ``"a date, b varchar[]"``.

    Parameters
    ----------
    ddl : str
        Comma-separated ``name type`` pairs (line breaks allowed; types without commas).

    Returns
    -------
    list of (str, str)
        In declaration order.
    """
    pairs = (part.strip().split(" ", 1) for part in ddl.replace("\n", " ").split(","))
    return [(name, kind.strip()) for name, kind in pairs]


def ddl_names(ddl: str) -> list[str]:
    """The column names of a declaration, in order (see :func:`ddl_columns`)."""
    return [name for name, _ in ddl_columns(ddl)]


def stored_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    """Columns of a stored table in order; empty when the table does not exist."""
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    return [row[0] for row in rows]


def insert_frame(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, ddl: str, frame: pd.DataFrame
) -> None:
    """Append a frame's declared columns (in declared order) to ``schema.table``."""
    con.register("_frame", frame[ddl_names(ddl)])
    try:
        con.execute(f"insert into {schema}.{table} select * from _frame")
    finally:
        con.unregister("_frame")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block in one transaction: committed at its end, rolled back on any error.

    Examples
    --------
    >>> con = duckdb.connect()
    >>> _ = con.execute("create table t (x int)")
    >>> with transaction(con):
    ...     _ = con.execute("insert into t values (1)")
    >>> con.execute("select count(*) from t").fetchone()[0]
    1
    """
    con.execute("begin transaction")
    try:
        yield con
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


def replace_tables(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    tables: dict[str, str],
    frames: dict[str, pd.DataFrame],
) -> None:
    """Replace every row of ``schema``'s ``tables`` (name: DDL) by ``frames``, in one transaction.

    A stored table whose columns differ from its declaration is rebuilt; each column is
    cast to its declared type.
    """
    with transaction(con):
        con.execute(f"create schema if not exists {schema}")
        for name, ddl in tables.items():
            stored = stored_columns(con, schema, name)
            if stored and stored != ddl_names(ddl):
                con.execute(f"drop table {schema}.{name}")
            con.execute(f"create table if not exists {schema}.{name} ({ddl})")
            con.execute(f"delete from {schema}.{name}")
            frame = frames[name]
            if frame.empty:
                continue
            casts = ", ".join(f"cast({column} as {kind})" for column, kind in ddl_columns(ddl))
            con.register("_replaced", frame[ddl_names(ddl)])
            try:
                con.execute(f"insert into {schema}.{name} select {casts} from _replaced")
            finally:
                con.unregister("_replaced")
