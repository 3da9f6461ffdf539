"""The community-randomized design (orchestration.lib.experiments.design), without
Dagster: strata and a seeded assignment balanced within one per stratum, the cut share
by hand on a small graph, the raw-folder refusal and the raw contract's columns."""

import numpy as np
import pandas as pd
import pytest

from orchestration.lib.experiments import design
from orchestration.lib.raw.contract import TABLES


def _units(n=47, seed=1):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "unit_id": [f"c{i:03d}" for i in range(n)],
            "count_members": rng.integers(3, 200, n),
            "health_score": np.where(rng.random(n) < 0.1, np.nan, rng.uniform(0, 100, n)),
        }
    )


def test_arms_are_balanced_within_one_in_every_stratum_and_overall():
    units = _units()
    strata = design.design_strata(units, size_bins=3, health_bins=3)
    assert strata.nunique() >= 9  # 3 x 3 plus the unknown-health bins
    arm = design.assign_stratified(units["unit_id"], strata, seed=7)
    counts = pd.crosstab(strata.to_numpy(), units["unit_id"].map(arm).to_numpy())
    assert (counts.max(axis=1) - counts.min(axis=1)).max() <= 1
    overall = arm.value_counts()
    assert overall.max() - overall.min() <= 1
    three = design.assign_stratified(units["unit_id"], strata, arms=("a", "b", "c"), seed=7)
    counts = pd.crosstab(strata.to_numpy(), units["unit_id"].map(three).to_numpy())
    assert (counts.max(axis=1) - counts.min(axis=1)).max() <= 1


def test_size_strata_are_quantile_bins():
    units = _units(30).fillna({"health_score": 50.0})
    strata = design.design_strata(units, size_bins=3, health_bins=1)
    assert strata.value_counts().tolist() == [10, 10, 10]
    smallest = units.loc[strata == "s0-h0", "count_members"].max()
    assert smallest <= units.loc[strata == "s2-h0", "count_members"].min()


def test_assignment_is_deterministic_with_the_seed_and_ignores_input_order():
    units = _units()
    strata = design.design_strata(units)
    first = design.assign_stratified(units["unit_id"], strata, seed=3)
    shuffled = units.sample(frac=1, random_state=5)
    again = design.assign_stratified(shuffled["unit_id"], strata.loc[shuffled.index], seed=3)
    pd.testing.assert_series_equal(first, again)
    other = design.assign_stratified(units["unit_id"], strata, seed=4)
    assert (first != other).any()


def test_cut_share_by_hand():
    # a-b weight 3 (same arm), b-c 1 (cut), c-d 2 (same arm), a-d 4 (cut); e outside.
    edges = pd.DataFrame(
        {
            "user_id_a": ["a", "b", "c", "a", "a"],
            "user_id_b": ["b", "c", "d", "d", "e"],
            "weight": [3.0, 1.0, 2.0, 4.0, 10.0],
        }
    )
    arm = pd.Series({"a": "control", "b": "control", "c": "treatment", "d": "treatment"})
    share, total = design.cut_weight_share(edges, arm)
    assert total == 10.0
    assert share == pytest.approx(5 / 10)
    assert np.isnan(design.cut_weight_share(edges.iloc[4:], arm)[0])


def test_design_from_tables_assigns_whole_communities():
    members = pd.DataFrame(
        {"community_id": ["c1", "c1", "c2", "c2", "c3", "c4"], "user_id": list("abcdef")}
    )
    health = pd.DataFrame({"community_id": ["c1", "c2", "c3"], "health_score": [10.0, 90, 50]})
    edges = pd.DataFrame({"user_id_a": ["a", "a"], "user_id_b": ["b", "c"], "weight": [2.0, 1.0]})
    assignments, summary = design.design_from_tables(
        members, health, edges, experiment_id="e1", assigned_at=pd.Timestamp("2026-03-01"),
        size_bins=1, health_bins=1, seed=0,
    )  # fmt: skip
    assert list(assignments.columns) == list(design.ASSIGNMENT_COLUMNS)
    assert sorted(assignments["unit_id"]) == ["c1", "c2", "c3", "c4"]
    assert summary["units_per_arm"] == {"control": 2, "treatment": 2}
    # a-b are both in c1 (never cut); a-c is cut exactly when c1 and c2 differ.
    arm = assignments.set_index("unit_id")["variant"]
    expected = 1 / 3 if arm["c1"] != arm["c2"] else 0.0
    assert summary["cut_weight_share"] == pytest.approx(expected)


def test_assignment_columns_are_the_raw_contract_and_the_file_reads_back(tmp_path):
    contract = {t.name: [c[0] for c in t.columns] for t in TABLES}
    assert list(design.ASSIGNMENT_COLUMNS) == contract["experiment_assignments"]
    frame = pd.DataFrame(
        {"experiment_id": ["e"], "unit_id": ["c1"], "variant": ["control"],
         "assigned_at": [pd.Timestamp("2026-03-01")]}
    )  # fmt: skip
    back = pd.read_csv(design.write_assignments(frame, tmp_path / "a.csv"))
    assert back.loc[0, "assigned_at"] == "2026-03-01T00:00:00+00:00"
    assert len(pd.read_parquet(design.write_assignments(frame, tmp_path / "a.parquet"))) == 1


def test_a_path_inside_the_raw_folder_is_refused(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for bad in (raw / "experiment_assignments.csv", raw / "sub" / "x.parquet", raw):
        with pytest.raises(ValueError, match=str(raw.resolve())):
            design.refuse_raw_path(bad, raw)
    with pytest.raises(ValueError, match="raw folder"):
        design.refuse_raw_path(raw / ".." / "raw" / "x.csv", raw)
    design.refuse_raw_path(tmp_path / "designs" / "x.csv", raw)  # elsewhere is fine
