"""Graph figures of communities and of their members, for health scores and roles.

Given the weighted user graph and a membership table, :func:`community_stats` measures
each community's cohesion (internal density, share of its members' interaction weight
kept inside, conductance, clustering) and :func:`member_metrics` measures each member's
place in it (weight inside and outside, PageRank within the community, participation
across communities) so that the dbt marts can name key members, bridges, core and
peripheral members. Memberships may overlap (declared groups); member metrics need a
partition (detected communities).
"""

from __future__ import annotations

import igraph as ig
import numpy as np
import pandas as pd

__all__ = ["community_stats", "member_metrics"]


def _directed_rows(edges: pd.DataFrame) -> pd.DataFrame:
    """Each undirected edge twice, once from each end: ``user_id``, ``other_user_id``, ``w``."""
    a = edges["user_id_a"].to_numpy()
    b = edges["user_id_b"].to_numpy()
    w = edges["edge_weight"].to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "user_id": np.concatenate([a, b]),
            "other_user_id": np.concatenate([b, a]),
            "w": np.concatenate([w, w]),
        }
    )


def _internal_edges(edges: pd.DataFrame, membership: pd.DataFrame) -> pd.DataFrame:
    """Edges whose two ends belong to the same community (one row per edge and community)."""
    m = membership[["user_id", "community_id"]]
    left = edges.merge(m.rename(columns={"user_id": "user_id_a"}), on="user_id_a")
    both = left.merge(
        m.rename(columns={"user_id": "user_id_b", "community_id": "community_id_b"}),
        on="user_id_b",
    )
    return both[both["community_id"] == both["community_id_b"]].drop(columns="community_id_b")


def _clustering_by_community(internal: pd.DataFrame, is_partition: bool) -> pd.Series:
    """Mean local clustering of each community's internal subgraph (members with >= 2
    internal neighbours; others count as 0, as networkx does).

    Every (member, community) pair is one vertex of a single graph whose edges are the
    internal edges, so the communities are its disconnected pieces and one igraph call
    measures them all (an overlapping membership, ``is_partition`` False, gives a user
    one vertex per community)."""
    if internal.empty:
        return pd.Series(dtype=float)
    n_e = len(internal)
    users = np.concatenate(
        [internal["user_id_a"].to_numpy(dtype=object), internal["user_id_b"].to_numpy(dtype=object)]
    )
    community_codes, communities = pd.factorize(internal["community_id"].to_numpy(dtype=object))
    community_codes = np.concatenate([community_codes, community_codes]).astype(np.int64)
    user_codes, user_uniques = pd.factorize(users)
    if is_partition:
        key = user_codes.astype(np.int64)
    else:
        key = community_codes * max(len(user_uniques), 1) + user_codes
    vertex, keys = pd.factorize(key)
    graph = ig.Graph(n=len(keys))
    graph.add_edges(np.column_stack([vertex[:n_e], vertex[n_e:]]))
    graph.simplify()
    local = np.nan_to_num(np.asarray(graph.transitivity_local_undirected(mode="zero")))
    owner = np.empty(len(keys), dtype=np.int64)
    owner[vertex] = community_codes
    total = np.bincount(owner, weights=local, minlength=len(communities))
    count = np.bincount(owner, minlength=len(communities))
    return pd.Series(total / count, index=pd.Index(communities, dtype=object), name="clustering")


