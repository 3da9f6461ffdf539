"""Parquet column types: an incompatible type stops the run, a compatible one loads.

A Parquet file carries its own types. The loader checks each contract column of each
file against ``PARQUET_COMPATIBLE_TYPES`` (docs/raw_contract.md, "Parquet types") before
it creates or replaces any raw view; the error names the file, the column, the type
found and the type expected. Extra columns are never checked.
"""

import decimal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.lib.raw import RawDataError, register_raw_tables
from orchestration.lib.raw.contract import PARQUET_COMPATIBLE_TYPES, TABLES

_TS = pa.timestamp("us", tz="UTC")


def _users(n: int = 2) -> pa.Table:
    return pa.table(
        {
            "user_id": [f"u{i}" for i in range(n)],
            "signed_up_at": pa.array([1_767_225_600_000_000] * n, _TS),
            "country": ["CN"] * n,
            "locale": ["zh-CN"] * n,
            "acquisition_channel": ["organic"] * n,
        }
    )


def _events(n: int = 2) -> pa.Table:
    return pa.table(
        {
            "event_id": [f"e{i}" for i in range(n)],
            "user_id": ["u0"] * n,
            "event_type": ["purchase"] * n,
            "occurred_at": pa.array([1_767_225_600_000_000] * n, _TS),
            "group_id": pa.array([None] * n, pa.string()),
            "target_user_id": pa.array([None] * n, pa.string()),
            "content_id": pa.array([None] * n, pa.string()),
            "amount": pa.array([1.5] * n, pa.float64()),
            "currency": ["USD"] * n,
            "properties": pa.array([None] * n, pa.string()),
        }
    )


def _with(table: pa.Table, column: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(column), column, values)


def _raw(tmp_path, events: pa.Table, users: pa.Table | None = None):
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    pq.write_table(users if users is not None else _users(), raw / "users.parquet")
    pq.write_table(events, raw / "events.parquet")
    return raw


def _error(tmp_path, events: pa.Table) -> str:
    raw = _raw(tmp_path, events)
    with duckdb.connect() as con, pytest.raises(RawDataError) as info:
        register_raw_tables(con, raw)
    return str(info.value)


@pytest.mark.parametrize(
    ("column", "values", "found"),
    [
        # An epoch: its unit would be a guess.
        ("occurred_at", pa.array([1_767_225_600, 1_767_225_601], pa.int64()), "BIGINT"),
        ("occurred_at", pa.array([0, 1], pa.time64("us")), "TIME"),
        ("user_id", pa.array([{"id": 1}, {"id": 2}]), "STRUCT(id BIGINT)"),
        ("user_id", pa.array([["u0"], ["u1"]]), "VARCHAR[]"),
        ("user_id", pa.array([1.0, 2.0]), "DOUBLE"),
        ("user_id", pa.array([b"u0", b"u1"], pa.binary()), "BLOB"),
        ("event_type", pa.array([True, False]), "BOOLEAN"),
        ("amount", pa.array([True, False]), "BOOLEAN"),
        ("amount", pa.array([{"cents": 150}, {"cents": 200}]), "STRUCT(cents BIGINT)"),
        ("properties", pa.array([{"k": 1}, {"k": 2}], pa.map_(pa.string(), pa.int64())), "MAP"),
    ],
)
def test_an_incompatible_type_names_file_column_found_and_expected(tmp_path, column, values, found):
    message = _error(tmp_path, _with(_events(), column, values))
    first = message.splitlines()[0]
    assert first.startswith(str(tmp_path / "raw" / "events.parquet") + ": ")
    assert f"column '{column}' of table 'events'" in first
    assert f"found {found}" in first
    expected = {"occurred_at": "expected a timestamp", "amount": "expected a number"}
    assert expected.get(column, "expected text") in first


def test_text_timestamps_and_amounts_load_and_bad_values_are_left_to_staging(tmp_path):
    # One value that does not parse must not stop the night: staging rejects that row
    # (invalid_timestamp, invalid_amount), as for a CSV file.
    events = _with(
        _events(3), "occurred_at", pa.array(["2026-03-01T09:00:00+08:00", None, "yesterday"])
    )
    events = _with(events, "amount", pa.array(["1.5", "ten", None]))
    with duckdb.connect() as con:
        register_raw_tables(con, _raw(tmp_path, events))
        rows = con.execute("select occurred_at, amount from raw.events order by all").fetchall()
    assert sorted(rows, key=str) == sorted(
        [("2026-03-01T09:00:00+08:00", "1.5"), (None, "ten"), ("yesterday", None)], key=str
    )


def test_every_problem_of_every_daily_file_is_listed_and_nothing_is_replaced(tmp_path):
    raw = _raw(tmp_path, _events())
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        register_raw_tables(con, raw)  # a good run first
        (raw / "events.parquet").unlink()
        (raw / "events").mkdir()
        pq.write_table(_events(), raw / "events" / "2026-01-01.parquet")
        bad = _with(_events(), "amount", pa.array([True, False]))
        bad = _with(bad, "user_id", pa.array([[1], [2]]))
        pq.write_table(bad, raw / "events" / "2026-01-02.parquet")
        # Extra columns of any type are allowed.
        extra = _events().append_column("device", pa.array([{"os": "ios"}, {"os": "x"}]))
        pq.write_table(extra, raw / "events" / "2026-01-03.parquet")
        with pytest.raises(RawDataError) as info:
            register_raw_tables(con, raw)
        lines = str(info.value).splitlines()
        assert len(lines) == 2
        assert all(line.startswith(str(raw / "events" / "2026-01-02.parquet")) for line in lines)
        assert "column 'user_id'" in lines[0] and "found BIGINT[]" in lines[0]
        assert "column 'amount'" in lines[1] and "found BOOLEAN" in lines[1]
        # The views of the good run are still there, reading the good run's file.
        view = con.execute(
            "select sql from duckdb_views() where schema_name = 'raw' and view_name = 'events'"
        ).fetchone()[0]
        assert "events.parquet" in view and "2026-01-02" not in view


