"""Tests of the summary `make run` prints, on warehouses with and without the optional data.

The in-memory warehouses below have the tables the summary reads, each with a known
number of rows, so every figure printed is asserted; the data sets without contents,
groups or experiments are built as the pipeline leaves them: the raw table absent, the
models built and empty.
"""

from __future__ import annotations

import re

import duckdb
import pytest

from orchestration.lib.communities import store as community_store
from orchestration.lib.warehouse import connect
from orchestration.lib.warehouse.summary import MAIN_TABLES, format_summary, warehouse_summary

#: Rows of each raw table of the complete data set.
RAW_ROWS = {
    "users": 3,
    "events": 6,
    "contents": 3,
    "groups": 2,
    "group_memberships": 4,
    "experiments": 1,
    "experiment_assignments": 3,
}
#: Rows of the main tables counted from ranges (the others get rows of their own below).
MAIN_ROWS = {
    "stg_product__users": 3,
    "stg_product__events": 5,
    "stg_product__contents": 3,
    "dim_users": 3,
    "dim_groups": 2,
    "fct_user_activity_daily": 4,
    "fct_group_members_daily": 6,
    "fct_user_edges": 2,
    "dim_communities": 3,
    "fct_community_health": 3,
    "fct_community_members": 3,
    "rpt_high_potential_communities": 2,
    "fct_community_topics": 2,
}
#: Tables that are built but empty when the data set lacks a kind of raw table.
EMPTY_WITHOUT = {
    "contents": {"stg_product__contents", "fct_community_topics"},
    "groups": {"dim_groups", "fct_group_members_daily"},
    "experiments": set(),
}
RAW_WITHOUT = {
    "contents": {"contents"},
    "groups": {"groups", "group_memberships"},
    "experiments": {"experiments", "experiment_assignments"},
}


def _build(con: duckdb.DuckDBPyConnection, *, without: str | None = None) -> None:
    """Create the summary's tables as a pipeline run on the demo would, lacking ``without``."""
    con.execute("create schema raw")
    for name, rows in RAW_ROWS.items():
        if without and name in RAW_WITHOUT[without]:
            continue
        con.execute(f"create table raw.{name} as select range as id from range({rows})")
    empty = EMPTY_WITHOUT[without] if without else set()
    for name, rows in MAIN_ROWS.items():
        count = 0 if name in empty else rows
        con.execute(f"create table main.{name} as select range as id from range({count})")
    con.execute(
        "create table main.stg_product__rejected_rows as select * from (values "
        "('events', 'duplicate_key')) as t(source_table, rejection_reason)"
    )
    con.execute("create table main.fct_contents_enriched (content_id varchar, language varchar)")
    if without != "contents":
        con.execute(
            "insert into main.fct_contents_enriched values ('c1', 'zh'), ('c2', 'zh'), ('c3', 'en')"
        )
    con.execute(
        "create table main.fct_community_pain_points (snapshot_date date, group_kind varchar, "
        "community_id varchar, pain_point_rank integer, phrase varchar, count_messages bigint, "
        "count_authors bigint)"
    )
    if without != "contents":
        con.execute(
            "insert into main.fct_community_pain_points values "
            "('2026-01-11', 'detected', 'cA', 1, '夜景噪点', 2, 2), "
            "('2026-01-11', 'declared', 'group:g1', 1, 'dark mode', 9, 3), "
            "('2026-01-04', 'detected', 'cB', 1, 'last week', 99, 9)"
        )
    community_store.ensure_tables(con)
    con.execute(
        "insert into communities.community_snapshot_runs "
        "(snapshot_date, count_communities, count_assigned, count_users, modularity) "
        "values ('2026-01-11', 2, 3, 3, 0.4242)"
    )


def _shown(text: str, table: str) -> str:
    """What the summary prints for ``table`` in the row counts."""
    match = re.search(rf"^    {table} +(.+)$", text, flags=re.MULTILINE)
    assert match, f"{table} not in the summary"
    return match.group(1).strip()


def _summary(without: str | None = None) -> str:
    with duckdb.connect() as con:
        _build(con, without=without)
        return format_summary(warehouse_summary(con), ":memory:")