def community_stats(
    edges: pd.DataFrame, membership: pd.DataFrame, *, is_partition: bool = True
) -> pd.DataFrame:
    """Cohesion figures per community.

    Parameters
    ----------
    edges : pandas.DataFrame
        ``user_id_a``, ``user_id_b``, ``edge_weight`` (> 0), one row per unordered pair.
    membership : pandas.DataFrame
        ``user_id``, ``community_id``; one row per member (a user may appear in several
        communities when ``is_partition`` is False).
    is_partition : bool, default True
        Whether each user belongs to at most one community (faster clustering).

    Returns
    -------
    pandas.DataFrame
        One row per community of ``membership``: ``community_id``, ``count_members``,
        ``count_internal_edges``, ``internal_weight``, ``boundary_weight`` (weight of
        edges leaving it), ``volume`` (members' total weight), ``internal_density``
        (internal edges / possible pairs), ``share_weight_inside`` (internal weight x 2
        / volume: the share of members' interaction weight kept inside),
        ``conductance`` (boundary / min(volume, total volume - volume)) and
        ``avg_clustering``. Members without edges count in ``count_members`` only.
    """
    membership = membership[["user_id", "community_id"]].drop_duplicates()
    sizes = membership.groupby("community_id").size().rename("count_members")
    directed = _directed_rows(edges)
    degree = directed.groupby("user_id")["w"].sum().rename("degree")
    total_volume = float(degree.sum())
    volume = (
        membership.merge(degree, left_on="user_id", right_index=True, how="left")
        .fillna({"degree": 0.0})
        .groupby("community_id")["degree"]
        .sum()
        .rename("volume")
    )
    internal = _internal_edges(edges, membership)
    inside = internal.groupby("community_id").agg(
        count_internal_edges=("edge_weight", "size"), internal_weight=("edge_weight", "sum")
    )
    stats = pd.concat([sizes, volume, inside], axis=1).fillna(
        {"count_internal_edges": 0, "internal_weight": 0.0, "volume": 0.0}
    )
    stats["boundary_weight"] = (stats["volume"] - 2 * stats["internal_weight"]).clip(lower=0.0)
    n = stats["count_members"].astype(float)
    pairs = n * (n - 1) / 2
    stats["internal_density"] = np.where(pairs > 0, stats["count_internal_edges"] / pairs, 0.0)
    stats["share_weight_inside"] = np.where(
        stats["volume"] > 0, 2 * stats["internal_weight"] / stats["volume"], 0.0
    )
    denominator = np.minimum(stats["volume"], total_volume - stats["volume"])
    stats["conductance"] = np.where(denominator > 0, stats["boundary_weight"] / denominator, 1.0)
    stats["avg_clustering"] = _clustering_by_community(internal, is_partition)
    stats["avg_clustering"] = stats["avg_clustering"].fillna(0.0)
    stats["count_internal_edges"] = stats["count_internal_edges"].astype("int64")
    stats = stats.rename_axis("community_id").reset_index()
    columns = [
        "community_id",
        "count_members",
        "count_internal_edges",
        "internal_weight",
        "boundary_weight",
        "volume",
        "internal_density",
        "share_weight_inside",
        "conductance",
        "avg_clustering",
    ]
    return stats[columns].sort_values("community_id", ignore_index=True)


