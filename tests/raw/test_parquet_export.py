"""The raw layer as Parquet (orchestration/lib/raw/parquet_export.py, the spark target's)."""

import shutil

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.lib.raw import RawDataError, register_raw_tables
from orchestration.lib.raw.contract import TABLES
from orchestration.lib.raw.parquet_export import RAW_PARQUET_TABLES, export_raw_parquet


def test_every_raw_view_is_written_with_the_same_rows_and_lineage(tmp_path, fixture_raw_dir):
    raw = tmp_path / "raw"
    shutil.copytree(fixture_raw_dir, raw)
    # A malformed record: captured by the loader, exported as _malformed_lines.
    with open(raw / "users.csv", "a", encoding="utf-8") as handle:
        handle.write('u_broken,"2026-01-01,CN\n')
    counts = export_raw_parquet(raw, tmp_path / "out")
    assert set(counts) == set(RAW_PARQUET_TABLES)
    assert RAW_PARQUET_TABLES[-1] == "_malformed_lines"
    assert {t.name for t in TABLES} <= set(counts)

    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    register_raw_tables(con, raw)
    for name in RAW_PARQUET_TABLES:
        files = sorted((tmp_path / "out" / name).iterdir())
        assert [f.name for f in files] == ["part-0.parquet"], name
        written = pq.read_table(files[0])
        expected = con.execute(f'select * from raw."{name}"').to_arrow_table()
        assert written.column_names == expected.column_names, name
        assert written.num_rows == counts[name] == expected.num_rows, name
        assert written.to_pylist() == expected.to_pylist(), name
        if name != "_malformed_lines":
            assert {"_source_file", "_source_row_number"} <= set(written.column_names)
    assert counts["_malformed_lines"] >= 1
    assert counts["interventions"] == 0  # absent optional table: empty, with its columns


def test_a_rewrite_replaces_the_folder_and_a_broken_contract_writes_nothing(
    tmp_path, fixture_raw_dir
):
    raw = tmp_path / "raw"
    shutil.copytree(fixture_raw_dir, raw)
    out = tmp_path / "out"
    export_raw_parquet(raw, out)
    (out / "users" / "stale.parquet").write_bytes(b"")
    export_raw_parquet(raw, out)
    assert sorted(p.name for p in (out / "users").iterdir()) == ["part-0.parquet"]

    (raw / "users.csv").unlink()
    with pytest.raises(RawDataError, match="users"):
        export_raw_parquet(raw, tmp_path / "out2")
    assert not (tmp_path / "out2").exists()
