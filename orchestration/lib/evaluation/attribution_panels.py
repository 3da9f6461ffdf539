"""Synthetic group panels with a planted intervention effect, to check the attribution.

:func:`simulate_intervention` draws one target group and its donor candidates with the
shape of the demo's groups (members' activity rates from a gamma distribution around
one activity event per member-day, groups of 8 to 40 members, a trend of its own per
group, day-to-day shocks common to all groups and of each group) and returns the four
frames :func:`~orchestration.lib.attribution.analysis.attribute_interventions` reads.
The target's activity and contents are multiplied by ``1 + effect`` after the start;
active members are not (as in the demo, where a pilot raises posts and interactions,
not sessions), so their contribution's truth is 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["simulate_intervention"]


def simulate_intervention(
    rng: np.random.Generator,
    *,
    effect: float = 0.4,
    n_candidates: int = 12,
    pre_days: int = 28,
    post_days: int = 28,
    trend_sd: float = 0.002,
    intervention_id: str = "iv_sim",
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One simulated intervention: ``windows, candidates, panel, kpis``.

    Parameters
    ----------
    rng : numpy.random.Generator
        The random source (fixed seed: the same panels).
    effect : float, default 0.4
        Planted relative effect on the target's activity and contents after the start.
    n_candidates : int, default 12
        Donor candidates (all eligible).
    pre_days, post_days : int, default 28
        Days before the start and after it (the start day itself has no row).
    trend_sd : float, default 0.002
        Standard deviation of each group's own relative trend per day.
    intervention_id : str

    Returns
    -------
    tuple of pandas.DataFrame
        As :func:`attribute_interventions` takes them; the target is ``target``, the
        candidates ``donor_00`` ...
    """
    start = pd.Timestamp("2026-03-01")
    days = np.concatenate([np.arange(-pre_days, 0), np.arange(1, post_days + 1)])
    dates = start + pd.to_timedelta(days, unit="D")
    units = ["target", *(f"donor_{i:02d}" for i in range(n_candidates))]
    n_units = len(units)
    size = np.round(np.exp(rng.uniform(np.log(8), np.log(40), n_units))).astype(int)
    level = np.array([rng.gamma(2.0, 0.5, s).sum() for s in size])  # sum of members' rates
    trend = 1 + rng.normal(0, trend_sd, n_units)[:, None] * (days - days.mean())[None, :]
    common = np.exp(rng.normal(0, 0.05, days.size))[None, :]
    own = np.exp(rng.normal(0, 0.10, (n_units, days.size)))
    boost = np.ones((n_units, days.size))
    boost[0, days > 0] = 1 + effect
    mean = level[:, None] * np.clip(trend, 0.2, None) * common * own
    activity = rng.poisson(mean * boost)
    contents = rng.binomial(activity, 0.45)
    active_share = np.clip(0.35 + rng.normal(0, 0.05, n_units), 0.05, 0.95)
    active = rng.binomial(np.repeat(size[:, None], days.size, axis=1), active_share[:, None])
    panel = pd.DataFrame(
        {
            "intervention_id": intervention_id,
            "community_id": np.repeat(units, days.size),
            "activity_date": np.tile(dates, n_units),
            "count_members": np.repeat(size, days.size),
            "count_active_members": active.ravel(),
            "count_activity_events": activity.ravel(),
            "count_contents": contents.ravel(),
        }
    )
    windows = pd.DataFrame(
        [
            {
                "intervention_id": intervention_id,
                "target_type": "group",
                "target_id": "target",
                "group_kind": "declared",
                "community_id": "target",
                "intervention_type": "pilot",
                "started_at": start,
                "ended_at": pd.NaT,
                "snapshot_date": start - pd.Timedelta(days=3),
                "pre_start_date": dates[0],
                "pre_end_date": start - pd.Timedelta(days=1),
                "post_start_date": start + pd.Timedelta(days=1),
                "post_end_date": dates[-1],
            }
        ]
    )
    candidates = pd.DataFrame(
        {
            "intervention_id": intervention_id,
            "group_kind": "declared",
            "community_id": units[1:],
            "lookalike_rank": np.arange(1, n_candidates + 1),
            "is_eligible": True,
        }
    )
    kpis = pd.DataFrame(
        {"intervention_id": [intervention_id], "avg_dau": [2000.0], "avg_contents": [1500.0]}
    )
    return windows, candidates, panel, kpis