def test_a_daily_file_lacking_a_required_column_stops_the_run_naming_it(tmp_path):
    # The folder's scan unions the files by name: without this check the file's rows would
    # read as nulls (all rejected) and no error would name the file.
    raw = _raw(tmp_path, _events())
    (raw / "events.parquet").unlink()
    (raw / "events").mkdir()
    pq.write_table(_events(), raw / "events" / "2026-01-01.parquet")
    lacking = _events().drop_columns(["user_id", "amount"])
    pq.write_table(lacking, raw / "events" / "2026-01-02.parquet")
    with duckdb.connect() as con, pytest.raises(RawDataError) as info:
        register_raw_tables(con, raw)
    (line,) = str(info.value).splitlines()
    assert line.startswith(str(raw / "events" / "2026-01-02.parquet") + ": ")
    assert "table 'events' lacks required column(s) user_id, amount" in line


def test_optional_columns_are_checked_when_present(tmp_path):
    raw = _raw(tmp_path, _events())
    experiments = pa.table(
        {
            "experiment_id": ["x1"],
            "name": ["n"],
            "unit_type": ["user"],
            "started_at": pa.array([0], _TS),
            "ended_at": pa.array([None], _TS),
            "primary_metric": ["m"],
            "hypothesis": ["h"],
            "traffic_split": [0.5],
        }
    )
    pq.write_table(experiments, raw / "experiments.parquet")
    with duckdb.connect() as con, pytest.raises(RawDataError) as info:
        register_raw_tables(con, raw)
    assert "experiments.parquet: column 'traffic_split'" in str(info.value)
    assert "found DOUBLE, expected text" in str(info.value)


def test_compatible_types_load_and_read_as_staging_reads_them(tmp_path):
    ns = pa.timestamp("ns")
    events = _events(3)
    events = _with(events, "event_id", pa.array([1, 2, 3], pa.int32()))
    events = _with(events, "user_id", pa.array(["u0", "u0", "u1"]).dictionary_encode())
    events = _with(events, "occurred_at", pa.array([1_767_225_600_000_000_000] * 3, ns))
    events = _with(events, "amount", pa.array([decimal.Decimal("1.25")] * 3, pa.decimal128(10, 2)))
    events = _with(events, "group_id", pa.nulls(3))  # no values at all: pyarrow's null type
    users = _with(_users(), "signed_up_at", pa.array([20454, 20455], pa.date32()))
    raw = _raw(tmp_path, events, users)
    contents = pa.table(
        {
            "content_id": pa.array([10, 11], pa.int64()),
            "author_user_id": ["u0", "u1"],
            "group_id": pa.array([None, None], pa.string()),
            "parent_content_id": pa.array([None, None], pa.string()),
            "created_at": pa.array(["2026-03-01T09:00:00+08:00", "2026-03-01 01:00:00"]),
            "body": ["hi", "yo"],
            "language": ["en", "en"],
        }
    )
    pq.write_table(contents, raw / "contents.parquet")
    memberships = pa.table(
        {
            "group_id": ["g"],
            "user_id": ["u0"],
            "joined_at": pa.array([0], pa.timestamp("ms")),
            "left_at": pa.array([0], pa.timestamp("s", tz="+08:00")),
            "role": ["member"],
        }
    )
    pq.write_table(memberships, raw / "group_memberships.parquet")
    # Read as staging's clean_text, to_utc_timestamp and try_cast read them.
    utc = "at time zone 'UTC'"
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        report = register_raw_tables(con, raw)
        typed_events = con.execute(
            f"select cast(event_id as varchar), (try_cast(occurred_at as timestamptz) {utc}),"
            " try_cast(amount as double), cast(group_id as varchar) from raw.events"
            " order by _source_row_number"
        ).fetchall()
        typed_users = con.execute(
            f"select (try_cast(signed_up_at as timestamptz) {utc}) from raw.users"
            " order by _source_row_number"
        ).fetchall()
        typed_contents = con.execute(
            f"select cast(content_id as varchar), (try_cast(created_at as timestamptz) {utc})"
            " from raw.contents order by _source_row_number"
        ).fetchall()
    assert report["events"]["row_count"] == 3 and report["group_memberships"]["row_count"] == 1
    assert [(i, str(t), a, g) for i, t, a, g in typed_events] == [
        (str(i), "2026-01-01 00:00:00", 1.25, None) for i in (1, 2, 3)
    ]
    assert [str(t) for (t,) in typed_users] == ["2026-01-01 00:00:00", "2026-01-02 00:00:00"]
    assert [(i, str(t)) for i, t in typed_contents] == [
        ("10", "2026-03-01 01:00:00"),
        ("11", "2026-03-01 01:00:00"),
    ]


def test_the_compatibility_table_covers_every_contract_type():
    types = {typ for table in TABLES for _, typ in (*table.columns, *table.optional_columns)}
    assert types == set(PARQUET_COMPATIBLE_TYPES)
