"""The potential score's backtest: the panel's outcomes by hand on a tiny warehouse, and
the statistics against scipy and by hand."""

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from orchestration.lib.planning.backtest import (
    _statistics,
    backtest,
    pooled_backtest,
    potential_score,
    read_panel,
    snapshot_statistics,
)


@pytest.fixture
def con():
    """Three weekly snapshots five weeks apart at most; a 14-day horizon.

    g1 (detected) has u1..u8 at 01-04 and u1..u6 + u9..u12 at 01-18; g2 (declared,
    ``group:g2``) has u20..u29 at 01-04 and is gone at 01-18; g3 has 3 members (below
    the size range). Activity: u1 posts and mentions before 01-04 (and buys: not
    activity), u9 posts 3 times between 01-05 and 01-18, u20 once before.
    """
    con = duckdb.connect()
    con.execute("create schema if not exists main")
    members = [("2026-01-04", "detected", "c1", f"u{i}") for i in range(1, 9)]
    members += [
        ("2026-01-18", "detected", "c1", f"u{i}") for i in (1, 2, 3, 4, 5, 6, 9, 10, 11, 12)
    ]
    members += [("2026-01-04", "declared", "group:g2", f"u{i}") for i in range(20, 30)]
    members += [("2026-01-04", "detected", "c3", f"u{i}") for i in (40, 41, 42)]
    con.execute(
        "create table main.int_group_members_weekly as select * from (values "
        + ", ".join(f"('{d}'::date, '{k}', '{c}', '{u}')" for d, k, c, u in members)
        + ") t(snapshot_date, group_kind, community_id, user_id)"
    )
    health = [
        ("2026-01-04", "detected", "c1", 8, 60.0, 40.0, 20.0, 0.1),
        ("2026-01-04", "declared", "group:g2", 10, 30.0, 80.0, 50.0, None),
        ("2026-01-04", "detected", "c3", 3, 90.0, 90.0, 90.0, 0.0),
        ("2026-01-11", "detected", "c1", 9, 50.0, 50.0, 50.0, 0.2),
        ("2026-01-18", "detected", "c1", 10, 55.0, 45.0, 35.0, 0.25),
    ]
    con.execute(
        "create table main.fct_community_health as select * from (values "
        + ", ".join(
            f"('{d}'::date, '{k}', '{c}', {n}, {g}, {h}, {a}, {'null' if r is None else r})"
            for d, k, c, n, g, h, a, r in health
        )
        + ") t(snapshot_date, group_kind, community_id, count_members, growth_score,"
        " cohesion_score, activity_score, member_growth_rate_4_weeks)"
    )
    events = [("u1", "2026-01-02", "post"), ("u1", "2026-01-03", "mention")]
    events += [("u1", "2026-01-03", "purchase"), ("u20", "2026-01-04", "post")]
    events += [("u9", d, "post") for d in ("2026-01-05", "2026-01-10", "2026-01-18")]
    events += [("u9", "2026-01-19", "post")]  # after the horizon
    con.execute(
        "create table main.int_events_priced as select * from (values "
        + ", ".join(f"('{u}', '{d}'::date, '{t}')" for u, d, t in events)
        + ") t(user_id, activity_date, event_type)"
    )
    yield con
    con.close()


def test_panel_outcomes_by_hand(con):
    panel = read_panel(con, horizon_days=14, min_members=5, max_members=300)
    # Only 01-04 has a snapshot 14 days later; c3 is below the size range.
    assert list(zip(panel.snapshot_date.astype(str), panel.community_id, strict=True)) == [
        ("2026-01-04", "group:g2"),
        ("2026-01-04", "c1"),
    ]
    c1 = panel[panel.community_id == "c1"].iloc[0]
    assert c1.member_growth == pytest.approx(10 / 8 - 1)
    assert c1.member_retention == pytest.approx(6 / 8)
    # Before: u1's post and mention (not the purchase); after: u9's posts on 01-05, 01-10
    # and 01-18 by the 01-18 members.
    assert (c1.count_messages_before, c1.count_messages_after) == (2, 3)
    assert c1.activity_growth == pytest.approx(3 / 2 - 1)
    g2 = panel[panel.community_id == "group:g2"].iloc[0]
    assert g2.member_growth == -1 and g2.member_retention == 0 and g2.activity_growth == -1


def test_potential_score_is_the_seed_weighted_sum():
    frame = pd.DataFrame(
        {"growth_score": [60.0], "cohesion_score": [40.0], "activity_score": [20.0]}
    )
    score = potential_score(frame, {"growth": 0.5, "cohesion": 0.25, "activity": 0.25})
    assert score.iloc[0] == pytest.approx(45.0)


