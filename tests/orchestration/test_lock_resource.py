"""The WarehouseLock resource marks the run of a refresh killed with ``kill -9`` as failed.

A killed run's record stays STARTED (or STARTING) in the Dagster instance: the process
that would have ended it is gone. The next run that takes the warehouse lock reads the
dead holder's line in the lock file and reports that run failed, naming the dead pid.
"""

import json
import os
import signal
import subprocess
import sys
import time

import dagster as dg
from dagster._core.storage.dagster_run import DagsterRun

from orchestration.defs.lock import WarehouseLock, fail_dead_holder_run
from orchestration.lib.warehouse.lock import lock_path


def _killed_pid() -> int:
    """The pid of a process killed with SIGKILL (and reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return process.pid


def _add_run(instance: dg.DagsterInstance, run_id: str, status) -> DagsterRun:
    return instance.add_run(DagsterRun(job_name="refresh_all", run_id=run_id, status=status))


def _holder(pid: int, run_id: str) -> dict:
    return {"pid": pid, "run_id": run_id, "since": "2026-01-01T00:00:00+00:00"}


class _Log:
    def __init__(self):
        self.lines = []

    def info(self, message, *args):
        self.lines.append(("info", message % args))

    def warning(self, message, *args):
        self.lines.append(("warning", message % args))


def _failure_messages(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [
        entry.dagster_event.message
        for entry in instance.all_logs(run_id)
        if entry.dagster_event is not None
        and entry.dagster_event.event_type == dg.DagsterEventType.RUN_FAILURE
    ]


def test_a_started_or_starting_run_of_a_dead_holder_is_reported_failed():
    pid = _killed_pid()
    with dg.DagsterInstance.ephemeral() as instance:
        for status in (dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING):
            run_id = f"killed-{status.value.lower()}"
            _add_run(instance, run_id, status)
            log = _Log()
            assert fail_dead_holder_run(instance, _holder(pid, run_id), log, "new-run")
            assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
            (message,) = _failure_messages(instance, run_id)
            assert f"pid {pid}" in message and "new-run" in message and "dead" in message
            assert log.lines[0][0] == "warning" and f"pid {pid}" in log.lines[0][1]


def test_finished_unknown_and_own_runs_are_left_alone():
    pid = _killed_pid()
    with dg.DagsterInstance.ephemeral() as instance:
        for status in (
            dg.DagsterRunStatus.SUCCESS,
            dg.DagsterRunStatus.FAILURE,
            dg.DagsterRunStatus.CANCELED,
        ):
            _add_run(instance, status.value, status)
            assert not fail_dead_holder_run(instance, _holder(pid, status.value), _Log())
            assert instance.get_run_by_id(status.value).status == status
            assert not _failure_messages(instance, status.value)
        log = _Log()
        assert not fail_dead_holder_run(instance, _holder(pid, "not-in-this-instance"), log)
        assert "not in this Dagster instance" in log.lines[0][1]
        assert not fail_dead_holder_run(instance, {"pid": pid}, _Log()), "no run id"
        _add_run(instance, "me", dg.DagsterRunStatus.STARTED)
        assert not fail_dead_holder_run(instance, _holder(pid, "me"), _Log(), "me")
        assert instance.get_run_by_id("me").status == dg.DagsterRunStatus.STARTED


@dg.asset
def _locked_step(warehouse_lock: WarehouseLock) -> None:
    del warehouse_lock


def test_the_resource_fails_the_killed_run_and_carries_on(tmp_path, monkeypatch):
    warehouse = tmp_path / "w.duckdb"
    monkeypatch.setenv("SMALLGROUPS_DUCKDB_PATH", str(warehouse))
    monkeypatch.setenv("SMALLGROUPS_LOCK_WAIT_SECONDS", "0")
    pid = _killed_pid()
    with dg.DagsterInstance.ephemeral() as instance:
        killed = _add_run(instance, "killed-run", dg.DagsterRunStatus.STARTED)
        # What a holder killed with kill -9 leaves: its line, and no lock.
        since = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        lock_path(warehouse).write_text(json.dumps({**_holder(pid, killed.run_id), "since": since}))
        result = dg.materialize(
            [_locked_step], instance=instance, resources={"warehouse_lock": WarehouseLock()}
        )
        assert result.success
        assert instance.get_run_by_id("killed-run").status == dg.DagsterRunStatus.FAILURE
        (message,) = _failure_messages(instance, "killed-run")
        assert f"pid {pid}" in message and result.run_id in message
        warnings = [
            entry.user_message
            for entry in instance.all_logs(result.run_id)
            if entry.level == 30 and "killed-run" in entry.user_message
        ]
        assert warnings and f"pid {pid}" in warnings[0]
        # Released normally: a next run has nothing to report.
        again = dg.materialize(
            [_locked_step], instance=instance, resources={"warehouse_lock": WarehouseLock()}
        )
        assert again.success and lock_path(warehouse).read_text() == ""
