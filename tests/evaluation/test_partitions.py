"""Partition agreement (NMI, ARI, purity, coverage): hand-computed values and the
libraries the field trusts (igraph, scikit-learn) on the same labels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from orchestration.lib.evaluation.partitions import (
    adjusted_rand_index,
    coverage,
    normalized_mutual_info,
    purity,
)


def test_nmi_hand_computed():
    assert normalized_mutual_info([0, 0, 1, 1], [5, 5, 7, 7]) == 1.0
    # found refines truth: I = ln 2, H(T) = ln 2, H(F) = 1.5 ln 2 -> 2 / 2.5.
    assert normalized_mutual_info([0, 0, 1, 1], [0, 0, 1, 2]) == pytest.approx(0.8)
    assert normalized_mutual_info([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(0.0)
    assert normalized_mutual_info([0, 0, 0], [1, 1, 1]) == 1.0
    # Unassigned: singletons (default), one cluster, or excluded.
    assert normalized_mutual_info(["a", "a", "b", "b"], [0, 0, -1, -1]) == pytest.approx(0.8)
    assert normalized_mutual_info(["a", "a", "b", "b"], [0, 0, -1, -1], unassigned="cluster") == 1.0
    assert normalized_mutual_info(["a", "a", "b", "b"], [0, 0, -1, 3], unassigned="exclude") == 1.0


def test_ari_hand_computed():
    assert adjusted_rand_index([0, 0, 1, 1], [1, 1, 0, 0]) == 1.0
    # Pairs: cells 1, rows 2, cols 1, total 6 -> (1 - 1/3) / (1.5 - 1/3) = 4/7.
    assert adjusted_rand_index([0, 0, 1, 1], [0, 0, 1, 2]) == pytest.approx(4 / 7)
    # Cells 0, rows 2, cols 2: (0 - 2/3) / (2 - 2/3) = -1/2.
    assert adjusted_rand_index([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(-0.5)
    assert adjusted_rand_index([0, 1, 2], [0, 1, 2]) == 1.0


def test_purity_and_coverage_hand_computed():
    # Found clusters {0,1,2} (truth a,a,b) and {3,4} (b,b): (2 + 2) / 5.
    assert purity(list("aabbb"), [0, 0, 0, 1, 1]) == pytest.approx(0.8)
    assert purity(list("aabbb"), [0, 0, 0, -1, -1], unassigned="cluster") == pytest.approx(0.8)
    assert purity(list("aabbb"), [0, 0, 0, -1, -1]) == pytest.approx(0.8)
    assert coverage([0, 0, -1, 3]) == 0.75
    assert coverage([]) == 0.0


def test_metrics_match_igraph_on_random_labels():
    import igraph as ig

    rng = np.random.default_rng(0)
    truth = rng.integers(0, 7, 500)
    found = np.where(rng.random(500) < 0.6, truth, rng.integers(0, 9, 500))
    assert normalized_mutual_info(truth, found) == pytest.approx(
        ig.compare_communities(truth.tolist(), found.tolist(), method="nmi")
    )
    assert adjusted_rand_index(truth, found) == pytest.approx(
        ig.compare_communities(truth.tolist(), found.tolist(), method="ari")
    )
    assert not math.isnan(purity(truth, found))


@pytest.mark.parametrize("unassigned", ["exclude", "cluster"])
def test_unassigned_modes_match_scikit_learn(unassigned):
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 6, 400)
    found = np.where(rng.random(400) < 0.7, truth, rng.integers(-1, 8, 400))
    found[rng.random(400) < 0.15] = -1
    if unassigned == "exclude":
        keep = found != -1
        expected_t, expected_f = truth[keep], found[keep]
    else:  # every -1 is one more cluster, as any other label would be
        expected_t, expected_f = truth, found
    nmi = normalized_mutual_info(truth, found, unassigned=unassigned)
    ari = adjusted_rand_index(truth, found, unassigned=unassigned)
    assert nmi == pytest.approx(metrics.normalized_mutual_info_score(expected_t, expected_f))
    assert ari == pytest.approx(metrics.adjusted_rand_score(expected_t, expected_f))


def test_singleton_mode_matches_scikit_learn_with_one_label_per_unassigned_user():
    metrics = pytest.importorskip("sklearn.metrics")
    found = np.array([0, 0, 0, 1, 1, -1, -1, 2, 2, -1])
    truth = np.array([0, 0, 1, 1, 1, 1, 2, 2, 2, 0])
    alone = np.where(found == -1, 100 + np.arange(len(found)), found)
    assert normalized_mutual_info(truth, found) == pytest.approx(
        metrics.normalized_mutual_info_score(truth, alone)
    )
    assert adjusted_rand_index(truth, found) == pytest.approx(
        metrics.adjusted_rand_score(truth, alone)
    )


def test_unknown_mode_and_length_mismatch_are_refused():
    with pytest.raises(ValueError, match="unassigned must be one of"):
        normalized_mutual_info([0, 1], [0, 1], unassigned="drop")
    with pytest.raises(ValueError, match="truth has 2 labels"):
        adjusted_rand_index([0, 1], [0, 1, 2])
