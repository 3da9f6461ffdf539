"""The attribution on synthetic panels with a planted effect (no warehouse, no Dagster)."""

import numpy as np
import pandas as pd
import pytest

from orchestration.lib.attribution.analysis import (
    RESULT_COLUMNS,
    attribute_interventions,
    select_donors,
)
from orchestration.lib.evaluation.attribution_panels import simulate_intervention


def _one(seed: int, **kwargs) -> pd.Series:
    frames = simulate_intervention(np.random.default_rng(seed), **kwargs)
    result = attribute_interventions(*frames)
    assert list(result.columns) == RESULT_COLUMNS and len(result) == 1
    return result.iloc[0]


def test_planted_effect_is_recovered_inside_its_interval():
    row = _one(7, effect=0.4)
    assert row.status == "estimated" and row.n_donors == 10
    assert row.relative_ci_low <= 0.4 <= row.relative_ci_high
    assert abs(row.relative_effect - 0.4) < 0.25
    assert abs(row.synth_relative_effect - 0.4) < 0.25
    # The contents' contribution is the effect per member-day x members per day.
    assert row.contribution_posts_ci_low < row.contribution_posts_per_day
    assert row.contribution_posts_per_day > 0
    assert 0 < row.share_of_posts < 1


def test_placebo_on_an_untreated_group_shows_no_effect():
    row = _one(8, effect=0.0)
    assert row.relative_ci_low <= 0 <= row.relative_ci_high
    assert row.did_p_value > 0.05


@pytest.mark.parametrize("effect", [0.4, 0.0])
def test_interval_coverage_is_near_95_percent(effect):
    rng = np.random.default_rng(2026)
    covered, dau_covered, n = 0, 0, 300
    for _ in range(n):
        row = attribute_interventions(*simulate_intervention(rng, effect=effect)).iloc[0]
        covered += row.relative_ci_low <= effect <= row.relative_ci_high
        # Active members are not planted to move: the DAU contribution's truth is 0.
        dau_covered += row.contribution_dau_ci_low <= 0 <= row.contribution_dau_ci_high
    # 300 draws: the standard error of a 95% coverage is 1.3 points.
    assert 0.915 <= covered / n <= 0.985, covered / n
    assert 0.915 <= dau_covered / n <= 0.985, dau_covered / n


def test_a_planted_pre_trend_is_flagged():
    windows, candidates, panel, kpis = simulate_intervention(np.random.default_rng(5), effect=0.0)
    days = (panel["activity_date"] - panel["activity_date"].min()).dt.days
    target = panel["community_id"] == "target"
    panel.loc[target, "count_activity_events"] = (
        panel.loc[target, "count_activity_events"] * (1 + 0.04 * days[target])
    ).round()
    row = attribute_interventions(windows, candidates, panel, kpis).iloc[0]
    assert row.has_pre_trend and row.pre_trend_p_value < 0.05


def test_without_enough_donors_or_snapshot_there_is_a_row_without_estimate():
    windows, candidates, panel, kpis = simulate_intervention(np.random.default_rng(1))
    few = candidates.assign(is_eligible=candidates["lookalike_rank"] <= 2)
    row = attribute_interventions(windows, few, panel, kpis, min_donors=3).iloc[0]
    assert row.status == "too_few_donors" and np.isnan(row.did_effect)
    assert (row.n_candidates, row.n_eligible) == (12, 2)
    early = windows.assign(snapshot_date=pd.NaT)
    row = attribute_interventions(early, candidates, panel, kpis).iloc[0]
    assert row.status == "no_snapshot_before_start"


def test_no_eligible_donor_at_all_gives_too_few_donors():
    # Found on a 2,000-user x 30-day demo: with no eligible candidate the empty pool
    # lost its columns and the step failed with KeyError 'community_id'.
    windows, candidates, panel, kpis = simulate_intervention(np.random.default_rng(1))
    none = candidates.assign(is_eligible=False)
    row = attribute_interventions(windows, none, panel, kpis).iloc[0]
    assert row.status == "too_few_donors" and (row.n_eligible, row.n_donors) == (0, 0)


def test_select_donors_takes_the_nearest_on_trend_and_size():
    candidates = pd.DataFrame(
        {
            "community_id": ["a", "b", "c", "d"],
            "lookalike_rank": [1, 2, 3, 4],
            "pre_slope": [0.0, 0.01, 0.05, 0.0],
            "log_members": [np.log(10), np.log(10), np.log(10), np.log(40)],
        }
    )
    target = pd.Series({"pre_slope": 0.0, "log_members": np.log(10)})
    chosen = select_donors(target, candidates, 2)
    assert list(chosen["community_id"]) == ["a", "b"]
