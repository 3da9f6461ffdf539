"""The raw loader: discovery, contract checks with clear errors, lineage columns."""

import shutil

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.lib.raw import RawDataError, discover_raw_tables, register_raw_tables
from orchestration.lib.warehouse import connect


def _users_table(n: int = 3) -> pa.Table:
    return pa.table(
        {
            "user_id": [f"u{i}" for i in range(n)],
            "signed_up_at": pa.array([0] * n, pa.timestamp("us", tz="UTC")),
            "country": ["CN"] * n,
            "locale": ["zh-CN"] * n,
            "acquisition_channel": ["organic"] * n,
        }
    )


def _events_table(event_ids: list[str]) -> pa.Table:
    n = len(event_ids)
    return pa.table(
        {
            "event_id": event_ids,
            "user_id": ["u0"] * n,
            "event_type": ["post"] * n,
            "occurred_at": pa.array([0] * n, pa.timestamp("us", tz="UTC")),
            "group_id": pa.array([None] * n, pa.string()),
            "target_user_id": pa.array([None] * n, pa.string()),
            "content_id": pa.array([None] * n, pa.string()),
            "amount": pa.array([None] * n, pa.float64()),
            "currency": pa.array([None] * n, pa.string()),
            "properties": pa.array([None] * n, pa.string()),
        }
    )


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(RawDataError, match="does not exist"):
        discover_raw_tables(tmp_path / "nope")


def test_missing_required_table_is_named(tmp_path):
    pq.write_table(_users_table(), tmp_path / "users.parquet")
    with pytest.raises(RawDataError, match="required table 'events' is missing"):
        discover_raw_tables(tmp_path)


def test_missing_column_names_file_and_column(tmp_path):
    pq.write_table(_users_table().drop_columns(["locale"]), tmp_path / "users.parquet")
    pq.write_table(_events_table(["e1"]), tmp_path / "events.parquet")
    with duckdb.connect() as con, pytest.raises(RawDataError) as info:
        register_raw_tables(con, tmp_path)
    assert "users.parquet" in str(info.value) and "locale" in str(info.value)


def test_unreadable_file_is_named(tmp_path):
    pq.write_table(_users_table(), tmp_path / "users.parquet")
    (tmp_path / "events.parquet").write_bytes(b"this is not parquet")
    with duckdb.connect() as con, pytest.raises(RawDataError, match="events.parquet: cannot read"):
        register_raw_tables(con, tmp_path)


def test_folder_of_daily_files_with_lineage_and_absent_optional_tables(tmp_path):
    pq.write_table(_users_table(), tmp_path / "users.parquet")
    (tmp_path / "events").mkdir()
    pq.write_table(_events_table(["e1", "e2"]), tmp_path / "events" / "2026-01-01.parquet")
    pq.write_table(_events_table(["e3"]), tmp_path / "events" / "2026-01-02.parquet")
    with connect(tmp_path / "w.duckdb") as con:
        report = register_raw_tables(con, tmp_path)
        rows = con.execute(
            "select event_id, _source_file like '%2026-01-02.parquet', _source_row_number "
            "from raw.events order by event_id"
        ).fetchall()
        group_columns = [r[0] for r in con.execute("describe raw.groups").fetchall()]
    assert report["events"]["kind"] == "parquet_dir" and report["events"]["row_count"] == 3
    assert rows == [("e1", False, 0), ("e2", False, 1), ("e3", True, 0)]
    assert report["groups"]["kind"] == "absent" and report["groups"]["row_count"] == 0
    assert group_columns[:6] == [
        "group_id",
        "name",
        "category",
        "created_by_user_id",
        "created_at",
        "visibility",
    ]


def test_empty_events_folder_is_an_error(tmp_path):
    pq.write_table(_users_table(), tmp_path / "users.parquet")
    (tmp_path / "events").mkdir()
    with pytest.raises(RawDataError, match="holds no .parquet file"):
        discover_raw_tables(tmp_path)


def test_csv_keeps_ids_as_text_and_unknown_files_warn(tmp_path, fixture_raw_dir, caplog):
    raw = tmp_path / "raw"
    shutil.copytree(fixture_raw_dir, raw)
    (raw / "0042.csv").write_text("a\n1\n")
    with connect(tmp_path / "w.duckdb") as con:
        report = register_raw_tables(con, raw)
        types = {r[0]: r[1] for r in con.execute("describe raw.users").fetchall()}
    assert report["users"]["kind"] == "csv" and report["users"]["row_count"] == 11
    assert types["user_id"] == "VARCHAR"
    assert "expected_rejection_reason" in report["users"]["columns"]
    assert any("0042.csv" in r.message and "ignored" in r.message for r in caplog.records)


