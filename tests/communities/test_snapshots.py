import itertools
from dataclasses import replace
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


# The neighbour rule alone: a fixed resolution and the membership test off (it is
# tested in test_membership), so the loners stay with their contact's community.
RULE_ONLY = DetectionSettings(resolution_rule="size_aware", membership_alpha=None)


def test_a_user_tied_to_one_member_only_is_fringe_and_counts_as_no_member():
    edges = _planted_edges()
    # Five loners, each tied (strongly) to one member of the first community only.
    loners = pd.DataFrame(
        {
            "user_id_a": ["u000"] * 5,
            "user_id_b": [f"x{i}" for i in range(5)],
            "edge_weight": 5.0,
        }
    )
    users = pd.Series([f"u{i:03d}" for i in range(160)] + [f"x{i}" for i in range(5)])
    empty = pd.DataFrame(columns=["user_id", "community_id"])
    result = detect_snapshot(
        pd.concat([edges, loners], ignore_index=True),
        users,
        empty,
        None,
        date(2026, 1, 11),
        RULE_ONLY,
    )
    status = result.assignments.set_index("user_id")["membership_status"]
    placed = [f"x{i}" for i in range(5) if f"x{i}" in status.index]
    assert placed and (status[placed] == "fringe").all()
    assert (status.drop(placed) == "member").all()
    assert result.run["count_fringe"] == len(placed)
    # Members only in the run's counts, the figures and the lifecycle events.
    assert result.run["count_assigned"] == int((status == "member").sum())
    assert result.run["count_assigned"] + result.run["count_unassigned"] == len(users)
    assert not set(placed) & set(result.members["user_id"])
    assert result.events["size_after"].sum() == result.run["count_assigned"]
    # Without the rule every placed user is a member.
    loose = detect_snapshot(
        pd.concat([edges, loners], ignore_index=True),
        users,
        empty,
        None,
        date(2026, 1, 11),
        replace(RULE_ONLY, min_member_neighbours=0),
    )
    assert set(loose.assignments["membership_status"]) == {"member"}


def test_dormant_communities_are_those_without_enough_recent_ties_inside():
    from orchestration.lib.communities.snapshots import dormant_labels

    membership = pd.DataFrame(
        {"user_id": ["a", "b", "c", "d", "e", "f", "g"], "community_label": [0, 0, 0, 1, 1, 1, -1]}
    )
    recent = pd.DataFrame({"user_id_a": ["a", "a", "d", "f"], "user_id_b": ["b", "c", "g", "e"]})
    # Community 0: a, b, c tied inside recently; community 1: only e-f (d-g crosses out).
    assert dormant_labels(membership, recent, 3) == [1]
    assert dormant_labels(membership, recent, 2) == []
    assert dormant_labels(membership, recent.iloc[:0], 1) == [0, 1]


def test_a_small_community_that_loses_a_member_lives_on_but_is_not_born_that_small():
    ys = [f"y{i}" for i in range(5)]
    clique = pd.DataFrame(
        [(a, b) for i, a in enumerate(ys) for b in ys[i + 1 :]], columns=["user_id_a", "user_id_b"]
    ).assign(edge_weight=5.0)
    edges = pd.concat([_planted_edges(), clique], ignore_index=True)
    users = pd.Series([f"u{i:03d}" for i in range(160)] + ys)
    empty = pd.DataFrame(columns=["user_id", "community_id"])
    first = detect_snapshot(edges, users, empty, None, date(2026, 1, 11), DetectionSettings())
    y_id = first.assignments.set_index("user_id").loc[ys, "community_id"]
    assert y_id.nunique() == 1
    # y4 keeps one tie only: fringe, so the community has 4 members.
    faded = edges[~((edges["user_id_b"] == "y4") & (edges["user_id_a"] != "y0"))]

    def second(settings: DetectionSettings):
        return detect_snapshot(faded, users, empty, first.assignments, date(2026, 1, 18), settings)

    kept = second(DetectionSettings())
    status = kept.assignments.set_index("user_id")
    assert (status.loc[ys[:4], "community_id"] == y_id.iloc[0]).all()
    assert (status.loc[ys[:4], "membership_status"] == "member").all()
    assert "dissolved" not in set(kept.events["event_type"])
    strict = second(replace(DetectionSettings(), keep_min_size=None))
    assert set(strict.events["event_type"]) >= {"dissolved"}
    # A new community of 4 is not born: without a predecessor min_size applies.
    fresh = detect_snapshot(faded, users, empty, None, date(2026, 1, 11), DetectionSettings())
    assert not set(ys) & set(
        fresh.assignments.loc[fresh.assignments["membership_status"] == "member", "user_id"]
    )


