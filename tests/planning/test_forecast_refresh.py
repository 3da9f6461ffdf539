"""The forecast step around the model: training rows and their exclusion reasons by hand,
the candidates and types forecast, contributions, and the write on a tiny warehouse."""

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from orchestration.lib.planning import forecast_store as store
from orchestration.lib.planning.forecast import FEATURES
from orchestration.lib.planning.forecast_refresh import (
    MODEL_NAME,
    ForecastSettings,
    forecast_interventions,
    prepare_training,
    refresh_forecasts,
    round_inputs,
)
from orchestration.lib.warehouse.tables import ddl_names

_HEALTH = {
    "count_members": 20,
    "member_growth_rate_4_weeks": 0.1,
    "count_key_members": 2,
    "key_member_active_share": 0.5,
    "messages_per_member": 1.0,
    "share_members_active": 0.5,
    "share_weight_inside": 0.7,
    "cohesion_score": 50.0,
    "activity_score": 50.0,
    "growth_score": 50.0,
    "count_active_members": 10,
    "count_messages": 20,
}


def _attributed(n: int, seed: int = 0) -> pd.DataFrame:
    """n estimated interventions of two types on declared groups; the effect of 'pilot'
    rises with key members, 'boost' with growth."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        kind = "pilot" if i % 2 == 0 else "boost"
        key = int(rng.integers(0, 8))
        growth = float(rng.uniform(0, 0.6))
        log_effect = 0.05 + (0.06 * key if kind == "pilot" else 0.8 * growth)
        log_effect += rng.normal(0, 0.05)
        half = 0.05 * stats.t.ppf(0.975, 9)
        rows.append(
            {
                "intervention_id": f"iv{i:03d}",
                "intervention_type": kind,
                "group_kind": "declared",
                "community_id": f"group:g{i}",
                "snapshot_date": pd.Timestamp("2026-02-01"),
                "started_at": pd.Timestamp("2026-02-02") + pd.Timedelta(days=i),
                "status": "estimated",
                "n_donors": 10,
                "relative_effect": np.expm1(log_effect),
                "relative_ci_low": np.expm1(log_effect - half),
                "relative_ci_high": np.expm1(log_effect + half),
                "avg_members_post": 20.0,
                "contribution_dau": 0.0,
                "contribution_dau_ci_low": -1.0,
                "contribution_dau_ci_high": 1.0,
                "contribution_posts_per_day": 20 * 0.1 * log_effect,
                "contribution_posts_ci_low": 20 * 0.1 * log_effect - 1,
                "contribution_posts_ci_high": 20 * 0.1 * log_effect + 1,
                "has_health_row": True,
                **_HEALTH,
                "count_key_members": key,
                "member_growth_rate_4_weeks": growth,
            }
        )
    return pd.DataFrame(rows)


def test_training_outcomes_and_exclusion_reasons_by_hand():
    raw = _attributed(4)
    raw.loc[1, "status"] = "too_few_donors"
    raw.loc[2, "has_health_row"] = False
    raw.loc[3, ["relative_ci_low", "relative_ci_high"]] = raw.loc[3, "relative_effect"]
    out = prepare_training(raw)
    assert out["exclusion_reason"].tolist() == [
        None, "not_estimated: too_few_donors", "no_health_row_at_snapshot",
        "zero_width_interval",
    ]  # fmt: skip
    assert out["is_used"].tolist() == [True, False, False, False]
    # The interval was log effect +- t(0.975, 9) x 0.05: the standard error is 0.05.
    assert out.loc[0, "log_effect_se"] == pytest.approx(0.05)
    assert out.loc[0, "log_effect"] == pytest.approx(np.log1p(raw.loc[0, "relative_effect"]))
    # Posts per member-day: contribution / members; its se: 1 / t / members.
    assert out.loc[0, "posts_effect_se"] == pytest.approx(1 / stats.t.ppf(0.975, 9) / 20)


def test_missing_interval_is_a_reason_not_a_crash():
    raw = _attributed(2)
    raw.loc[0, ["relative_effect", "relative_ci_low", "relative_ci_high"]] = np.nan
    out = prepare_training(raw)
    assert out.loc[0, "exclusion_reason"] == "no_effect_interval"


def _candidates() -> pd.DataFrame:
    rows = []
    for kind, cid, key, growth in (
        ("declared", "group:a", 7, 0.0),
        ("declared", "group:b", 0, 0.0),
        ("declared", "group:c", 0, 0.6),
        ("detected", "c9", 3, 0.3),
    ):
        rows.append(
            {"snapshot_date": pd.Timestamp("2026-03-01"), "group_kind": kind,
             "community_id": cid, **_HEALTH, "count_key_members": key,
             "member_growth_rate_4_weeks": growth}
        )  # fmt: skip
    return pd.DataFrame(rows)


def test_forecasts_rank_groups_by_the_planted_driver_of_each_type():
    training = prepare_training(_attributed(60))
    forecasts, figures = forecast_interventions(training, _candidates())
    # Only the declared kind was intervened on; both types have 30 interventions.
    assert set(forecasts["group_kind"]) == {"declared"}
    assert sorted(figures["types_forecast"]) == ["boost", "pilot"]
    assert len(forecasts) == 6
    by = forecasts.set_index(["intervention_type", "community_id"])["predicted_effect"]
    assert by["pilot", "group:a"] > by["pilot", "group:b"]
    assert by["boost", "group:c"] > by["boost", "group:b"]
    assert (forecasts["effect_ci_low"] <= forecasts["predicted_effect"]).all()
    assert (forecasts["predicted_effect"] <= forecasts["effect_ci_high"]).all()
    assert (forecasts["n_training_interventions"] == 60).all()
    assert forecasts["model_version"].str.startswith(f"{MODEL_NAME}:60:").all()
    pilot_a = forecasts.query("intervention_type == 'pilot' and community_id == 'group:a'")
    assert pilot_a["top_features"].iloc[0].split(";")[0].startswith("key_member")
    # Posts: 0.1 x log effect per member-day x 20 members, so about 2 x log effect.
    posts = pilot_a["expected_posts_per_day_contribution"].iloc[0]
    assert posts == pytest.approx(2 * np.log1p(pilot_a["predicted_effect"].iloc[0]), rel=0.3)
    assert figures["quality"]["n_test"] == 18
    assert figures["quality"]["rank_correlation"] > 0.6


def test_a_type_with_too_few_interventions_is_not_forecast():
    raw = _attributed(20)
    raw.loc[0:1, "intervention_type"] = "rare"
    forecasts, figures = forecast_interventions(prepare_training(raw), _candidates())
    assert "rare" not in set(forecasts["intervention_type"])
    assert figures["n_by_type"]["rare"] == 2


def test_too_few_interventions_give_no_forecast_and_say_why():
    forecasts, figures = forecast_interventions(
        prepare_training(_attributed(4)), _candidates(), ForecastSettings()
    )
    assert forecasts.empty
    assert list(forecasts.columns) == ddl_names(store.TABLES["intervention_forecasts"])
    assert "fewer than min_training_interventions (5)" in figures["reason"]


def test_forecasts_are_deterministic():
    training = prepare_training(_attributed(30, seed=3))
    first, _ = forecast_interventions(training, _candidates())
    second, _ = forecast_interventions(training.iloc[::-1], _candidates().iloc[::-1])
    pd.testing.assert_frame_equal(first, second)


def test_last_bit_noise_in_the_inputs_changes_no_forecast():
    """A full and a day-by-day build sum the upstream floats in another order: inputs
    that differ in their last bits give the same forecasts and model version."""
    raw, candidates = _attributed(30, seed=5), _candidates()
    rng = np.random.default_rng(0)

    def jitter(frame):
        out = frame.copy()
        for column in out.columns:
            if pd.api.types.is_float_dtype(out[column]):
                out[column] = out[column] * (1 + rng.uniform(-1e-12, 1e-12, len(out)))
        return out

    noisy_raw, noisy_candidates = jitter(raw), jitter(candidates)
    assert not noisy_raw["relative_effect"].equals(raw["relative_effect"])
    first, first_figures = forecast_interventions(
        prepare_training(round_inputs(raw)), round_inputs(candidates)
    )
    second, second_figures = forecast_interventions(
        prepare_training(round_inputs(noisy_raw)), round_inputs(noisy_candidates)
    )
    pd.testing.assert_frame_equal(first, second, check_exact=True)
    assert first_figures["model_version"] == second_figures["model_version"]


def test_round_inputs_keeps_significant_digits_and_specials():
    frame = pd.DataFrame(
        {"x": [123456.789012345, -0.000123456789012, 0.0, np.nan, np.inf], "n": [1, 2, 3, 4, 5]}
    )
    out = round_inputs(frame, digits=6)
    assert out["x"].iloc[0] == 123457.0 and out["x"].iloc[1] == -0.000123457
    assert out["x"].iloc[2] == 0.0 and np.isnan(out["x"].iloc[3]) and np.isinf(out["x"].iloc[4])
    assert out["n"].tolist() == [1, 2, 3, 4, 5]


def test_refresh_writes_both_tables_on_a_tiny_warehouse():
    raw = _attributed(24)
    raw.loc[5, "status"] = "no_pre_period"
    con = duckdb.connect()
    attribution = raw.drop(columns=["has_health_row", *_HEALTH])
    health = raw[["snapshot_date", "group_kind", "community_id", *_HEALTH]]
    latest = _candidates()[["snapshot_date", "group_kind", "community_id", *_HEALTH]]
    con.register("a", attribution)
    con.register("h", pd.concat([health, latest], ignore_index=True))
    con.execute("create table main.fct_intervention_attribution as select * from a")
    con.execute("create table main.fct_community_health as select * from h")
    figures = refresh_forecasts(con)
    forecasts = con.execute(f"select * from {store.SCHEMA}.intervention_forecasts").df()
    training = con.execute(
        f"select * from {store.SCHEMA}.intervention_forecast_training order by intervention_id"
    ).df()
    assert len(training) == 24 and training["is_used"].sum() == 23
    assert training.loc[5, "exclusion_reason"] == "not_estimated: no_pre_period"
    assert figures["excluded_by_reason"] == {"not_estimated: no_pre_period": 1}
    assert len(forecasts) == 3 * 2 and (forecasts["n_training_interventions"] == 23).all()
    assert set(forecasts["snapshot_date"].astype(str)) == {"2026-03-01"}
    # Rewritten whole: a second refresh leaves the same rows.
    refresh_forecasts(con)
    assert con.execute(f"select count(*) from {store.SCHEMA}.intervention_forecasts").fetchone()[
        0
    ] == len(forecasts)
    assert set(FEATURES) >= {
        f.split(" ")[0] for f in forecasts["top_features"].str.split("; ").sum()
    }
