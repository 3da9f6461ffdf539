"""End to end: malformed lines in a nightly CSV export do not cost the night's refresh.

The fixture's events.csv gets an unterminated quote followed by undecodable bytes and a
NUL, and a line with too few columns. The run succeeds, the good rows load as without
them, each malformed record lands in stg_product__rejected_rows (reason malformed_line,
file, line, raw text) in the published snapshot too, and raw = accepted + rejected
(the dbt test assert_raw_rows_accounted_for, which would fail the run, and here again).
"""

import json
import shutil

import duckdb
import pytest

pytestmark = pytest.mark.e2e

BAD_LINES = b'e99,u1,"post,2026\x00\xff\xfe broken\ne100,u1,post\n'


def test_malformed_lines_are_rejected_and_the_good_rows_load(
    tmp_path, run_pipeline, fixture_raw_dir
):
    raw = tmp_path / "raw"
    shutil.copytree(fixture_raw_dir, raw)
    good = (raw / "events.csv").read_bytes()
    (raw / "events.csv").write_bytes(good + BAD_LINES)
    good_records = good.count(b"\n") - 1  # the header is line 1

    result = run_pipeline(tmp_path, SMALLGROUPS_RAW_DIR=str(raw))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]

    with duckdb.connect(str(tmp_path / "warehouse_serving.duckdb"), read_only=True) as con:
        malformed = con.execute(
            "select source_file, source_line_number, source_row_number, raw_record "
            "from stg_product__rejected_rows "
            "where source_table = 'events' and rejection_reason = 'malformed_line' "
            "order by source_line_number"
        ).fetchall()
        other_rejects = con.execute(
            "select count(*) from stg_product__rejected_rows "
            "where source_table = 'events' and rejection_reason != 'malformed_line'"
        ).fetchone()[0]
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        accepted = con.execute("select count(*) from stg_product__events").fetchone()[0]
        expected_rejects = con.execute(
            "select count(*) from raw.events where coalesce(expected_rejection_reason, '') != ''"
        ).fetchone()[0]
        parsed = con.execute("select count(*) from raw.events").fetchone()[0]

    assert [line for _, line, _, _ in malformed] == [good_records + 2, good_records + 3]
    assert all(file.endswith("events.csv") and row is None for file, _, row, _ in malformed)
    records = [json.loads(record) for *_, record in malformed]
    assert records[0]["raw_line"].startswith('e99,u1,"post,2026')
    assert records[1]["raw_line"] == "e100,u1,post"
    # The good rows: each accepted or rejected with the fixture's stated reason.
    assert parsed == good_records
    assert other_rejects == expected_rejects
    assert parsed == accepted + other_rejects
