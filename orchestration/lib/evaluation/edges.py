"""Read a user-user edge table from DuckDB for detection outside the pipeline.

The community step reads its window's edges through
`orchestration.lib.communities.store`; the benchmarks and tests read a whole edge
table (``fct_user_edges`` of a built warehouse, or a table they wrote) with
:func:`edges_from_duckdb`, through Arrow, into the frame
`orchestration.lib.communities.detect_communities` takes.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

__all__ = ["edges_from_duckdb"]

#: A table name, optionally qualified by schema and catalog: the only text pasted into SQL.
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$")


def edges_from_duckdb(con: Any, table: str = "fct_user_edges") -> pd.DataFrame:
    """Read ``user_id_a, user_id_b, edge_weight`` from a DuckDB table through Arrow.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        An open connection.
    table : str, default "fct_user_edges"
        Table or view name, optionally qualified (``schema.table``).

    Returns
    -------
    pandas.DataFrame
        The three columns, ready for
        `orchestration.lib.communities.detect_communities`.

    Raises
    ------
    ValueError
        If ``table`` is not a plain (optionally qualified) identifier.
    """
    if not _IDENTIFIER.match(table):
        raise ValueError(f"not a table name: {table!r}")
    relation = con.sql(f"select user_id_a, user_id_b, edge_weight from {table}")
    to_arrow = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
    return to_arrow().to_pandas()
