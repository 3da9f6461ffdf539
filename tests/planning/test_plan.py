"""``smallgroups plan``: the groups, key members, expected effect and the verifying
experiment's assignments, on a fixture warehouse."""

import duckdb
import pandas as pd
import pytest

from orchestration.lib.experiments.design import ASSIGNMENT_COLUMNS
from orchestration.lib.planning.plan import build_plan, design_verifying_experiment, format_plan
from orchestration.lib.planning.replication import COLUMNS

SNAPSHOT = pd.Timestamp("2026-03-01")


def _row(intervention_id, rank, kind, community_id, similarity, basis, effect, dau, **more):
    row = dict.fromkeys(COLUMNS)
    row.update(
        intervention_id=intervention_id, intervention_type="pilot", replication_rank=rank,
        group_kind=kind, community_id=community_id, count_members=10, similarity=similarity,
        ranking_basis=basis, predicted_effect=effect, effect_ci_low=effect - 0.1,
        effect_ci_high=effect + 0.1, expected_dau_contribution=dau,
        expected_posts_per_day_contribution=2 * dau, pilot_relative_effect=0.5,
        recommended_design="community-randomized: ...", snapshot_date=SNAPSHOT, **more,
    )  # fmt: skip
    return row


@pytest.fixture
def con(tmp_path):
    """Two pilots of type ``pilot``: c1 appears under both (its best row is kept).

    Detected candidates c1..c5 (c2, c3 forecast-ranked), one declared group:g1.
    """
    rows = [
        _row("iv1", 1, "detected", "c2", 0.5, "forecast", 0.9, 3.0),
        _row("iv1", 2, "detected", "c3", 0.4, "forecast", 0.4, 1.0),
        _row("iv1", 3, "detected", "c1", 0.6, "similarity", 0.2, 2.0),
        _row("iv1", 4, "declared", "group:g1", 0.95, "similarity", 0.2, 5.0),
        _row("iv2", 1, "detected", "c1", 0.9, "similarity", 0.3, 1.5),
        _row("iv2", 2, "detected", "c4", 0.3, "similarity", 0.3, 0.5),
        _row("iv2", 3, "detected", "c5", 0.2, "similarity", 0.3, 0.25),
    ]
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    con.register("r", pd.DataFrame(rows))
    con.execute("create table rpt_pilot_replication as select * from r")
    con.execute(
        "create table rpt_high_potential_key_members as select * from (values"
        " ('detected', 'c2', 1, 'u21', 'key_member', 'key member: ...'),"
        " ('detected', 'c2', 2, 'u22', 'key_member', 'key member: ...'),"
        " ('detected', 'c9', 1, 'u91', 'key_member', 'key member: ...'))"
        " t(group_kind, community_id, contact_rank, user_id, member_role, reason)"
    )
    con.execute(
        "create table fct_experiment_power as select * from (values"
        " ('community', 'posts_per_member_day', 0.05, 0.8, 100.0, 100.0, 0.1, 0.05))"
        " t(unit_type, metric_name, alpha, power, count_units_control, count_units_variant,"
        " mde_relative, mde_relative_cuped)"
    )
    members = [(f"c{c}", f"u{c}{i}") for c in range(1, 8) for i in range(1, 4)]
    con.register("m", pd.DataFrame(members, columns=["community_id", "user_id"]))
    con.execute(
        "create table stg_communities__assignments as select ?::date as snapshot_date,"
        " community_id, user_id, 'member' as membership_status from m",
        [SNAPSHOT],
    )
    con.execute(
        "create table fct_community_health as select ?::date as snapshot_date,"
        " 'detected' as group_kind, community_id, 50.0 + length(community_id) as health_score"
        " from (select distinct community_id from m)",
        [SNAPSHOT],
    )
    con.execute("create table int_events_priced as select ?::timestamp as occurred_at", [SNAPSHOT])
    con.execute(
        "create table int_user_edges_weekly as select * from (values"
        " ('u11', 'u21', ?::date, 1.0)) t(user_id_a, user_id_b, week_start_date,"
        " interaction_weight)",
        [SNAPSHOT],
    )
    yield con
    con.close()


def test_each_group_once_forecast_first_and_the_next_ones_for_control(con):
    plan = build_plan(con, "pilot", 2)
    candidates = plan["candidates"]
    # forecast-ranked by effect, then by similarity (c1 keeps its iv2 row: 0.9)
    assert candidates["community_id"].tolist() == ["c2", "c3", "c1", "c4"]
    assert candidates["is_planned"].tolist() == [True, True, False, False]
    assert candidates.set_index("community_id").loc["c1", "intervention_id"] == "iv2"
    assert plan["group_kind"] == "detected"  # declared group:g1 is of the other kind
    assert plan["pilots"] == ["iv1", "iv2"]
    assert plan["expected"]["dau"] == pytest.approx(3.0 + 1.0)
    assert plan["expected"]["posts_per_day"] == pytest.approx(8.0)
    # the experiment treats a random 2 of the 4: their mean x 2
    assert plan["expected"]["dau_under_experiment"] == pytest.approx((3 + 1 + 1.5 + 0.5) / 2)
    assert plan["ranking_basis"] == {"forecast": 2}
    assert plan["key_members"]["user_id"].tolist() == ["u21", "u22"]
    assert plan["design_power"]["units_per_arm"] == 2
    text = format_plan(plan, 2)
    assert "c2" in text and "u21" in text and "c3: no key member listed" in text


def test_a_kind_can_be_chosen_and_errors_are_said(con):
    plan = build_plan(con, "pilot", 1, group_kind="declared")
    assert plan["candidates"]["community_id"].tolist() == ["group:g1"]
    with pytest.raises(ValueError, match="no significant pilot of type 'activity'.*pilot"):
        build_plan(con, "activity", 2)
    with pytest.raises(ValueError, match="at least 1"):
        build_plan(con, "pilot", 0)


def test_the_verifying_experiment_randomizes_the_candidates_only(con, tmp_path):
    plan = build_plan(con, "pilot", 2)
    out = tmp_path / "assignments.csv"
    summary = design_verifying_experiment(con, plan, out, tmp_path / "raw", seed=3)
    written = pd.read_csv(out)
    assert list(written.columns) == list(ASSIGNMENT_COLUMNS)
    assert sorted(written["unit_id"]) == ["c1", "c2", "c3", "c4"]  # not c5..c7
    assert written["variant"].value_counts().to_dict() == {"control": 2, "treatment": 2}
    assert summary["experiment_id"] == "rollout_pilot_seed3"
    again = tmp_path / "again.csv"
    design_verifying_experiment(con, plan, again, tmp_path / "raw", seed=3)
    assert written.equals(pd.read_csv(again))  # deterministic with its seed
    with pytest.raises(ValueError, match="raw"):
        design_verifying_experiment(con, plan, tmp_path / "raw" / "a.csv", tmp_path / "raw")
