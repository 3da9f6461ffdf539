"""Pilot replication: candidates, exclusions, ranking by forecast or similarity, roll-out
sums and the verifying design's detectable effect, by hand; and the warehouse round trip
with a fixture ``fct_intervention_forecasts`` of the forecasts' contract."""

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.lib.experiments.power import standardized_mde
from orchestration.lib.planning import replication
from orchestration.lib.planning.replication import (
    COLUMNS,
    FORECAST_COLUMNS,
    rank_replications,
    read_inputs,
    refresh_replication,
)

SNAPSHOT = pd.Timestamp("2026-03-01")


def _inputs():
    """iv1 (a pilot on group:g1, significant) and iv2 (not in ``pilots``: not significant).

    Candidates of iv1: group:g2 (0.9), c1 (0.8), group:g3 (0.7, had a pilot), c2 (0.6 at
    the latest snapshot, 0.95 among the donors at the start: the latest is kept), the
    pilot's own group (from the donors), c9 (gone: no size row).
    """
    pilots = pd.DataFrame(
        {
            "intervention_id": ["iv1"],
            "intervention_type": ["pilot"],
            "group_kind": ["declared"],
            "community_id": ["group:g1"],
            "did_effect": [0.2],
            "did_ci_low": [0.05],
            "did_ci_high": [0.35],
            "relative_effect": [0.5],
            "avg_members_post": [20.0],
            "contribution_dau": [2.0],
            "contribution_dau_ci_low": [0.5],
            "contribution_dau_ci_high": [3.0],
            "contribution_posts_per_day": [6.0],
        }
    )
    rows = [
        ("iv1", "declared", "group:g2", 0.9, "lookalikes_latest"),
        ("iv1", "detected", "c1", 0.8, "lookalikes_latest"),
        ("iv1", "declared", "group:g3", 0.7, "lookalikes_latest"),
        ("iv1", "detected", "c2", 0.6, "lookalikes_latest"),
        ("iv1", "detected", "c2", 0.95, "donors_at_start"),
        ("iv1", "declared", "group:g1", 0.99, "donors_at_start"),
        ("iv1", "detected", "c9", 0.85, "lookalikes_latest"),
    ]
    candidates = pd.DataFrame(
        rows, columns=["intervention_id", "group_kind", "community_id", "similarity",
                       "candidate_source"]
    )  # fmt: skip
    had = pd.DataFrame(
        {
            "group_kind": ["declared", "declared", "detected"],
            "community_id": ["group:g1", "group:g3", "c1"],
            "intervention_type": ["pilot", "pilot", "resource_boost"],  # c1: another type
        }
    )
    sizes = pd.DataFrame(
        {
            "snapshot_date": SNAPSHOT,
            "group_kind": ["declared", "declared", "declared", "detected", "detected"],
            "community_id": ["group:g1", "group:g2", "group:g3", "c1", "c2"],
            "count_members": [20, 40, 30, 10, 30],
        }
    )
    power = pd.DataFrame(
        {
            "unit_type": ["community", "group"],
            "metric_name": ["posts_per_member_day"] * 2,
            "alpha": [0.05, 0.05],
            "power": [0.8, 0.8],
            "count_units_control": [100.0, 50.0],
            "count_units_variant": [100.0, 50.0],
            "mde_standardized": [np.nan, np.nan],  # recomputed, not read
            "mde_relative": [0.1, 0.2],
            "mde_relative_cuped": [0.06, 0.1],
        }
    )
    return pilots, candidates, had, sizes, power


