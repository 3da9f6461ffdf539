from datetime import date

import networkx as nx
import pandas as pd

from orchestration.lib.communities.snapshots import (
    DetectionSettings,
    detect_snapshot,
    snapshot_dates,
)


def test_snapshot_dates_are_sundays_plus_a_provisional_last_day():
    # 2026-01-01 is a Thursday: the first full week of data ends Sunday 2026-01-11.
    dates = snapshot_dates(date(2026, 1, 1), date(2026, 1, 28))
    assert dates == [
        (date(2026, 1, 11), False),
        (date(2026, 1, 18), False),
        (date(2026, 1, 25), False),
        (date(2026, 1, 28), True),
    ]
    assert snapshot_dates(date(2026, 1, 5), date(2026, 1, 11)) == [(date(2026, 1, 11), False)]
    assert snapshot_dates(date(2026, 1, 5), date(2026, 1, 7)) == [(date(2026, 1, 7), True)]


def _planted_edges(seed: int = 3) -> pd.DataFrame:
    graph = nx.planted_partition_graph(8, 20, 0.4, 0.01, seed=seed)
    return pd.DataFrame(
        [(f"u{min(a, b):03d}", f"u{max(a, b):03d}", 1.0) for a, b in graph.edges()],
        columns=["user_id_a", "user_id_b", "edge_weight"],
    )


def test_snapshot_accounts_for_every_user_and_keeps_ids_week_to_week():
    edges = _planted_edges()
    users = pd.Series([f"u{i:03d}" for i in range(170)])  # 10 users without edges
    declared = pd.DataFrame({"user_id": ["u000", "u001", "u002"], "community_id": "group:g1"})
    settings = DetectionSettings()
    first = detect_snapshot(edges, users, declared, None, date(2026, 1, 11), settings)
    assert first.run["count_assigned"] + first.run["count_unassigned"] == 170
    assert first.run["count_communities"] == 8
    assert not first.assignments["user_id"].duplicated().any()
    assert set(first.events["event_type"]) == {"born"}
    assert set(first.stats["group_kind"]) == {"detected", "declared"}
    assert len(first.members) == first.run["count_assigned"]

    second = detect_snapshot(edges, users, declared, first.assignments, date(2026, 1, 18), settings)
    merged = first.assignments.merge(second.assignments, on="user_id")
    assert (merged["community_id_x"] == merged["community_id_y"]).mean() == 1.0
    assert set(second.events["event_type"]) == {"continued"}
