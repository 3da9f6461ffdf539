"""The generator's staggered_interventions knob: many staggered interventions whose
planted effect is the documented form of the group's features, never overlapping on a
group, with the rest of the world unchanged."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.lib.demo._world import STAGGERED_TYPES, staggered_effect
from orchestration.lib.demo.generator import generate

USERS, DAYS, SEED, N = 1_500, 70, 5, 25


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("staggered")
    generate(
        root / "raw", root / "truth", n_users=USERS, n_days=DAYS, seed=SEED,
        staggered_interventions=N, declared_group_share=0.8,
    )  # fmt: skip
    return root


@pytest.fixture(scope="module")
def truth(data: Path) -> pd.DataFrame:
    return pd.read_parquet(data / "truth" / "interventions.parquet")


def test_many_staggered_interventions_of_the_three_types(truth: pd.DataFrame) -> None:
    staggered = truth[truth["intervention_type"] != "cross_group_connection"]
    assert len(staggered) == N
    assert set(staggered["intervention_type"]) == set(STAGGERED_TYPES)
    starts = pd.to_datetime(staggered["start_date"])
    # Spread evenly from day 28 + 7 to the last day with 21 days left.
    assert starts.min() == pd.Timestamp("2026-01-01") + pd.Timedelta(days=35)
    assert starts.max() == pd.Timestamp("2026-01-01") + pd.Timedelta(days=DAYS - 22)
    assert starts.nunique() == DAYS - 22 - 35 + 1
    days = (pd.to_datetime(staggered["end_date"]) - starts).dt.days
    assert (days == 21).all()
    assert (truth["intervention_type"] == "cross_group_connection").sum() == 1


def test_planted_effect_is_the_documented_form_of_the_features(truth: pd.DataFrame) -> None:
    staggered = truth[truth["intervention_type"] != "cross_group_connection"]
    for kind, rows in staggered.groupby("intervention_type"):
        expected = staggered_effect(kind, {c: rows[c].to_numpy() for c in (
            "members_at_start", "member_growth_4_weeks", "key_member_share")})  # fmt: skip
        np.testing.assert_allclose(rows["planted_effect"], expected)
        assert (rows["effect_form"] == STAGGERED_TYPES[kind][1]).all()
    # The effects differ between groups: heterogeneity, not a constant.
    assert staggered["planted_effect"].std() > 0.05
    assert staggered["planted_effect"].between(0.05, 0.85 + 1e-9).all()


def test_form_by_hand() -> None:
    features = {
        "members_at_start": np.array([4, 40, 400]),
        "member_growth_4_weeks": np.array([0.25, 1.0, -0.2]),
        "key_member_share": np.array([0.125, 0.5, 0.0]),
    }
    np.testing.assert_allclose(
        staggered_effect("activity", features), [0.05 + 0.25 + 0.3, 0.55, 0.05]
    )
    np.testing.assert_allclose(staggered_effect("resource_boost", features), [0.35, 0.65, 0.05])
    np.testing.assert_allclose(staggered_effect("pilot", features), [0.05, 0.5, 0.5])
    with pytest.raises(ValueError, match="unknown"):
        staggered_effect("webinar", features)


def test_windows_of_a_group_never_overlap(truth: pd.DataFrame) -> None:
    staggered = truth[truth["intervention_type"] != "cross_group_connection"]
    for _, rows in staggered.sort_values("start_date").groupby("target_id"):
        starts = pd.to_datetime(rows["start_date"]).to_numpy()
        ends = pd.to_datetime(rows["end_date"]).to_numpy()
        # The next window (28 days before its start) begins after this one ends.
        assert (starts[1:] - np.timedelta64(28, "D") > ends[:-1]).all()


def test_raw_interventions_match_the_truth(data: Path, truth: pd.DataFrame) -> None:
    raw = duckdb.sql(
        f"select intervention_id, target_id, intervention_type, cast(started_at as date) as d "
        f"from read_parquet('{data}/raw/interventions.parquet') order by 1"
    ).df()
    assert raw["intervention_id"].tolist() == truth["intervention_id"].tolist()
    assert raw["target_id"].tolist() == truth["target_id"].tolist()
    assert (raw["d"].astype(str) == truth["start_date"].astype(str)).all()


def test_the_rest_of_the_world_is_unchanged(tmp_path: Path) -> None:
    # Same seed and share, without the knob: every raw table but interventions and the
    # days' activity is byte-identical (the knob draws from its own generator).
    for knob in (0, 12):
        generate(
            tmp_path / f"r{knob}", tmp_path / f"t{knob}", n_users=400, n_days=60, seed=3,
            staggered_interventions=knob,
        )  # fmt: skip
    for name in ("users", "groups", "group_memberships", "experiments", "experiment_assignments"):
        assert (tmp_path / "r0" / f"{name}.parquet").read_bytes() == (
            tmp_path / "r12" / f"{name}.parquet"
        ).read_bytes(), name


def test_too_short_a_period_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least"):
        generate(tmp_path / "r", tmp_path / "t", n_users=400, n_days=40, staggered_interventions=5)
    with pytest.raises(ValueError, match="staggered_interventions"):
        generate(tmp_path / "r", tmp_path / "t", n_users=400, staggered_interventions=-1)
