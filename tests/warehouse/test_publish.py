"""Publishing the serving snapshot: atomic, consistent, readable by BI clients while the
next one is written, and nothing published when a run cannot publish."""

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import sqlalchemy

from orchestration.lib.warehouse.publish import (
    PUBLICATION_TABLE,
    publish_snapshot,
    read_publication,
    remove_stale_temporaries,
    serving_tables_from_manifest,
)

TABLES = ["dim_users", "fct_kpi_daily"]


def _build(path: Path, users: int) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(
            "create or replace table dim_users as select range as user_id from range(?)", [users]
        )
        con.execute(
            "create or replace table fct_kpi_daily as "
            "select date '2026-01-01' + range::int as day, range * 2 as dau from range(?)",
            [users // 2],
        )


def _cli() -> str:
    found = shutil.which("duckdb") or str(Path(sys.executable).parent / "duckdb")
    if not Path(found).exists():
        pytest.fail("the duckdb CLI (dev dependency duckdb-cli) is not installed")
    return found


def test_publishes_tables_and_their_counts(tmp_path):
    working, serving = tmp_path / "w.duckdb", tmp_path / "s.duckdb"
    _build(working, 10)
    publication = publish_snapshot(working, serving, TABLES, "run-1")
    assert publication.row_counts == {"dim_users": 10, "fct_kpi_daily": 5}
    with duckdb.connect(str(serving), read_only=True) as con:
        info = read_publication(con)
        assert info["run_id"] == "run-1"
        assert info["row_counts"] == publication.row_counts
        assert con.execute("select sum(dau) from fct_kpi_daily").fetchone()[0] == 20
    assert not list(tmp_path.glob(".s.duckdb.*")), "no temporary file left behind"


def test_a_reader_keeps_its_snapshot_and_the_next_connection_sees_the_new_one(tmp_path):
    working, serving = tmp_path / "w.duckdb", tmp_path / "s.duckdb"
    _build(working, 10)
    publish_snapshot(working, serving, TABLES, "run-1")
    held = duckdb.connect(str(serving), read_only=True)
    _build(working, 30)
    # The writer is never blocked by the reader holding the serving file open.
    publish_snapshot(working, serving, TABLES, "run-2")
    assert read_publication(held)["run_id"] == "run-1"
    assert held.execute("select count(*) from dim_users").fetchone()[0] == 10
    held.close()
    with duckdb.connect(str(serving), read_only=True) as fresh:
        assert read_publication(fresh)["run_id"] == "run-2"
        assert fresh.execute("select count(*) from dim_users").fetchone()[0] == 30


def test_a_missing_table_publishes_nothing(tmp_path):
    working, serving = tmp_path / "w.duckdb", tmp_path / "s.duckdb"
    _build(working, 10)
    publish_snapshot(working, serving, TABLES, "run-1")
    before = serving.read_bytes()
    with pytest.raises(ValueError, match="missing table.*fct_missing"):
        publish_snapshot(working, serving, [*TABLES, "fct_missing"], "run-2")
    assert serving.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.duckdb", "w.duckdb"]
    # A table declared optional is skipped instead.
    publication = publish_snapshot(
        working, serving, [*TABLES, "fct_missing"], "run-3", optional={"fct_missing"}
    )
    assert set(publication.row_counts) == set(TABLES)


def test_serving_must_not_be_the_working_warehouse(tmp_path):
    working = tmp_path / "w.duckdb"
    _build(working, 2)
    with pytest.raises(ValueError, match="must differ"):
        publish_snapshot(working, working, TABLES, "run-1")


def test_half_written_snapshots_of_a_killed_run_are_removed(tmp_path):
    serving = tmp_path / "s.duckdb"
    stale = tmp_path / ".s.duckdb.4242.publishing"
    stale.write_bytes(b"half a file")
    other = tmp_path / ".other.duckdb.1.publishing"
    other.write_bytes(b"not ours")
    assert remove_stale_temporaries(serving) == [stale]
    assert not stale.exists() and other.exists()


def test_bi_clients_read_the_snapshot_while_the_next_one_is_published(tmp_path):
    working, serving = tmp_path / "w.duckdb", tmp_path / "s.duckdb"
    _build(working, 10)
    publish_snapshot(working, serving, TABLES, "run-1")
    # SQLAlchemy through duckdb-engine, as Superset and Metabase-style tools connect.
    engine = sqlalchemy.create_engine(f"duckdb:///{serving}", connect_args={"read_only": True})
    with engine.connect() as bi:
        query = sqlalchemy.text(
            f"select run_id, row_count from {PUBLICATION_TABLE} where table_name = 'dim_users'"
        )
        assert bi.execute(query).fetchone() == ("run-1", 10)
        # The DuckDB CLI (1.5 series) in read-only mode, a second reader process that
        # keeps the file open across the publication.
        cli = subprocess.Popen(
            [_cli(), "-readonly", "-csv", str(serving)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

        def ask(sql: str) -> list[str]:
            cli.stdin.write(sql + "\n")
            cli.stdin.flush()
            return [cli.stdout.readline().strip(), cli.stdout.readline().strip()]

        assert ask("select count(*) as n from dim_users;") == ["n", "10"]
        _build(working, 30)
        publish_snapshot(working, serving, TABLES, "run-2")
        assert ask("select count(*) as n from dim_users;") == ["n", "10"]
        cli.stdin.close()
        assert cli.wait(timeout=60) == 0
        assert bi.execute(query).fetchone() == ("run-1", 10)
    engine.dispose()
    with sqlalchemy.create_engine(
        f"duckdb:///{serving}", connect_args={"read_only": True}
    ).connect() as bi:
        assert bi.execute(query).fetchone() == ("run-2", 30)
    done = subprocess.run(
        [_cli(), "-readonly", "-csv", str(serving), "select count(*) as n from dim_users"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout.split() == ["n", "30"], done.stderr


def test_serving_tables_are_the_marts_and_the_rejects():
    manifest = {
        "nodes": {
            "model.p.dim_users": {
                "resource_type": "model",
                "name": "dim_users",
                "alias": "dim_users",
                "fqn": ["p", "marts", "core", "dim_users"],
                "config": {"materialized": "table"},
            },
            "model.p.stg_x": {
                "resource_type": "model",
                "name": "stg_x",
                "alias": "stg_x",
                "fqn": ["p", "staging", "stg_x"],
                "config": {"materialized": "view"},
            },
            "model.p.eph": {
                "resource_type": "model",
                "name": "eph",
                "alias": "eph",
                "fqn": ["p", "marts", "eph"],
                "config": {"materialized": "ephemeral"},
            },
            "test.p.t": {"resource_type": "test", "name": "t", "fqn": ["p", "marts", "t"]},
        }
    }
    assert serving_tables_from_manifest(manifest) == ["dim_users", "stg_product__rejected_rows"]
