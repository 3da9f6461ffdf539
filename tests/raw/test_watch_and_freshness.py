"""The raw folder's state and the refresh decision; the freshness verdict (pure)."""

import os
from datetime import UTC, datetime, timedelta

import pytest

from orchestration.lib.raw import RawDataError
from orchestration.lib.raw.freshness import FreshnessRule, evaluate_freshness
from orchestration.lib.raw.watch import decide_refresh, raw_files_state

_OLD_NS = 1_700_000_000 * 10**9
_NOW_NS = _OLD_NS + 3600 * 10**9


def _land(path, text="x", mtime_ns=_OLD_NS):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_state_lists_contract_files_only(tmp_path):
    _land(tmp_path / "users.csv")
    _land(tmp_path / "events" / "2026-01-01.parquet")
    _land(tmp_path / "events" / ".2026-01-02.parquet")  # landing, hidden
    _land(tmp_path / "notes.txt")
    state = raw_files_state(tmp_path)
    assert [f[0] for f in state.files] == ["events/2026-01-01.parquet", "users.csv"]


def test_first_look_then_unchanged_then_new_daily_file(tmp_path):
    _land(tmp_path / "users.csv")
    _land(tmp_path / "events" / "2026-01-01.parquet")
    first = raw_files_state(tmp_path)
    assert decide_refresh(first, None, now_ns=_NOW_NS).refresh
    cursor = first.cursor()
    same = decide_refresh(raw_files_state(tmp_path), cursor, now_ns=_NOW_NS)
    assert not same.refresh and "unchanged" in same.reason
    _land(tmp_path / "events" / "2026-01-02.parquet", mtime_ns=_OLD_NS + 10**9)
    second = raw_files_state(tmp_path)
    decision = decide_refresh(second, cursor, now_ns=_NOW_NS)
    assert decision.refresh and "2 -> 3 files" in decision.reason
    assert second.run_key != first.run_key


def test_a_file_still_landing_waits(tmp_path):
    _land(tmp_path / "users.csv", mtime_ns=_NOW_NS - 5 * 10**9)
    decision = decide_refresh(raw_files_state(tmp_path), None, now_ns=_NOW_NS)
    assert not decision.refresh and "quiet" in decision.reason


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(RawDataError, match="nowhere"):
        raw_files_state(tmp_path / "nowhere")


_RULE = FreshnessRule("occurred_at", timedelta(hours=36), timedelta(hours=72))
_NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


@pytest.mark.parametrize(("age_hours", "status"), [(5, "pass"), (40, "warn"), (100, "error")])
def test_freshness_verdict_names_asset_and_lag(age_hours, status):
    result = evaluate_freshness("raw/events", _NOW - timedelta(hours=age_hours), _NOW, _RULE)
    assert result.status == status
    assert result.passed == (status == "pass")
    assert result.message.startswith("raw/events: newest row at")
    if status == "error":
        assert "4 d 4 h old: past error_after 72 h" in result.message


def test_no_dated_row_is_an_error():
    assert evaluate_freshness("raw/events", None, _NOW, _RULE).status == "error"