def test_every_figure_of_a_complete_warehouse():
    text = _summary()
    for table, rows in MAIN_ROWS.items():
        assert _shown(text, table) == str(rows)
    assert _shown(text, "fct_contents_enriched") == "3"
    assert _shown(text, "fct_community_pain_points") == "3"
    assert _shown(text, "stg_product__rejected_rows") == "1"
    assert "raw rows read: 22; rejected: 1 (by reason):" in text
    assert re.search(r"^    events +duplicate_key +1$", text, flags=re.MULTILINE)
    assert "communities at 2026-01-11: 2 detected, 3 of 3 users assigned, modularity 0.424" in text
    assert "  messages enriched: 3 (zh 67%, en 33%)\n" in text
    # only the latest snapshot's detected communities compete for the loudest pain point
    assert "loudest pain point: '夜景噪点' in community cA (2 messages from 2 members" in text


def test_a_data_set_without_contents_enriched_no_message():
    text = _summary(without="contents")
    assert "  messages enriched: 0\n" in text
    assert "loudest pain point" not in text
    for table in ("stg_product__contents", "fct_contents_enriched", "fct_community_pain_points"):
        assert _shown(text, table) == "0"
    assert "raw rows read: 19;" in text


def test_a_data_set_without_groups():
    text = _summary(without="groups")
    assert _shown(text, "dim_groups") == "0"
    assert _shown(text, "fct_group_members_daily") == "0"
    assert _shown(text, "dim_users") == "3"
    assert "raw rows read: 16;" in text
    assert "messages enriched: 3 (zh 67%, en 33%)" in text


def test_a_data_set_without_experiments():
    text = _summary(without="experiments")
    assert "raw rows read: 18;" in text
    assert all(_shown(text, table) == str(rows) for table, rows in MAIN_ROWS.items())


def test_a_warehouse_before_the_python_steps_ran():
    """dbt built, no community snapshot and no text mart yet: those lines are left out."""
    with duckdb.connect() as con:
        con.execute("create schema raw")
        con.execute("create table raw.users as select range as id from range(2)")
        con.execute("create table main.dim_users as select range as id from range(2)")
        # the schema exists before its first snapshot table is written
        con.execute(f"create schema {community_store.SCHEMA}")
        summary = warehouse_summary(con)
    text = format_summary(summary, ":memory:")
    assert summary["communities"] is None and summary["text"] is None
    assert _shown(text, "dim_users") == "2"
    assert all(_shown(text, t) == "not built" for t in MAIN_TABLES if t != "dim_users")
    assert "raw rows read: 2; rejected: 0 (by reason):" in text
    assert "communities at" not in text and "messages enriched" not in text


def test_a_snapshot_without_edges_and_an_empty_runs_table():
    with duckdb.connect() as con:
        community_store.ensure_tables(con)
        assert warehouse_summary(con)["communities"] is None
        con.execute(
            "insert into communities.community_snapshot_runs "
            "(snapshot_date, count_communities, count_assigned, count_users, modularity) "
            "values ('2026-01-11', 0, 0, 5, null)"
        )
        text = format_summary(warehouse_summary(con), ":memory:")
    assert "communities at 2026-01-11: 0 detected, 0 of 5 users assigned, modularity n/a" in text


def test_summary_counts_tables_and_rejects(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        con.execute("create schema raw")
        con.execute("create table raw.events as select range as id from range(5)")
        con.execute("create table main.dim_users as select range as user_id from range(3)")
        con.execute(
            "create table main.stg_product__rejected_rows as select * from (values "
            "('events', 'duplicate_key'), ('events', 'duplicate_key'), ('users', 'missing_key')"
            ") as t(source_table, rejection_reason)"
        )
        summary = warehouse_summary(con)
    assert summary["row_counts"]["dim_users"] == 3
    assert summary["row_counts"]["fct_user_edges"] is None
    assert summary["raw_row_counts"] == {"events": 5}
    assert summary["rejects"] == [("events", "duplicate_key", 2), ("users", "missing_key", 1)]
    text = format_summary(summary, "/x/w.duckdb")
    assert "raw rows read: 5; rejected: 3" in text and "not built" in text
    assert "messages enriched" not in text


def test_read_only_connection_to_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="make run"):
        connect(tmp_path / "missing.duckdb", read_only=True)
