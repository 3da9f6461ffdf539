"""A refresh killed with ``kill -9`` and run again ends where an uninterrupted run ends.

The real pipeline (``smallgroups run``) runs on the CSV fixture. A reference run builds a
warehouse without interruption; its published snapshot and every table of its working
warehouse (all schemas but ``raw``: the marts, staging, the Python steps' tables) are
checksummed (orchestration/lib/warehouse/checksums.py, run bookkeeping columns left out).
Killed runs get their own process group and ``SIGKILL`` takes the whole group, so the
dbt child process dies with the Dagster process. The kill points are found from outside,
without hooks in the pipeline: the Dagster event log of the run's ``DAGSTER_HOME`` (the
first dbt model materialized inside a dbt step, the start of the Python step
``community_snapshots``) and the serving file's temporary (``.<name>.<pid>.publishing``,
publish.py) for publishing.

Two lanes run side by side to keep the test short:

* a fresh warehouse killed during dbt, run again and killed in ``community_snapshots``,
  then run to completion: every table equals the reference;
* the reference warehouse published again (a run of the publication step alone,
  tests/run_selected.py: the step is the same, the way to it costs seconds instead of a
  whole refresh) and killed while publishing: the previous snapshot is still whole and
  readable, then a whole refresh to completion publishes the reference's tables and
  removes the temporary.

Each run after a kill starts although the killed run's Dagster record still says
STARTED, and takes the lock the kernel released. Taking it, it finds the killed run's
line in the lock file, sees that process dead and reports the killed run failed
(orchestration/defs/lock.py): afterwards every killed run is FAILURE, with a message
naming its pid, instead of STARTED forever.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.lib.config import PROJECT_DIR
from orchestration.lib.warehouse.checksums import table_checksums
from orchestration.lib.warehouse.publish import PUBLICATION_TABLE, read_publication
from tests.pipeline_folders import dagster_home_in_memory

pytestmark = pytest.mark.e2e

_DBT_STEP = "smallgroups_dbt_assets"
_PYTHON_STEP = "community_snapshots"
_PUBLISH_STEP = "serving__published_snapshot"
_POLL = 0.02


def _env(home: Path, raw_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "DAGSTER_HOME": str(home / "dagster_home"),
        "SMALLGROUPS_DUCKDB_PATH": str(home / "warehouse.duckdb"),
        "DBT_TARGET_PATH": str(home / "dbt_target"),
        "SMALLGROUPS_RAW_DIR": str(raw_dir),
        "SMALLGROUPS_LOCK_WAIT_SECONDS": "0",
    }
    env.pop("SMALLGROUPS_TRUTH_DIR", None)
    env.pop("SMALLGROUPS_SERVING_PATH", None)
    return env


_REFRESH = ("-m", "orchestration.cli", "run", "--log-level", "WARNING")
# The publication step alone (its upstream assets are the reference run's).
_PUBLISH_ONLY = ("-m", "tests.run_selected", "key:serving/published_snapshot")


def _start(home: Path, raw_dir: Path, name: str, command=_REFRESH) -> subprocess.Popen:
    (home / "dagster_home").mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, *command],
        cwd=PROJECT_DIR,
        env=_env(home, raw_dir),
        stdout=open(home / f"{name}.out", "w"),  # noqa: SIM115 - closed with the process
        stderr=open(home / f"{name}.err", "w"),  # noqa: SIM115
        start_new_session=True,
    )


def _complete(home: Path, raw_dir: Path, name: str) -> None:
    process = _start(home, raw_dir, name)
    code = process.wait(timeout=900)
    out = (home / f"{name}.out").read_text()
    err = (home / f"{name}.err").read_text()
    assert code == 0, f"{name}: " + out[-2000:] + err[-4000:]


def _instance(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(home / "dagster_home"))


def _started_run_id(instance: dg.DagsterInstance, known: set[str]) -> str | None:
    for run in instance.get_runs():
        if run.run_id not in known:
            return run.run_id
    return None


def _events(instance: dg.DagsterInstance, run_id: str) -> list[tuple[str, str | None]]:
    return [
        (entry.dagster_event.event_type_value, entry.step_key)
        for entry in instance.all_logs(run_id)
        if entry.dagster_event is not None
    ]


class _NewEvents:
    """The events of one run as ``_events`` gives them, read on from a cursor: a poll
    costs the events written since the last one, not the whole log, so the poller sees
    a step start within a poll interval even late in a run (a fixture run writes ~2,000
    events; ``community_snapshots`` lasts about a second and a half)."""

    def __init__(self, instance: dg.DagsterInstance, run_id: str):
        self.instance, self.run_id = instance, run_id
        self.cursor: str | None = None
        self.seen: list[tuple[str, str | None]] = []

    def read(self) -> list[tuple[str, str | None]]:
        while True:
            page = self.instance.get_records_for_run(self.run_id, cursor=self.cursor, limit=500)
            self.seen += [
                (
                    record.event_log_entry.dagster_event.event_type_value,
                    record.event_log_entry.step_key,
                )
                for record in page.records
                if record.event_log_entry.dagster_event is not None
            ]
            self.cursor = page.cursor
            if not page.has_more:
                return self.seen


def _group_commands(pgid: int) -> list[str]:
    """Command lines of the live (not zombie) processes of a process group, from /proc."""
    commands = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            # Fields after the parenthesised command: state, ppid, pgrp, ...
            state, _, group = stat.rsplit(")", 1)[1].split()[:3]
            if int(group) != pgid or state in ("Z", "X"):  # a zombie is dead already
                continue
            commands.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ValueError, IndexError):
            continue
    return commands


def _kill_when(
    home: Path, raw_dir: Path, name: str, reached, timeout: float = 600, command=_REFRESH
) -> dict:
    """Start a run (``command``), poll until ``reached(events)`` is true (the run's events so
    far), kill its process group with SIGKILL; return what was seen at the kill and the
    run's events after it."""
    instance = _instance(home) if (home / "dagster_home" / "dagster.yaml").exists() else None
    known = {run.run_id for run in instance.get_runs()} if instance else set()
    started = time.monotonic()
    process = _start(home, raw_dir, name, command)
    run_id, tail = None, None
    deadline = started + timeout
    while True:
        assert process.poll() is None, (
            f"{name} ended before the kill point: " + ((home / f"{name}.err").read_text()[-4000:])
        )
        assert time.monotonic() < deadline, f"{name}: kill point not reached"
        if instance is None and (home / "dagster_home" / "dagster.yaml").exists():
            instance = _instance(home)
        if instance is not None:
            run_id = run_id or _started_run_id(instance, known)
            if run_id is not None:
                tail = tail or _NewEvents(instance, run_id)
                if reached(tail.read()):
                    break
        time.sleep(_POLL)
    group = _group_commands(process.pid)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    survivors = _group_commands(process.pid)
    for _ in range(50):  # the group's other members (dbt) go with it
        if not survivors:
            break
        time.sleep(0.1)
        survivors = _group_commands(process.pid)
    assert not survivors, f"a process of the killed run survived: {survivors}"
    return {
        "run_id": run_id,
        "pid": process.pid,
        "seconds": time.monotonic() - started,
        "processes": group,
        "events": _events(instance, run_id),
        "status": instance.get_run_by_id(run_id).status,
    }


