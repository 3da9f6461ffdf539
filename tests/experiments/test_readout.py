"""The readout: rows per (metric, variant, adjustment), Holm, SRM, problems."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from orchestration.lib.experiments.readout import RESULT_COLUMNS, analyse_experiments
from orchestration.lib.experiments.stats import (
    SampleStats,
    adjust_p_values,
    member_srm_p_value,
    welch_test,
)


def _arm_stats(experiment_id, metric, variant, m, d=None, pre=None):
    d = np.ones_like(m) if d is None else d
    row = {
        "experiment_id": experiment_id, "metric_name": metric, "variant": variant,
        "units": len(m), "m_sum": m.sum(), "m_sum_squares": (m**2).sum(), "d_sum": d.sum(),
        "d_sum_squares": (d**2).sum(), "m_d_sum_products": (m * d).sum(),
        "pre_sum": np.nan, "pre_sum_squares": np.nan, "post_pre_sum_products": np.nan,
    }  # fmt: skip
    if pre is not None:
        row |= {"pre_sum": pre.sum(), "pre_sum_squares": (pre**2).sum(),
                "post_pre_sum_products": (m * pre).sum()}  # fmt: skip
    return row


@pytest.fixture
def readout():
    rng = np.random.default_rng(11)
    rows = []
    for variant, n, lift in (("control", 1000, 1.0), ("treatment", 1000, 1.3)):
        pre = rng.poisson(3.0, n).astype(float)
        post = rng.poisson(lift * (0.5 + 0.8 * pre)).astype(float)
        rows.append(_arm_stats("u1", "posts_per_user", variant, post, pre=pre))
        rows.append(_arm_stats("u1", "events_per_user", variant, rng.poisson(5.0, n) * 1.0))
    for variant, n in (("control", 60), ("treatment", 60)):
        sizes = rng.integers(5, 50, n).astype(float)
        rows.append(_arm_stats("g1", "posts_per_member_day", variant,
                               rng.poisson(0.2 * sizes) * 1.0, d=sizes))  # fmt: skip
    # An experiment with a broken split (1,000 vs 1,200 users) and an unknown metric.
    rows.append(_arm_stats("u2", "posts_per_user", "control", np.ones(1000)))
    rows.append(_arm_stats("u2", "posts_per_user", "treatment", np.ones(1200) * 1.0))
    experiments = pd.DataFrame({
        "experiment_id": ["u1", "g1", "u2"], "unit_type": ["user", "group", "user"],
        "primary_metric": ["posts_per_user", "posts_per_member_day", "revenue_per_user"],
        "traffic_split": [None, None, "50/50"],
    })  # fmt: skip
    return analyse_experiments(experiments, pd.DataFrame(rows)), pd.DataFrame(rows)


def test_result_rows_and_columns(readout):
    (results, _, _), _ = readout
    assert tuple(results.columns) == RESULT_COLUMNS
    assert not results.duplicated(["experiment_id", "metric_name", "variant", "adjustment"]).any()
    u1 = results[results["experiment_id"] == "u1"]
    # control + unadjusted + CUPED for the metric with a pre-period, control + one otherwise
    assert len(u1[u1["metric_name"] == "posts_per_user"]) == 3
    assert len(u1[u1["metric_name"] == "events_per_user"]) == 2
    g1 = results[results["experiment_id"] == "g1"]
    assert set(g1["adjustment"]) == {"none"} and set(g1["analysis_unit"]) == {"group"}
    assert u1.loc[u1["metric_name"] == "posts_per_user", "is_primary"].all()


def test_user_metric_is_welch_and_cuped_reduces_variance(readout):
    (results, _, _), stats = readout
    row = results[(results["experiment_id"] == "u1") & (results["metric_name"] == "posts_per_user")
                  & (results["variant"] == "treatment")].set_index("adjustment")  # fmt: skip
    arms = stats[(stats["experiment_id"] == "u1") & (stats["metric_name"] == "posts_per_user")]
    a, b = (SampleStats(int(r.units), r.m_sum, r.m_sum_squares) for r in arms.itertuples())
    assert row.loc["none", "p_value"] == pytest.approx(welch_test(a, b).p_value, abs=1e-9)
    assert row.loc["cuped", "variance_reduction"] > 0.3
    assert (
        row.loc["cuped", "lift_relative_ci_low"] <= 0.3 <= row.loc["cuped", "lift_relative_ci_high"]
    )


def test_holm_within_experiment(readout):
    (results, _, _), _ = readout
    u1 = results[(results["experiment_id"] == "u1") & (results["adjustment"] == "none")
                 & (results["variant"] != "control")]  # fmt: skip
    expected = adjust_p_values(u1["p_value"].to_numpy(), "holm")
    np.testing.assert_allclose(u1["p_value_adjusted"].to_numpy(), expected)
    assert (u1["p_value_adjusted"] >= u1["p_value"]).all()


def test_srm_and_problems(readout):
    (_, health, problems), _ = readout
    by_id = health.set_index("experiment_id")
    assert bool(by_id.loc["u2", "has_srm"]) and by_id.loc["u2", "srm_p_value"] < 1e-4
    assert not bool(by_id.loc["u1", "has_srm"])
    assert by_id.loc["u2", "units_per_variant"] == "control=1000, treatment=1200"
    unknown = problems[problems["problem"] == "unknown_metric"]
    assert list(unknown["experiment_id"]) == ["u2"]
    assert "revenue_per_user" in unknown["reason"].iloc[0]


def _cluster_arm(experiment_id, metric, variant, m, d, p, q, members):
    return {
        "experiment_id": experiment_id, "metric_name": metric, "variant": variant,
        "units": len(m), "members": members.sum(), "m_sum": m.sum(),
        "m_sum_squares": (m**2).sum(), "d_sum": d.sum(), "d_sum_squares": (d**2).sum(),
        "m_d_sum_products": (m * d).sum(), "pre_sum": p.sum(), "pre_sum_squares": (p**2).sum(),
        "post_pre_sum_products": (m * p).sum(), "pre_d_sum": q.sum(),
        "pre_d_sum_squares": (q**2).sum(), "pre_m_pre_d_sum_products": (p * q).sum(),
        "m_pre_d_sum_products": (m * q).sum(), "d_pre_sum_products": (d * p).sum(),
        "d_pre_d_sum_products": (d * q).sum(),
    }  # fmt: skip


def test_cluster_experiment_has_cuped_rows_holm_and_member_srm():
    rng = np.random.default_rng(4)
    rows = []
    # 50 groups per arm, but the treatment's groups are three times as large: the cluster
    # split is fine, the member split is not, even after the clusters' design effect.
    for variant, lift, scale in (("control", 1.0, 1), ("treatment", 1.2, 3)):
        size = rng.integers(5, 40, 50).astype(float) * scale
        rate = 0.3 * rng.gamma(4.0, 0.25, 50)
        q, d = size * 28, size * 20
        p, m = rng.poisson(rate * q) * 1.0, rng.poisson(lift * rate * d) * 1.0
        row = _cluster_arm("g2", "posts_per_member_day", variant, m, d, p, q, size)
        rows.append(row | {"members_sum_squares": (size**2).sum()})
        active = rng.binomial(size.astype(int), 0.6) * 1.0
        row = _cluster_arm("g2", "active_member_share", variant, active, size,
                           rng.binomial(size.astype(int), 0.6) * 1.0, size, size)  # fmt: skip
        rows.append(row | {"members_sum_squares": (size**2).sum()})
    experiments = pd.DataFrame({"experiment_id": ["g2"], "unit_type": ["group"],
                                "primary_metric": ["posts_per_member_day"],
                                "traffic_split": [None]})  # fmt: skip
    results, health, problems = analyse_experiments(experiments, pd.DataFrame(rows))
    assert problems.empty
    treated = results[results["variant"] == "treatment"].set_index(["metric_name", "adjustment"])
    assert set(treated.index) == {(metric, adjustment)
                                  for metric in ("posts_per_member_day", "active_member_share")
                                  for adjustment in ("none", "cuped")}  # fmt: skip
    assert set(results["analysis_unit"]) == {"group"}
    cuped = treated.loc[("posts_per_member_day", "cuped")]
    assert cuped["variance_reduction"] > 0.3
    assert cuped["lift_relative_ci_low"] <= 0.2 <= cuped["lift_relative_ci_high"]
    assert np.isnan(treated.loc[("posts_per_member_day", "none"), "variance_reduction"])
    for adjustment in ("none", "cuped"):
        family = treated.xs(adjustment, level="adjustment")
        expected = adjust_p_values(family["p_value"].to_numpy(), "holm")
        np.testing.assert_allclose(family["p_value_adjusted"].to_numpy(), expected)
    row = health.set_index("experiment_id").loc["g2"]
    assert row["units_per_variant"] == "control=50, treatment=50"
    assert not row["has_srm"] and row["has_member_srm"]
    members = [int(r["members"]) for r in rows[::2]]
    squares = sum(r["members_sum_squares"] for r in rows[::2])
    assert row["member_srm_p_value"] == pytest.approx(
        member_srm_p_value([50, 50], members, squares)
    )


def test_user_experiment_has_no_member_srm(readout):
    (_, health, _), _ = readout
    by_id = health.set_index("experiment_id")
    assert by_id.loc["u1", "member_srm_p_value"] != by_id.loc["u1", "member_srm_p_value"]
    assert by_id.loc["u1", "has_member_srm"] is None
    assert by_id.loc["g1", "has_member_srm"] is not None
