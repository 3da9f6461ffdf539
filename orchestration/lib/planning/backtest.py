"""Backtest of the potential score: does today's rank predict the next 4 weeks?

For every past snapshot with a snapshot ``horizon_days`` later, :func:`read_panel`
takes the groups ``rpt_high_potential_communities`` would rank (detected and declared,
``high_potential_min_members`` to ``high_potential_max_members`` members), their score
components and two naive baselines, and what happened next:

- ``member_growth``: members at the later snapshot / members now - 1 (a group gone by
  then, dissolved or absorbed, is -1);
- ``activity_growth``: activity (:data:`ACTIVITY_TYPES`: messages and interactions)
  over the ``horizon_days`` after the snapshot
  by the later snapshot's members / those over the ``horizon_days`` up to it by today's
  members - 1 (null when there were none before; a group gone is -1);
- ``member_retention``: share of today's members still members of the same group at
  the later snapshot.

:func:`potential_score` is the report's score (the ``high_potential_score_components``
seed's weights on the growth, cohesion and activity scores). :func:`backtest` measures,
for each score and outcome, the mean over snapshots of the rank correlation (Spearman)
between score and outcome, and the lift of the top decile over the median (mean outcome
of the snapshot's top decile by score minus the snapshot's median outcome, averaged
over snapshots), each with a percentile interval from a moving-block bootstrap of the
snapshots' statistics (consecutive snapshots' 4-week horizons overlap, so their
statistics are not independent; blocks of ``block_snapshots`` keep that). A bootstrap
of groups was tried first and dropped: with duplicated groups a resample's top decile
holds fewer distinct groups, which shifts a tail statistic like the top-decile lift
(on the 30k demo the point estimate fell outside its own 95% interval).
"""

from __future__ import annotations

import warnings

import duckdb
import numpy as np
import pandas as pd

__all__ = [
    "ACTIVITY_TYPES",
    "BASELINES",
    "OUTCOMES",
    "backtest",
    "pooled_backtest",
    "potential_score",
    "read_panel",
    "snapshot_statistics",
]

#: The outcomes measured over the horizon.
OUTCOMES = ("member_growth", "activity_growth", "member_retention")
#: Events that count as a group's activity: messages (posts, comments) and the
#: interactions between members (reactions, shares, mentions: a CollegeMsg message is a
#: mention), so that a product without posts still has activity.
ACTIVITY_TYPES = ("post", "comment", "reaction", "share", "mention")
#: Naive scores the potential score must beat: current size, and the last 4 weeks'
#: member growth (0 for a group too new to have one).
BASELINES = ("size_now", "growth_last_4_weeks")

