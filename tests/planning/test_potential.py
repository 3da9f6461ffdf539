"""The potential score refitted out of time: percentiles, fit, points, no look-ahead,
calibration by hand, the seed fallback, and the tables written."""

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.lib.planning import potential
from orchestration.lib.planning.refresh import TABLES, fit_potential, write_tables

SEED = {"growth": 0.5, "cohesion": 0.25, "activity": 0.25}


def _panel(n_snapshots=12, n_groups=60, seed=0, signal="size"):
    """Weekly snapshots 4 weeks apart-able: member growth driven by size (rank), plus noise.

    Growth, cohesion and activity scores are noise; the declared groups (one in three)
    grow 0.2 more. ``later_date`` is 28 days after each snapshot.
    """
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2026-01-04")
    for s in range(n_snapshots):
        date = start + pd.Timedelta(weeks=s)
        size = rng.integers(8, 300, n_groups)
        kind = np.where(np.arange(n_groups) % 3 == 0, "declared", "detected")
        noise = rng.normal(0, 0.1, n_groups)
        driver = size / 300 if signal == "size" else -size / 300
        growth = 0.5 * driver + 0.2 * (kind == "declared") + noise
        for g in range(n_groups):
            rows.append(
                {
                    "snapshot_date": date,
                    "later_date": date + pd.Timedelta(days=28),
                    "group_kind": kind[g],
                    "community_id": f"c{g:03d}",
                    "count_members": int(size[g]),
                    "growth_score": rng.uniform(0, 100),
                    "cohesion_score": rng.uniform(0, 100),
                    "activity_score": rng.uniform(0, 100),
                    "member_growth_rate_4_weeks": rng.normal(0, 0.2) if g % 5 else np.nan,
                    "member_growth": growth[g],
                }
            )
    return pd.DataFrame(rows)


def test_component_percentiles_are_cume_dist_within_the_snapshot():
    panel = pd.DataFrame(
        {
            "snapshot_date": ["a", "a", "a", "a", "b"],
            "group_kind": ["detected", "declared", "detected", "detected", "detected"],
            "count_members": [10, 20, 20, 40, 5],
            "growth_score": [1.0, 2.0, 3.0, 4.0, 9.0],
            "cohesion_score": [4.0, 3.0, 2.0, 1.0, 9.0],
            "activity_score": [1.0, 1.0, 1.0, 1.0, 9.0],
            "member_growth_rate_4_weeks": [np.nan, -0.5, 0.5, 0.0, np.nan],
        }
    )
    p = potential.component_percentiles(panel)
    # share of the snapshot's groups at most the row's value (ties: all of them)
    assert p["size"].tolist() == [25.0, 75.0, 75.0, 100.0, 100.0]
    assert p["growth"].tolist() == [25.0, 50.0, 75.0, 100.0, 100.0]
    assert p["cohesion"].tolist() == [100.0, 75.0, 50.0, 25.0, 100.0]
    assert p["activity"].tolist() == [100.0] * 5
    # missing growth rate = 0: ties with the 0.0 row
    assert p["growth_last_4_weeks"].tolist() == [75.0, 25.0, 100.0, 75.0, 100.0]
    assert p["declared"].tolist() == [0.0, 100.0, 0.0, 0.0, 0.0]


def test_fit_finds_the_planted_driver_and_its_sign():
    for signal, sign in (("size", 1), ("small", -1)):
        panel = _panel(signal=signal)
        p = potential.component_percentiles(panel)
        target = panel.groupby("snapshot_date")["member_growth"].rank(pct=True)
        w = potential.fit_weights(p, target)
        assert sum(abs(v) for v in w.values()) == pytest.approx(1.0)
        assert np.sign(w["size"]) == sign
        assert abs(w["size"]) == max(abs(v) for v in w.values())
        assert w["declared"] > 0.1
        for noise in ("growth", "cohesion", "activity"):
            assert abs(w[noise]) < 0.05, (signal, noise, w)


def test_score_points_add_up_and_a_negative_weight_counts_100_minus_p():
    p = pd.DataFrame({"size": [25.0, 100.0], "declared": [100.0, 0.0]})
    points = potential.score_points(p, {"size": -0.6, "declared": 0.4})
    assert points["size"].tolist() == pytest.approx([0.6 * 75, 0.0])
    assert points["declared"].tolist() == pytest.approx([40.0, 0.0])
    assert points.sum(axis=1).tolist() == pytest.approx([85.0, 0.0])


