"""The quiet-history benchmark case: a demo data set stretched into bursts and long gaps."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.demo.generator import generate
from orchestration.lib.demo.quiet import main, stretch_history

DAYS, BURST, GAP = 20, 7, 60


@pytest.fixture(scope="module")
def stretched(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("quiet")
    generate(root / "raw", root / "truth", n_users=300, n_days=DAYS, seed=5, bad_row_share=0.02)
    stretch_history(root / "raw", root / "quiet", burst_days=BURST, gap_days=GAP)
    return root / "raw", root / "quiet"


def _rows(con, folder: Path, table: str) -> int:
    pattern = folder / "events" / "*.parquet" if table == "events" else folder / f"{table}.parquet"
    return con.execute(f"select count(*) from read_parquet('{pattern}')").fetchone()[0]


def test_same_rows_and_files(stretched) -> None:
    src, out = stretched
    con = duckdb.connect()
    for path in [*src.glob("*.parquet"), src / "events"]:
        table = path.stem if path.suffix else "events"
        assert _rows(con, out, table) == _rows(con, src, table), table
    assert len(list((out / "events").glob("*.parquet"))) == DAYS


def test_files_come_in_bursts_with_gaps(stretched) -> None:
    src, out = stretched
    first = date.fromisoformat(min(p.stem for p in (src / "events").glob("*.parquet")))
    got = sorted(date.fromisoformat(p.stem) for p in (out / "events").glob("*.parquet"))
    want = [first + timedelta(days=d + (d // BURST) * GAP) for d in range(DAYS)]
    assert got == want
    assert (got[-1] - got[0]).days == DAYS - 1 + (-(-DAYS // BURST) - 1) * GAP


def test_event_order_and_day_are_kept(stretched) -> None:
    """The map is increasing and moves by whole days: order and time of day are kept."""
    src, out = stretched
    con = duckdb.connect()
    query = """
        select event_id, user_id, event_type, strftime(occurred_at, '%H:%M:%S.%f')
        from read_parquet('{}/events/*.parquet') order by occurred_at, event_id, user_id, event_type
    """
    before = con.execute(query.format(src)).fetchall()
    after = con.execute(query.format(out)).fetchall()
    assert len(before) == _rows(con, src, "events")
    assert after == before
    # Planted bad timestamps (1999, 2099) stay outside the valid range.
    bad = con.execute(
        f"select count(*) from read_parquet('{out}/events/*.parquet') "
        "where year(occurred_at) between 2000 and 2090"
    ).fetchone()[0]
    valid = con.execute(
        f"select count(*) from read_parquet('{src}/events/*.parquet') "
        "where year(occurred_at) between 2000 and 2090"
    ).fetchone()[0]
    assert bad == valid


def test_errors_name_the_problem(tmp_path: Path, capsys) -> None:
    (tmp_path / "events").mkdir()
    with pytest.raises(ValueError, match="no daily event files"):
        stretch_history(tmp_path, tmp_path / "out")
    with pytest.raises(ValueError, match="burst_days"):
        stretch_history(tmp_path, tmp_path / "out", burst_days=0)
    assert main(["--src", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "no daily event files" in capsys.readouterr().err
