"""End to end: moving the raw folder does not make its history look new.

``base_product__events`` is incremental: a run reads only the event files whose
``_source_file`` it has not stored yet. ``_source_file`` is the path relative to the raw
folder (``events/2026-01-05.parquet``), so a raw folder that is moved, copied or mounted
elsewhere (SMALLGROUPS_RAW_DIR changes, no file added) is read as already loaded: no event
becomes a ``duplicate_key`` and ``stg_product__events`` keeps its rows.

The fixture's events become an ``events/`` folder of two daily Parquet files (every
column text, as in the CSV), the form the incremental filter is made for. Three runs on
one warehouse: at A; after moving A to B; then, with the stored ``_source_file`` values
rewritten to absolute paths under B (what a warehouse built before the change holds),
after moving B to C, so the pre-hook that makes stored paths relative is exercised too.
What is checked lies in staging, so the runs materialize the raw tables and the staging
models these figures come from (with their dbt tests), not the whole job.
"""

import shutil

import duckdb
import pytest

pytestmark = pytest.mark.e2e

BASE_EVENTS = "base_product__events"
# The models _figures reads and everything upstream of them (raw tables, base models).
STAGING = "+key:stg_product__events or +key:stg_product__rejected_rows"


def _raw_dir_with_daily_event_files(fixture_raw_dir, raw):
    """A copy of the fixture whose events are ``events/<day>.parquet`` files."""
    shutil.copytree(fixture_raw_dir, raw)
    (raw / "events").mkdir()
    csv = str(raw / "events.csv").replace("'", "''")
    with duckdb.connect() as con:
        con.execute(
            f"create table events as select *, row_number() over () as n "
            f"from read_csv('{csv}', header = true, all_varchar = true)"
        )
        for day, rows in (("2026-01-05", "n <= 12"), ("2026-01-06", "n > 12")):
            target = str(raw / "events" / f"{day}.parquet").replace("'", "''")
            con.execute(f"copy (select * exclude (n) from events where {rows}) to '{target}'")
    (raw / "events.csv").unlink()


def _figures(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (accepted,) = con.execute("select count(*) from stg_product__events").fetchone()
        (duplicates,) = con.execute(
            "select count(*) from stg_product__rejected_rows "
            "where source_table = 'events' and rejection_reason = 'duplicate_key'"
        ).fetchone()
        (rejected,) = con.execute(
            "select count(*) from stg_product__rejected_rows where source_table = 'events'"
        ).fetchone()
        files = [
            row[0]
            for row in con.execute(
                f"select distinct _source_file from {BASE_EVENTS} order by 1"
            ).fetchall()
        ]
    return {"accepted": accepted, "duplicates": duplicates, "rejected": rejected}, files


def test_moved_raw_folder_is_not_read_again(tmp_path, run_selected, fixture_raw_dir):
    folder_a, folder_b, folder_c = (tmp_path / name / "raw" for name in ("a", "b", "c"))
    _raw_dir_with_daily_event_files(fixture_raw_dir, folder_a)
    warehouse = tmp_path / "warehouse.duckdb"
    daily_files = ["events/2026-01-05.parquet", "events/2026-01-06.parquet"]

    first = run_selected(tmp_path, STAGING, SMALLGROUPS_RAW_DIR=str(folder_a))
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-6000:]
    figures, files = _figures(warehouse)
    # The fixture's own duplicate (e1 twice) is the only duplicate_key.
    assert figures["duplicates"] == 1 and figures["accepted"] == 10

    folder_b.parent.mkdir()
    shutil.move(folder_a, folder_b)
    moved = run_selected(tmp_path, STAGING, SMALLGROUPS_RAW_DIR=str(folder_b))
    assert moved.returncode == 0, moved.stdout[-3000:] + moved.stderr[-6000:]
    assert _figures(warehouse)[0] == figures
    assert files == _figures(warehouse)[1] == daily_files

    # A warehouse built before _source_file was relative stored absolute paths.
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            f"update {BASE_EVENTS} set _source_file = ? || '/' || _source_file",
            [str(folder_b)],
        )
    folder_c.parent.mkdir()
    shutil.move(folder_b, folder_c)
    upgraded = run_selected(tmp_path, STAGING, SMALLGROUPS_RAW_DIR=str(folder_c))
    assert upgraded.returncode == 0, upgraded.stdout[-3000:] + upgraded.stderr[-6000:]
    assert _figures(warehouse)[0] == figures
    assert _figures(warehouse)[1] == daily_files
