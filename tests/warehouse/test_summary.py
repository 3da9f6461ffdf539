from orchestration.lib.warehouse import connect
from orchestration.lib.warehouse.summary import format_summary, warehouse_summary


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


def test_summary_names_the_loudest_pain_point(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        con.execute(
            "create table main.fct_contents_enriched as select * from (values "
            "('c1', 'zh'), ('c2', 'zh'), ('c3', 'en')) as t(content_id, language)"
        )
        con.execute(
            "create table main.fct_community_pain_points as select * from (values "
            "(date '2026-01-11', 'detected', 'cA', 1, '夜景噪点', 7, 5), "
            "(date '2026-01-11', 'detected', 'cB', 1, 'dark mode', 4, 3), "
            "(date '2026-01-04', 'detected', 'cB', 1, 'old', 99, 9)) as t(snapshot_date, "
            "group_kind, community_id, pain_point_rank, phrase, count_messages, count_authors)"
        )
        text = format_summary(warehouse_summary(con), "/x/w.duckdb")
    assert "messages enriched: 3 (zh 67%, en 33%)" in text
    assert "'夜景噪点' in community cA (7 messages from 5 members" in text


def test_read_only_connection_to_missing_file_says_what_to_do(tmp_path):
    import pytest

    with pytest.raises(FileNotFoundError, match="make run"):
        connect(tmp_path / "missing.duckdb", read_only=True)
