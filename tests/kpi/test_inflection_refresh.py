"""The growth-inflection refresh on a tiny in-memory warehouse: the declared column
types hold with and without bends, a planted bend is found with its context, and a
refresh replaces the table instead of adding to it."""

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.lib.kpi import CONTEXT_COLUMNS, INFLECTION_COLUMNS, store
from orchestration.lib.kpi.refresh import SERIES, InflectionSettings, refresh_inflections

DAYS = pd.date_range("2026-01-01", periods=90, freq="D")
BEND = 50  # count_dau turns upward on day 50

_TYPES = {
    "series_name": "VARCHAR",
    "inflection_date": "DATE",
    "slope_before": "DOUBLE",
    "slope_after": "DOUBLE",
    "slope_change": "DOUBLE",
    "direction": "VARCHAR",
    "p_value": "DOUBLE",
    "date_low": "DATE",
    "date_high": "DATE",
    "rss_reduction_share": "DOUBLE",
    "criterion_gain": "DOUBLE",
    "intervention_ids": "VARCHAR",
    "n_interventions": "BIGINT",
    "experiment_ids": "VARCHAR",
    "n_experiments": "BIGINT",
}


def _load(con: duckdb.DuckDBPyConnection, *, flat: bool = False) -> None:
    t = np.arange(len(DAYS), dtype=float)
    noise = np.random.default_rng(7).normal(0, 1.0, len(DAYS))
    dau = 100 + 0.2 * t + 3.0 * np.maximum(0, t - BEND) + noise
    kpis = pd.DataFrame(
        {
            "kpi_date": DAYS.date,
            "count_new_users": np.full(len(DAYS), 20) if flat else 20 + (t % 3),
            "count_dau": np.full(len(DAYS), 100.0) if flat else dau,
            "count_active_groups": np.full(len(DAYS), 12),
        }
    )
    starts = {
        "stg_product__interventions": ("intervention_id", ["i_launch", "i_old"], [45, 5]),
        "stg_product__experiments": ("experiment_id", ["e_onboarding"], [48]),
    }
    con.register("_k", kpis)
    con.execute("create or replace table main.fct_kpi_daily as select * from _k")
    con.unregister("_k")
    for name, (column, ids, days) in starts.items():
        frame = pd.DataFrame(
            {column: ids, "started_at": [DAYS[d] + pd.Timedelta(hours=9) for d in days]}
        )
        con.register("_s", frame)
        con.execute(f"create or replace table main.{name} as select * from _s")
        con.unregister("_s")
    assert {"fct_kpi_daily", *starts} == set(store.INPUT_MODELS)


def _types(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'kpi' and table_name = 'growth_inflections' "
        "order by ordinal_position"
    ).fetchall()
    return dict(rows)


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    yield con
    con.close()


def test_the_table_has_the_columns_of_the_library_in_order():
    expected = ("series_name", *INFLECTION_COLUMNS, *CONTEXT_COLUMNS)
    assert expected == store.INFLECTION_TABLE_COLUMNS
    assert list(_TYPES) == list(store.INFLECTION_TABLE_COLUMNS)


def test_a_planted_bend_is_found_with_what_started_before_it(con):
    _load(con)
    stats = refresh_inflections(con)
    assert _types(con) == _TYPES
    rows = con.execute(
        "select inflection_date, direction, intervention_ids, n_interventions, "
        "experiment_ids, n_experiments, date_low <= inflection_date, "
        "inflection_date <= date_high from kpi.growth_inflections "
        "where series_name = 'count_dau'"
    ).fetchall()
    assert len(rows) == 1
    found, direction, interventions, n_interventions, experiments, n_experiments, lo, hi = rows[0]
    assert abs((pd.Timestamp(found) - DAYS[BEND]).days) <= 2
    assert direction == "acceleration" and lo and hi
    # Started 5 and 2 days before the bend: inside the default 21-day window; i_old is not.
    assert (interventions, n_interventions) == ("i_launch", 1)
    assert (experiments, n_experiments) == ("e_onboarding", 1)
    assert stats["count_inflections"] == len(con.sql("from kpi.growth_inflections").fetchall())
    assert stats["inflections_per_series"]["count_dau"] == 1
    assert stats["series"] == list(SERIES)


def test_no_bend_leaves_an_empty_table_with_the_declared_types(con):
    _load(con, flat=True)
    stats = refresh_inflections(con)
    assert stats["count_inflections"] == 0 and stats["new_users_inflection_dates"] == []
    assert con.execute("select count(*) from kpi.growth_inflections").fetchall()[0][0] == 0
    assert _types(con) == _TYPES


def test_a_refresh_replaces_the_table(con):
    _load(con)
    refresh_inflections(con)
    first = con.sql("from kpi.growth_inflections order by all").df()
    refresh_inflections(con)
    again = con.sql("from kpi.growth_inflections order by all").df()
    pd.testing.assert_frame_equal(first, again)
    _load(con, flat=True)
    refresh_inflections(con)
    assert con.execute("select count(*) from kpi.growth_inflections").fetchall()[0][0] == 0


def test_settings_reach_the_fit(con):
    _load(con)
    narrow = refresh_inflections(con, InflectionSettings(context_window_days=3))
    assert narrow["settings"]["context_window_days"] == 3
    row = con.execute(
        "select intervention_ids, experiment_ids from kpi.growth_inflections "
        "where series_name = 'count_dau'"
    ).fetchall()
    # Only the experiment (2 days before) is within 3 days of the bend.
    assert row == [("", "e_onboarding")]


def test_a_table_of_another_layout_is_replaced(con):
    _load(con)
    con.execute("create schema kpi")
    con.execute("create table kpi.growth_inflections (series_name varchar, old double)")
    refresh_inflections(con)
    assert _types(con) == _TYPES
