"""Tests of the CollegeMsg importer on a small file written by the test and on the real log."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.lib.importers import REPORT_FILE, SCHEMAS, cli
from orchestration.lib.importers.collegemsg import import_collegemsg
from orchestration.lib.raw import register_raw_tables

PROJECT_DIR = Path(__file__).resolve().parents[2]
DAY1 = 1_082_040_961  # 2004-04-15T14:56:01Z
LINES = [
    "# comment line",
    f"1 2 {DAY1}",
    f"3 1 {DAY1 + 60}",
    f"1 2 {DAY1 + 60}",
    "",
    f"2 2 {DAY1 + 120}",  # self-message
    "1 2",  # wrong field count
    f"a 2 {DAY1}",  # invalid user id
    "1 2 yesterday",  # invalid timestamp
    f"2 4 {DAY1 + 86_400}",
    f"4 3 {DAY1 - 7_200}",  # out of order: earlier the same day
]


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


@pytest.fixture
def message_file(tmp_path) -> Path:
    path = tmp_path / "CollegeMsg.txt"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return path


def test_counts_and_skip_reasons(message_file, tmp_path):
    out = tmp_path / "raw"
    summary = import_collegemsg(message_file, out)
    name = "CollegeMsg.txt"
    assert summary.rows_read == {name: len(LINES)}
    assert summary.rows_skipped[name] == {
        "blank_line": 1,
        "comment_line": 1,
        "invalid_timestamp": 1,
        "invalid_user_id": 1,
        "self_message": 1,
        "wrong_field_count": 1,
    }
    assert summary.rows_used == {name: 5}
    assert summary.unaccounted() == {}
    assert summary.rows_written == {"users": 4, "events": 5}
    report = json.loads((out / REPORT_FILE).read_text())
    assert report["files"][name]["used"] == 5 and report["unaccounted"] == {}


def test_users_first_seen_and_mention_events(message_file, tmp_path):
    out = tmp_path / "raw"
    import_collegemsg(message_file, out)
    users = pq.read_table(out / "users.parquet").to_pylist()
    assert [u["user_id"] for u in users] == ["u1", "u2", "u3", "u4"]
    signed_up = {u["user_id"]: u["signed_up_at"] for u in users}
    assert signed_up == {
        "u1": _at(DAY1),
        "u2": _at(DAY1),
        "u3": _at(DAY1 - 7_200),
        "u4": _at(DAY1 - 7_200),
    }
    assert {u["acquisition_channel"] for u in users} == {"collegemsg"}

    files = sorted(p.name for p in (out / "events").iterdir())
    assert files == ["2004-04-15.parquet", "2004-04-16.parquet"]
    events = pq.read_table(out / "events").to_pylist()
    assert all(pq.read_schema(out / "events" / f) == SCHEMAS["events"] for f in files)
    by_id = {e["event_id"]: e for e in events}
    assert set(by_id) == {"em2", "em3", "em4", "em10", "em11"}
    first = by_id["em2"]
    assert (first["user_id"], first["event_type"], first["target_user_id"]) == (
        "u1",
        "mention",
        "u2",
    )
    assert first["occurred_at"] == _at(DAY1)
    assert first["group_id"] is None and first["content_id"] is None
    # Written in time order: the out-of-order last line comes first.
    assert [e["event_id"] for e in events] == ["em11", "em2", "em3", "em4", "em10"]


def test_loader_accepts_output_and_import_is_deterministic(message_file, tmp_path):
    import_collegemsg(message_file, tmp_path / "a")
    import_collegemsg(message_file, tmp_path / "b")
    for rel in ("users.parquet", "events/2004-04-15.parquet", "events/2004-04-16.parquet"):
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    con = duckdb.connect()
    try:
        report = register_raw_tables(con, tmp_path / "a")
    finally:
        con.close()
    assert report["events"]["row_count"] == 5 and report["users"]["row_count"] == 4
    assert report["groups"]["kind"] == "absent"


def test_cli(message_file, tmp_path, capsys):
    assert cli.main(["collegemsg", str(message_file), "--out", str(tmp_path / "raw")]) == 0
    assert "self_message" in capsys.readouterr().out
    assert cli.main(["collegemsg", str(tmp_path / "missing.txt"), "--out", str(tmp_path)]) == 2


def test_real_collegemsg(tmp_path):
    data = Path(os.environ.get("SMALLGROUPS_EVAL_DATA") or PROJECT_DIR.parent / "shared" / "data")
    path = data / "interactions" / "collegemsg" / "CollegeMsg.txt"
    if not path.exists():
        pytest.skip(f"evaluation data not found at {path} (set SMALLGROUPS_EVAL_DATA)")
    summary = import_collegemsg(path, tmp_path)
    assert summary.rows_read == {"CollegeMsg.txt": 59_835}
    assert summary.unaccounted() == {}
    assert summary.rows_written == {"users": 1_899, "events": 59_835}
