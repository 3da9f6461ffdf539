"""pysyncon (Abadie, Diamond & Hainmueller's synthetic control) in the product's setting.

Kept only to check :func:`~orchestration.lib.attribution.estimates.synthetic_control`
(tests/attribution/test_synth_parity.py, bench/bench_attribution.py). The product's
weights minimise ``||t - w D||^2`` over the simplex, ``t`` and ``D`` the target's and
donors' daily pre-period rates. pysyncon's ``Synth`` minimises ``(X1 - X0 w)' V (X1 -
X0 w)`` after dividing each covariate (row of ``X``) by its standard deviation over the
units, and by default also searches a diagonal ``V`` (Nelder-Mead) for the weights that
best fit the pre-period outcomes ``Z``. The matching configuration gives it the daily
pre-period rates as covariates and as outcomes and ``custom_V`` = each day's variance
over the units (``ddof = 1``, as pandas' ``std``), which undoes the scaling: both then
solve the same quadratic programme. pysyncon 1.7.0 needs matplotlib at import and is
installed with ``--no-deps`` (Makefile).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["pysyncon_weights", "weight_objective"]


def pysyncon_weights(
    target_pre: np.ndarray, donors_pre: np.ndarray, *, optimise_v: bool = False
) -> tuple[np.ndarray, object]:
    """pysyncon's donor weights on the product's inputs.

    Parameters
    ----------
    target_pre : array of float, shape (days,)
        The target's daily pre-period rates.
    donors_pre : array of float, shape (donors, days)
        The donors' daily pre-period rates.
    optimise_v : bool
        False: the matching configuration (``custom_V`` undoing the scaling). True:
        pysyncon's default, which also searches ``V``.

    Returns
    -------
    tuple
        The weights (in the donors' order) and the fitted ``pysyncon.Synth``.
    """
    import pysyncon  # test-only dependency

    donors_pre = np.atleast_2d(np.asarray(donors_pre, float))
    names = [f"d{j}" for j in range(len(donors_pre))]
    days = [f"day{i}" for i in range(donors_pre.shape[1])]
    x0 = pd.DataFrame(donors_pre.T, index=days, columns=names)
    x1 = pd.Series(np.asarray(target_pre, float), index=days, name="target")
    synth = pysyncon.Synth()
    if optimise_v:
        synth.fit(X0=x0, X1=x1, Z0=x0, Z1=x1)
    else:
        variance = pd.concat([x0, x1], axis=1).std(axis=1).to_numpy() ** 2
        synth.fit(X0=x0, X1=x1, Z0=x0, Z1=x1, custom_V=variance)
    return np.asarray(synth.W, float), synth


def weight_objective(weights: np.ndarray, target_pre: np.ndarray, donors_pre: np.ndarray) -> float:
    """pysyncon's ``loss_W`` of the unscaled problem, ``1/2 w' D D' w - t' D' w``."""
    donors_pre = np.atleast_2d(np.asarray(donors_pre, float))
    gram = donors_pre @ donors_pre.T
    return float(0.5 * weights @ gram @ weights - (donors_pre @ target_pre) @ weights)
