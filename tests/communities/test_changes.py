"""Lifecycle changes confirmed by the ties (orchestration.lib.communities.changes)."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from orchestration.lib.communities.changes import (
    apart,
    birth_kinds,
    fell,
    mostly_new,
    rose,
    unconfirmed_changes,
)
from orchestration.lib.communities.identity import assign_community_ids

#: Four weeks of window, one of them recent: three recent periods before it.
BEFORE = 3.0


def _clique(users: list[str], weight: float) -> list[tuple[str, str, float]]:
    return [(a, b, weight) for a, b in itertools.combinations(users, 2)]


def _edges(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["user_id_a", "user_id_b", "edge_weight"])


def test_fell_and_rose_compare_the_recent_period_with_the_rest_of_the_window():
    # 30 in three earlier weeks (10 a week), then 0: a fall; 10 again: no change.
    assert fell(0.0, 30.0, BEFORE, 0.01)
    assert not fell(10.0, 40.0, BEFORE, 0.01)
    # 1 a week before, 12 now: a rise; 1 now: none.
    assert rose(12.0, 15.0, BEFORE, 0.01)
    assert not rose(1.0, 4.0, BEFORE, 0.01)
    # Nothing before the recent period (the first week of data): no fall can be shown.
    assert not fell(0.0, 0.0, 0.0, 0.01)
    # From nothing before, one or two ties are no rise, three are.
    assert not rose(1.0, 1.0, BEFORE, 0.01)
    assert not rose(2.0, 2.0, BEFORE, 0.01)
    assert rose(3.0, 3.0, BEFORE, 0.01)
    assert not rose(0.0, 5.0, BEFORE, 0.01)


def test_apart_compares_the_weight_per_pair_across_with_inside():
    # 4 + 4 users: 12 pairs inside, 16 across.
    assert apart(across=1.0, inside=12.0, n_left=4, n_right=4, ratio=0.5)
    assert not apart(across=16.0, inside=12.0, n_left=4, n_right=4, ratio=0.5)


def _split_case(recent_across: float):
    """A community of 10 (one clique, weight 1 per pair a week) that the detection cut
    into 5 + 5; the recent week's ties across the cut weigh ``recent_across`` per pair."""
    left = [f"u{i}" for i in range(5)]
    right = [f"u{i}" for i in range(5, 10)]
    users = left + right
    previous = pd.DataFrame({"user_id": users, "community_id": "cA"})
    membership = pd.DataFrame({"user_id": users, "community_label": [0] * 5 + [1] * 5})
    identity = assign_community_ids(membership, previous, as_of="2026-01-18")
    across = [(a, b) for a in left for b in right]
    inside = list(itertools.combinations(left, 2)) + list(itertools.combinations(right, 2))
    window = _edges(
        [(a, b, 4.0) for a, b in inside] + [(a, b, 3.0 + recent_across) for a, b in across]
    )
    recent = _edges(
        [(a, b, 1.0) for a, b in inside]
        + [(a, b, recent_across) for a, b in across if recent_across]
    )
    return identity, membership, previous, window, recent


def test_a_split_the_ties_do_not_show_is_undone():
    identity, membership, previous, window, recent = _split_case(recent_across=1.0)
    assert "split" in set(identity.events["event_type"])
    undone, n_splits, n_merges, _ = unconfirmed_changes(
        identity.events,
        identity.communities,
        membership,
        previous,
        edges=window,
        interaction_edges=window,
        recent_edges=recent,
        before_periods=BEFORE,
        alpha=0.01,
        min_size=3,
    )
    assert (n_splits, n_merges) == (1, 0)
    assert undone["community_label"].nunique() == 1
    again = assign_community_ids(undone, previous, as_of="2026-01-18")
    assert set(again.events["event_type"]) == {"continued"}


def test_a_split_whose_ties_across_stopped_stands():
    identity, membership, previous, window, recent = _split_case(recent_across=0.0)
    undone, n_splits, _, _ = unconfirmed_changes(
        identity.events,
        identity.communities,
        membership,
        previous,
        edges=window,
        interaction_edges=window,
        recent_edges=recent,
        before_periods=BEFORE,
        alpha=0.01,
        min_size=3,
    )
    assert n_splits == 0
    assert undone["community_label"].tolist() == membership["community_label"].tolist()


