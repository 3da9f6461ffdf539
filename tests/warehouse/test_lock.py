"""The refresh lock: a second holder waits or stops with a message naming the first, and a
holder killed with SIGKILL leaves no stale lock, only its line, which the next holder
reports as a dead holder."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestration.lib.warehouse.lock import (
    WarehouseBusyError,
    dead_lock_holder,
    holder_is_dead,
    lock_path,
    warehouse_lock,
)

_HOLD = textwrap.dedent(
    """
    import sys, time
    from orchestration.lib.warehouse.lock import warehouse_lock
    with warehouse_lock(sys.argv[1], run_id="holder-run"):
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


def _hold(warehouse, seconds: float) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(warehouse), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert process.stdout.readline().strip() == "locked"
    return process


def test_a_second_refresh_stops_naming_the_running_one(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    holder = _hold(warehouse, 60)
    try:
        with (
            pytest.raises(WarehouseBusyError, match=rf"pid {holder.pid} \(run holder-run"),
            warehouse_lock(warehouse, run_id="second", wait_seconds=0),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_a_second_refresh_waits_for_the_first_to_finish(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    holder = _hold(warehouse, 1.5)
    told = []
    started = time.monotonic()
    with warehouse_lock(
        warehouse, run_id="second", wait_seconds=30, poll_seconds=0.1, on_wait=told.append
    ):
        waited = time.monotonic() - started
        assert '"run_id": "second"' in lock_path(warehouse).read_text()
    holder.wait()
    assert 0.5 < waited < 30
    assert len(told) == 1 and "holder-run" in told[0]
    assert lock_path(warehouse).read_text() == "", "released and emptied"


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    holder = _hold(warehouse, 60)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with warehouse_lock(warehouse, run_id="after-kill", wait_seconds=0):
        pass


def test_threads_of_one_process_exclude_each_other(tmp_path):
    """flock is per open file, so two refreshes in one process exclude each other too."""
    warehouse = tmp_path / "w.duckdb"
    inside = threading.Event()
    release = threading.Event()

    def first():
        with warehouse_lock(warehouse, run_id="first"):
            inside.set()
            release.wait(30)

    thread = threading.Thread(target=first)
    thread.start()
    assert inside.wait(30)
    try:
        with pytest.raises(WarehouseBusyError), warehouse_lock(warehouse, run_id="second"):
            pass
    finally:
        release.set()
        thread.join()


def _dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_the_lock_file_records_pid_run_id_and_host(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    with warehouse_lock(warehouse, run_id="r-1"):
        info = json.loads(lock_path(warehouse).read_text())
    assert info["pid"] == os.getpid() and info["run_id"] == "r-1"
    assert info["host"] == socket.gethostname() and info["since"]


def test_a_holder_killed_with_sigkill_is_handed_to_on_dead_holder(tmp_path, caplog):
    warehouse = tmp_path / "w.duckdb"
    holder = _hold(warehouse, 60)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    seen = []
    with warehouse_lock(warehouse, run_id="after-kill", on_dead_holder=seen.append):
        assert len(seen) == 1, "called before the block runs"
    assert seen[0]["pid"] == holder.pid and seen[0]["run_id"] == "holder-run"
    assert any(
        f"pid {holder.pid}, run holder-run" in r.message and "died holding the lock" in r.message
        for r in caplog.records
    )
    # Released normally: the next holder finds an empty file and nothing to report.
    with warehouse_lock(warehouse, run_id="next", on_dead_holder=seen.append):
        pass
    assert len(seen) == 1


def test_a_failing_on_dead_holder_does_not_stop_the_refresh(tmp_path, caplog):
    warehouse = tmp_path / "w.duckdb"
    lock_path(warehouse).write_text(json.dumps({"pid": _dead_pid(), "run_id": "gone"}))

    def broken(holder):
        raise RuntimeError("instance unreachable")

    entered = False
    with warehouse_lock(warehouse, run_id="r", on_dead_holder=broken):
        entered = True
    assert entered
    assert any("on_dead_holder failed" in r.message for r in caplog.records)


def test_holder_is_dead():
    since = datetime.now(UTC).isoformat(timespec="seconds")
    me = {"pid": os.getpid(), "run_id": "r", "since": since, "host": socket.gethostname()}
    assert not holder_is_dead(me), "this process runs"
    assert holder_is_dead({**me, "pid": _dead_pid()})
    assert holder_is_dead({"pid": _dead_pid(), "run_id": "older line without host"})
    assert not holder_is_dead({**me, "pid": _dead_pid(), "host": "another-host"}), "unknowable"
    assert not holder_is_dead({**me, "pid": None}) and not holder_is_dead({**me, "pid": "12"})
    # This pid now belongs to a process started long after that holder took the lock.
    assert holder_is_dead({**me, "since": "2001-01-01T00:00:00+00:00"})


def test_a_zombie_holder_is_dead(tmp_path):
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        for _ in range(200):  # ended, not reaped: state Z
            if Path(f"/proc/{zombie.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                break
            time.sleep(0.01)
        since = datetime.now(UTC).isoformat(timespec="seconds")
        assert holder_is_dead({"pid": zombie.pid, "since": since})
    finally:
        zombie.wait()


def test_dead_lock_holder_names_a_killed_holder_only(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    assert dead_lock_holder(warehouse) is None, "no lock file"
    holder = _hold(warehouse, 60)
    try:
        assert dead_lock_holder(warehouse) is None, "held by a live process"
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    found = dead_lock_holder(warehouse)
    assert found is not None and found["pid"] == holder.pid and found["run_id"] == "holder-run"
    assert dead_lock_holder(warehouse) == found, "the line stays for the next refresh"
    seen = []
    with warehouse_lock(warehouse, run_id="next", on_dead_holder=seen.append):
        assert dead_lock_holder(warehouse) is None, "held again"
    assert seen == [found]
    assert dead_lock_holder(warehouse) is None, "released normally: an empty file"
