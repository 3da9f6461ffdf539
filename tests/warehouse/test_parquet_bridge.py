"""The Python steps through the Parquet bridge (orchestration/lib/warehouse/
parquet_bridge.py). The community snapshot step: the same tables as the step on a
DuckDB warehouse, written atomically, read back so only new weeks are computed, and a
clear error on a missing input table or column. The growth-inflection step: the same
table as on DuckDB, rewritten whole, the same errors."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.lib.communities import store
from orchestration.lib.communities.refresh import refresh_snapshots
from orchestration.lib.config import dbt_project_var
from orchestration.lib.kpi import store as kpi_store
from orchestration.lib.kpi.refresh import refresh_inflections
from orchestration.lib.warehouse import parquet_bridge
from orchestration.lib.warehouse.parquet_bridge import (
    COMMUNITY_STEP,
    INFLECTION_STEP,
    OUTPUT_FILE,
    BridgeInputError,
    run_step,
)
from orchestration.lib.warehouse.tables import ddl_columns
from tests.communities.test_snapshot_refresh import FIRST_DAY, SETTINGS, _load, _tables
from tests.kpi.test_inflection_refresh import _load as load_kpi_inputs


def _warehouse(last_day=None, *, load=_load, **kwargs) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse with a step's input models (``load``: the community step's
    by default, up to ``last_day``)."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    load(con, *([last_day] if last_day else []), **kwargs)
    return con


def _export(con: duckdb.DuckDBPyConnection, in_dir: Path, models=store.INPUT_MODELS) -> None:
    """The input models as Spark lays out a table: a folder of part files per model."""
    for name in models:
        folder = in_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        con.execute(f"copy main.{name} to '{folder / 'part-00000.parquet'}' (format parquet)")
    (in_dir / models[0] / "_SUCCESS").touch()


def _read(out_dir: Path) -> dict[str, pd.DataFrame]:
    con = duckdb.connect()
    con.execute("create schema communities")
    for name in store.TABLES:
        con.execute(
            f"create table communities.{name} as "
            f"select * from read_parquet('{out_dir / name / OUTPUT_FILE}')"
        )
    tables = _tables(con)
    con.close()
    return tables


@pytest.fixture
def dirs(tmp_path):
    con = _warehouse(FIRST_DAY + timedelta(days=23))
    _export(con, tmp_path / "in")
    con.close()
    return tmp_path / "in", tmp_path / "out"


def test_the_step_on_parquet_writes_what_it_writes_into_duckdb(dirs):
    in_dir, out_dir = dirs
    stats = run_step(COMMUNITY_STEP, in_dir, out_dir, SETTINGS)
    con = _warehouse(FIRST_DAY + timedelta(days=23))
    direct = refresh_snapshots(con, SETTINGS)
    expected = _tables(con)
    con.close()
    got = _read(out_dir)
    assert (
        stats["computed_dates"] == direct["computed_dates"] and len(direct["computed_dates"]) == 4
    )
    for name in store.TABLES:
        pd.testing.assert_frame_equal(got[name], expected[name], check_dtype=False)
    assert stats["written_rows"] == direct["row_counts"]
    assert stats["written_rows"]["community_assignments"] == 4 * 12
    assert stats["input_rows"]["dim_users"] == 12
    # Spark reads a folder: only the part file, no temporary file left beside it.
    assert sorted(p.name for p in (out_dir / "community_stats").iterdir()) == [OUTPUT_FILE]


def test_a_second_run_reads_the_stored_snapshots_back_and_computes_only_new_weeks(dirs):
    in_dir, out_dir = dirs
    run_step(COMMUNITY_STEP, in_dir, out_dir, SETTINGS)
    first = _read(out_dir)
    again = run_step(COMMUNITY_STEP, in_dir, out_dir, SETTINGS)
    # The provisional snapshot (Wednesday) is replaced, the complete weeks are kept.
    assert again["snapshots_stored_before"] == 4 and again["computed_dates"] == [
        FIRST_DAY + timedelta(days=23)
    ]
    assert again["stored_rows_before"]["community_assignments"] == 4 * 12
    second = _read(out_dir)
    for name in store.TABLES:
        pd.testing.assert_frame_equal(second[name], first[name])


def test_a_failed_write_leaves_the_previous_files_whole(dirs, monkeypatch):
    in_dir, out_dir = dirs
    run_step(COMMUNITY_STEP, in_dir, out_dir, SETTINGS)
    before = {name: (out_dir / name / OUTPUT_FILE).read_bytes() for name in store.TABLES}
    real = parquet_bridge.write_parquet_atomically
    calls = []

    def failing(con, query, target):
        calls.append(target)
        if len(calls) == 3:  # two tables written to temporary files, the third fails
            raise OSError("disk full")
        return real(con, query, target)

    monkeypatch.setattr(parquet_bridge, "write_parquet_atomically", failing)
    with pytest.raises(OSError, match="disk full"):
        run_step(COMMUNITY_STEP, in_dir, out_dir, SETTINGS, recompute_all=True)
    after = {name: (out_dir / name / OUTPUT_FILE).read_bytes() for name in store.TABLES}
    assert after == before
    leftovers = [p for p in out_dir.rglob("*") if p.is_file() and p.name != OUTPUT_FILE]
    assert leftovers == []


def test_the_temporary_file_is_hidden_until_renamed(tmp_path):
    con = duckdb.connect()
    target = tmp_path / "t" / OUTPUT_FILE
    temporary = parquet_bridge.write_parquet_atomically(con, "select 1 as a", target)
    assert temporary.name.startswith(".") and not target.exists()
    assert list((tmp_path / "t").glob("*.parquet")) == []
    assert con.execute(f"select a from read_parquet('{temporary}')").fetchall() == [(1,)]
    con.close()


def test_a_missing_input_table_is_named(dirs):
    in_dir, out_dir = dirs
    for path in (in_dir / "dim_users").iterdir():
        path.unlink()
    (in_dir / "dim_users").rmdir()
    with pytest.raises(BridgeInputError, match=r"table dim_users: neither .*dim_users"):
        run_step(COMMUNITY_STEP, in_dir, out_dir, SETTINGS)
    assert not out_dir.exists()


def test_an_input_folder_without_parquet_files_is_named(dirs):
    in_dir, out_dir = dirs
    (in_dir / "edge_kind_weights" / "part-00000.parquet").unlink()
    with pytest.raises(BridgeInputError, match=r"table edge_kind_weights: no \*\.parquet"):
        run_step(COMMUNITY_STEP, in_dir, out_dir, SETTINGS)


def test_a_missing_input_column_is_named(dirs):
    in_dir, out_dir = dirs
    path = in_dir / "int_co_memberships_paired" / "part-00000.parquet"
    con = duckdb.connect()
    frame = con.execute(f"select * exclude (shared_until) from read_parquet('{path}')").df()
    con.close()
    path.unlink()
    frame.to_parquet(in_dir / "int_co_memberships_paired.parquet")
    (in_dir / "int_co_memberships_paired").rmdir()
    with pytest.raises(
        BridgeInputError, match=r"table int_co_memberships_paired .* has no column shared_until"
    ):
        run_step(COMMUNITY_STEP, in_dir, out_dir, SETTINGS)


def test_stored_outputs_missing_a_table_are_refused(dirs):
    in_dir, out_dir = dirs
    run_step(COMMUNITY_STEP, in_dir, out_dir, SETTINGS)
    (out_dir / "community_events" / OUTPUT_FILE).unlink()
    with pytest.raises(BridgeInputError, match="lack community_events"):
        run_step(COMMUNITY_STEP, in_dir, out_dir, SETTINGS)


def test_the_cli_prints_the_rows_and_reports_a_missing_input(dirs, capsys):
    in_dir, out_dir = dirs
    assert parquet_bridge.main(["community_snapshots", str(in_dir), str(out_dir / "e")]) == 0
    printed = capsys.readouterr().out
    assert "community_snapshot_runs\t" in printed and "snapshots computed" in printed
    assert parquet_bridge.main(["community_snapshots", str(out_dir), str(out_dir / "x")]) == 2
    assert "error: table int_user_edges_weekly" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # a step the bridge does not know
        parquet_bridge.main(["no_such_step", str(in_dir), str(out_dir / "y")])


@pytest.mark.parametrize(
    ("step", "step_store"),
    [(COMMUNITY_STEP, store), (INFLECTION_STEP, kpi_store)],
    ids=lambda value: getattr(value, "name", ""),
)
def test_the_bridge_reads_every_model_the_step_reads(step, step_store):
    assert set(step.inputs) == set(step_store.INPUT_MODELS)
    assert (step.schema, step.tables) == (step_store.SCHEMA, step_store.TABLES)
    assert parquet_bridge.STEPS[step.name] is step


def test_the_spark_export_writes_the_models_the_steps_read():
    """dbt's export_python_step_inputs (macros/spark_python_steps.sql) loops over this
    var, and register_python_step_tables over the sources of the steps."""
    assert dbt_project_var("python_step_input_models") == {
        COMMUNITY_STEP.name: list(store.INPUT_MODELS),
        INFLECTION_STEP.name: list(kpi_store.INPUT_MODELS),
    }
    assert dbt_project_var("python_step_sources") == [store.SCHEMA, kpi_store.SCHEMA]


# The growth-inflection step through the same bridge: it reads fct_kpi_daily and the
# accepted interventions and experiments, and rewrites kpi.growth_inflections whole.


def _kpi_warehouse(*, flat: bool = False) -> duckdb.DuckDBPyConnection:
    return _warehouse(load=load_kpi_inputs, flat=flat)


def _export_kpi(con: duckdb.DuckDBPyConnection, in_dir: Path) -> None:
    _export(con, in_dir, kpi_store.INPUT_MODELS)


def _read_inflections(out_dir: Path) -> pd.DataFrame:
    path = out_dir / "growth_inflections" / OUTPUT_FILE
    with duckdb.connect() as con:
        return con.execute(f"select * from read_parquet('{path}') order by all").df()


def test_the_inflection_step_on_parquet_writes_what_it_writes_into_duckdb(tmp_path):
    con = _kpi_warehouse()
    _export_kpi(con, tmp_path / "in")
    direct = refresh_inflections(con)
    expected = con.execute("select * from kpi.growth_inflections order by all").df()
    con.close()
    stats = run_step(INFLECTION_STEP, tmp_path / "in", tmp_path / "out")
    got = _read_inflections(tmp_path / "out")
    pd.testing.assert_frame_equal(got, expected)
    # Not trivial: the planted bend of count_dau, with what started before it.
    assert direct["inflections_per_series"]["count_dau"] == 1
    assert stats["inflections_per_series"] == direct["inflections_per_series"]
    assert stats["written_rows"] == {"growth_inflections": direct["count_inflections"]}
    assert stats["input_rows"]["fct_kpi_daily"] == 90
    assert "i_launch" in set(got["intervention_ids"])
    assert sorted(p.name for p in (tmp_path / "out" / "growth_inflections").iterdir()) == [
        OUTPUT_FILE
    ]


def test_the_inflection_step_rewrites_its_table_whole(tmp_path):
    con = _kpi_warehouse()
    _export_kpi(con, tmp_path / "in")
    con.close()
    first = run_step(INFLECTION_STEP, tmp_path / "in", tmp_path / "out")
    assert first["count_inflections"] >= 1
    # Flat series: no bend. Nothing stored is read back, the table is replaced, empty,
    # with the declared columns and types.
    con = _kpi_warehouse(flat=True)
    _export_kpi(con, tmp_path / "in")
    con.close()
    again = run_step("growth_inflections", tmp_path / "in", tmp_path / "out")
    assert again["stored_rows_before"] == {} and again["written_rows"] == {"growth_inflections": 0}
    path = tmp_path / "out" / "growth_inflections" / OUTPUT_FILE
    with duckdb.connect() as con:
        described = con.execute(f"describe select * from read_parquet('{path}')").fetchall()
    assert [(row[0], row[1]) for row in described] == [
        (name, kind.upper()) for name, kind in ddl_columns(kpi_store.TABLES["growth_inflections"])
    ]


def test_a_missing_inflection_input_table_or_column_is_named(tmp_path, capsys):
    con = _kpi_warehouse()
    _export_kpi(con, tmp_path / "in")
    con.close()
    shutil.rmtree(tmp_path / "in" / "stg_product__experiments")
    with pytest.raises(BridgeInputError, match=r"table stg_product__experiments: neither"):
        run_step(INFLECTION_STEP, tmp_path / "in", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    # fct_kpi_daily without one of the series the step fits.
    path = tmp_path / "in" / "fct_kpi_daily" / "part-00000.parquet"
    with duckdb.connect() as con:
        frame = con.execute(f"select * exclude (count_dau) from read_parquet('{path}')").df()
    frame.to_parquet(path)
    con = _kpi_warehouse()
    _export_kpi(con, tmp_path / "other")
    con.close()
    shutil.move(tmp_path / "other" / "stg_product__experiments", tmp_path / "in")
    with pytest.raises(BridgeInputError, match=r"table fct_kpi_daily .* has no column count_dau"):
        run_step(INFLECTION_STEP, tmp_path / "in", tmp_path / "out")
    assert parquet_bridge.main(["growth_inflections", str(tmp_path / "in"), str(tmp_path)]) == 2
    assert "error: table fct_kpi_daily" in capsys.readouterr().err