def _forecasts():
    return pd.DataFrame(
        {
            "community_id": ["c1", "c2", "group:g2"],
            "group_kind": ["detected", "detected", "declared"],
            "snapshot_date": SNAPSHOT,
            "intervention_type": ["pilot", "pilot", "activity"],  # g2: another type
            "predicted_effect": [0.5, 0.9, 3.0],
            "effect_ci_low": [0.1, 0.2, 1.0],
            "effect_ci_high": [0.9, 1.5, 5.0],
            "expected_dau_contribution": [1.0, 4.0, 9.0],
            "expected_posts_per_day_contribution": [2.0, 8.0, 9.0],
            "top_features": ["cohesion", "size", "size"],
            "n_training_interventions": [60, 60, 60],
            "model_version": ["t-learner-1"] * 3,
        }
    )


def test_similarity_ranking_without_forecasts_carries_the_pilot_over():
    pilots, candidates, had, sizes, power = _inputs()
    out = rank_replications(pilots, candidates, had, sizes, None, power, top_n=2)
    assert list(out.columns) == list(COLUMNS)
    # the pilot itself, group:g3 (had a pilot) and c9 (gone) are not candidates; c1 had
    # another type only; c2 keeps its latest similarity (0.6), not the donors' 0.95
    assert out["community_id"].tolist() == ["group:g2", "c1", "c2"]
    assert out["replication_rank"].tolist() == [1, 2, 3]
    assert set(out["ranking_basis"]) == {"similarity"}
    c2 = out.set_index("community_id").loc["c2"]
    assert (c2.similarity, c2.candidate_source) == (0.6, "lookalikes_latest")
    # the pilot's effect per member-day, its contribution per member x members
    g2 = out.set_index("community_id").loc["group:g2"]
    assert (g2.predicted_effect, g2.effect_ci_low, g2.effect_ci_high) == (0.2, 0.05, 0.35)
    assert g2.expected_dau_contribution == pytest.approx(2.0 * 40 / 20)
    assert g2.expected_posts_per_day_contribution == pytest.approx(6.0 * 40 / 20)
    # roll-out to the top 2 (g2: 40 members, c1: 10): 4 + 1 DAU, bounds summed
    assert out["is_top_n"].tolist() == [True, True, False]
    assert out["rollout_dau_contribution"].iloc[0] == pytest.approx(4.0 + 1.0)
    assert out["rollout_dau_ci_low"].iloc[0] == pytest.approx(0.5 * (40 + 10) / 20)
    assert out["rollout_dau_ci_high"].iloc[0] == pytest.approx(3.0 * (40 + 10) / 20)
    assert out["top_features"].isna().all()


def test_forecast_ranking_comes_first_and_orders_by_predicted_effect():
    pilots, candidates, had, sizes, power = _inputs()
    out = rank_replications(pilots, candidates, had, sizes, _forecasts(), power, top_n=2)
    # c2 (0.9) before c1 (0.5); group:g2 has a forecast of another type only: after them
    assert out["community_id"].tolist() == ["c2", "c1", "group:g2"]
    assert out["ranking_basis"].tolist() == ["forecast", "forecast", "similarity"]
    c2 = out.iloc[0]
    assert (c2.predicted_effect, c2.effect_ci_low, c2.effect_ci_high) == (0.9, 0.2, 1.5)
    assert (c2.top_features, c2.model_version) == ("size", "t-learner-1")
    assert out["rollout_dau_contribution"].iloc[0] == pytest.approx(4.0 + 1.0)
    assert out["rollout_posts_per_day_contribution"].iloc[0] == pytest.approx(8.0 + 2.0)
    # forecasts carry no interval of their contribution: the roll-out has none
    assert out["rollout_dau_ci_low"].isna().all()
    # both top candidates are detected: community-randomized
    assert set(out["design_unit_type"]) == {"community"}


def test_design_mde_is_the_power_marts_scaled_to_the_arms():
    pilots, candidates, had, sizes, power = _inputs()
    out = rank_replications(pilots, candidates, had, sizes, None, power, top_n=10)
    # 3 candidates: 1 unit per arm, no detectable effect (a t-test needs more)
    assert out["design_units_per_arm"].tolist() == [1, 1, 1]
    assert out["design_mde_relative"].isna().all()
    assert out["design_is_powered"].isna().all()
    # at the mart's own arms the MDE is the mart's; with fewer units it grows as d does
    assert replication.mde_at(power, "community", 100) == pytest.approx((0.1, 0.06))
    plain, cuped = replication.mde_at(power, "group", 10)
    scale = standardized_mde(10) / standardized_mde(50)
    assert (plain, cuped) == pytest.approx((0.2 * scale, 0.1 * scale))
    assert np.isnan(replication.mde_at(power, "user", 10)[0])


