"""End to end on the hand-written CSV fixture: every raw row either lands in staging or
in the rejects table with exactly the reason the fixture states for it."""

import json

import duckdb
import pytest

pytestmark = pytest.mark.e2e

TABLES = (
    "users",
    "groups",
    "group_memberships",
    "events",
    "contents",
    "experiments",
    "experiment_assignments",
)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, run_pipeline, fixture_raw_dir):
    tmp_path = tmp_path_factory.mktemp("fixture_run")
    result = run_pipeline(tmp_path, SMALLGROUPS_RAW_DIR=str(fixture_raw_dir))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    yield con, result.stdout
    con.close()


@pytest.mark.parametrize("table", TABLES)
def test_every_row_gets_the_expected_reason(warehouse, table):
    con, _ = warehouse
    expected = con.execute(
        f"select count(*) from raw.{table} where coalesce(expected_rejection_reason, '') != ''"
    ).fetchone()[0]
    rejected = con.execute(
        "select source_key, rejection_reason, raw_record from stg_product__rejected_rows "
        "where source_table = ?",
        [table],
    ).fetchall()
    assert len(rejected) == expected > 0
    for key, reason, record in rejected:
        assert json.loads(record)["expected_rejection_reason"] == reason, key
    accepted = con.execute(f"select count(*) from stg_product__{table}").fetchone()[0]
    raw = con.execute(f"select count(*) from raw.{table}").fetchone()[0]
    assert raw == accepted + len(rejected)


def test_offsets_become_utc_and_enums_are_normalised(warehouse):
    con, _ = warehouse
    assert con.execute(
        "select cast(signed_up_at as varchar), locale, country, acquisition_channel "
        "from stg_product__users where user_id = 'u1'"
    ).fetchone() == ("2026-01-01 00:00:00", "zh-CN", "CN", "organic")
    assert con.execute(
        "select event_type, cast(occurred_at as varchar) from stg_product__events "
        "where event_id = 'e4'"
    ).fetchone() == ("mention", "2026-01-05 13:00:00")


def test_edges_and_profile_on_known_rows(warehouse):
    con, stdout = warehouse
    # u1-u2: a reply (3), a mention (2) and one shared 3-member group (0.5 x 1).
    assert con.execute(
        "select count_replies, count_mentions, is_reciprocal, edge_weight "
        "from fct_user_edges where user_id_a = 'u1' and user_id_b = 'u2'"
    ).fetchone() == (1, 1, True, 5.5)
    assert con.execute(
        "select count_posts, count_comments, is_group_member, count_groups_joined "
        "from dim_users where user_id = 'u1'"
    ).fetchone() == (1, 1, True, 1)
    # u4 left g1: no longer a member of any group.
    assert con.execute("select is_group_member from dim_users where user_id = 'u4'").fetchone() == (
        False,
    )
    assert "rejected:" in stdout and "fct_user_edges" in stdout


def test_docs_site_documents_the_marts_offline(warehouse, tmp_path):
    """`smallgroups docs` (make docs) writes one HTML file with every model, its columns
    and the warehouse's catalog inlined, and loads nothing from the network."""
    import os
    import re
    import shutil
    import subprocess
    import sys

    con, _ = warehouse
    (path,) = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(path, copy)  # dbt opens it for writing; the fixture holds a reader
    env = {**os.environ, "SMALLGROUPS_DUCKDB_PATH": str(copy), "DBT_TARGET_PATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "docs", "--out", str(tmp_path / "site")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    for name in ("dim_communities", "community_label", "fct_kpi_daily", "exposure."):
        assert name in html, name
    # The catalog of the built warehouse is inlined after the manifest, with the marts.
    catalog = html[html.index('catalog:{"metadata"') :]
    assert '"model.smallgroups.dim_communities"' in catalog
    assert not re.findall(r"<script[^>]+src=[\"']https?://", html)
    assert not re.findall(r"<link[^>]+href=[\"']https?://", html)