def member_metrics(edges: pd.DataFrame, membership: pd.DataFrame) -> pd.DataFrame:
    """Each assigned member's position in its community and across communities.

    Parameters
    ----------
    edges : pandas.DataFrame
        ``user_id_a``, ``user_id_b``, ``edge_weight``.
    membership : pandas.DataFrame
        ``user_id``, ``community_id``: a partition (each user at most once). Users
        absent from it are unassigned; their edges count as edges to no community.

    Returns
    -------
    pandas.DataFrame
        One row per member: ``user_id``, ``community_id``, ``weighted_degree``,
        ``weighted_degree_inside``, ``share_inside``, ``count_neighbours``,
        ``count_neighbours_inside``, ``pagerank_in_community`` (PageRank on the
        community's internal edges, scaled so the community's mean is 1),
        ``participation_coefficient`` (1 - sum over communities c of (k_ic / k_i)^2,
        over the weight to assigned neighbours: 0 = all ties in one community),
        ``count_communities_touched``, ``top_other_community_id`` and
        ``weight_to_top_other`` (the other community it is most tied to).
    """
    membership = membership[["user_id", "community_id"]]
    if membership["user_id"].duplicated().any():
        raise ValueError("member_metrics needs a partition: a user appears twice in membership")
    directed = _directed_rows(edges)
    directed = directed.merge(membership, on="user_id", how="inner").merge(
        membership.rename(columns={"user_id": "other_user_id", "community_id": "other_community"}),
        on="other_user_id",
        how="left",
    )
    directed["is_inside"] = directed["community_id"] == directed["other_community"]
    per_user = directed.groupby("user_id").agg(
        weighted_degree=("w", "sum"), count_neighbours=("other_user_id", "nunique")
    )
    inside_rows = directed[directed["is_inside"]]
    per_user_inside = inside_rows.groupby("user_id").agg(
        weighted_degree_inside=("w", "sum"), count_neighbours_inside=("other_user_id", "nunique")
    )
    assigned = directed[directed["other_community"].notna()]
    by_community = assigned.groupby(["user_id", "other_community"])["w"].sum().reset_index()
    k_assigned = by_community.groupby("user_id")["w"].transform("sum")
    by_community["share_sq"] = (by_community["w"] / k_assigned) ** 2
    participation = (1 - by_community.groupby("user_id")["share_sq"].sum()).rename(
        "participation_coefficient"
    )
    touched = by_community.groupby("user_id").size().rename("count_communities_touched")
    others = by_community.merge(membership, on="user_id")
    others = others[others["other_community"] != others["community_id"]]
    others = others.sort_values(["user_id", "w", "other_community"], ascending=[True, False, True])
    top_other = (
        others.drop_duplicates("user_id")
        .set_index("user_id")[["other_community", "w"]]
        .rename(columns={"other_community": "top_other_community_id", "w": "weight_to_top_other"})
    )

    pagerank = _pagerank_in_community(inside_rows, membership)
    result = (
        membership.set_index("user_id")
        .join([per_user, per_user_inside, participation, touched, top_other, pagerank])
        .reset_index()
    )
    fills = {
        "weighted_degree": 0.0,
        "count_neighbours": 0,
        "weighted_degree_inside": 0.0,
        "count_neighbours_inside": 0,
        "participation_coefficient": 0.0,
        "count_communities_touched": 0,
        "weight_to_top_other": 0.0,
        "pagerank_in_community": 0.0,
    }
    result = result.fillna(fills)
    result["share_inside"] = np.where(
        result["weighted_degree"] > 0,
        result["weighted_degree_inside"] / result["weighted_degree"],
        0.0,
    )
    for column in ("count_neighbours", "count_neighbours_inside", "count_communities_touched"):
        result[column] = result[column].astype("int64")
    columns = [
        "user_id",
        "community_id",
        "weighted_degree",
        "weighted_degree_inside",
        "share_inside",
        "count_neighbours",
        "count_neighbours_inside",
        "pagerank_in_community",
        "participation_coefficient",
        "count_communities_touched",
        "top_other_community_id",
        "weight_to_top_other",
    ]
    return result[columns].sort_values("user_id", ignore_index=True)


def _pagerank_in_community(inside_rows: pd.DataFrame, membership: pd.DataFrame) -> pd.Series:
    """PageRank on internal edges only, rescaled to mean 1 within each community."""
    if inside_rows.empty:
        return pd.Series(dtype=float, name="pagerank_in_community")
    once = inside_rows[inside_rows["user_id"] < inside_rows["other_user_id"]]
    codes, uniques = pd.factorize(
        np.concatenate([once["user_id"].to_numpy(), once["other_user_id"].to_numpy()])
    )
    n_e = len(once)
    graph = ig.Graph(n=len(uniques), edges=np.column_stack([codes[:n_e], codes[n_e:]]))
    # Components are the communities (only internal edges), so the walk never leaves one.
    rank = np.asarray(graph.pagerank(weights=once["w"].tolist(), directed=False))
    frame = pd.DataFrame({"user_id": uniques, "rank": rank}).merge(membership, on="user_id")
    sizes = membership.groupby("community_id").size()
    frame["pagerank_in_community"] = (
        frame["rank"]
        / frame.groupby("community_id")["rank"].transform("sum")
        * frame["community_id"].map(sizes)
    )
    return frame.set_index("user_id")["pagerank_in_community"]