_PANEL_SQL = """
with

health as (
    select * from main.fct_community_health
),

members as (
    select snapshot_date, group_kind, community_id, user_id from main.int_group_members_weekly
),

messages as (
    select user_id, activity_date from main.int_events_priced
    where list_contains($activity_types, event_type)
),

snapshots as (
    select distinct snapshot_date from health
),

pairs as (
    select
        snapshots.snapshot_date,
        later.snapshot_date as later_date,
    from snapshots
    inner join snapshots as later
        on later.snapshot_date = snapshots.snapshot_date + to_days($horizon)
),

ranked as (
    select
        health.snapshot_date,
        pairs.later_date,
        health.group_kind,
        health.community_id,
        health.count_members,
        health.growth_score,
        health.cohesion_score,
        health.activity_score,
        health.member_growth_rate_4_weeks,
    from health
    inner join pairs on health.snapshot_date = pairs.snapshot_date
    where health.count_members between $min_members and $max_members
),

later_sizes as (
    select snapshot_date, group_kind, community_id, count(*) as count_members_later,
    from members
    group by all
),

kept as (
    select
        ranked.snapshot_date,
        ranked.group_kind,
        ranked.community_id,
        count(later.user_id) as count_members_kept,
    from ranked
    inner join members as now
        on
            ranked.snapshot_date = now.snapshot_date
            and ranked.group_kind = now.group_kind
            and ranked.community_id = now.community_id
    left join members as later
        on
            later.snapshot_date = ranked.later_date
            and later.group_kind = ranked.group_kind
            and later.community_id = ranked.community_id
            and later.user_id = now.user_id
    group by all
),

messages_before as (
    select
        ranked.snapshot_date,
        ranked.group_kind,
        ranked.community_id,
        count(messages.user_id) as count_messages_before,
    from ranked
    inner join members
        on
            ranked.snapshot_date = members.snapshot_date
            and ranked.group_kind = members.group_kind
            and ranked.community_id = members.community_id
    left join messages
        on
            members.user_id = messages.user_id
            and messages.activity_date > ranked.snapshot_date - to_days($horizon)
            and messages.activity_date <= ranked.snapshot_date
    group by all
),

messages_after as (
    select
        ranked.snapshot_date,
        ranked.group_kind,
        ranked.community_id,
        count(messages.user_id) as count_messages_after,
    from ranked
    inner join members
        on
            ranked.later_date = members.snapshot_date
            and ranked.group_kind = members.group_kind
            and ranked.community_id = members.community_id
    left join messages
        on
            members.user_id = messages.user_id
            and messages.activity_date > ranked.snapshot_date
            and messages.activity_date <= ranked.later_date
    group by all
)

select
    ranked.*,
    coalesce(later_sizes.count_members_later, 0) as count_members_later,
    kept.count_members_kept,
    messages_before.count_messages_before,
    coalesce(messages_after.count_messages_after, 0) as count_messages_after,
from ranked
left join later_sizes
    on
        later_sizes.snapshot_date = ranked.later_date
        and later_sizes.group_kind = ranked.group_kind
        and later_sizes.community_id = ranked.community_id
left join kept
    on
        kept.snapshot_date = ranked.snapshot_date
        and kept.group_kind = ranked.group_kind
        and kept.community_id = ranked.community_id
left join messages_before
    on
        messages_before.snapshot_date = ranked.snapshot_date
        and messages_before.group_kind = ranked.group_kind
        and messages_before.community_id = ranked.community_id
left join messages_after
    on
        messages_after.snapshot_date = ranked.snapshot_date
        and messages_after.group_kind = ranked.group_kind
        and messages_after.community_id = ranked.community_id
order by ranked.snapshot_date, ranked.group_kind, ranked.community_id
"""


def read_panel(
    con: duckdb.DuckDBPyConnection,
    *,
    horizon_days: int = 28,
    min_members: int = 8,
    max_members: int = 300,
    activity_types: tuple[str, ...] = ACTIVITY_TYPES,
) -> pd.DataFrame:
    """One row per (snapshot, ranked group) with a snapshot ``horizon_days`` later.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A built warehouse (``fct_community_health``, ``int_group_members_weekly``,
        ``int_events_priced``).
    horizon_days : int
        How far ahead the outcomes look (a later snapshot must exist on that day).
    min_members, max_members : int
        The report's size range (vars ``high_potential_min_members`` / ``_max_members``).
    activity_types : tuple of str
        The event types that count as activity (:data:`ACTIVITY_TYPES`).

    Returns
    -------
    pandas.DataFrame
        ``snapshot_date, later_date, group_kind, community_id, count_members``, the
        three score components, ``member_growth_rate_4_weeks``, the counts behind the
        outcomes and the outcomes of :data:`OUTCOMES`, sorted.
    """
    panel = con.execute(
        _PANEL_SQL,
        {
            "horizon": horizon_days,
            "min_members": min_members,
            "max_members": max_members,
            "activity_types": list(activity_types),
        },
    ).df()
    members = panel["count_members"].astype(float)
    panel["member_growth"] = panel["count_members_later"] / members - 1
    before = panel["count_messages_before"].astype(float)
    panel["activity_growth"] = np.where(
        before > 0, panel["count_messages_after"] / before.where(before > 0) - 1, np.nan
    )
    panel["member_retention"] = panel["count_members_kept"] / members
    return panel


