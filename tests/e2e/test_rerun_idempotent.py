"""Re-running a refresh on unchanged input changes nothing a reader sees.

The real pipeline runs twice on the same generated raw folder and the same working
warehouse (the second run is the nightly refresh with no new file); every table of the
two published snapshots has the same row count and the same order-independent checksum
(orchestration/lib/warehouse/checksums.py: run bookkeeping columns left out, doubles at 9
significant digits, so rankings, ids and labels must agree exactly). Only the
publication record, which names the run, differs.
"""

import shutil

import pytest

from orchestration.lib.demo.generator import generate
from orchestration.lib.warehouse.checksums import table_checksums

pytestmark = pytest.mark.e2e

# Large enough for ties in the rankings (lookalikes, affinity, key members, topics).
N_USERS, N_DAYS, SEED = 1500, 60, 11


def test_unchanged_rerun_publishes_identical_marts(tmp_path, run_pipeline):
    generate(tmp_path / "raw", tmp_path / "truth", n_users=N_USERS, n_days=N_DAYS, seed=SEED)
    serving = tmp_path / "warehouse_serving.duckdb"

    first = run_pipeline(tmp_path, SMALLGROUPS_RAW_DIR=str(tmp_path / "raw"))
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-6000:]
    shutil.copy2(serving, tmp_path / "first_serving.duckdb")

    second = run_pipeline(tmp_path, SMALLGROUPS_RAW_DIR=str(tmp_path / "raw"))
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