def test_a_quiet_week_dissolves_a_busy_community_but_not_a_sparse_one():
    from orchestration.lib.communities.snapshots import dormant_labels

    busy = [f"b{i}" for i in range(8)]
    sparse = [f"s{i}" for i in range(8)]
    membership = pd.DataFrame({"user_id": busy + sparse, "community_label": [0] * 8 + [1] * 8})
    # Four weeks: the busy community tied 28 pairs, the sparse one 4; no recent tie.
    window = pd.DataFrame(
        [(a, b) for i, a in enumerate(busy) for b in busy[i + 1 :]]
        + [("s0", "s1"), ("s2", "s3"), ("s4", "s5"), ("s6", "s7")],
        columns=["user_id_a", "user_id_b"],
    )
    recent = window.iloc[:0]
    # P(Poisson(7) = 0) = 9e-4 < 0.01; P(Poisson(1) = 0) = 0.37.
    assert dormant_labels(
        membership, recent, 5, window_edges=window, window_weeks=4, alpha=0.01
    ) == [0]
    assert dormant_labels(membership, recent, 5) == [0, 1]
    # One recent pair in the busy one: P(X <= 1) = 7e-3, still dormant; at 0.005 not.
    one = pd.DataFrame({"user_id_a": ["b0"], "user_id_b": ["b1"]})
    assert dormant_labels(membership, one, 5, window_edges=window, window_weeks=4, alpha=0.01) == [
        0
    ]
    assert (
        dormant_labels(membership, one, 5, window_edges=window, window_weeks=4, alpha=0.005) == []
    )


def test_only_members_keep_a_community_awake():
    # Five users who talk to a bit of everyone (3 ties into community 0, one into each
    # other community: fringe there) keep talking to each other; community 0's members
    # fell silent. Their recent ties must not keep community 0 alive.
    edges = _planted_edges()
    xs = [f"x{i}" for i in range(5)]
    ties = [(x, f"u{k:03d}") for i, x in enumerate(xs) for k in (i, i + 5, i + 10)]
    ties += [(x, f"u{20 * c + i:03d}") for i, x in enumerate(xs) for c in range(1, 8)]
    loose = pd.DataFrame(ties, columns=["user_id_a", "user_id_b"]).assign(edge_weight=1.0)
    users = pd.Series([f"u{i:03d}" for i in range(160)] + xs)
    first_community = [f"u{i:03d}" for i in range(20)]
    second = [f"u{i:03d}" for i in range(20, 40)]
    recent = pd.DataFrame(
        [(a, b) for group in (xs, second) for i, a in enumerate(group) for b in group[i + 1 :]],
        columns=["user_id_a", "user_id_b"],
    )
    empty = pd.DataFrame(columns=["user_id", "community_id"])
    result = detect_snapshot(
        pd.concat([edges, loose], ignore_index=True),
        users,
        empty,
        None,
        date(2026, 1, 11),
        replace(DetectionSettings(), split_alpha=None),
        recent_edges=recent,
    )
    status = result.assignments.set_index("user_id")["membership_status"]
    assert not set(first_community) & set(status.index)
    assert (status.reindex(second) == "member").all()
    assert result.run["count_dormant"] == 7


def _halves(size: int = 8) -> tuple[list[str], pd.DataFrame]:
    users = [f"u{i:02d}" for i in range(2 * size)]
    halves = (users[:size], users[size:])
    pairs = [(x, y) for half in halves for i, x in enumerate(half) for y in half[i + 1 :]]
    return users, pd.DataFrame(pairs, columns=["user_id_a", "user_id_b"])


