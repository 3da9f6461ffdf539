"""Quiet weeks are carried forward: a long history where most weeks see no interaction
gives, row by row, what computing every snapshot in full gives; and the writes of the
step are all-or-nothing (a failure half-way leaves the previous state)."""

from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.lib.communities import store
from orchestration.lib.communities.refresh import refresh_snapshots
from orchestration.lib.communities.snapshots import DetectionSettings

FIRST_DAY = date(2026, 1, 5)  # a Monday
WEEKS = 46
#: Weeks with interactions; every other week is quiet. After a burst the decayed
#: weights change for eight weeks (the horizon), then the window stays the same.
ACTIVE_WEEKS = {0, 1, 2, 3, 4, 5, 14, 15, 30}
GROUPS = [[f"g{g}u{i}" for i in range(8)] for g in range(4)]
#: Users signed up during quiet stretches (no tie ever): they only count.
LATE_USERS = {"z0": 20, "z1": 24, "z2": 36, "z3": 41}
SETTINGS = DetectionSettings(membership_alpha=None)
VOLATILE = ["seconds", "is_carried_forward"]


def _week(k: int) -> date:
    return FIRST_DAY + timedelta(days=7 * k)


def _load(con: duckdb.DuckDBPyConnection, last_day: date) -> None:
    """(Re)create the input models with activity from FIRST_DAY to ``last_day``."""
    rng = np.random.default_rng(7)
    rows = []
    for k in sorted(ACTIVE_WEEKS):
        for group in GROUPS:
            for i, a in enumerate(group):
                for b in group[i + 1 :]:
                    if rng.random() < 0.7:
                        rows.append((a, b, float(rng.integers(1, 5)), _week(k)))
        # A few ties across groups.
        for _ in range(3):
            g, h = rng.choice(len(GROUPS), 2, replace=False)
            a, b = sorted((GROUPS[g][rng.integers(8)], GROUPS[h][rng.integers(8)]))
            rows.append((a, b, 1.0, _week(k)))
    edges = pd.DataFrame(
        rows, columns=["user_id_a", "user_id_b", "interaction_weight", "week_start_date"]
    )
    edges = edges[edges["week_start_date"] <= last_day]
    edges = edges.groupby(["user_id_a", "user_id_b", "week_start_date"], as_index=False).sum()
    users = [u for group in GROUPS for u in group]
    signups = [FIRST_DAY] * len(users) + [_week(k) + timedelta(days=2) for k in LATE_USERS.values()]
    days = pd.date_range(FIRST_DAY, last_day, freq="D").date
    frames = {
        "fct_user_activity_daily": pd.DataFrame(
            {"user_id": [users[i % len(users)] for i in range(len(days))], "activity_date": days}
        ),
        "dim_users": pd.DataFrame(
            {"user_id": users + list(LATE_USERS), "signup_date": signups}
        ).query("signup_date <= @last_day"),
        "int_user_edges_weekly": edges,
        # A co-membership tie that ends: afterwards whole windows are empty.
        "int_co_memberships_paired": pd.DataFrame(
            {
                "user_id_a": ["g0u0"],
                "user_id_b": ["g0u1"],
                "co_membership_weight": [1.0],
                "shared_since": [pd.Timestamp(FIRST_DAY)],
                "shared_until": [pd.Timestamp(_week(18))],
            }
        ),
        "edge_kind_weights": pd.DataFrame({"interaction_kind": ["co_membership"], "weight": [1.0]}),
        # A declared group whose membership changes during a quiet stretch.
        "stg_product__group_memberships": pd.DataFrame(
            {
                "user_id": GROUPS[0][:6] + ["g1u0"],
                "group_id": ["d1"] * 7,
                "joined_at": [pd.Timestamp(FIRST_DAY)] * 6 + [pd.Timestamp(_week(22))],
                "left_at": [pd.NaT] * 6 + [pd.Timestamp(_week(38))],
            }
        ),
    }
    assert set(frames) == set(store.INPUT_MODELS)
    for name, frame in frames.items():
        con.register("_frame", frame)
        con.execute(f"create or replace table main.{name} as select * from _frame")
        con.unregister("_frame")


