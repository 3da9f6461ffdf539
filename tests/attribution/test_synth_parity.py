"""Parity of the synthetic control with pysyncon 1.7.0, in the matching configuration.

orchestration/lib/evaluation/synth_reference.py says why ``custom_V`` = each day's
variance makes pysyncon solve our problem. pysyncon solves it with SLSQP at its default
``ftol`` (1e-6) and no gradient, so its weights stop short of the optimum (about 1e-3
here): the tolerance comes from the gap of its objective, not a guess. The objective
``f(w) = 1/2 w' D D' w - t' D' w`` (pysyncon's ``loss_W``) is strongly convex when the
donors' series are linearly independent, and at the constrained optimum ``w*`` every
feasible ``w`` has ``f(w) - f(w*) >= lambda_min(D D') / 2 ||w - w*||^2``. The tests skip
without pysyncon (a test-only install with ``--no-deps``, like gbstats).
"""

import numpy as np
import pytest

from orchestration.lib.attribution.estimates import synthetic_control, synthetic_control_weights
from orchestration.lib.evaluation.synth_reference import (
    pysyncon_weights,
    weight_objective as _objective,
)

pytest.importorskip("pysyncon")


def _fixture(seed: int, n_donors: int = 8, pre_days: int = 28, post_days: int = 20):
    """Daily rates of donor groups (gamma noise around a level and a trend) and a target
    near, but not on, their convex hull, with a +0.2 effect after the start."""
    rng = np.random.default_rng(seed)
    days = pre_days + post_days
    levels = rng.uniform(0.6, 1.6, n_donors)[:, None]
    trends = rng.normal(0, 0.004, n_donors)[:, None] * np.arange(days)
    donors = levels + trends + rng.gamma(4, 0.05, (n_donors, days))
    mix = np.zeros(n_donors)
    mix[[1, 4, 6]] = [0.5, 0.3, 0.2]
    target = mix @ donors + rng.normal(0, 0.03, days)
    target[pre_days:] += 0.2
    return target[:pre_days], target[pre_days:], donors[:, :pre_days], donors[:, pre_days:]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_weights_and_effect_match_pysyncon_with_the_matching_v(seed):
    target_pre, target_post, donors_pre, donors_post = _fixture(seed)
    ours = synthetic_control(target_pre, target_post, donors_pre, donors_post)
    theirs, synth = pysyncon_weights(target_pre, donors_pre)
    # Same problem: pysyncon's loss_W of its weights is our objective at them.
    assert synth.loss_W == pytest.approx(_objective(theirs, target_pre, donors_pre), rel=1e-9)
    assert theirs.min() >= -1e-9 and theirs.sum() == pytest.approx(1, abs=1e-9)
    # Ours is the better optimum of that problem (never worse than pysyncon's) ...
    gap = _objective(theirs, target_pre, donors_pre) - _objective(
        ours.weights, target_pre, donors_pre
    )
    assert gap >= -1e-12
    # ... and pysyncon's weights lie within the distance its objective gap allows.
    lambda_min = np.linalg.eigvalsh(donors_pre @ donors_pre.T).min()
    assert lambda_min > 0
    bound = np.sqrt(2 * max(gap, 0.0) / lambda_min) + 1e-9
    assert np.linalg.norm(theirs - ours.weights) <= bound
    # That distance is small (pysyncon's ftol of 1e-6 leaves weights about 1e-3 off on
    # these fixtures), and it bounds the effect's difference by Cauchy-Schwarz.
    np.testing.assert_allclose(theirs, ours.weights, atol=5e-3)
    their_effect = float(np.mean(target_post - theirs @ donors_post))
    effect_bound = bound * np.linalg.norm(donors_post.mean(axis=1))
    assert abs(their_effect - ours.effect) <= effect_bound
    assert abs(their_effect - ours.effect) < 5e-3
    assert ours.effect == pytest.approx(0.2, abs=0.05)  # the planted effect


def test_pysyncon_optimising_v_cannot_beat_our_pre_period_fit():
    """pysyncon's default also searches V (Nelder-Mead) for the best fit of Z; with Z
    the pre-period days, our weights already minimise that fit over the simplex, so its
    V search can only come close to ours, never below."""
    target_pre, _, donors_pre, _ = _fixture(5)
    ours = synthetic_control_weights(target_pre, donors_pre)
    theirs, synth = pysyncon_weights(target_pre, donors_pre, optimise_v=True)
    our_fit = float(np.mean((target_pre - ours @ donors_pre) ** 2))
    their_fit = float(np.mean((target_pre - theirs @ donors_pre) ** 2))
    assert synth.loss_V == pytest.approx(their_fit, rel=1e-9)  # loss_V is that mean
    assert our_fit <= their_fit + 1e-12
    np.testing.assert_allclose(theirs, ours, atol=0.05)
