"""Community detection: partitions, determinism, known results, size limits."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from orchestration.lib.communities import auto_resolution, detect_communities
from orchestration.lib.evaluation.partitions import normalized_mutual_info

# Leiden (the default method, seed 42) on the unweighted karate club: the well-known
# 4-community optimum, modularity 0.4198. Ids are "u00".."u33"; label 0 is the largest.
KARATE_LABELS = [
    1, 1, 1, 1, 3, 3, 3, 1, 0, 0, 3, 1, 1, 1, 0, 0, 3,
    1, 0, 1, 0, 1, 0, 2, 2, 2, 0, 2, 2, 0, 0, 2, 0, 0,
]  # fmt: skip


def _edges(graph: nx.Graph, weight: str | None = None) -> pd.DataFrame:
    rows = [
        (f"u{a:02d}", f"u{b:02d}", float(data.get(weight, 1.0)) if weight else 1.0)
        for a, b, data in graph.edges(data=True)
    ]
    frame = pd.DataFrame(rows, columns=["user_id_a", "user_id_b", "edge_weight"])
    swap = frame["user_id_a"] > frame["user_id_b"]
    frame.loc[swap, ["user_id_a", "user_id_b"]] = frame.loc[swap, ["user_id_b", "user_id_a"]].values
    return frame


@pytest.fixture(scope="module")
def karate() -> pd.DataFrame:
    return _edges(nx.karate_club_graph())


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, list[int]]:
    graph = nx.planted_partition_graph(20, 30, 0.3, 0.005, seed=3)
    truth = [graph.nodes[v]["block"] for v in sorted(graph)]
    edges = pd.DataFrame(
        [(f"u{a:04d}", f"u{b:04d}", 1.0) for a, b in graph.edges()],
        columns=["user_id_a", "user_id_b", "edge_weight"],
    )
    return edges, truth


def _labels(result, ids: list[str]) -> np.ndarray:
    return result.membership.set_index("user_id")["community_label"].reindex(ids).to_numpy()


def test_karate_exact_output(karate):
    result = detect_communities(karate, seed=42)
    assert result.membership["user_id"].tolist() == [f"u{i:02d}" for i in range(34)]
    assert result.membership["community_label"].tolist() == KARATE_LABELS
    assert result.quality["n_communities"] == 4
    assert result.quality["resolution"] == 1.0
    assert result.quality["modularity"] == pytest.approx(0.4198, abs=1e-4)
    assert result.quality["modularity"] > 0.35


def test_result_is_a_partition(karate):
    users = [f"u{i:02d}" for i in range(40)]
    membership = detect_communities(karate, user_ids=users).membership
    assert sorted(membership["user_id"]) == users
    assert membership["user_id"].is_unique
    assert membership["community_label"].dtype == np.int64
    labels = sorted(set(membership["community_label"]) - {-1})
    assert labels == list(range(len(labels)))
    sizes = membership["community_label"].value_counts()
    assert (sizes.drop(-1, errors="ignore").sort_index().diff().dropna() <= 0).all()


def test_deterministic_and_independent_of_row_order(karate):
    first = detect_communities(karate, seed=7).membership
    again = detect_communities(karate, seed=7).membership
    shuffled = karate.sample(frac=1.0, random_state=1).reset_index(drop=True)
    reordered = detect_communities(shuffled, seed=7).membership
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(first, reordered)


def test_python_random_state_is_left_alone(karate):
    import random

    random.seed(123)
    expected = random.random()
    random.seed(123)
    detect_communities(karate)
    assert random.random() == expected


@pytest.mark.parametrize("method", ["leiden_modularity", "louvain_networkx", "label_propagation"])
def test_reference_methods_give_partitions(karate, method):
    result = detect_communities(karate, method=method, min_size=1)
    assert len(result.membership) == 34
    assert (result.membership["community_label"] >= 0).all()
    assert result.quality["method"] == method
    assert result.quality["modularity"] > 0.3


def test_planted_partition_beats_or_ties_louvain(planted):
    edges, truth = planted
    ids = [f"u{v:04d}" for v in range(len(truth))]
    ours = _labels(detect_communities(edges), ids)
    louvain = _labels(detect_communities(edges, method="louvain_networkx", min_size=1), ids)
    ours_nmi = normalized_mutual_info(truth, ours)
    assert ours_nmi >= 0.95
    assert normalized_mutual_info(truth, louvain) <= ours_nmi + 1e-9


def test_auto_resolution_scales_with_graph_size():
    assert auto_resolution(34, 300) == 1.0
    assert auto_resolution(100_000, 300) == pytest.approx(100_000 / 600)
    assert auto_resolution(100_000, 100) == pytest.approx(100_000 / 200)
    assert auto_resolution(100_000, None) == auto_resolution(100_000)


def test_weight_scale_does_not_matter(karate):
    scaled = karate.assign(edge_weight=karate["edge_weight"] * 1000.0)
    pd.testing.assert_frame_equal(
        detect_communities(karate).membership, detect_communities(scaled).membership
    )


def test_resolution_override_is_used(karate):
    result = detect_communities(karate, resolution=3.0, min_size=1)
    assert result.quality["resolution"] == 3.0
    assert result.quality["resolution_rule"] == "given"
    assert result.quality["n_communities"] > 4


def test_max_size_splits_large_communities():
    # Two dense blocks of 200 users each, loosely tied together.
    graph = nx.planted_partition_graph(2, 200, 0.2, 0.002, seed=1)
    edges = _edges(graph)
    plain = detect_communities(edges, max_size=None, min_size=1)
    assert plain.membership["community_label"].value_counts().max() > 120
    result = detect_communities(edges, max_size=120, min_size=1)
    sizes = result.membership["community_label"].value_counts()
    assert sizes.max() <= 120
    assert result.quality["n_split"] >= 1
    assert len(result.membership) == 400


def test_max_size_splits_a_clique():
    # At resolution 1 the whole 40-clique is one community; it must still be cut.
    edges = _edges(nx.complete_graph(40))
    assert detect_communities(edges, resolution=1.0, max_size=None).quality["n_communities"] == 1
    # No membership test: the pieces Leiden cuts a clique into can be single users,
    # which the test would rightly unassign (no tie inside).
    result = detect_communities(
        edges, resolution=1.0, max_size=15, min_size=1, membership_alpha=None
    )
    assert result.quality["n_split"] == 1
    assert result.membership["community_label"].value_counts().max() <= 15
    assert len(result.membership) == 40


def test_split_fallback_cuts_breadth_first_chunks():
    import igraph as ig

    from orchestration.lib.communities.detection import _bfs_chunks

    path = ig.Graph(n=10, edges=[(i, i + 1) for i in range(9)])
    chunks = _bfs_chunks(path, np.arange(10), 4)
    assert [chunk.tolist() for chunk in chunks] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_min_size_leaves_small_groups_unassigned():
    # Two 6-cliques and a triangle hanging off the first clique by one edge.
    graph = nx.disjoint_union_all(
        [nx.complete_graph(6), nx.complete_graph(6), nx.complete_graph(3)]
    )
    graph.add_edge(0, 12)
    membership = detect_communities(_edges(graph), min_size=5).membership
    labels = membership.set_index("user_id")["community_label"]
    assert (labels[["u12", "u13", "u14"]] == -1).all()
    assert set(labels[[f"u{i:02d}" for i in range(12)]]) == {0, 1}


def test_isolated_users_are_unassigned_not_lost(karate):
    users = [f"u{i:02d}" for i in range(34)] + ["zz_alone", "aa_alone"]
    result = detect_communities(karate, user_ids=users, min_size=1)
    labels = result.membership.set_index("user_id")["community_label"]
    assert len(labels) == 36
    assert labels["zz_alone"] == -1 and labels["aa_alone"] == -1
    assert result.quality["n_unassigned"] == 2


def test_self_loops_are_ignored():
    edges = pd.DataFrame(
        {
            "user_id_a": ["a", "a", "b", "x"],
            "user_id_b": ["b", "c", "c", "x"],
            "edge_weight": [1.0, 1.0, 1.0, 5.0],
        }
    )
    membership = detect_communities(edges, min_size=1).membership
    labels = membership.set_index("user_id")["community_label"]
    assert labels["x"] == -1
    assert labels["a"] == labels["b"] == labels["c"] == 0


def test_weights_matter():
    # Two triangles joined by two edges; heavy weights inside one cross pair decide.
    edges = pd.DataFrame(
        {
            "user_id_a": ["a", "a", "b", "d", "d", "e", "a", "c"],
            "user_id_b": ["b", "c", "c", "e", "f", "f", "d", "f"],
            "edge_weight": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.1, 0.1],
        }
    )
    labels = detect_communities(edges, min_size=1).membership.set_index("user_id")[
        "community_label"
    ]
    assert labels["a"] == labels["b"] == labels["c"] != labels["d"] == labels["e"] == labels["f"]


def test_bad_input_is_rejected(karate):
    with pytest.raises(ValueError, match="method"):
        detect_communities(karate, method="nope")
    with pytest.raises(ValueError, match="non-positive"):
        detect_communities(karate.assign(edge_weight=0.0))
    with pytest.raises(ValueError, match="lack"):
        detect_communities(karate.drop(columns="edge_weight"))
    with pytest.raises(ValueError, match="initial_membership"):
        detect_communities(karate, method="label_propagation", initial_membership={"u00": 0})


def test_empty_graph():
    edges = pd.DataFrame({"user_id_a": [], "user_id_b": [], "edge_weight": []})
    result = detect_communities(edges, user_ids=["a", "b"])
    assert result.membership["community_label"].tolist() == [-1, -1]
    assert result.quality["n_communities"] == 0


def test_warm_start_keeps_a_stable_partition(planted):
    edges, _ = planted
    first = detect_communities(edges).membership
    start = dict(zip(first["user_id"], first["community_label"], strict=True))
    warm = detect_communities(edges, initial_membership=start).membership
    assert normalized_mutual_info(first["community_label"], warm["community_label"]) == 1.0


def test_warm_start_accepts_ids_in_any_order(planted):
    edges, _ = planted
    first = detect_communities(edges).membership
    by_label = dict(zip(first["user_id"], first["community_label"], strict=True))
    by_id = {user: (None if label < 0 else f"c{label:03d}") for user, label in by_label.items()}
    reversed_ids = dict(reversed(list(by_id.items())))
    from_labels = detect_communities(edges, initial_membership=by_label).membership
    from_ids = detect_communities(edges, initial_membership=reversed_ids).membership
    pd.testing.assert_frame_equal(from_labels, from_ids)


def test_surprise_rule_is_default_and_size_aware_stays_reachable(planted):
    edges, truth = planted
    ids = [f"u{i:04d}" for i in range(len(truth))]
    new = detect_communities(edges, user_ids=ids)
    old = detect_communities(edges, user_ids=ids, resolution_rule="size_aware")
    assert new.quality["resolution_rule"] == "surprise"
    assert old.quality["resolution_rule"] == "size_aware"
    assert old.quality["resolution"] == auto_resolution(len(ids), 300)
    ladder = new.quality["resolution_ladder"]
    assert len(ladder) >= 3
    best = max(ladder, key=lambda step: step["surprise"])
    assert new.quality["resolution"] == best["resolution"]
    assert new.quality["surprise"] == pytest.approx(best["surprise"])
    assert normalized_mutual_info(truth, _labels(new, ids)) > 0.95
    with pytest.raises(ValueError, match="resolution_rule"):
        detect_communities(edges, resolution_rule="biggest")
