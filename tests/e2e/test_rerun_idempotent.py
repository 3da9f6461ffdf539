"""Re-running a refresh on unchanged input changes nothing a reader sees.

The real pipeline runs twice on the same generated raw folder and the same working
warehouse (the first run is the session's shared demo build, copied; the second is the
nightly refresh with no new file on that copy); every table of the
two published snapshots has the same row count and the same order-independent checksum
(orchestration/lib/warehouse/checksums.py: run bookkeeping columns left out, doubles at 9
significant digits, so rankings, ids and labels must agree exactly). Only the
publication record, which names the run, differs.
"""

import shutil

import pytest

from orchestration.lib.warehouse.checksums import table_checksums

pytestmark = pytest.mark.e2e


def test_unchanged_rerun_publishes_identical_marts(tmp_path, demo_build, run_pipeline):
    # The shared build (1,500 users x 60 days: large enough for ties in the rankings of
    # lookalikes, affinity, key members and topics) is the first run; the refresh runs
    # on a copy of its raw folder and warehouse, with a Dagster home of its own.
    for name in ("raw", "truth"):
        shutil.copytree(demo_build / name, tmp_path / name)
    shutil.copy2(demo_build / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    serving = tmp_path / "warehouse_serving.duckdb"
    shutil.copy2(demo_build / "warehouse_serving.duckdb", tmp_path / "first_serving.duckdb")

    second = run_pipeline(
        tmp_path,
        SMALLGROUPS_RAW_DIR=str(tmp_path / "raw"),
        SMALLGROUPS_TRUTH_DIR=str(tmp_path / "truth"),
    )
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-6000:]

    before = table_checksums(tmp_path / "first_serving.duckdb")
    after = table_checksums(serving)
    assert set(before) == set(after)
    published = {name for name in before if name.endswith(".smallgroups_publication")}
    assert len(published) == 1 and len(before) > 30
    assert sum(count for count, _ in before.values()) > 10_000, "the marts are not trivial"
    changed = sorted(
        f"{name}: {before[name]} -> {after[name]}"
        for name in before
        if name not in published and before[name] != after[name]
    )
    assert not changed, changed
