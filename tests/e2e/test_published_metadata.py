"""The Dagster UI's page of the published snapshot answers the first questions after a
run: the rejected rows by reason, the top groups and the growth curve, as markdown read
back from the published file (lib/warehouse/ui_metadata), on the shared demo build."""

import os
from contextlib import contextmanager

import dagster as dg
import duckdb
import pytest

pytestmark = pytest.mark.e2e


@contextmanager
def _instance(home):
    """The Dagster instance of the run history in ``home`` (DAGSTER_HOME restored after)."""
    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        with dg.DagsterInstance.get() as instance:
            yield instance
    finally:
        if previous is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous


def test_published_snapshot_metadata_shows_rejects_top_groups_and_growth(demo_build):
    with _instance(demo_build / "dagster_home") as instance:
        event = instance.get_latest_materialization_event(
            dg.AssetKey(["serving", "published_snapshot"])
        )
    assert event is not None
    metadata = event.asset_materialization.metadata

    with duckdb.connect(str(demo_build / "warehouse_serving.duckdb"), read_only=True) as con:
        rejected = con.execute("select count(*) from stg_product__rejected_rows").fetchone()[0]
        reasons = con.execute(
            "select distinct rejection_reason from stg_product__rejected_rows"
        ).fetchall()
        best = con.execute(
            "select coalesce(community_label, group_name, community_id) "
            "from rpt_high_potential_communities "
            "where snapshot_date = (select max(snapshot_date) from rpt_high_potential_communities) "
            "order by potential_rank, group_kind, community_id limit 1"
        ).fetchone()[0]
        days, last_dau = con.execute(
            "select count(*), arg_max(count_dau, kpi_date) from fct_kpi_daily"
        ).fetchone()

    assert rejected > 0, "the demo plants bad rows"
    assert metadata["rejected_rows"].value == rejected
    by_reason = metadata["rejected_rows_by_reason"].value
    assert all(f"| {reason} |" in by_reason for (reason,) in reasons)
    assert "| 1 | " in metadata["top_groups"].value and best in metadata["top_groups"].value
    growth = metadata["growth_curve"].value
    assert growth.startswith("`")
    if days <= 60:  # drawn day by day, ending on the last day's DAU
        assert len(growth.splitlines()[0]) == days + 2 and f"-> {last_dau:,} " in growth
    else:
        assert "weekly mean DAU" in growth
    assert "DAU inflection" in growth or "No inflection detected on DAU." in growth


def test_invariant_checks_ran_and_passed_on_the_demo(demo_build):
    from orchestration.defs.invariants import INVARIANTS

    with _instance(demo_build / "dagster_home") as instance:
        run = instance.get_runs(limit=1)[0]
        records = instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=10_000
        ).records
    evaluations = {
        (
            evaluation.asset_check_key.asset_key.to_user_string(),
            evaluation.asset_check_key.name,
        ): evaluation
        for evaluation in (
            record.event_log_entry.dagster_event.event_specific_data for record in records
        )
    }
    for schema, table in INVARIANTS:
        evaluation = evaluations[(f"{schema}/{table}", f"{table}_invariants_hold")]
        counts = {k: v.value for k, v in evaluation.metadata.items()}
        assert evaluation.passed, (table, counts)
        assert set(counts) == set(INVARIANTS[(schema, table)][1])