def _merge_case(recent_across: float):
    """Two cliques of 6, one previous community each, that the detection lumped
    together; earlier weeks had one tie across, the recent week ``recent_across`` per
    pair across."""
    a = [f"a{i}" for i in range(6)]
    b = [f"b{i}" for i in range(6)]
    previous = pd.DataFrame({"user_id": a + b, "community_id": ["cA"] * 6 + ["cB"] * 6})
    membership = pd.DataFrame({"user_id": a + b, "community_label": 0})
    identity = assign_community_ids(membership, previous, as_of="2026-01-18")
    across = [(x, y) for x in a for y in b]
    inside = _clique(a, 4.0) + _clique(b, 4.0)
    window = _edges(inside + [("a0", "b0", 3.0)] + [(x, y, recent_across) for x, y in across])
    window = window[window["edge_weight"] > 0]
    recent = _edges(
        [(x, y, 1.0) for x, y, _ in inside] + [(x, y, recent_across) for x, y in across]
    )
    recent = recent[recent["edge_weight"] > 0]
    return identity, membership, previous, window, recent


@pytest.mark.parametrize(("recent_across", "undone"), [(0.0, 1), (1.0, 0)])
def test_a_merge_stands_only_when_the_ties_across_rose(recent_across, undone):
    identity, membership, previous, window, recent = _merge_case(recent_across)
    assert "merged" in set(identity.events["event_type"])
    result, n_splits, n_merges, _ = unconfirmed_changes(
        identity.events,
        identity.communities,
        membership,
        previous,
        edges=window,
        interaction_edges=window,
        recent_edges=recent,
        before_periods=BEFORE,
        alpha=0.01,
        min_size=3,
    )
    assert (n_splits, n_merges) == (0, undone)
    assert result["community_label"].nunique() == 1 + undone
    if undone:
        again = assign_community_ids(result, previous, as_of="2026-01-18")
        assert set(again.events["event_type"]) == {"continued"}


def test_a_new_community_with_old_ties_emerged_and_one_with_new_ties_is_born():
    old = [f"o{i}" for i in range(5)]
    new = [f"n{i}" for i in range(5)]
    assignment = pd.DataFrame({"user_id": old + new, "community_id": ["cO"] * 5 + ["cN"] * 5})
    events = pd.DataFrame(
        {
            "community_id": ["cO", "cN"],
            "event_type": ["born", "born"],
            "related_community_id": [None, None],
        }
    )
    # cO: 1 per pair a week for four weeks; cN: 1 per pair, this week only.
    window = _edges(_clique(old, 4.0) + _clique(new, 1.0))
    recent = _edges(_clique(old, 1.0) + _clique(new, 1.0))
    kinds = birth_kinds(
        events,
        assignment,
        interaction_edges=window,
        recent_edges=recent,
        before_periods=BEFORE,
        alpha=0.01,
    )
    assert kinds.set_index("community_id")["event_type"].to_dict() == {
        "cO": "emerged",
        "cN": "born",
    }


def test_a_birth_whose_ties_rose_but_were_there_before_emerged_with_new_ratio():
    # 8 members (28 pairs): 2 per pair a week for three weeks, then 3 this week. The
    # rise is significant (84 against about 56 a week), but most of the rate was there.
    users = [f"u{i}" for i in range(8)]
    assignment = pd.DataFrame({"user_id": users, "community_id": ["cU"] * 8})
    events = pd.DataFrame(
        {"community_id": ["cU"], "event_type": ["born"], "related_community_id": [None]}
    )
    window, recent = _edges(_clique(users, 9.0)), _edges(_clique(users, 3.0))
    common = {
        "interaction_edges": window,
        "recent_edges": recent,
        "before_periods": BEFORE,
        "alpha": 0.01,
    }
    assert birth_kinds(events, assignment, **common)["event_type"].tolist() == ["born"]
    held = birth_kinds(events, assignment, new_ratio=0.5, **common)
    assert held["event_type"].tolist() == ["emerged"]
    # Born ten days ago: three days of ties before this week, a seventh of the rate.
    assert mostly_new(7.0, 10.0, BEFORE, 0.5)
    assert not mostly_new(7.0, 7.0 + 3 * 7.0, BEFORE, 0.5)
    assert mostly_new(7.0, 7.0, 0.0, 0.5)


