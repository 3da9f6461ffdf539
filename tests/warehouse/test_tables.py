"""The stores' shared table helpers: declarations parsed, stored columns read, a write
that fails half-way leaves the table as it was."""

import duckdb
import pandas as pd
import pytest

from orchestration.lib.warehouse.tables import (
    ddl_columns,
    ddl_names,
    insert_frame,
    stored_columns,
    transaction,
)

DDL = """snapshot_date date, user_id varchar,
    example_content_ids varchar[], score double"""


def test_declarations_are_parsed_in_order_with_their_types():
    assert ddl_columns(DDL) == [
        ("snapshot_date", "date"),
        ("user_id", "varchar"),
        ("example_content_ids", "varchar[]"),
        ("score", "double"),
    ]
    assert ddl_names(DDL) == ["snapshot_date", "user_id", "example_content_ids", "score"]


def test_stored_columns_are_empty_for_a_missing_table():
    con = duckdb.connect()
    assert stored_columns(con, "main", "nothing_here") == []
    con.execute(f"create table t ({DDL})")
    assert stored_columns(con, "main", "t") == ddl_names(DDL)


def test_insert_frame_takes_the_declared_columns_in_declared_order():
    con = duckdb.connect()
    con.execute(f"create table t ({DDL})")
    frame = pd.DataFrame(
        {
            "score": [0.5],
            "extra": ["ignored"],
            "user_id": ["u1"],
            "example_content_ids": [["c1", "c2"]],
            "snapshot_date": [pd.Timestamp("2026-03-01").date()],
        }
    )
    insert_frame(con, "main", "t", DDL, frame)
    assert con.execute("select user_id, score, example_content_ids from t").fetchall() == [
        ("u1", 0.5, ["c1", "c2"])
    ]


def test_a_failing_block_is_rolled_back_and_a_passing_one_committed():
    con = duckdb.connect()
    con.execute("create table t (x int)")
    with transaction(con):
        con.execute("insert into t values (1)")
    with pytest.raises(RuntimeError, match="half-way"), transaction(con):
        con.execute("delete from t")
        con.execute("insert into t values (2)")
        raise RuntimeError("killed half-way")
    assert con.execute("select x from t").fetchall() == [(1,)]