def test_out_of_time_scores_never_look_ahead():
    panel = _panel(n_snapshots=12)
    score, fits = potential.out_of_time_scores(panel, min_fit_snapshots=4)
    dates = sorted(panel["snapshot_date"].unique())
    # outcomes are known 4 snapshots later: the first scored snapshot is the 8th
    first = pd.Timestamp(dates[7])
    assert score[panel["snapshot_date"] < first].isna().all()
    assert score[panel["snapshot_date"] >= first].notna().all()
    assert (fits["fit_end"] <= fits["snapshot_date"]).all()
    # Changing outcomes not yet known at a snapshot does not change its score.
    t = pd.Timestamp(dates[9])
    changed = panel.copy()
    unknown = changed["later_date"] > t
    changed.loc[unknown, "member_growth"] = -changed.loc[unknown, "member_growth"]
    again, _ = potential.out_of_time_scores(changed, min_fit_snapshots=4)
    at_t = panel["snapshot_date"] == t
    assert np.allclose(score[at_t], again[at_t])
    assert not np.allclose(score[panel["snapshot_date"] == dates[-1]],
                           again[panel["snapshot_date"] == dates[-1]])  # fmt: skip


def test_calibration_by_hand():
    panel = pd.DataFrame(
        {
            "snapshot_date": ["a"] * 10 + ["b"] * 10,
            "member_growth": [float(i) for i in range(10)] + [float(10 * i) for i in range(10)],
        }
    )
    score = pd.Series(list(range(10)) + list(range(10)), dtype=float)
    table = potential.calibrate(score, panel, interval=0.5)
    assert table["score_decile"].tolist() == list(range(1, 11))
    top = table.iloc[-1]
    assert (top.n_rows, top.n_snapshots) == (2, 2)
    assert top.expected_growth == pytest.approx((9 + 90) / 2)
    assert top.growth_low == pytest.approx(np.quantile([9.0, 90.0], 0.25))
    assert top.growth_high == pytest.approx(np.quantile([9.0, 90.0], 0.75))
    # a NaN score is left out
    score[0] = np.nan
    assert potential.calibrate(score, panel).set_index("score_decile").loc[1, "n_rows"] == 1


def test_fitted_score_beats_the_seed_and_the_baselines_out_of_time():
    panel = _panel(n_snapshots=14, n_groups=80)
    frames = fit_potential(panel, SEED, panel["snapshot_date"].max())
    weights = frames["potential_score_weights"].set_index("component")
    assert set(weights["weight_basis"]) == {"fitted"}
    assert weights.loc["growth", "seed_default_weight"] == 0.5
    assert weights.loc["size", "seed_default_weight"] == 0.0
    assert weights.loc["size", "direction"] == "higher"
    assert weights["n_rows"].iloc[0] == 10 * 80  # outcomes known by the last snapshot
    rho = frames["potential_score_backtest"].set_index("score")["rank_correlation"]
    assert rho["fitted_score"] > rho["size_now"] > rho["seed_potential_score"]
    assert rho["fitted_score"] > rho["growth_last_4_weeks"]
    calibration = frames["potential_score_calibration"]
    assert calibration["expected_growth"].is_monotonic_increasing
    assert (calibration["growth_low"] <= calibration["median_growth"]).all()
    # deterministic
    again = fit_potential(panel.sample(frac=1, random_state=1), SEED, panel["snapshot_date"].max())
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(frame, again[name], check_like=False)


def test_short_history_keeps_the_seed_weights():
    panel = _panel(n_snapshots=6)  # outcomes of 2 snapshots known at the last one
    frames = fit_potential(panel, SEED, panel["snapshot_date"].max())
    weights = frames["potential_score_weights"].set_index("component")
    assert set(weights["weight_basis"]) == {"seed_default"}
    assert weights["weight"].to_dict() == weights["seed_default_weight"].to_dict()
    assert weights["n_rows"].eq(0).all() and weights["fit_start"].isna().all()
    assert set(frames["potential_score_calibration"]["weight_basis"]) == {"seed_default"}
    assert "fitted_score" not in set(frames["potential_score_backtest"]["score"])


def test_tables_are_written_with_their_declared_columns_and_replaced():
    panel = _panel(n_snapshots=10)
    frames = fit_potential(panel, SEED, panel["snapshot_date"].max())
    con = duckdb.connect()
    write_tables(con, frames)
    write_tables(con, frames)  # replaced, not appended
    for name in TABLES:
        count = con.execute(f"select count(*) from planning.{name}").fetchone()[0]
        assert count == len(frames[name]), name
    assert con.execute("select sum(abs(weight)) from planning.potential_score_weights").fetchone()[
        0
    ] == pytest.approx(1.0)
