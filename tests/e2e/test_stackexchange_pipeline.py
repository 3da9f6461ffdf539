"""End to end on the project's tiny Stack Exchange dump: the raw asset imports it (the
source is chosen by SMALLGROUPS_STACKEXCHANGE_DUMP) and the whole pipeline runs on it."""

from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.e2e

DUMP = Path(__file__).resolve().parents[1] / "fixtures" / "stackexchange_tiny"


def test_whole_pipeline_on_a_stackexchange_dump(tmp_path, run_pipeline):
    result = run_pipeline(
        tmp_path,
        SMALLGROUPS_STACKEXCHANGE_DUMP=str(DUMP),
        SMALLGROUPS_RAW_DIR=str(tmp_path / "raw"),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    assert (tmp_path / "raw" / "_import_report.json").exists()
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        users = con.execute("select count(*) from dim_users").fetchone()[0]
        edges = con.execute("select count(*), sum(count_replies) from fct_user_edges").fetchone()
        groups = con.execute("select count(*) from dim_groups where category = 'tag'").fetchone()
        kpi_days = con.execute("select count(*) from fct_kpi_daily").fetchone()[0]
    assert users > 0 and edges[0] > 0 and edges[1] > 0
    assert groups[0] > 0 and kpi_days > 0
