"""The community-snapshot refresh on a tiny in-memory warehouse: only new weeks are
computed, the provisional snapshot is replaced, a settings change recomputes every
week, and refreshing again changes nothing."""

from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from orchestration.lib.communities import store
from orchestration.lib.communities.refresh import refresh_snapshots
from orchestration.lib.communities.snapshots import DetectionSettings

FIRST_DAY = date(2026, 1, 5)  # a Monday
_CLIQUES = (["a0", "a1", "a2", "a3", "a4", "a5"], ["b0", "b1", "b2", "b3", "b4", "b5"])


def _pairs(members: list[str]) -> list[tuple[str, str]]:
    return [(x, y) for i, x in enumerate(members) for y in members[i + 1 :]]


def _load(con: duckdb.DuckDBPyConnection, last_day: date) -> None:
    """(Re)create the input models with activity from FIRST_DAY to ``last_day``: two
    six-person cliques that talk every week, joined by one weak tie."""
    days = pd.date_range(FIRST_DAY, last_day, freq="D").date
    users = [u for clique in _CLIQUES for u in clique]
    weeks = sorted({d - timedelta(days=d.weekday()) for d in days})
    edges = [
        (a, b, 3.0, week) for clique in _CLIQUES for a, b in _pairs(clique) for week in weeks
    ] + [("a0", "b0", 0.5, week) for week in weeks]
    frames = {
        "fct_user_activity_daily": pd.DataFrame(
            {"user_id": [users[i % len(users)] for i in range(len(days))], "activity_date": days}
        ),
        "dim_users": pd.DataFrame({"user_id": users, "signup_date": [FIRST_DAY] * len(users)}),
        "int_user_edges_weekly": pd.DataFrame(
            edges, columns=["user_id_a", "user_id_b", "interaction_weight", "week_start_date"]
        ),
        "int_co_memberships_paired": pd.DataFrame(
            {
                "user_id_a": ["a0"],
                "user_id_b": ["a1"],
                "co_membership_weight": [1.0],
                "shared_since": [pd.Timestamp(FIRST_DAY)],
                "shared_until": [pd.NaT],
            }
        ),
        "edge_kind_weights": pd.DataFrame({"interaction_kind": ["co_membership"], "weight": [1.0]}),
        "stg_product__group_memberships": pd.DataFrame(
            {
                "user_id": _CLIQUES[0],
                "group_id": ["g1"] * 6,
                "joined_at": [pd.Timestamp(FIRST_DAY)] * 6,
                "left_at": [pd.NaT] * 6,
            }
        ),
    }
    assert set(frames) == set(store.INPUT_MODELS)
    for name, frame in frames.items():
        con.register("_frame", frame)
        con.execute(f"create or replace table main.{name} as select * from _frame")
        con.unregister("_frame")


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    """Every output table, sorted, without the timing column."""
    out = {}
    for name in store.TABLES:
        frame = con.execute(f"select * from {store.SCHEMA}.{name}").df()
        frame = frame.drop(columns=["seconds"], errors="ignore")
        out[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return out


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    _load(con, FIRST_DAY + timedelta(days=23))  # Wednesday 2026-01-28
    yield con
    con.close()


def test_first_refresh_computes_every_week_and_the_week_in_progress(con):
    stats = refresh_snapshots(con)
    assert stats["computed_dates"] == [
        date(2026, 1, 11),
        date(2026, 1, 18),
        date(2026, 1, 25),
        date(2026, 1, 28),
    ]
    assert stats["snapshots_wanted"] == 4 and stats["snapshots_stored_before"] == 0
    runs = con.execute(
        f"select snapshot_date, is_provisional, count_communities, count_assigned "
        f"from {store.SCHEMA}.community_snapshot_runs order by snapshot_date"
    ).fetchall()
    assert [r[1] for r in runs] == [False, False, False, True]
    # Both cliques are found and every user is in one of them, every week.
    assert all(r[2] == 2 and r[3] == 12 for r in runs)
    assert stats["row_counts"]["community_assignments"] == 4 * 12
    assert stats["latest_run"]["snapshot_date"] == pd.Timestamp(2026, 1, 28)


def test_only_new_weeks_are_computed_and_the_provisional_one_is_replaced(con):
    refresh_snapshots(con)
    _load(con, date(2026, 2, 2))  # five more days: Sunday 1 Feb is complete, Monday 2 is not
    stats = refresh_snapshots(con)
    assert stats["computed_dates"] == [date(2026, 2, 1), date(2026, 2, 2)]
    dates = con.execute(
        f"select snapshot_date, is_provisional from {store.SCHEMA}.community_snapshot_runs "
        "order by snapshot_date"
    ).fetchall()
    assert dates == [
        (date(2026, 1, 11), False),
        (date(2026, 1, 18), False),
        (date(2026, 1, 25), False),
        (date(2026, 2, 1), False),
        (date(2026, 2, 2), True),
    ]
    # The replaced provisional snapshot left no rows behind in any table.
    for name in store.TABLES:
        left = con.execute(
            f"select count(*) from {store.SCHEMA}.{name} where snapshot_date = ?",
            [date(2026, 1, 28)],
        ).fetchall()[0][0]
        assert left == 0, name


def test_refreshing_again_changes_nothing(con):
    _load(con, date(2026, 2, 1))  # ends on a Sunday: no week in progress
    refresh_snapshots(con)
    before = _tables(con)
    stats = refresh_snapshots(con)
    assert stats["snapshots_computed"] == 0 and stats["snapshots_stored_before"] == 4
    after = _tables(con)
    for name in store.TABLES:
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)


def test_the_provisional_snapshot_is_recomputed_to_the_same_rows(con):
    refresh_snapshots(con)
    before = _tables(con)
    stats = refresh_snapshots(con)
    assert stats["computed_dates"] == [date(2026, 1, 28)]
    after = _tables(con)
    for name in store.TABLES:
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)


def test_other_settings_recompute_every_week(con):
    refresh_snapshots(con)
    stats = refresh_snapshots(con, DetectionSettings(min_size=7))
    assert stats["recomputed_all"] and stats["snapshots_computed"] == 4
    # Six-person cliques are now too small: everyone is unassigned, in every week.
    fingerprints, assigned = con.execute(
        f"select count(distinct settings_fingerprint), sum(count_assigned) "
        f"from {store.SCHEMA}.community_snapshot_runs"
    ).fetchall()[0]
    assert fingerprints == 1 and assigned == 0
    assert refresh_snapshots(con, DetectionSettings(min_size=7))["computed_dates"] == [
        date(2026, 1, 28)
    ]


def test_recompute_all_drops_what_is_stored(con):
    refresh_snapshots(con)
    stats = refresh_snapshots(con, recompute_all=True)
    assert stats["recomputed_all"] and stats["snapshots_computed"] == 4
    assert stats["snapshots_stored_before"] == 0
