"""Simulated user-randomized experiments with a known spillover (evaluation only).

Draws the per-unit rows that ``int_experiment_spillover_units_measured`` gives the
spillover step, with the demo generator's distributions (:class:`Knobs`), so the
benchmark and the tests can measure the false-positive rate and the coverage of
:func:`orchestration.lib.experiments.spillover.analyse_spillover` without a warehouse:

* communities of the demo's truncated power-law sizes (``size_min``..``size_max``,
  exponent ``size_alpha``), every member a unit, each treated with probability 1/2;
* a member's activity ``lognormal(-0.18, 0.6)`` (the demo's ``activity``), active days
  ``Binomial(days, p_session_member)``, posts ``Poisson(active days x
  posts_per_session_day x activity)``, over the pre-period and over the window;
* the spillover: a control member's window posts are multiplied by
  ``1 + spillover x share``, ``share`` the treated share of the other members of its
  community (the demo's mechanism), so the community exposure's estimate has the
  planted value as its target;
* interaction ties: ``Poisson(ties_per_user)`` ties per user, each inside the community
  with probability ``1 - mixing`` (``Knobs.mixing``), else with anyone, weight 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from orchestration.lib.demo._common import Knobs

__all__ = ["simulate_units"]

_K = Knobs()


def _community_sizes(rng: np.random.Generator, n: int, size_max: int) -> np.ndarray:
    lo, hi, a = _K.size_min, size_max, _K.size_alpha
    u = rng.random(n)
    sizes = (lo ** (1 - a) + u * (hi ** (1 - a) - lo ** (1 - a))) ** (1 / (1 - a))
    return np.floor(sizes).astype(np.int64)


def simulate_units(
    rng: np.random.Generator,
    *,
    n_communities: int = 60,
    spillover: float = 0.0,
    days: int = 28,
    pre_days: int = 28,
    ties_per_user: float = 12.0,
    size_max: int = 60,
    experiment_id: str = "sim",
) -> pd.DataFrame:
    """One simulated experiment's per-unit rows (metric ``posts_per_user``).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness (seeded by the caller).
    n_communities : int
        Communities drawn.
    spillover : float
        Planted relative spillover at full community exposure (0: none).
    days, pre_days : int
        Window and pre-period lengths in days.
    ties_per_user : float
        Mean interaction ties per user in the pre-period.
    size_max : int
        Largest community (the demo's ``size_max`` is 300; the default 60 keeps the
        communities' treated shares spread, as in the detected communities of the demo).
    experiment_id : str
        Written in the rows.

    Returns
    -------
    pandas.DataFrame
        Columns of ``int_experiment_spillover_units_measured``.
    """
    sizes = _community_sizes(rng, n_communities, size_max)
    comm = np.repeat(np.arange(n_communities), sizes)
    n = comm.size
    treated = rng.random(n) < 0.5
    units = np.bincount(comm, minlength=n_communities)
    treated_in = np.bincount(comm[treated], minlength=n_communities)
    peers = units[comm] - 1
    peers_treated = treated_in[comm] - treated
    share = np.where(peers > 0, peers_treated / np.maximum(peers, 1), 0.0)

    activity = rng.lognormal(-0.18, 0.6, n)
    rate = _K.posts_per_session_day * activity
    pre = rng.poisson(rng.binomial(pre_days, _K.p_session_member, n) * rate).astype(float)
    lift = np.where(treated, 1.0, 1.0 + spillover * share)
    post = rng.poisson(rng.binomial(days, _K.p_session_member, n) * rate * lift).astype(float)

    # Ties: inside the community with probability 1 - mixing (uniform over the others).
    count = rng.poisson(ties_per_user, n)
    owner = np.repeat(np.arange(n), count)
    inside = (rng.random(owner.size) >= _K.mixing) & (peers[owner] > 0)
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])[comm[owner]]
    offset = rng.integers(0, np.maximum(peers[owner], 1))
    local = np.where(offset >= owner - start, offset + 1, offset)
    other = np.where(inside, start + local, rng.integers(0, n, owner.size))
    keep = other != owner
    owner, other = owner[keep], other[keep]
    weight_to_units = np.bincount(owner, minlength=n).astype(float)
    weight_other = np.bincount(owner[treated[owner] != treated[other]], minlength=n).astype(float)

    return pd.DataFrame(
        {
            "experiment_id": experiment_id,
            "unit_id": np.arange(n),
            "variant": np.where(treated, "treatment", "control"),
            "metric_name": "posts_per_user",
            "metric_value": post,
            "pre_period_value": pre,
            "interaction_weight": weight_to_units,
            "weight_to_units": weight_to_units,
            "weight_to_other_variants": weight_other,
            "community_id": comm,
            "count_community_peer_units": peers.astype(float),
            "count_community_peers_other_variants": peers_treated.astype(float),
        }
    )