def test_the_density_settings_let_a_change_stand_without_a_rise_or_fall():
    # A cut through one clique that the ties do not show: undone, unless the pieces
    # count as apart below a ratio above their density ratio (1 here).
    identity, membership, previous, window, recent = _split_case(recent_across=1.0)
    common = {
        "edges": window,
        "interaction_edges": window,
        "recent_edges": recent,
        "before_periods": BEFORE,
        "alpha": 0.01,
        "min_size": 3,
    }
    args = (identity.events, identity.communities, membership, previous)
    assert unconfirmed_changes(*args, split_apart_ratio=0.5, **common)[1] == 1
    assert unconfirmed_changes(*args, split_apart_ratio=1.5, **common)[1] == 0
    # Two sparse neighbours lumped together without a rise: undone, unless a merge of
    # parts as dense across as this ratio of inside may stand.
    identity, membership, previous, window, recent = _merge_case(recent_across=0.0)
    common |= {"edges": window, "interaction_edges": window, "recent_edges": recent}
    args = (identity.events, identity.communities, membership, previous)
    assert unconfirmed_changes(*args, merge_dense_ratio=0.5, **common)[2] == 1
    assert unconfirmed_changes(*args, merge_dense_ratio=0.01, **common)[2] == 0


def test_a_split_of_two_that_were_apart_before_is_a_correction_not_a_split():
    # Two cliques of 5 that the previous snapshot lumped together (one previous id),
    # with one tie across in the weeks before and none now: the detection corrects a
    # mixture. With split_joined_ratio the border stands and the piece is a correction.
    left = [f"u{i}" for i in range(5)]
    right = [f"u{i}" for i in range(5, 10)]
    previous = pd.DataFrame({"user_id": left + right, "community_id": "cA"})
    membership = pd.DataFrame({"user_id": left + right, "community_label": [0] * 5 + [1] * 5})
    identity = assign_community_ids(membership, previous, as_of="2026-01-18")
    window = _edges(_clique(left, 4.0) + _clique(right, 4.0) + [("u0", "u5", 3.0)])
    recent = _edges(_clique(left, 1.0) + _clique(right, 1.0))
    common = {
        "edges": window,
        "interaction_edges": window,
        "recent_edges": recent,
        "before_periods": BEFORE,
        "alpha": 0.01,
        "min_size": 3,
    }
    args = (identity.events, identity.communities, membership, previous)
    piece = identity.events.loc[identity.events["event_type"] == "split", "community_id"]
    # Without the check the fall of 3 to 0 is no significant fall: the cut is undone.
    assert unconfirmed_changes(*args, **common)[1:3] == (1, 0)
    result, n_splits, _, corrections = unconfirmed_changes(*args, split_joined_ratio=0.2, **common)
    assert n_splits == 0
    assert corrections == set(piece)
    assert result["community_label"].tolist() == membership["community_label"].tolist()
    # One clique cut in two (ties across as dense as inside before): no correction.
    identity, membership, previous, window, recent = _split_case(recent_across=0.0)
    args = (identity.events, identity.communities, membership, previous)
    common |= {"edges": window, "interaction_edges": window, "recent_edges": recent}
    assert unconfirmed_changes(*args, split_joined_ratio=0.2, **common)[3] == set()


def test_a_merge_needs_the_parts_to_talk_as_one_with_merge_joined_ratio():
    # The ties across rose from one to 0.2 per pair (7.2 over 36 pairs): a rise, but
    # the parts are still far sparser across (0.2 per pair) than inside (1 per pair).
    identity, membership, previous, window, recent = _merge_case(recent_across=0.2)
    common = {
        "edges": window,
        "interaction_edges": window,
        "recent_edges": recent,
        "before_periods": BEFORE,
        "alpha": 0.01,
        "min_size": 3,
    }
    args = (identity.events, identity.communities, membership, previous)
    # 7.2 recent against a rate of (3 + 1) / 3 a week: a rise.
    assert unconfirmed_changes(*args, **common)[2] == 0
    assert unconfirmed_changes(*args, merge_joined_ratio=0.5, **common)[2] == 1
    assert unconfirmed_changes(*args, merge_joined_ratio=0.1, **common)[2] == 0
    # As dense across as inside: the merge stands.
    identity, membership, previous, window, recent = _merge_case(recent_across=1.0)
    common |= {"edges": window, "interaction_edges": window, "recent_edges": recent}
    args = (identity.events, identity.communities, membership, previous)
    assert unconfirmed_changes(*args, merge_joined_ratio=0.2, **common)[2] == 0