def test_a_community_whose_recent_ties_fell_into_two_halves_is_split_at_once():
    from orchestration.lib.communities.snapshots import recent_splits

    users, recent = _halves()
    late = users + ["late"]  # no recent tie; tied to the second half in the older graph
    membership = pd.DataFrame({"user_id": late, "community_label": 0})
    edges = pd.concat(
        [
            recent.assign(edge_weight=1.0),
            pd.DataFrame({"user_id_a": ["late"] * 2, "user_id_b": ["u00", "u09"]}).assign(
                edge_weight=[0.5, 2.0]
            ),
        ],
        ignore_index=True,
    )
    split, count = recent_splits(membership, recent, edges, 5, 0.01)
    assert count == 1
    label = split.set_index("user_id")["community_label"]
    assert set(label[users[:8]]) == {0} and set(label[users[8:]]) == {1}
    assert label["late"] == 1


def test_no_split_with_a_recent_tie_across_or_too_few_ties_to_tell():
    from orchestration.lib.communities.snapshots import recent_splits

    users, recent = _halves()
    membership = pd.DataFrame({"user_id": users, "community_label": 0})
    edges = recent.assign(edge_weight=1.0)
    across = pd.concat(
        [recent, pd.DataFrame({"user_id_a": ["u00"], "user_id_b": ["u08"]})], ignore_index=True
    )
    assert recent_splits(membership, across, edges, 5, 0.01)[1] == 0
    # Sparse evidence: each half is a path of five members (the rest have no recent tie).
    paths = pd.DataFrame(
        [(f"u{i:02d}", f"u{i + 1:02d}") for i in range(4)]
        + [(f"u{i:02d}", f"u{i + 1:02d}") for i in range(8, 12)],
        columns=["user_id_a", "user_id_b"],
    )
    # 8 ties inside over 20 pairs, 25 pairs across: exp(-8 x 25 / 20) = 4.5e-5, split.
    assert recent_splits(membership, paths, edges, 5, 0.01)[1] == 1
    # At alpha 1e-6 the same sparse evidence is not enough.
    assert recent_splits(membership, paths, edges, 5, 1e-6)[1] == 0
    # Parts below min_size are no split.
    assert recent_splits(membership, recent, edges, 9, 0.01)[1] == 0


def test_faded_labels_dissolve_a_community_that_went_quiet_whatever_its_size():
    from orchestration.lib.communities.snapshots import faded_labels

    big = [f"b{i}" for i in range(20)]
    busy = [f"k{i}" for i in range(6)]
    membership = pd.DataFrame({"user_id": big + busy, "community_label": [0] * 20 + [1] * 6})
    pairs = list(itertools.combinations(big, 2))
    # 190 pairs in the big community at 1 a week for three weeks; this week 6 pairs
    # still talk (12 users tied: more than a member count of 5 would call quiet).
    window_rows = [(a, b, 3.0) for a, b in pairs] + [(a, b, 1.0) for a, b in pairs[:6]]
    recent_rows = [(a, b, 1.0) for a, b in pairs[:6]]
    # The busy one talks as before.
    for a, b in itertools.combinations(busy, 2):
        window_rows.append((a, b, 4.0))
        recent_rows.append((a, b, 1.0))
    columns = ["user_id_a", "user_id_b", "edge_weight"]
    window = pd.DataFrame(window_rows, columns=columns)
    recent = pd.DataFrame(recent_rows, columns=columns)
    common = {"before_periods": 3.0, "alpha": 0.01}
    assert faded_labels(membership, window, recent, ratio=0.25, **common) == [0]
    # 6 against 190 a week is below 0.25 but not below 0.01 of the rate.
    assert faded_labels(membership, window, recent, ratio=0.01, **common) == []
    # Without earlier weeks nothing can be shown to have fallen.
    none_before = {"before_periods": 0.0, "alpha": 0.01}
    assert faded_labels(membership, window, recent, ratio=0.25, **none_before) == []