def _tables(con: duckdb.DuckDBPyConnection, drop: list[str]) -> dict[str, pd.DataFrame]:
    """Every output table, sorted, without the ``drop`` columns."""
    out = {}
    for name in store.TABLES:
        frame = con.execute(f"select * from {store.SCHEMA}.{name}").df()
        frame = frame.drop(columns=drop, errors="ignore")
        out[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return out


def _assert_same(left: dict, right: dict) -> None:
    for name in store.TABLES:
        pd.testing.assert_frame_equal(left[name], right[name], obj=name, check_exact=True)


def _warehouse(last_day: date) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    _load(con, last_day)
    return con


LAST_DAY = _week(WEEKS) + timedelta(days=2)  # a Wednesday: a provisional snapshot too


@pytest.mark.parametrize(
    "settings",
    [DetectionSettings(), DetectionSettings(membership_alpha=None, half_life_days=None)],
    ids=["defaults", "hard_window"],
)
def test_carried_forward_snapshots_equal_full_computation_row_by_row(settings):
    full, carried = _warehouse(LAST_DAY), _warehouse(LAST_DAY)
    stats_full = refresh_snapshots(full, settings, carry_forward=False)
    stats = refresh_snapshots(carried, settings)
    assert stats_full["snapshots_carried_forward"] == 0
    assert stats["computed_dates"] == stats_full["computed_dates"]
    # Decayed weights change every week until a burst has left the horizon (eight
    # weeks); then every quiet week but the first of a stretch is a copy (weeks 25-29
    # and 40-46 here). A hard window changes only when a week enters or leaves it.
    assert stats["snapshots_carried_forward"] >= 10
    _assert_same(_tables(full, VOLATILE), _tables(carried, VOLATILE))
    flags = carried.execute(
        f"select snapshot_date, is_carried_forward, count_edges, count_communities "
        f"from {store.SCHEMA}.community_snapshot_runs order by snapshot_date"
    ).df()
    assert flags["is_carried_forward"].sum() == stats["snapshots_carried_forward"]
    assert not full.execute(
        f"select bool_or(is_carried_forward) from {store.SCHEMA}.community_snapshot_runs"
    ).fetchall()[0][0]
    # Quiet stretches long enough to empty the window are carried; with a hard window,
    # so are weeks whose unchanged window holds communities.
    copied = flags[flags["is_carried_forward"]]
    assert (copied["count_edges"] == 0).any()
    if settings.half_life_days is None:
        assert (copied["count_communities"] > 0).sum() >= 3
    # Late signups and a declared group changing during quiet weeks do not stop it.
    users = carried.execute(
        f"select count_users, is_carried_forward from {store.SCHEMA}.community_snapshot_runs"
    ).df()
    assert users.loc[users["is_carried_forward"], "count_users"].nunique() > 1
    full.close()
    carried.close()


def test_carrying_forward_does_not_depend_on_how_refreshes_are_cut():
    """Refreshing week by week stores the same rows, flags included, as refreshing once:
    a refresh's first snapshot reads back what its predecessor's decision needs."""
    once = _warehouse(LAST_DAY)
    refresh_snapshots(once, SETTINGS)
    weekly = _warehouse(_week(3))
    for k in (9, 12, 21, 27, 33, WEEKS):
        _load(weekly, _week(k) - timedelta(days=1))
        refresh_snapshots(weekly, SETTINGS)
    _load(weekly, LAST_DAY)
    refresh_snapshots(weekly, SETTINGS)
    _assert_same(_tables(once, ["seconds"]), _tables(weekly, ["seconds"]))
    once.close()
    weekly.close()


class _FailingConnection:
    """A connection that raises at the ``fail_at``-th statement matching ``pattern``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, pattern: str, fail_at: int):
        self._con, self._pattern, self._left = con, pattern, fail_at

    def _count(self, sql: str) -> None:
        if self._pattern in sql:
            self._left -= 1
            if self._left == 0:
                raise RuntimeError("killed half-way")

    def execute(self, sql, *args):
        self._count(sql)
        return self._con.execute(sql, *args)

    def executemany(self, sql, *args):
        self._count(sql)
        return self._con.executemany(sql, *args)

    def __getattr__(self, name):
        return getattr(self._con, name)


def test_writes_are_all_or_nothing():
    con = _warehouse(_week(8))
    refresh_snapshots(con, SETTINGS)
    before = _tables(con, [])
    dates = sorted(before["community_snapshot_runs"]["snapshot_date"].dt.date.unique())
    assert len(dates) >= 3
    # A delete of several snapshots that fails after the first table.
    with pytest.raises(RuntimeError):
        store.delete_snapshots(_FailingConnection(con, "delete from", 2), dates[-2:])
    _assert_same(before, _tables(con, []))
    # Recreating the tables, failing after some were dropped and made again.
    with pytest.raises(RuntimeError):
        store.ensure_tables(_FailingConnection(con, "drop table", 3), recreate=True)
    _assert_same(before, _tables(con, []))
    # Writing a snapshot (delete, then one insert per table), failing at the third insert.
    with pytest.raises(RuntimeError):
        store.carry_snapshot_forward(
            _FailingConnection(con, "insert into", 3),
            dates[-2],
            dates[-1],
            is_provisional=False,
            window_start=dates[-1] - timedelta(days=27),
            count_users=1,
            declared_stats=None,
            seconds=0.0,
        )
    _assert_same(before, _tables(con, []))
    con.close()
