"""Reading a whole edge table from DuckDB for the detection benchmark."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.lib.evaluation.edges import edges_from_duckdb


def test_edges_from_duckdb():
    con = duckdb.connect()
    con.execute(
        "create table fct_user_edges as select * from (values "
        "('a', 'b', 1.0, 'x'), ('b', 'c', 2.5, 'y')) t(user_id_a, user_id_b, edge_weight, other)"
    )
    frame = edges_from_duckdb(con)
    assert list(frame.columns) == ["user_id_a", "user_id_b", "edge_weight"]
    assert frame["edge_weight"].tolist() == [1.0, 2.5]
    with pytest.raises(ValueError, match="table name"):
        edges_from_duckdb(con, table="x; drop table y")
