import networkx as nx
import numpy as np
import pandas as pd
import pytest

from orchestration.lib.communities.structure import community_stats, member_metrics


def _edges(pairs, weight=1.0):
    return pd.DataFrame(
        [(min(a, b), max(a, b), weight) for a, b in pairs],
        columns=["user_id_a", "user_id_b", "edge_weight"],
    )


# Two triangles joined by one edge (c-d), plus a member without edges (z).
EDGES = _edges([("a", "b"), ("b", "c"), ("a", "c"), ("d", "e"), ("e", "f"), ("d", "f"), ("c", "d")])
MEMBERSHIP = pd.DataFrame(
    {"user_id": list("abcdefz"), "community_id": ["x"] * 3 + ["y"] * 3 + ["x"]}
)


def test_community_stats_on_two_triangles():
    stats = community_stats(EDGES, MEMBERSHIP).set_index("community_id")
    x, y = stats.loc["x"], stats.loc["y"]
    assert x.count_members == 4 and y.count_members == 3
    assert x.count_internal_edges == 3 and x.internal_weight == 3.0
    assert x.boundary_weight == 1.0 and x.volume == 7.0
    assert x.internal_density == pytest.approx(3 / 6)
    assert y.internal_density == pytest.approx(1.0)
    assert x.share_weight_inside == pytest.approx(6 / 7)
    assert x.conductance == pytest.approx(1 / 7)
    # Clustering: a, b = 1, c = 1 (its internal neighbours a, b are linked), z = 0 (no edges
    # inside: not in the internal graph, so not averaged).
    assert x.avg_clustering == pytest.approx(1.0)


def test_overlapping_memberships_are_measured_per_group():
    overlap = pd.DataFrame(
        {"user_id": list("abcd") + list("cd"), "community_id": ["g1"] * 4 + ["g2"] * 2}
    )
    stats = community_stats(EDGES, overlap, is_partition=False).set_index("community_id")
    assert stats.loc["g2", "count_internal_edges"] == 1
    assert stats.loc["g1", "count_internal_edges"] == 4


def test_member_metrics_bridge_and_pagerank():
    metrics = member_metrics(EDGES, MEMBERSHIP).set_index("user_id")
    assert set(metrics.index) == set("abcdefz")
    c = metrics.loc["c"]
    assert c.weighted_degree == 3 and c.weighted_degree_inside == 2
    assert c.participation_coefficient == pytest.approx(1 - (2 / 3) ** 2 - (1 / 3) ** 2)
    assert c.top_other_community_id == "y" and c.count_communities_touched == 2
    assert metrics.loc["a", "participation_coefficient"] == 0.0
    assert metrics.loc["z", "weighted_degree"] == 0 and metrics.loc["z", "share_inside"] == 0
    # Mean PageRank within each community is 1 (z has none: 0, so x's three share 4).
    assert metrics.loc[list("def"), "pagerank_in_community"].mean() == pytest.approx(1.0)
    assert metrics.loc[list("abcz"), "pagerank_in_community"].sum() == pytest.approx(4.0)


def test_member_metrics_rejects_overlap():
    with pytest.raises(ValueError, match="partition"):
        member_metrics(EDGES, pd.DataFrame({"user_id": ["a", "a"], "community_id": ["x", "y"]}))


def test_clustering_matches_networkx_on_karate():
    graph = nx.karate_club_graph()
    edges = _edges([(str(a), str(b)) for a, b in graph.edges()])
    edges["user_id_a"], edges["user_id_b"] = (
        np.minimum(edges.user_id_a, edges.user_id_b),
        np.maximum(edges.user_id_a, edges.user_id_b),
    )
    membership = pd.DataFrame({"user_id": [str(n) for n in graph], "community_id": "all"})
    stats = community_stats(edges, membership)
    assert stats.loc[0, "avg_clustering"] == pytest.approx(nx.average_clustering(graph))
    assert stats.loc[0, "internal_density"] == pytest.approx(nx.density(graph))
