"""The refresh lock: a second holder waits or stops with a message naming the first, and a
holder killed with SIGKILL leaves no stale lock."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from orchestration.lib.warehouse.lock import WarehouseBusyError, lock_path, warehouse_lock

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
