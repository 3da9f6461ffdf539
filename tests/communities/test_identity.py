"""Stable community ids, lifecycle events and the membership history."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from orchestration.lib.communities import detect_communities
from orchestration.lib.communities.identity import (
    EVENT_TYPES,
    assign_community_ids,
    update_membership_history,
)


def _current(groups: list[list[str]], unassigned: list[str] = ()) -> pd.DataFrame:
    rows = [(user, label) for label, group in enumerate(groups) for user in group]
    rows += [(user, -1) for user in unassigned]
    return pd.DataFrame(rows, columns=["user_id", "community_label"])


def _users(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:02d}" for i in range(n)]


def _previous(result) -> pd.DataFrame:
    return result.assignment[["user_id", "community_id"]]


def _events(result) -> set[tuple]:
    """Events as (id, type, related id or None)."""
    return {
        (
            row.community_id,
            row.event_type,
            None if pd.isna(row.related_community_id) else row.related_community_id,
        )
        for row in result.events.itertuples()
    }


A, B, C, D, E = _users("a", 20), _users("b", 20), _users("c", 10), _users("d", 10), _users("e", 8)


@pytest.fixture()
def first():
    return assign_community_ids(_current([A, B, C, D], ["lone"]), None, as_of="2026-01-01")


def _id_of(result, user: str) -> str:
    return result.assignment.set_index("user_id").loc[user, "community_id"]


def test_first_refresh_everything_is_born(first):
    assert set(first.events["event_type"]) == {"born"}
    assert len(first.events) == 4
    ids = first.communities["community_id"]
    assert ids.is_unique and all(i.startswith("c") and len(i) == 13 for i in ids)
    assert pd.isna(first.assignment.set_index("user_id").loc["lone", "community_id"])
    assert first.communities["size"].tolist() == [20, 20, 10, 10]


def test_same_inputs_same_ids(first):
    again = assign_community_ids(_current([A, B, C, D], ["lone"]), None, as_of="2026-01-01")
    pd.testing.assert_frame_equal(first.assignment, again.assignment)
    pd.testing.assert_frame_equal(first.events, again.events)
    later = assign_community_ids(_current([A, B, C, D]), None, as_of="2026-02-01")
    assert set(later.communities["community_id"]).isdisjoint(first.communities["community_id"])


def test_relabelled_but_unchanged_keeps_ids(first):
    shuffled = assign_community_ids(_current([D, C, B, A]), _previous(first), as_of="2026-01-08")
    for user in ("a00", "b00", "c00", "d00"):
        assert _id_of(shuffled, user) == _id_of(first, user)
    assert set(shuffled.events["event_type"]) == {"continued"}
    assert shuffled.events["overlap"].tolist() == [1.0] * 4


def test_split_merge_grow_born_events(first):
    a_id, b_id, c_id, d_id = (_id_of(first, u) for u in ("a00", "b00", "c00", "d00"))
    newcomers = _users("x", 6)
    second = assign_community_ids(
        _current([A[:10], A[10:], C + D, B + newcomers, E]), _previous(first), as_of="2026-01-08"
    )
    kept_half, other_half = _id_of(second, "a00"), _id_of(second, "a10")
    assert kept_half == a_id and other_half not in {a_id, b_id, c_id, d_id}
    merged = _id_of(second, "c00")
    assert merged == _id_of(second, "d00") and merged in {c_id, d_id}
    absorbed = d_id if merged == c_id else c_id
    born = _id_of(second, "e00")
    assert _events(second) == {
        (a_id, "shrank", a_id),
        (other_half, "split", a_id),
        (merged, "grew", merged),
        (merged, "merged", absorbed),
        (b_id, "grew", b_id),
        (born, "born", None),
    }
    row = second.events.set_index("event_type").loc["split"]
    assert (row.size_before, row.size_after, row.overlap) == (20, 10, 0.5)
    assert set(second.events["event_type"]) <= set(EVENT_TYPES)


def test_dissolved_and_scattered(first):
    a_id, b_id = _id_of(first, "a00"), _id_of(first, "b00")
    # B's members all become unassigned; A's stay; C and D are gone from the data.
    second = assign_community_ids(_current([A], B), _previous(first), as_of="2026-01-08")
    events = _events(second)
    assert (a_id, "continued", a_id) in events
    assert (b_id, "dissolved", None) in events
    assert {kind for _, kind, _ in events} == {"continued", "dissolved"}
    dissolved = second.events[second.events["event_type"] == "dissolved"]
    assert sorted(dissolved["size_before"]) == [10, 10, 20]
    assert (dissolved["size_after"] == 0).all()


def test_four_way_split_retires_the_parent_id():
    big = _users("p", 40)
    first = assign_community_ids(_current([big]), None, as_of="2026-01-01")
    parent = _id_of(first, "p00")
    second = assign_community_ids(
        _current([big[:10], big[10:20], big[20:30], big[30:]]), _previous(first), as_of="2026-01-08"
    )
    assert parent not in set(second.communities["community_id"])
    assert set(second.events["event_type"]) == {"split"}
    assert set(second.events["related_community_id"]) == {parent}
    assert len(second.events) == 4


def test_small_drift_continues_the_id():
    group = _users("g", 30)
    first = assign_community_ids(_current([group]), None, as_of="2026-01-01")
    drifted = group[3:] + ["n1", "n2", "n3", "n4"]
    second = assign_community_ids(_current([drifted]), _previous(first), as_of="2026-01-08")
    assert second.communities["community_id"].tolist() == first.communities["community_id"].tolist()
    assert second.events["event_type"].tolist() == ["continued"]


def test_warm_start_keeps_users_in_their_community_id():
    """Re-detect after adding 1% random edges: at least 95% of users keep their id."""
    k, size = 40, 25
    graph = nx.planted_partition_graph(k, size, 0.2, 0.006, seed=1)
    n = k * size
    users = [f"u{v:04d}" for v in range(n)]

    def frame(g: nx.Graph) -> pd.DataFrame:
        pairs = np.sort(np.asarray(g.edges(), dtype=np.int64), axis=1)
        return pd.DataFrame(
            {
                "user_id_a": [users[a] for a in pairs[:, 0]],
                "user_id_b": [users[b] for b in pairs[:, 1]],
                "edge_weight": 1.0,
            }
        )

    before = detect_communities(frame(graph), user_ids=users)
    ids_before = assign_community_ids(before.membership, None, as_of="2026-01-01")

    rng = np.random.default_rng(1)
    changed = graph.copy()
    target = graph.number_of_edges() + round(0.01 * graph.number_of_edges())
    while changed.number_of_edges() < target:
        a, b = rng.integers(0, n, 2)
        if a != b:
            changed.add_edge(int(a), int(b))

    start = dict(
        zip(before.membership["user_id"], before.membership["community_label"], strict=True)
    )
    warm = detect_communities(frame(changed), user_ids=users, initial_membership=start)
    cold = detect_communities(frame(changed), user_ids=users)
    kept = {}
    for name, result in (("warm", warm), ("cold", cold)):
        after = assign_community_ids(result.membership, _previous(ids_before), as_of="2026-01-08")
        both = _previous(ids_before).merge(_previous(after), on="user_id", suffixes=("_0", "_1"))
        kept[name] = (both["community_id_0"] == both["community_id_1"]).mean()
    assert kept["warm"] >= 0.95
    assert kept["warm"] >= kept["cold"]


def test_rejects_duplicate_users():
    with pytest.raises(ValueError, match="duplicate"):
        assign_community_ids(_current([["a", "b"], ["a"]]), None, as_of="2026-01-01")


# Membership history.


def test_history_opens_closes_and_reopens(first):
    history = update_membership_history(None, first.assignment, "2026-01-01")
    assert len(history) == 60 and history["valid_to"].isna().all()
    assert "lone" not in set(history["user_id"])

    second = assign_community_ids(
        _current([A[:10], A[10:], B + ["lone"]], C), _previous(first), as_of="2026-01-08"
    )
    history = update_membership_history(history, second.assignment, "2026-01-08")
    spells = history.groupby("user_id")
    a10 = spells.get_group("a10")
    assert len(a10) == 2
    assert a10["valid_to"].iloc[0] == pd.Timestamp("2026-01-08")
    assert pd.isna(a10["valid_to"].iloc[1]) and a10["valid_from"].iloc[1] == pd.Timestamp(
        "2026-01-08"
    )
    a00 = spells.get_group("a00")
    assert len(a00) == 1 and pd.isna(a00["valid_to"].iloc[0])
    c00 = spells.get_group("c00")
    assert len(c00) == 1 and c00["valid_to"].iloc[0] == pd.Timestamp("2026-01-08")
    d00 = spells.get_group("d00")
    assert d00["valid_to"].iloc[0] == pd.Timestamp("2026-01-08")
    lone = spells.get_group("lone")
    assert len(lone) == 1 and pd.isna(lone["valid_to"].iloc[0])
    assert history.groupby("user_id")["valid_to"].apply(lambda s: s.isna().sum()).max() == 1


def test_history_rerun_is_idempotent(first):
    history = update_membership_history(None, first.assignment, "2026-01-01")
    second = assign_community_ids(_current([A + B]), _previous(first), as_of="2026-01-08")
    once = update_membership_history(history, second.assignment, "2026-01-08")
    twice = update_membership_history(once, second.assignment, "2026-01-08")
    pd.testing.assert_frame_equal(once, twice)
    # Re-running the first refresh's date on its own output changes nothing either.
    pd.testing.assert_frame_equal(
        history, update_membership_history(history, first.assignment, "2026-01-01")
    )


def test_history_cannot_go_back(first):
    history = update_membership_history(None, first.assignment, "2026-01-08")
    with pytest.raises(ValueError, match="after as_of"):
        update_membership_history(history, first.assignment, "2026-01-01")
