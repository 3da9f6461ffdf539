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
# Two six-person cliques are too small a graph for the membership test to tell a member
# from chance at alpha 0.01 (5 of 5 ties inside where half the weight is: p = 0.03), so
# the refresh mechanics are tested with the test off; test_membership covers it.
SETTINGS = DetectionSettings(membership_alpha=None)
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
    stats = refresh_snapshots(con, SETTINGS)
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
    refresh_snapshots(con, SETTINGS)
    _load(con, date(2026, 2, 2))  # five more days: Sunday 1 Feb is complete, Monday 2 is not
    stats = refresh_snapshots(con, SETTINGS)
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
    refresh_snapshots(con, SETTINGS)
    before = _tables(con)
    stats = refresh_snapshots(con, SETTINGS)
    assert stats["snapshots_computed"] == 0 and stats["snapshots_stored_before"] == 4
    after = _tables(con)
    for name in store.TABLES:
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)


def test_the_provisional_snapshot_is_recomputed_to_the_same_rows(con):
    refresh_snapshots(con, SETTINGS)
    before = _tables(con)
    stats = refresh_snapshots(con, SETTINGS)
    assert stats["computed_dates"] == [date(2026, 1, 28)]
    after = _tables(con)
    for name in store.TABLES:
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)


def test_other_settings_recompute_every_week(con):
    refresh_snapshots(con, SETTINGS)
    stats = refresh_snapshots(con, DetectionSettings(membership_alpha=None, min_size=7))
    assert stats["recomputed_all"] and stats["snapshots_computed"] == 4
    # Six-person cliques are now too small: everyone is unassigned, in every week.
    fingerprints, assigned = con.execute(
        f"select count(distinct settings_fingerprint), sum(count_assigned) "
        f"from {store.SCHEMA}.community_snapshot_runs"
    ).fetchall()[0]
    assert fingerprints == 1 and assigned == 0
    assert refresh_snapshots(con, DetectionSettings(membership_alpha=None, min_size=7))[
        "computed_dates"
    ] == [date(2026, 1, 28)]


def test_recompute_all_drops_what_is_stored(con):
    refresh_snapshots(con, SETTINGS)
    stats = refresh_snapshots(con, SETTINGS, recompute_all=True)
    assert stats["recomputed_all"] and stats["snapshots_computed"] == 4
    assert stats["snapshots_stored_before"] == 0


def _weights(con, snapshot_date, **kwargs) -> dict[tuple[str, str], tuple[float, float, float]]:
    frame = store.read_window_edges(con, snapshot_date, 28, **kwargs)
    return {
        (r.user_id_a, r.user_id_b): (
            r.edge_weight,
            r.interaction_weight,
            r.recent_interaction_weight,
        )
        for r in frame.itertuples()
    }


def test_a_hard_window_sums_the_weeks_inside_it(con):
    _load(con, date(2026, 2, 8))  # five whole weeks, Monday 5 Jan to Sunday 8 Feb
    weights = _weights(con, date(2026, 2, 8))
    # Four weeks in the 28-day window, 3.0 a week; the co-membership tie adds 1.0.
    assert weights[("a1", "a2")] == (12.0, 12.0, 3.0)
    assert weights[("a0", "a1")] == (13.0, 12.0, 3.0)
    assert weights[("a0", "b0")] == (2.0, 2.0, 0.5)


def test_decayed_weights_halve_every_half_life_and_keep_a_steady_tie_whole(con):
    _load(con, date(2026, 2, 8))
    decayed = _weights(con, date(2026, 2, 8), horizon_days=28, half_life_days=7.0)
    # A tie as strong every week weighs what it weighs in the hard window...
    assert decayed[("a1", "a2")][0] == pytest.approx(12.0, abs=1e-5)
    # ...and the undecayed measurement figures do not change.
    assert decayed[("a1", "a2")][1:] == (12.0, 3.0)
    # A tie that stopped two weeks ago: its weeks are 2 and 3 half-lives older than the
    # last week's, so it weighs (0.5**2 + 0.5**3) / (1 + 0.5 + 0.5**2 + 0.5**3) of a steady one.
    _load(con, date(2026, 1, 25))
    old = _weights(con, date(2026, 2, 8), horizon_days=28, half_life_days=7.0)
    share = (0.5**2 + 0.5**3) / (1 + 0.5 + 0.5**2 + 0.5**3)
    assert old[("a1", "a2")][0] == pytest.approx(12.0 * share, abs=1e-5)
    assert old[("a1", "a2")][1:] == (6.0, 0.0)


def test_a_community_that_went_quiet_is_dissolved_at_the_next_snapshot(con):
    _load(con, date(2026, 2, 8))
    # Clique b stops talking after the week of 19 January.
    con.execute(
        "delete from main.int_user_edges_weekly "
        "where user_id_a like 'b%' and user_id_b like 'b%' and week_start_date > '2026-01-19'"
    )
    refresh_snapshots(con, SETTINGS)
    events = con.execute(
        f"select snapshot_date, event_type from {store.SCHEMA}.community_events "
        "where event_type = 'dissolved'"
    ).fetchall()
    # Quiet from Monday 26 January: gone at the snapshot of Sunday 1 February.
    assert events == [(date(2026, 2, 1), "dissolved")]
    dormant = con.execute(
        f"select snapshot_date, count_dormant from {store.SCHEMA}.community_snapshot_runs "
        "order by snapshot_date"
    ).fetchall()
    assert [n for _, n in dormant] == [0, 0, 0, 1, 1]
    # Without the rules (the member count and the faded test), its old ties keep it alive
    # for as long as the horizon sees them.
    refresh_snapshots(
        con,
        DetectionSettings(membership_alpha=None, min_recent_members=0, dormancy_ratio=None),
    )
    kept = con.execute(
        f"select count(*) from {store.SCHEMA}.community_events where event_type = 'dissolved'"
    ).fetchall()[0][0]
    assert kept == 0
