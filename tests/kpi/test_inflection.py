"""Inflections of daily growth curves: exact and noisy recovery, no false change on a
straight line, the demo generator's planted inflection, edge cases, attach_context."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from orchestration.lib.demo.generator import generate
from orchestration.lib.evaluation.inflection_reference import exhaustive_rss
from orchestration.lib.kpi import (
    CONTEXT_COLUMNS,
    INFLECTION_COLUMNS,
    attach_context,
    detect_inflections,
)
from orchestration.lib.kpi.inflection import _Fitter

START = pd.Timestamp("2026-01-01")


def _days(n: int) -> pd.DatetimeIndex:
    return pd.date_range(START, periods=n, freq="D")


def _broken_line(n: int, knots: dict[int, float], level: float = 40.0, slope: float = 0.05):
    t = np.arange(n, dtype=float)
    y = level + slope * t
    for tau, change in knots.items():
        y += change * np.maximum(0.0, t - tau)
    return y


def _day(frame: pd.DataFrame, row: int = 0) -> int:
    return int((frame["inflection_date"].iloc[row] - START).days)


# --------------------------------------------------------------------------- synthetic


def test_noiseless_broken_line_is_recovered_exactly():
    y = _broken_line(150, {40: 0.8, 100: -1.2})
    found = detect_inflections(_days(150), y, n_boot=20)
    assert list(found.columns) == list(INFLECTION_COLUMNS)
    assert [_day(found, i) for i in range(len(found))] == [40, 100]
    assert found["slope_before"].tolist() == pytest.approx([0.05, 0.85], abs=1e-8)
    assert found["slope_after"].tolist() == pytest.approx([0.85, -0.35], abs=1e-8)
    assert found["slope_change"].tolist() == pytest.approx([0.8, -1.2], abs=1e-8)
    assert found["direction"].tolist() == ["acceleration", "deceleration"]
    assert (found["p_value"] < 1e-10).all()
    # without noise every bootstrap replicate is the series itself
    assert (found["date_low"] == found["inflection_date"]).all()
    assert (found["date_high"] == found["inflection_date"]).all()


def test_noiseless_growth_curve_on_log_scale():
    t = np.arange(120)
    signups = 40.0 * np.exp(np.where(t < 66, 0.0, 0.02 * (t - 66)))
    found = detect_inflections(_days(120), signups, log=True, n_boot=0)
    assert len(found) == 1 and _day(found) == 66
    assert found["slope_change"].iloc[0] == pytest.approx(0.02, abs=1e-9)
    assert found[["date_low", "date_high"]].isna().all().all()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_noisy_slope_change_is_found_within_three_days(seed):
    rng = np.random.default_rng(seed)
    mean = _broken_line(120, {70: 1.0}, level=45.0, slope=0.0)
    found = detect_inflections(_days(120), rng.poisson(mean).astype(float), seed=seed)
    assert len(found) == 1
    assert abs(_day(found) - 70) <= 3
    row = found.iloc[0]
    assert row["direction"] == "acceleration"
    assert row["slope_change"] == pytest.approx(1.0, abs=0.25)
    assert row["p_value"] < 1e-6
    assert row["date_low"] <= row["inflection_date"] <= row["date_high"]
    assert 0.0 < row["rss_reduction_share"] <= 1.0 and row["criterion_gain"] > 0


@pytest.mark.parametrize("seed", [11, 12, 13, 14, 15])
def test_straight_line_with_noise_has_no_change(seed):
    rng = np.random.default_rng(seed)
    y = rng.poisson(_broken_line(120, {}, level=35.0, slope=0.15)).astype(float)
    found = detect_inflections(_days(120), y)
    assert found.empty
    assert list(found.columns) == list(INFLECTION_COLUMNS)
    assert len(found.attrs["criterion"]) == 6  # K = 0..5 were compared


def test_constant_growth_on_log_scale_has_no_change():
    rng = np.random.default_rng(5)
    y = rng.poisson(30.0 * np.exp(0.01 * np.arange(200))).astype(float)
    assert detect_inflections(_days(200), y, log=True).empty


def test_gaps_and_nans_use_day_offsets():
    n = 160
    y = _broken_line(n, {80: 0.6})
    rng = np.random.default_rng(0)
    keep = np.sort(rng.choice(n, size=110, replace=False))
    keep = np.union1d(keep, [80])
    values = y[keep].copy()
    values[::9] = np.nan  # dropped
    values[np.searchsorted(keep, 80)] = y[80]
    order = rng.permutation(len(keep))  # unsorted input
    found = detect_inflections(_days(n)[keep][order], values[order], n_boot=0)
    assert [_day(found, i) for i in range(len(found))] == [80]
    assert found["slope_change"].iloc[0] == pytest.approx(0.6, abs=1e-8)


def test_min_segment_days_is_respected():
    rng = np.random.default_rng(3)
    y = _broken_line(200, {50: 0.7, 62: -0.7, 140: 0.5}) + rng.normal(0, 1.0, 200)
    found = detect_inflections(_days(200), y, min_segment_days=20, n_boot=0)
    days = [_day(found, i) for i in range(len(found))]
    assert all(b - a >= 20 for a, b in itertools.pairwise(days))
    assert days[0] >= 20 and days[-1] <= 199 - 20


def test_penalty_and_max_changes():
    rng = np.random.default_rng(4)
    y = _broken_line(200, {50: 0.5, 100: -0.9, 150: 0.6}) + rng.normal(0, 1.0, 200)
    full = detect_inflections(_days(200), y, n_boot=0)
    assert [_day(full, i) for i in range(len(full))] == pytest.approx([50, 100, 150], abs=3)
    assert len(detect_inflections(_days(200), y, max_changes=1, n_boot=0)) == 1
    assert len(detect_inflections(_days(200), y, max_changes=0, n_boot=0)) == 0
    assert len(detect_inflections(_days(200), y, penalty=1e6, n_boot=0)) == 0


def test_weights_and_weekly_pattern():
    rng = np.random.default_rng(8)
    t = np.arange(140)
    mean = 150.0 * np.exp(np.where(t < 80, 0.0, 0.02 * (t - 80))) * (1 + 0.3 * (t % 7 >= 5))
    y = rng.poisson(mean).astype(float)
    found = detect_inflections(_days(140), y, log=True, weights=y, weekly=True)
    assert len(found) == 1 and abs(_day(found) - 80) <= 3
    assert found["slope_change"].iloc[0] == pytest.approx(0.02, abs=0.006)


def test_window_days_keeps_the_last_days():
    y = _broken_line(200, {40: 0.5, 150: -0.8})
    found = detect_inflections(_days(200), y, window_days=100, n_boot=0)
    assert [_day(found, i) for i in range(len(found))] == [150]
    assert found.attrs["first_date"] == START + pd.Timedelta(days=100)


# --------------------------------------------------------------------------- search


@pytest.mark.parametrize("seed", range(6))
def test_search_matches_exhaustive_search(seed):
    rng = np.random.default_rng(100 + seed)
    n = 70
    t = np.arange(n)
    y = rng.poisson(np.clip(_broken_line(n, {20: 0.8, 45: -1.5}, slope=0.1), 1, None))
    y = y + 4 * np.sin(t / 4.0)  # some curvature to make the search work
    fit = _Fitter(t, y.astype(float), 8)
    path, _, chosen = fit.select(3, penalty=1e-9)  # a tiny penalty: K = 3 is chosen
    assert chosen == 3
    assert path[2][1] == pytest.approx(exhaustive_rss(fit, 2), rel=1e-9)  # K = 2 is exact
    assert path[3][1] <= exhaustive_rss(fit, 3) * 1.02  # K = 3: near-exact


# --------------------------------------------------------------------------- edge cases


def test_empty_short_and_constant_input():
    for dates, values in (
        ([], []),
        (_days(3), [1.0, 2.0, 5.0]),
        (_days(20), np.arange(20.0) ** 2),  # too short for a knot 14 days from both ends
        (_days(100), np.full(100, 7.0)),
        (_days(100), np.full(100, np.nan)),
    ):
        found = detect_inflections(dates, values)
        assert found.empty
        assert list(found.columns) == list(INFLECTION_COLUMNS)
        assert found["inflection_date"].dtype == "datetime64[ns]"


def test_log_drops_non_positive_values_with_a_warning():
    y = np.exp(_broken_line(120, {60: 0.02}, level=3.0, slope=0.0))
    y[[5, 30]] = 0.0
    with pytest.warns(UserWarning, match="dropped 2"):
        found = detect_inflections(_days(120), y, log=True, n_boot=0)
    assert _day(found) == 60


def test_invalid_input_raises():
    with pytest.raises(ValueError, match="same length"):
        detect_inflections(_days(3), [1.0, 2.0])
    with pytest.raises(ValueError, match="unique"):
        detect_inflections(["2026-01-01", "2026-01-01"], [1.0, 2.0])
    with pytest.raises(ValueError, match="penalty"):
        detect_inflections(_days(3), [1.0, 2.0, 3.0], penalty=0)


def test_timezones_and_times_of_day_are_taken_in_utc():
    y = _broken_line(100, {50: 0.5})
    stamps = pd.date_range("2026-01-01 23:00", periods=100, freq="D", tz="UTC")
    found = detect_inflections(stamps.tz_convert("Asia/Tokyo"), y, n_boot=0)
    assert found["inflection_date"].iloc[0] == pd.Timestamp("2026-02-20")


def test_results_are_deterministic():
    rng = np.random.default_rng(9)
    y = rng.poisson(_broken_line(150, {60: 0.6, 110: -0.6}, level=50.0, slope=0.0))
    first = detect_inflections(_days(150), y.astype(float), seed=3)
    second = detect_inflections(_days(150), y.astype(float), seed=3)
    pd.testing.assert_frame_equal(first, second)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        other = detect_inflections(_days(150), y.astype(float), seed=4)
    pd.testing.assert_frame_equal(
        first.drop(columns=["date_low", "date_high"]), other.drop(columns=["date_low", "date_high"])
    )


# --------------------------------------------------------------------------- demo data


@pytest.fixture(scope="module")
def demo_signups(tmp_path_factory) -> dict[int, tuple[pd.Series, pd.Timestamp]]:
    """Daily sign-ups and planted inflection date of the demo data (10,000 users)."""
    out = {}
    for seed in (42, 1):
        root = tmp_path_factory.mktemp(f"demo{seed}")
        generate(root / "raw", root / "truth", n_users=10_000, n_days=120, seed=seed)
        out[seed] = (_daily_signups(root / "raw"), _planted(root / "truth"))
    return out


def _daily_signups(raw: Path) -> pd.Series:
    users = pd.read_parquet(raw / "users.parquet", columns=["user_id", "signed_up_at"])
    users = users.dropna(subset=["user_id", "signed_up_at"]).drop_duplicates("user_id")
    day = users["signed_up_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    return day.value_counts().sort_index()


def _planted(truth: Path) -> pd.Timestamp:
    return pd.Timestamp(pd.read_parquet(truth / "growth.parquet")["inflection_date"].iloc[0])


@pytest.mark.parametrize("seed", [42, 1])
def test_demo_signup_inflection_is_found(demo_signups, seed):
    signups, planted = demo_signups[seed]
    found = detect_inflections(signups.index, signups.to_numpy(), log=True)
    assert len(found) == 1
    row = found.iloc[0]
    assert abs((row["inflection_date"] - planted).days) <= 3
    assert row["direction"] == "acceleration"
    assert row["slope_change"] == pytest.approx(0.0207, abs=0.006)  # planted daily growth
    assert row["p_value"] < 1e-10
    assert row["date_low"] <= planted <= row["date_high"]


# --------------------------------------------------------------------------- context


def test_attach_context_window():
    inflections = pd.DataFrame(
        {"inflection_date": pd.to_datetime(["2026-03-08", "2026-05-01"]), "slope_change": [1, -1]}
    )
    interventions = pd.DataFrame(
        {
            "intervention_id": ["iv_early", "iv_first_day", "iv_b", "iv_a", "iv_late", "iv_x"],
            "started_at": pd.to_datetime(
                [
                    "2026-02-14 10:00",  # 22 days before: out
                    "2026-02-15 00:00",  # 21 days before: in
                    "2026-03-08 09:00",  # same day
                    "2026-03-08 09:00",  # same instant: by id
                    "2026-03-12 00:00",  # 4 days after: out
                    "2026-03-11 23:00",  # 3 days after: in
                ],
                utc=True,
            ),
        }
    )
    experiments = pd.DataFrame(
        {
            "experiment_id": ["exp1", "exp2"],
            "started_at": pd.to_datetime(["2026-04-20", None]),
        }
    )
    out = attach_context(inflections, interventions, experiments)
    assert list(out.columns) == ["inflection_date", "slope_change", *CONTEXT_COLUMNS]
    assert out["intervention_ids"].tolist() == ["iv_first_day,iv_a,iv_b,iv_x", ""]
    assert out["n_interventions"].tolist() == [4, 0]
    assert out["experiment_ids"].tolist() == ["", "exp1"]
    assert out["n_experiments"].tolist() == [0, 1]

    narrow = attach_context(inflections, interventions, experiments, window_days=0, after_days=0)
    assert narrow["intervention_ids"].tolist() == ["iv_a,iv_b", ""]

    none = attach_context(inflections.iloc[:0], interventions, experiments)
    assert none.empty and set(CONTEXT_COLUMNS) <= set(none.columns)

    with pytest.raises(ValueError, match="missing columns"):
        attach_context(inflections, interventions.drop(columns="started_at"), experiments)