def _dbt_model_built(events) -> bool:
    return any(
        kind == "ASSET_MATERIALIZATION" and (step or "").startswith(_DBT_STEP)
        for kind, step in events
    )


def _python_step_started(events) -> bool:
    return ("STEP_START", _PYTHON_STEP) in events


def _temporaries(serving: Path) -> list[Path]:
    return sorted(serving.parent.glob(f".{serving.name}.*.publishing*"))


def _state(home: Path) -> tuple[dict, dict]:
    """Checksums of the published tables (without the publication record, which names the
    run) and of every table of the working warehouse."""
    serving = table_checksums(home / "warehouse_serving.duckdb")
    serving = {k: v for k, v in serving.items() if not k.endswith("." + PUBLICATION_TABLE)}
    return serving, table_checksums(home / "warehouse.duckdb")


def _differences(state: tuple[dict, dict], reference: tuple[dict, dict]) -> list[str]:
    found = []
    for label, got, want in zip(("serving", "working"), state, reference, strict=True):
        for name in sorted(set(got) | set(want)):
            if got.get(name) != want.get(name):
                found.append(f"{label} {name}: {want.get(name)} -> {got.get(name)}")
    return found


def _run_id(serving: Path) -> str:
    with duckdb.connect(str(serving), read_only=True) as con:
        return read_publication(con)["run_id"]


def _fresh_lane(home: Path, raw_dir: Path) -> dict:
    """Fresh warehouse: killed during dbt, then during a Python step, then completed."""
    timings = {}
    t0 = time.monotonic()
    dbt_kill = _kill_when(home, raw_dir, "killed_in_dbt", _dbt_model_built)
    timings["killed_in_dbt"] = dbt_kill["seconds"]
    python_kill = _kill_when(home, raw_dir, "killed_in_python", _python_step_started)
    timings["killed_in_python"] = python_kill["seconds"]
    t2 = time.monotonic()
    _complete(home, raw_dir, "after_kills")
    timings["run_after_kills"] = time.monotonic() - t2
    timings["lane"] = time.monotonic() - t0
    return {"dbt": dbt_kill, "python": python_kill, "timings": timings}


