"""Per-user membership test: statuses, planted members kept, background left out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from orchestration.lib.communities import detect_communities
from orchestration.lib.communities.detection import asymptotic_surprise
from orchestration.lib.communities.membership import (
    membership_pvalues,
    membership_status_codes,
)
from orchestration.lib.evaluation.partitions import normalized_mutual_info


def _planted_with_background(seed: int = 5, n_groups: int = 40, size: int = 25, n_bg: int = 100):
    """Groups with ~8 ties inside and ~1 outside per user, plus background users whose
    ~8 ties go to random users. Returns edges, ids, truth (-1 for background)."""
    rng = np.random.default_rng(seed)
    n = n_groups * size
    truth = np.repeat(np.arange(n_groups), size)
    src_in = np.repeat(np.arange(n), 4)
    dst_in = (src_in // size) * size + rng.integers(0, size, len(src_in))
    src_out = rng.integers(0, n, n // 2)
    dst_out = rng.integers(0, n, n // 2)
    src_bg = np.repeat(np.arange(n, n + n_bg), 8)
    dst_bg = rng.integers(0, n + n_bg, len(src_bg))
    src = np.concatenate([src_in, src_out, src_bg])
    dst = np.concatenate([dst_in, dst_out, dst_bg])
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    pairs = np.unique(np.column_stack([lo, hi])[lo != hi], axis=0)
    ids = np.array([f"u{i:05d}" for i in range(n + n_bg)], dtype=object)
    edges = pd.DataFrame(
        {"user_id_a": ids[pairs[:, 0]], "user_id_b": ids[pairs[:, 1]], "edge_weight": 1.0}
    )
    return edges, ids, np.concatenate([truth, np.full(n_bg, -1)])


@pytest.fixture(scope="module")
def noisy():
    edges, ids, truth = _planted_with_background()
    return edges, ids, truth, detect_communities(edges, user_ids=ids, seed=3)


def _by_user(result, ids, column):
    return result.membership.set_index("user_id")[column].reindex(ids).to_numpy(dtype=object)


def test_status_column_values_follow_labels(noisy):
    edges, ids, truth, result = noisy
    frame = result.membership
    assert list(frame.columns) == ["user_id", "community_label", "membership_status"]
    assert set(frame["membership_status"].dropna()) <= {"member", "fringe"}
    assert (frame["membership_status"].isna() == (frame["community_label"] < 0)).all()
    assert result.quality["n_members"] == int((frame["membership_status"] == "member").sum())
    assert result.quality["n_fringe"] == int((frame["membership_status"] == "fringe").sum())
    assert result.quality["n_members"] + result.quality["n_fringe"] + result.quality[
        "n_unassigned"
    ] == len(frame)


def test_planted_members_kept_and_background_left_out(noisy):
    edges, ids, truth, result = noisy
    status = _by_user(result, ids, "membership_status")
    labels = _by_user(result, ids, "community_label").astype(np.int64)
    planted, background = truth >= 0, truth < 0
    member = status == "member"
    assert (member & planted).sum() / planted.sum() >= 0.95
    assert (member & planted).sum() / member.sum() >= 0.95
    assert (~member[background]).mean() >= 0.8
    assert normalized_mutual_info(truth[planted], labels[planted]) >= 0.95


def test_no_test_means_every_assigned_user_is_a_member(noisy):
    edges, ids, truth, _ = noisy
    result = detect_communities(edges, user_ids=ids, seed=3, membership_alpha=None)
    frame = result.membership
    assigned = frame["community_label"] >= 0
    assert (frame.loc[assigned, "membership_status"] == "member").all()
    assert result.quality["n_fringe"] == 0
    with pytest.raises(ValueError, match="alpha"):
        detect_communities(edges, membership_alpha=0.0)


def test_deterministic_with_seed(noisy):
    edges, ids, truth, result = noisy
    shuffled = edges.sample(frac=1.0, random_state=1).reset_index(drop=True)
    again = detect_communities(shuffled, user_ids=ids, seed=3)
    pd.testing.assert_frame_equal(result.membership, again.membership)


def test_warm_start_keeps_users_after_one_percent_new_edges(noisy):
    edges, ids, truth, result = noisy
    rng = np.random.default_rng(11)
    n_new = len(edges) // 100
    a, b = ids[rng.integers(0, len(ids), n_new)], ids[rng.integers(0, len(ids), n_new)]
    keep = a != b
    added = pd.DataFrame({"user_id_a": a[keep], "user_id_b": b[keep], "edge_weight": 1.0})
    perturbed = pd.concat([edges, added], ignore_index=True)
    start = dict(
        zip(result.membership["user_id"], result.membership["community_label"], strict=True)
    )
    again = detect_communities(perturbed, user_ids=ids, seed=3, initial_membership=start)
    before = _by_user(result, ids, "community_label").astype(np.int64)
    after = _by_user(again, ids, "community_label").astype(np.int64)
    assigned = before >= 0
    pairs = pd.DataFrame({"before": before[assigned], "after": after[assigned]})
    match = pairs.groupby("before")["after"].agg(lambda s: s.value_counts().idxmax())
    kept = (pairs["after"].to_numpy() == match.reindex(pairs["before"]).to_numpy()).mean()
    assert kept >= 0.95


def test_pvalue_matches_scipy_binomial_tail_on_unweighted_graph():
    # Star-ish graph: vertex 0 has 3 neighbours in its community {0,1,2,3} and 1 outside.
    src = np.array([0, 0, 0, 0, 1, 2, 4, 5, 6, 4])
    dst = np.array([1, 2, 3, 4, 2, 3, 5, 6, 7, 7])
    weights = np.ones(len(src))
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    pvalues, inside = membership_pvalues(8, src, dst, weights, labels)
    strength = np.bincount(src, minlength=8) + np.bincount(dst, minlength=8)
    community = strength[:4].sum()
    expected = (community - strength[0]) / (strength.sum() - strength[0])
    # P(X >= 3) for X ~ Binomial(4, p), times the 2 communities.
    reference = 2 * binom.sf(2, 4, expected)
    assert pvalues[0] == pytest.approx(min(1.0, reference), rel=1e-9)
    assert inside[0] == 3.0
    codes = membership_status_codes(8, src, dst, weights, labels, alpha=1.0)
    assert set(codes.tolist()) <= {0, 1}


def test_correction_counts_only_the_communities_a_user_touches():
    # Three communities; vertex 0's ties all stay in its own {0,1,2,3}: detection had one
    # choice for it, so its p-value is the plain binomial tail. Vertex 4 touches two.
    src = np.array([0, 0, 0, 1, 2, 4, 4, 5, 6, 8, 9, 10, 8])
    dst = np.array([1, 2, 3, 2, 3, 5, 3, 6, 7, 9, 10, 11, 11])
    weights = np.ones(len(src))
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
    pvalues, _ = membership_pvalues(12, src, dst, weights, labels)
    strength = np.bincount(src, minlength=12) + np.bincount(dst, minlength=12)
    total = strength.sum()

    def tail(v: int, inside: int) -> float:
        own = strength[labels == labels[v]].sum()
        p = (own - strength[v]) / (total - strength[v])
        return binom.sf(inside - 1, strength[v], p)

    assert pvalues[0] == pytest.approx(tail(0, 3), rel=1e-9)
    assert pvalues[4] == pytest.approx(min(1.0, 2 * tail(4, 1)), rel=1e-9)


def test_surprise_by_hand():
    # Two triangles joined by one edge: q = 6/7, p = 2 * (7/14)^2 = 1/2.
    src = np.array([0, 0, 1, 3, 3, 4, 2])
    dst = np.array([1, 2, 2, 4, 5, 5, 3])
    weights = np.ones(7)
    q, p = 6 / 7, 0.5
    expected = 7 * (q * np.log(q / p) + (1 - q) * np.log((1 - q) / (1 - p)))
    value = asymptotic_surprise(src, dst, weights, np.array([0, 0, 0, 1, 1, 1]))
    assert value == pytest.approx(expected, rel=1e-12)
    merged = asymptotic_surprise(src, dst, weights, np.zeros(6, dtype=np.int64))
    assert merged == 0.0 < value