def test_malformed_csv_lines_are_captured_and_good_lines_load(tmp_path, fixture_raw_dir):
    raw = tmp_path / "raw"
    shutil.copytree(fixture_raw_dir, raw)
    good = (raw / "events.csv").read_bytes()
    # An unterminated quote, undecodable bytes and a NUL, then a short line.
    (raw / "events.csv").write_bytes(good + b'e99,u1,"post,2026\x00\xff\xfe broken\ne100,u1,post\n')
    with connect(tmp_path / "w.duckdb") as con:
        report = register_raw_tables(con, raw)
        lines = con.execute(
            "select source_table, source_line_number, raw_line, error_types "
            "from raw._malformed_lines order by source_line_number"
        ).fetchall()
        (count_events,) = con.execute("select count(*) from raw.events").fetchone()
    good_records = good.count(b"\n") - 1
    assert report["events"]["row_count"] == count_events == good_records
    assert report["events"]["malformed_line_count"] == 2
    assert report["users"]["malformed_line_count"] == 0
    # One row per record (DuckDB logs one error per missing column), 1-based lines.
    assert [(t, n) for t, n, _, _ in lines] == [
        ("events", good_records + 2),
        ("events", good_records + 3),
    ]
    assert lines[0][2].startswith('e99,u1,"post,2026') and lines[1][2] == "e100,u1,post"
    assert all(types for *_, types in lines)


def test_truncated_parquet_stops_with_the_file_named(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    pq.write_table(_users_table(50), raw / "users.parquet")
    pq.write_table(_events_table(["e1"]), raw / "events.parquet")
    data = (raw / "users.parquet").read_bytes()
    (raw / "users.parquet").write_bytes(data[: len(data) // 2])
    with connect(tmp_path / "w.duckdb") as con, pytest.raises(RawDataError, match="users.parquet"):
        register_raw_tables(con, raw)


def _source_files(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    query = f"select distinct _source_file from raw.{table} order by 1"
    return [row[0] for row in con.execute(query).fetchall()]


def test_source_file_is_relative_to_the_raw_folder_wherever_it_is(tmp_path, monkeypatch):
    # A folder name with a space and a quote, nested daily files, given once absolute
    # and once as a relative path with "." and ".." (DuckDB normalises those).
    raw = tmp_path / "it's raw"
    (raw / "events" / "2026").mkdir(parents=True)
    pq.write_table(_users_table(), raw / "users.parquet")
    pq.write_table(_events_table(["e1"]), raw / "events" / "2026-01-01.parquet")
    pq.write_table(_events_table(["e2"]), raw / "events" / "2026" / "01-02.parquet")
    expected = {
        "users": ["users.parquet"],
        "events": ["events/2026-01-01.parquet", "events/2026/01-02.parquet"],
    }
    copy = tmp_path / "elsewhere" / "mounted"
    shutil.copytree(raw, copy)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    for raw_dir in (raw, "./../elsewhere//mounted/./"):
        with duckdb.connect() as con:
            register_raw_tables(con, raw_dir)
            assert {t: _source_files(con, t) for t in expected} == expected, raw_dir
            assert _source_files(con, "groups") == []


def test_csv_source_file_and_malformed_lines_agree(tmp_path, fixture_raw_dir):
    raw = tmp_path / "raw"
    shutil.copytree(fixture_raw_dir, raw)
    good = (raw / "events.csv").read_bytes()
    (raw / "events.csv").write_bytes(good + b"e100,u1,post\n")
    with duckdb.connect() as con:
        register_raw_tables(con, raw)
        malformed = con.execute("select distinct source_file from raw._malformed_lines").fetchall()
        assert _source_files(con, "events") == ["events.csv"]
        assert _source_files(con, "users") == ["users.csv"]
    assert malformed == [("events.csv",)]


def test_source_file_outside_the_folder_fails_loudly(tmp_path):
    # DuckDB returns the file names under the glob's folder; should one ever not start
    # with it, the scan fails naming the file instead of storing a path that would not
    # match on the next run.
    pq.write_table(_users_table(), tmp_path / "users.parquet")
    (tmp_path / "events").mkdir()
    pq.write_table(_events_table(["e1"]), tmp_path / "events" / "d.parquet")
    events = discover_raw_tables(tmp_path)["events"]
    expression = events.source_file_sql("'/somewhere/else/d.parquet'")
    with duckdb.connect() as con:
        assert con.execute(
            f"select {events.source_file_sql(repr(str(tmp_path / 'events' / 'x.parquet')))}"
        ).fetchone() == ("events/x.parquet",)
        with pytest.raises(duckdb.Error, match="outside the table's folder: /somewhere/else"):
            con.execute(f"select {expression}").fetchone()
