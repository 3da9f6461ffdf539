"""The new_raw_files sensor, the daily schedule and the freshness checks in defs."""

import json
import os
import signal
import subprocess
import sys

import dagster as dg
from dagster._core.storage.dagster_run import DagsterRun

from orchestration.definitions import defs
from orchestration.defs.raw.sensors import new_raw_files
from orchestration.lib.warehouse.lock import lock_path, warehouse_lock

_OLD = 1_700_000_000


def _land(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")
    os.utime(path, (_OLD, _OLD))


def _tick(cursor, instance):
    return new_raw_files.evaluate_tick(dg.build_sensor_context(cursor=cursor, instance=instance))


def test_sensor_requests_a_refresh_per_new_state(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    monkeypatch.setenv("SMALLGROUPS_RAW_DIR", str(raw))
    monkeypatch.setenv("SMALLGROUPS_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    with dg.instance_for_test() as instance:
        missing = _tick(None, instance)
        assert not missing.run_requests and str(raw) in missing.skip_message
        _land(raw / "users.csv")
        _land(raw / "events" / "2026-01-01.parquet")
        first = _tick(None, instance)
        assert len(first.run_requests) == 1
        assert new_raw_files.job_name == "refresh_all"
        same = _tick(first.cursor, instance)
        assert not same.run_requests and "unchanged" in same.skip_message
        _land(raw / "events" / "2026-01-02.parquet")
        second = _tick(first.cursor, instance)
        assert second.run_requests[0].run_key != first.run_requests[0].run_key
        with warehouse_lock(tmp_path / "w.duckdb", run_id="r1"):
            busy = _tick(first.cursor, instance)
        assert not busy.run_requests and "r1" in busy.skip_message
        instance.add_run(
            DagsterRun(job_name="refresh_all", run_id="q1", status=dg.DagsterRunStatus.NOT_STARTED)
        )
        queued = _tick(first.cursor, instance)
        assert (
            not queued.run_requests
            and "run q1 of refresh_all is not_started" in queued.skip_message
        )
    assert new_raw_files.default_status == dg.DefaultSensorStatus.STOPPED


def _killed_pid() -> int:
    """The pid of a process killed with SIGKILL (and reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return process.pid


def test_sensor_reports_the_run_of_a_dead_lock_holder_failed(tmp_path, monkeypatch):
    """A run killed while STARTING (the sensor waits on it) or STARTED (no later run
    follows to take the lock) is reported failed at the next tick, and the tick goes on."""
    raw, warehouse = tmp_path / "raw", tmp_path / "w.duckdb"
    monkeypatch.setenv("SMALLGROUPS_RAW_DIR", str(raw))
    monkeypatch.setenv("SMALLGROUPS_DUCKDB_PATH", str(warehouse))
    _land(raw / "users.csv")
    _land(raw / "events" / "2026-01-01.parquet")
    pid = _killed_pid()
    with dg.instance_for_test() as instance:
        for status in (dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED):
            run_id = f"killed-{status.value.lower()}"
            instance.add_run(DagsterRun(job_name="refresh_all", run_id=run_id, status=status))
            line = {"pid": pid, "run_id": run_id, "since": "2026-01-01T00:00:00+00:00"}
            lock_path(warehouse).write_text(json.dumps(line))
            tick = _tick(None, instance)
            assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
            assert len(tick.run_requests) == 1, tick.skip_message
            (failure,) = [
                entry.dagster_event.message
                for entry in instance.all_logs(run_id)
                if entry.dagster_event is not None
                and entry.dagster_event.event_type == dg.DagsterEventType.RUN_FAILURE
            ]
            assert f"pid {pid}" in failure and "new_raw_files sensor" in failure
        # A live holder's run is left alone and the sensor waits for it.
        instance.add_run(
            DagsterRun(job_name="refresh_all", run_id="live", status=dg.DagsterRunStatus.STARTED)
        )
        with warehouse_lock(warehouse, run_id="live"):
            busy = _tick(None, instance)
        assert not busy.run_requests and "live" in busy.skip_message
        assert instance.get_run_by_id("live").status == dg.DagsterRunStatus.STARTED


def test_daily_schedule_requests_refresh_all():
    schedule = defs.resolve_schedule_def("daily_refresh")
    assert schedule.execution_timezone == "UTC"
    with dg.instance_for_test() as instance:
        data = schedule.evaluate_tick(dg.build_schedule_context(instance=instance))
    assert len(data.run_requests) == 1
    assert schedule.job_name == "refresh_all"


def test_freshness_checks_are_in_defs_and_the_job():
    names = {
        (k.asset_key.to_user_string(), k.name)
        for k in defs.resolve_job_def("refresh_all").asset_layer.asset_graph.asset_check_keys
    }
    assert ("raw/events", "raw_events_are_fresh") in names
    for asset in ("serving/published_snapshot", "dim_communities", "fct_community_health"):
        assert (asset, "freshness_check") in names
    assert defs.resolve_sensor_def("marts_freshness").default_status == (
        dg.DefaultSensorStatus.STOPPED
    )
