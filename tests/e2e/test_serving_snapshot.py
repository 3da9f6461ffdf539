"""Readers and the writer never meet, on the real pipeline (fixture data set).

BI clients hold the published snapshot open during a whole refresh: the refresh succeeds,
each read sees one run's snapshot (the row counts of two marts agree with that run's
publication record), a held connection keeps the old snapshot, the next connection sees
the new one. A second refresh started meanwhile stops with a message naming the first,
and a failed run publishes nothing.
"""

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
import sqlalchemy

from orchestration.lib.config import PROJECT_DIR
from orchestration.lib.warehouse.lock import lock_path
from tests.pipeline_folders import dagster_home_in_memory

pytestmark = pytest.mark.e2e

_COUNTED = ("dim_users", "fct_user_activity_daily")
_READ = (
    "select p.run_id, "
    + ", ".join(
        f"(select row_count from smallgroups_publication where table_name = '{t}'), "
        f"(select count(*) from {t})"
        for t in _COUNTED
    )
    + " from smallgroups_publication as p limit 1"
)


# A reader that opens a new connection for every read until the stop file appears; prints
# one JSON line per read (the row, or the error).
_POLLER = """
import json, os, sys, time
import duckdb
path, query, stop = sys.argv[1:]
while not os.path.exists(stop):
    try:
        with duckdb.connect(path, read_only=True) as con:
            print(json.dumps({"row": list(con.execute(query).fetchone())}), flush=True)
    except Exception as error:
        print(json.dumps({"error": repr(error)}), flush=True)
    time.sleep(0.05)
"""


def _env(tmp_path: Path, raw_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "SMALLGROUPS_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "DBT_TARGET_PATH": str(tmp_path / "dbt_target"),
        "SMALLGROUPS_RAW_DIR": str(raw_dir),
        **extra,
    }
    env.pop("SMALLGROUPS_TRUTH_DIR", None)
    env.pop("SMALLGROUPS_SERVING_PATH", None)
    return env


def _start(tmp_path: Path, name: str, raw_dir: Path, **extra: str) -> subprocess.Popen:
    (tmp_path / "dagster_home").mkdir(exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "run", "--log-level", "WARNING"],
        cwd=PROJECT_DIR,
        env=_env(tmp_path, raw_dir, **extra),
        stdout=open(tmp_path / f"{name}.out", "w"),  # noqa: SIM115 - closed with the process
        stderr=open(tmp_path / f"{name}.err", "w"),  # noqa: SIM115
        text=True,
    )


def _finish(process: subprocess.Popen, tmp_path: Path, name: str) -> tuple[int, str, str]:
    code = process.wait(timeout=900)
    return code, (tmp_path / f"{name}.out").read_text(), (tmp_path / f"{name}.err").read_text()


def _consistent(row) -> bool:
    _, published_a, counted_a, published_b, counted_b = row
    return published_a == counted_a and published_b == counted_b


def _cli() -> str:
    found = shutil.which("duckdb") or str(Path(sys.executable).parent / "duckdb")
    if not Path(found).exists():
        pytest.fail("the duckdb CLI (dev dependency duckdb-cli) is not installed")
    return found


@pytest.fixture
def dagster_home(tmp_path):
    """The runs' Dagster home, in memory while the test runs (tests/pipeline_folders.py)."""
    with dagster_home_in_memory(tmp_path / "dagster_home") as home:
        yield home