def test_statistics_match_scipy_and_a_hand_computed_lift():
    rng = np.random.default_rng(3)
    score = rng.integers(0, 15, 60).astype(float)  # ties
    outcome = rng.normal(size=60)
    count, rho, lift, median = _statistics(score, outcome, np.ones(60))
    assert count == 60
    assert rho == pytest.approx(spearmanr(score, outcome).statistic, abs=1e-12)
    assert median == pytest.approx(np.median(outcome))
    # Top decile: the 6 highest scores, ties broken by input order (stable sort).
    top = np.argsort(-score, kind="stable")[:6]
    assert lift == pytest.approx(outcome[top].mean() - np.median(outcome))
    # Weights are repeated rows.
    weights = rng.integers(0, 4, 60).astype(float)
    expanded = _statistics(np.repeat(score, weights.astype(int)),
                           np.repeat(outcome, weights.astype(int)),
                           np.ones(int(weights.sum())))  # fmt: skip
    assert _statistics(score, outcome, weights)[1] == pytest.approx(expanded[1], abs=1e-12)
    assert _statistics(score, outcome, weights)[3] == pytest.approx(expanded[3], abs=1e-12)


def _planted_panel(n_snapshots=12, n_groups=80, signal=1.0, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_snapshots):
        score = rng.normal(size=n_groups)
        outcome = signal * score + rng.normal(size=n_groups)
        for g in range(n_groups):
            rows.append(
                {
                    "snapshot_date": pd.Timestamp("2026-01-04") + pd.Timedelta(weeks=s),
                    "group_kind": "detected",
                    "community_id": f"c{g:03d}",
                    "score": score[g],
                    "noise": rng.normal(),
                    "member_growth": outcome[g],
                }
            )
    return pd.DataFrame(rows)


def test_a_planted_signal_is_found_and_noise_is_not():
    panel = _planted_panel()
    result = backtest(panel, ("score", "noise"), ("member_growth",), n_boot=500, seed=1)
    signal, noise = result.set_index("score").loc["score"], result.set_index("score").loc["noise"]
    # Spearman of y = x + e (corr 0.707) is about 0.69.
    assert 0.6 < signal.rank_correlation < 0.78
    assert signal.rank_correlation_ci_low > 0.5 and signal.top_decile_lift_ci_low > 1
    assert noise.rank_correlation_ci_low < 0 < noise.rank_correlation_ci_high
    assert noise.top_decile_lift_ci_low < 0 < noise.top_decile_lift_ci_high
    assert signal.count_snapshots == 12 and signal.count_rows == 12 * 80
    per = snapshot_statistics(panel, "score", "member_growth")
    assert signal.rank_correlation == pytest.approx(per.rank_correlation.mean())


def test_deterministic_and_small_snapshots_are_dropped():
    panel = _planted_panel(n_snapshots=6, n_groups=30)
    a = backtest(panel, ("score",), ("member_growth",), n_boot=200, seed=4)
    b = backtest(panel.sample(frac=1, random_state=2), ("score",), ("member_growth",),
                 n_boot=200, seed=4)  # fmt: skip
    pd.testing.assert_frame_equal(a, b)
    few = backtest(panel, ("score",), ("member_growth",), n_boot=50, min_groups=31)
    assert few.count_snapshots.iloc[0] == 0 and np.isnan(few.rank_correlation.iloc[0])


def test_pooled_backtest_finds_a_signal_in_many_small_snapshots():
    """Five groups per snapshot: too few for per-snapshot statistics, enough pooled."""
    panel = _planted_panel(n_snapshots=60, n_groups=5, seed=7)
    assert backtest(panel, ("score",), ("member_growth",), n_boot=50).count_snapshots[0] == 0
    result = pooled_backtest(panel, ("score", "noise"), ("member_growth",), n_boot=500, seed=2)
    signal, noise = result.set_index("score").loc["score"], result.set_index("score").loc["noise"]
    assert signal.count_rows == 300 and signal.count_snapshots == 60
    assert signal.rank_correlation_ci_low > 0.3 and signal.top_decile_lift_ci_low > 0.5
    assert noise.count_rows == 300
    # Noise: the 95% interval covers 0 in most of 20 panels (18 of 20 when written; one
    # panel alone can miss, as seed 7's does).
    covered = 0
    for panel_seed in range(20):
        small = _planted_panel(n_snapshots=60, n_groups=5, seed=panel_seed)
        row = pooled_backtest(small, ("noise",), ("member_growth",), n_boot=300, seed=2).iloc[0]
        covered += row.rank_correlation_ci_low < 0 < row.rank_correlation_ci_high
    assert covered >= 16
    # By hand: within-snapshot percentiles against outcomes minus the snapshot median.
    by = panel.groupby("snapshot_date")
    percentile = by["score"].rank(pct=True)
    centred = panel["member_growth"] - by["member_growth"].transform("median")
    assert signal.rank_correlation == pytest.approx(
        spearmanr(percentile, centred).statistic, abs=1e-12
    )
    top = by["score"].rank(ascending=False, method="first") <= 1
    assert signal.top_decile_lift == pytest.approx(centred[top].mean(), abs=1e-12)
