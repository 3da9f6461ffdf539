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


def test_read_only_connection_to_missing_file_says_what_to_do(tmp_path):
    import pytest

    with pytest.raises(FileNotFoundError, match="make run"):
        connect(tmp_path / "missing.duckdb", read_only=True)