def test_readers_never_block_a_refresh_and_never_see_a_mix(tmp_path, fixture_raw_dir, dagster_home):
    serving = tmp_path / "warehouse_serving.duckdb"
    # The raw folder stays where it is from one night to the next (staging remembers the
    # event files it loaded by path).
    raw = tmp_path / "raw"
    shutil.copytree(fixture_raw_dir, raw)
    code, out, err = _finish(_start(tmp_path, "first", raw), tmp_path, "first")
    assert code == 0, out[-2000:] + err[-4000:]
    assert str(serving) in out

    with duckdb.connect(str(serving), read_only=True) as con:
        first = con.execute(_READ).fetchone()
    assert _consistent(first)

    # The next day's export: three more users sign up.
    with open(raw / "users.csv", "a", encoding="utf-8") as handle:
        for n in (21, 22, 23):
            handle.write(f"u{n},2026-01-06 10:00:00,US,en-US,organic,\n")

    # Readers: a BI client (SQLAlchemy + duckdb-engine) holding its connection, the DuckDB
    # CLI holding the file, and a poller opening a new connection for every read.
    engine = sqlalchemy.create_engine(f"duckdb:///{serving}", connect_args={"read_only": True})
    held = engine.connect()
    cli = subprocess.Popen(
        [_cli(), "-readonly", "-csv", "-noheader", str(serving)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )

    def ask_cli() -> str:
        cli.stdin.write("select run_id from smallgroups_publication limit 1;\n")
        cli.stdin.flush()
        return cli.stdout.readline().strip()

    assert ask_cli() == first[0]
    # The fresh-connection reader is its own process: inside one process DuckDB shares one
    # database instance per path, so a second connection would reuse the held one's file.
    fresh = subprocess.Popen(
        [sys.executable, "-c", _POLLER, str(serving), _READ, str(tmp_path / "stop")],
        stdout=subprocess.PIPE,
        text=True,
    )
    mixed, errors = [], []
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            try:
                row = held.execute(sqlalchemy.text(_READ)).fetchone()
                if tuple(row) != first:
                    mixed.append(("held", tuple(row)))
            except Exception as error:  # a reader must never fail: record, assert below
                errors.append(repr(error))
            time.sleep(0.05)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        second = _start(tmp_path, "second", raw)
        # Once the second refresh holds the lock, a third one must stop at once.
        deadline = time.monotonic() + 120
        while (
            time.monotonic() < deadline
            and not lock_path(tmp_path / "warehouse.duckdb").read_text(encoding="utf-8").strip()
        ):
            time.sleep(0.2)
        third = _start(tmp_path, "third", raw, SMALLGROUPS_LOCK_WAIT_SECONDS="0")
        code3, out3, err3 = _finish(third, tmp_path, "third")
        code2, out2, err2 = _finish(second, tmp_path, "second")
    finally:
        stop.set()
        poller.join()
        (tmp_path / "stop").touch()
        fresh_out, _ = fresh.communicate(timeout=60)
    reads = [json.loads(line) for line in fresh_out.splitlines()]
    errors += [read["error"] for read in reads if "error" in read]
    seen = [read["row"][0] for read in reads if "row" in read]
    mixed += [
        ("fresh", read["row"]) for read in reads if "row" in read and not _consistent(read["row"])
    ]
    assert code2 == 0, out2[-2000:] + err2[-4000:]
    assert code3 == 1 and "another refresh is running" in err3, out3[-2000:] + err3[-3000:]
    assert not errors, errors[:3]
    assert not mixed, mixed[:3]
    assert len(seen) > 20, "the readers kept reading during the refresh"

    # Held readers keep their snapshot; new connections see the new one.
    assert ask_cli() == first[0]
    cli.stdin.close()
    cli.wait(timeout=60)
    assert tuple(held.execute(sqlalchemy.text(_READ)).fetchone()) == first
    held.close()
    engine.dispose()
    with duckdb.connect(str(serving), read_only=True) as con:
        latest = con.execute(_READ).fetchone()
    assert latest[0] != first[0] and _consistent(latest)
    assert latest[2] == first[2] + 3, "the new users are in the new snapshot"
    assert set(seen) <= {first[0], latest[0]}

    # A run that fails publishes nothing: the snapshot stays the second run's.
    broken = tmp_path / "raw_broken"
    shutil.copytree(raw, broken)
    (broken / "users.csv").unlink()
    code4, out4, err4 = _finish(_start(tmp_path, "fourth", broken), tmp_path, "fourth")
    assert code4 == 1 and "users" in err4 and "left as it was" in err4, err4[-3000:]
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute(_READ).fetchone() == latest