def potential_score(panel: pd.DataFrame, weights: dict[str, float]) -> pd.Series:
    """The report's potential score: ``sum(weight x <component>_score)``.

    Parameters
    ----------
    panel : pandas.DataFrame
        With ``growth_score``, ``cohesion_score`` and ``activity_score``.
    weights : dict of str to float
        ``{"growth": 0.5, "cohesion": 0.25, "activity": 0.25}`` (the seed's rows).
    """
    return sum(weight * panel[f"{name}_score"] for name, weight in sorted(weights.items()))


def _weighted_ranks(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Rank of each row in the sample where row i appears ``weights[i]`` times.

    Tied values share their average rank (as ``scipy.stats.rankdata``); with unit weights
    these are the usual average ranks.
    """
    unique, tie_group = np.unique(values, return_inverse=True)
    totals = np.bincount(tie_group, weights=weights, minlength=len(unique))
    below = np.cumsum(totals) - totals
    return (below + (totals + 1) / 2)[tie_group]


def _weighted_corr(a: np.ndarray, b: np.ndarray, weights: np.ndarray) -> float:
    total = weights.sum()
    mean_a, mean_b = (weights * a).sum() / total, (weights * b).sum() / total
    da, db = a - mean_a, b - mean_b
    var_a, var_b = (weights * da * da).sum(), (weights * db * db).sum()
    if var_a <= 0 or var_b <= 0:
        return float("nan")
    return float((weights * da * db).sum() / np.sqrt(var_a * var_b))


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values, kind="stable")
    v, cum = values[order], np.cumsum(weights[order])
    total = cum[-1]
    # The expanded sample's middle element(s), 1-based positions (total+1)/2 rounded.
    low = v[np.searchsorted(cum, np.floor((total + 1) / 2))]
    high = v[np.searchsorted(cum, np.ceil((total + 1) / 2))]
    return float((low + high) / 2)


def _top_decile_mean(score: np.ndarray, outcome: np.ndarray, weights: np.ndarray) -> float:
    total = weights.sum()
    count = max(np.ceil(0.1 * total), 1)
    # Ties at the cut: a stable sort on the negated score keeps the input order.
    order = np.argsort(-score, kind="stable")
    w = weights[order]
    before = np.cumsum(w) - w
    taken = np.clip(count - before, 0, w)
    return float((taken * outcome[order]).sum() / count)


def _statistics(score: np.ndarray, outcome: np.ndarray, weights: np.ndarray) -> tuple:
    """(groups, rank correlation, top-decile lift, median) of one snapshot's sample."""
    keep = weights > 0
    s, y, w = score[keep], outcome[keep], weights[keep]
    rho = _weighted_corr(_weighted_ranks(s, w), _weighted_ranks(y, w), w)
    median = _weighted_median(y, w)
    return w.sum(), rho, _top_decile_mean(s, y, w) - median, median


def snapshot_statistics(
    panel: pd.DataFrame, score: str, outcome: str, *, min_groups: int = 10
) -> pd.DataFrame:
    """Per snapshot: groups, rank correlation and top-decile lift of ``score`` on ``outcome``.

    Rows with a missing outcome are left out; snapshots with fewer than ``min_groups``
    groups left are dropped. ``panel`` must be sorted the same way on each call (ties of
    the score are broken by row order).
    """
    rows = []
    for snapshot, frame in panel.dropna(subset=[outcome]).groupby("snapshot_date", sort=True):
        if len(frame) < min_groups:
            continue
        count, rho, lift, median = _statistics(
            frame[score].to_numpy(float), frame[outcome].to_numpy(float), np.ones(len(frame))
        )
        rows.append(
            {
                "snapshot_date": snapshot,
                "count_groups": int(count),
                "rank_correlation": rho,
                "top_decile_lift": lift,
                "median_outcome": median,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "snapshot_date",
            "count_groups",
            "rank_correlation",
            "top_decile_lift",
            "median_outcome",
        ],
    )


def backtest(
    panel: pd.DataFrame,
    scores: tuple[str, ...],
    outcomes: tuple[str, ...] = OUTCOMES,
    *,
    n_boot: int = 2000,
    seed: int = 0,
    alpha: float = 0.05,
    min_groups: int = 10,
    block_snapshots: int = 4,
) -> pd.DataFrame:
    """Rank correlation and top-decile lift of each score on each outcome, with intervals.

    Parameters
    ----------
    panel : pandas.DataFrame
        :func:`read_panel`'s rows with a column per score.
    scores, outcomes : tuple of str
        Columns of ``panel``.
    n_boot : int
        Bootstrap resamples of the snapshots.
    seed : int
        Seed of the resampling (one draw per resample, shared by every score and
        outcome, so their intervals are comparable).
    alpha : float
        Two-sided level of the percentile intervals.
    min_groups : int
        See :func:`snapshot_statistics`.
    block_snapshots : int
        Length of the moving blocks of consecutive snapshots (4 weekly snapshots: the
        4-week horizons of neighbouring snapshots overlap, so their statistics are
        correlated; blocks keep that correlation in the resamples).

    Returns
    -------
    pandas.DataFrame
        One row per (score, outcome): ``count_snapshots``, ``count_rows``,
        ``rank_correlation`` (mean over snapshots) with ``_ci_low`` / ``_ci_high``,
        ``top_decile_lift`` (mean over snapshots) with its interval, and
        ``median_outcome`` (mean over snapshots of the median).
    """
    panel = panel.sort_values(["snapshot_date", "group_kind", "community_id"], ignore_index=True)
    count = panel["snapshot_date"].nunique()
    # Moving blocks of consecutive snapshots, concatenated and cut to the snapshot count:
    # one set of draws shared by every score and outcome.
    picks = _block_picks(count, n_boot, block_snapshots, seed)
    q = [100 * alpha / 2, 100 * (1 - alpha / 2)]
    out = []
    for score in scores:
        for outcome in outcomes:
            point = snapshot_statistics(panel, score, outcome, min_groups=min_groups)
            # Snapshots dropped by min_groups are missing from the mean of a resample too.
            by_snapshot = point.set_index("snapshot_date").reindex(
                sorted(panel["snapshot_date"].unique())
            )
            cis = {}
            for column in ("rank_correlation", "top_decile_lift"):
                values = by_snapshot[column].to_numpy(float)
                if n_boot and len(point):
                    with warnings.catch_warnings():
                        # A resample of only dropped snapshots has no mean (NaN, skipped).
                        warnings.simplefilter("ignore", RuntimeWarning)
                        means = np.nanmean(values[picks], axis=1)
                        cis[column] = np.nanpercentile(means, q)
                else:
                    cis[column] = [np.nan, np.nan]
            out.append(
                {
                    "score": score,
                    "outcome": outcome,
                    "count_snapshots": len(point),
                    "count_rows": int(point["count_groups"].sum()),
                    "rank_correlation": point["rank_correlation"].mean(),
                    "rank_correlation_ci_low": cis["rank_correlation"][0],
                    "rank_correlation_ci_high": cis["rank_correlation"][1],
                    "top_decile_lift": point["top_decile_lift"].mean(),
                    "top_decile_lift_ci_low": cis["top_decile_lift"][0],
                    "top_decile_lift_ci_high": cis["top_decile_lift"][1],
                    "median_outcome": point["median_outcome"].mean(),
                }
            )
    return pd.DataFrame(out)


def _block_picks(count: int, n_boot: int, block: int, seed: int) -> np.ndarray:
    """Snapshot positions of each moving-block resample (n_boot x count)."""
    block = max(min(block, count), 1)
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, max(count - block + 1, 1), (n_boot, int(np.ceil(count / block))))
    return (starts[:, :, None] + np.arange(block)).reshape(n_boot, -1)[:, :count]