def _reference_lane(home: Path, raw_dir: Path) -> dict:
    """The reference run, then a publication of it killed while publishing, then a refresh
    completed."""
    timings = {}
    t0 = time.monotonic()
    _complete(home, raw_dir, "reference")
    timings["reference"] = time.monotonic() - t0
    serving = home / "warehouse_serving.duckdb"
    reference = _state(home)
    reference_run = _run_id(serving)
    t1 = time.monotonic()
    publish_kill = _kill_when(
        home,
        raw_dir,
        "killed_publishing",
        lambda *_: _temporaries(serving),
        command=_PUBLISH_ONLY,
    )
    timings["killed_publishing"] = time.monotonic() - t1
    publish_kill["temporaries"] = _temporaries(serving)
    # The previous snapshot is untouched: whole, readable, the reference run's.
    publish_kill["serving_run"] = _run_id(serving)
    publish_kill["serving_after_kill"] = _state(home)[0]
    t2 = time.monotonic()
    _complete(home, raw_dir, "after_publish_kill")
    timings["run_after_publish_kill"] = time.monotonic() - t2
    timings["lane"] = time.monotonic() - t0
    return {
        "reference": reference,
        "reference_run": reference_run,
        "publish": publish_kill,
        "timings": timings,
    }


def test_killed_runs_recover_to_the_uninterrupted_state(tmp_path, fixture_raw_dir):
    started = time.monotonic()
    # The Dagster homes are in memory while the runs write them (tests/pipeline_folders.py)
    # and on disk again for the assertions below.
    with (
        dagster_home_in_memory(tmp_path / "fresh" / "dagster_home"),
        dagster_home_in_memory(tmp_path / "reference" / "dagster_home"),
        ThreadPoolExecutor(max_workers=2) as pool,
    ):
        fresh_future = pool.submit(_fresh_lane, tmp_path / "fresh", fixture_raw_dir)
        reference_future = pool.submit(_reference_lane, tmp_path / "reference", fixture_raw_dir)
        reference_lane = reference_future.result()
        fresh_lane = fresh_future.result()
    print(
        "\nkill recovery timings (s):",
        {k: round(v, 1) for k, v in fresh_lane["timings"].items()},
        {k: round(v, 1) for k, v in reference_lane["timings"].items()},
        f"total {time.monotonic() - started:.1f}",
    )
    reference = reference_lane["reference"]
    assert len(reference[0]) > 30 and len(reference[1]) > len(reference[0])
    assert sum(count for count, _ in reference[0].values()) > 300, "the marts are not trivial"

    # Killed where intended: dbt was running, the Python step had not finished, the
    # publication had not finished (its temporary was being written).
    dbt_kill, python_kill, publish_kill = (
        fresh_lane["dbt"],
        fresh_lane["python"],
        reference_lane["publish"],
    )
    assert any("dbt" in command and " build" in command for command in dbt_kill["processes"])
    assert ("STEP_SUCCESS", _PYTHON_STEP) not in python_kill["events"], "killed too late"
    assert ("STEP_SUCCESS", _PUBLISH_STEP) not in publish_kill["events"], "killed too late"
    assert publish_kill["temporaries"], "the kill left no trace of a publication in progress"
    assert publish_kill["serving_run"] == reference_lane["reference_run"]
    assert publish_kill["serving_after_kill"] == reference[0]

    # The next run was not blocked by the killed one (its record still said STARTED),
    # and marked it failed, naming the dead process.
    fresh_home, reference_home = tmp_path / "fresh", tmp_path / "reference"
    for kill, home in (
        (dbt_kill, fresh_home),
        (python_kill, fresh_home),
        (publish_kill, reference_home),
    ):
        assert kill["status"] == dg.DagsterRunStatus.STARTED
        instance = _instance(home)
        assert instance.get_run_by_id(kill["run_id"]).status == dg.DagsterRunStatus.FAILURE
        failures = [
            entry.dagster_event.message
            for entry in instance.all_logs(kill["run_id"])
            if entry.dagster_event is not None
            and entry.dagster_event.event_type == dg.DagsterEventType.RUN_FAILURE
        ]
        assert len(failures) == 1 and f"pid {kill['pid']}" in failures[0], failures

    # Every table equals the uninterrupted run's; no temporary is left.
    assert not _differences(_state(fresh_home), reference), _differences(
        _state(fresh_home), reference
    )
    assert not _differences(_state(reference_home), reference), _differences(
        _state(reference_home), reference
    )
    assert not _temporaries(reference_home / "warehouse_serving.duckdb")
    assert _run_id(reference_home / "warehouse_serving.duckdb") != reference_lane["reference_run"]