def test_no_significant_pilot_gives_no_rows():
    pilots, candidates, had, sizes, power = _inputs()
    out = rank_replications(pilots.iloc[:0], candidates, had, sizes, None, power)
    assert out.empty and list(out.columns) == list(COLUMNS)


def _warehouse(with_forecasts: bool) -> duckdb.DuckDBPyConnection:
    pilots, candidates, had, sizes, power = _inputs()
    con = duckdb.connect()
    attribution = pd.concat(
        [
            pilots.assign(status="estimated"),
            # not significant (interval across 0): not a pilot to replicate
            pilots.assign(intervention_id="iv2", did_ci_low=-0.1, status="estimated",
                          community_id="group:g7"),
            had.iloc[1:].assign(intervention_id=["iv3", "iv4"], status="estimated",
                                did_ci_low=-1.0),
        ],
        ignore_index=True,
    )  # fmt: skip
    con.register("attribution_df", attribution)
    con.execute("create table fct_intervention_attribution as select * from attribution_df")
    latest = candidates[candidates["candidate_source"] == "lookalikes_latest"]
    con.register("lookalikes_df", latest)
    con.execute(
        "create table fct_community_lookalikes as select 'declared' as group_kind,"
        " 'group:g1' as community_id, group_kind as lookalike_group_kind,"
        " community_id as lookalike_community_id, similarity from lookalikes_df"
    )
    donors = candidates[candidates["candidate_source"] == "donors_at_start"]
    con.register("donors_df", donors)
    con.execute(
        "create table fct_intervention_donors as"
        " select intervention_id, group_kind, community_id, similarity from donors_df"
    )
    con.register("sizes_df", sizes)
    con.execute("create table fct_community_health as select * from sizes_df")
    con.register("power_df", power)
    con.execute("create table fct_experiment_power as select * from power_df")
    if with_forecasts:
        forecasts = _forecasts()
        older = forecasts.assign(snapshot_date=SNAPSHOT - pd.Timedelta(days=7),
                                 predicted_effect=-forecasts["predicted_effect"])  # fmt: skip
        con.register("forecasts_df", pd.concat([forecasts, older])[list(FORECAST_COLUMNS)])
        con.execute("create table fct_intervention_forecasts as select * from forecasts_df")
    return con


@pytest.mark.parametrize("with_forecasts", [False, True])
def test_warehouse_round_trip(with_forecasts):
    con = _warehouse(with_forecasts)
    inputs = read_inputs(con)
    assert inputs["pilots"]["intervention_id"].tolist() == ["iv1"]
    assert (inputs["forecasts"] is not None) == with_forecasts
    if with_forecasts:  # the latest forecasts only
        assert inputs["forecasts"]["snapshot_date"].nunique() == 1
    stats = refresh_replication(con, top_n=2)
    stored = con.execute(
        "select community_id, ranking_basis from planning.pilot_replication"
        " order by replication_rank"
    ).fetchall()
    expected = (
        [("c2", "forecast"), ("c1", "forecast"), ("group:g2", "similarity")]
        if with_forecasts
        else [("group:g2", "similarity"), ("c1", "similarity"), ("c2", "similarity")]
    )
    assert stored == expected
    assert stats["forecasts_present"] == with_forecasts
    assert stats["count_rows"] == 3
    # rewritten, not appended
    refresh_replication(con, top_n=2)
    assert con.execute("select count(*) from planning.pilot_replication").fetchone()[0] == 3