def pooled_backtest(
    panel: pd.DataFrame,
    scores: tuple[str, ...],
    outcomes: tuple[str, ...] = OUTCOMES,
    *,
    n_boot: int = 2000,
    seed: int = 0,
    alpha: float = 0.05,
    min_groups: int = 3,
    block_snapshots: int = 4,
) -> pd.DataFrame:
    """:func:`backtest` for small data sets: every snapshot's rows pooled into one sample.

    A real community with a handful of groups per snapshot has no snapshot with enough
    groups for a rank correlation of its own. Here each row's score becomes its
    percentile rank within its snapshot, its outcome the difference to its snapshot's
    median, and the statistics are taken over all rows of the snapshots with at least
    ``min_groups`` groups: the rank correlation of the two, and the top-decile lift as
    the mean centred outcome of the rows in their snapshot's top decile by score
    (``ceil(10%)`` of its groups, at least one; ties by row order). The interval is the
    same moving-block bootstrap of snapshots (a snapshot drawn twice weighs twice).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`backtest` (``median_outcome``: median over rows).
    """
    panel = panel.sort_values(["snapshot_date", "group_kind", "community_id"], ignore_index=True)
    q = [100 * alpha / 2, 100 * (1 - alpha / 2)]
    out = []
    for score in scores:
        for outcome in outcomes:
            frame = panel.dropna(subset=[outcome])
            sizes = frame.groupby("snapshot_date")[score].transform("size")
            frame = frame[sizes >= min_groups]
            by = frame.groupby("snapshot_date", sort=True)
            percentile = by[score].rank(pct=True, method="average").to_numpy(float)
            centred = (frame[outcome] - by[outcome].transform("median")).to_numpy(float)
            place = by[score].rank(ascending=False, method="first").to_numpy(float)
            top = place <= np.maximum(np.ceil(0.1 * by[score].transform("size").to_numpy()), 1)
            snapshot = pd.factorize(frame["snapshot_date"], sort=True)[0]
            count = int(snapshot.max()) + 1 if len(frame) else 0

            def stats(
                weights: np.ndarray, percentile=percentile, centred=centred, top=top
            ) -> tuple[float, float]:
                keep = weights > 0
                w = weights[keep]
                rho = _weighted_corr(
                    _weighted_ranks(percentile[keep], w), _weighted_ranks(centred[keep], w), w
                )
                on_top = top[keep]
                lift = float((w[on_top] * centred[keep][on_top]).sum() / w[on_top].sum())
                return rho, lift

            row = {"score": score, "outcome": outcome, "count_snapshots": count}
            row["count_rows"] = len(frame)
            if count == 0:
                rho = lift = np.nan
                rho_ci = lift_ci = [np.nan, np.nan]
            else:
                rho, lift = stats(np.ones(len(frame)))
                picks = _block_picks(count, n_boot, block_snapshots, seed) if n_boot else None
                boot = [stats(np.bincount(pick, minlength=count)[snapshot].astype(float))
                        for pick in (picks if picks is not None else [])]  # fmt: skip
                boot = np.array(boot, dtype=float).reshape(-1, 2)
                with warnings.catch_warnings():
                    # A constant outcome has no rank correlation in any resample (NaN).
                    warnings.simplefilter("ignore", RuntimeWarning)
                    rho_ci = np.nanpercentile(boot[:, 0], q) if len(boot) else [np.nan] * 2
                    lift_ci = np.nanpercentile(boot[:, 1], q) if len(boot) else [np.nan] * 2
            row.update(
                {
                    "rank_correlation": rho,
                    "rank_correlation_ci_low": rho_ci[0],
                    "rank_correlation_ci_high": rho_ci[1],
                    "top_decile_lift": lift,
                    "top_decile_lift_ci_low": lift_ci[0],
                    "top_decile_lift_ci_high": lift_ci[1],
                    "median_outcome": float(np.median(frame[outcome])) if len(frame) else np.nan,
                }
            )
            out.append(row)
    return pd.DataFrame(out)
