"""Attribute each intervention: pick its donors, estimate its effect, scale it to the KPIs.

:func:`attribute_interventions` takes the intervention windows, the donor candidates
(``fct_intervention_donors``), the daily members' sums of the target and its eligible
candidates, and the global KPIs over each post-period, all computed in DuckDB; per
intervention it matches donors (:func:`select_donors`), runs the estimates of
:mod:`~orchestration.lib.attribution.estimates` on three outcomes per member-day
(activity events, the primary one; contents; active members, the DAU share) and turns
the contents and active-member effects into a contribution to the global KPIs: the
effect per member-day x the target's members per post day = relative effect x the
target's counterfactual KPI, i.e. relative effect x the group's share of the KPI x the
KPI (extra DAU and extra posts per day).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from orchestration.lib.attribution.estimates import (
    difference_in_differences,
    pre_trend,
    synthetic_control,
)

__all__ = ["OUTCOMES", "RESULT_COLUMNS", "attribute_interventions", "select_donors"]

#: Outcome -> the numerator column of the daily sums (the denominator is count_members).
OUTCOMES = {
    "activity": "count_activity_events",
    "contents": "count_contents",
    "active": "count_active_members",
}

RESULT_COLUMNS = [
    "intervention_id", "target_type", "target_id", "group_kind", "community_id",
    "intervention_type", "started_at", "ended_at", "snapshot_date", "pre_start_date",
    "pre_end_date", "post_start_date", "post_end_date", "status", "n_candidates",
    "n_eligible", "n_donors", "donor_ids", "target_pre_rate", "target_post_rate",
    "counterfactual_rate", "did_effect", "did_ci_low", "did_ci_high", "did_p_value",
    "did_placebo_p_value", "relative_effect", "relative_ci_low", "relative_ci_high",
    "synth_effect", "synth_relative_effect", "synth_pre_rmse", "pre_trend_difference",
    "pre_trend_p_value", "has_pre_trend", "avg_members_post", "share_of_dau",
    "share_of_posts", "contribution_dau", "contribution_dau_ci_low",
    "contribution_dau_ci_high", "contribution_posts_per_day", "contribution_posts_ci_low",
    "contribution_posts_ci_high",
]  # fmt: skip


def select_donors(target: pd.Series, candidates: pd.DataFrame, max_donors: int) -> pd.DataFrame:
    """The ``max_donors`` candidates closest to the target on pre-period trend and size.

    Parameters
    ----------
    target : pandas.Series
        The target's ``pre_slope`` (activity rate per day) and ``log_members`` (log of
        its mean members over the pre-period).
    candidates : pandas.DataFrame
        Eligible candidates with the same two figures and ``lookalike_rank``.
    max_donors : int
        How many to keep.

    Returns
    -------
    pandas.DataFrame
        The chosen rows with their ``match_distance``: the Euclidean distance of the two
        figures, each divided by its standard deviation over the candidates (ties by
        lookalike rank).
    """
    if candidates.empty:
        return candidates.assign(match_distance=pd.Series(dtype=float))
    distance = np.zeros(len(candidates))
    for column in ("pre_slope", "log_members"):
        values = candidates[column].to_numpy(float)
        spread = values.std() if len(values) > 1 and values.std() > 0 else 1.0
        distance += ((values - float(target[column])) / spread) ** 2
    chosen = candidates.assign(match_distance=np.sqrt(distance))
    return chosen.sort_values(["match_distance", "lookalike_rank"]).head(max_donors)


def _unit_arrays(panel: pd.DataFrame, days: pd.DatetimeIndex) -> tuple[list[str], dict]:
    # The units and, per column, a units x days array (0 where a unit has no row).
    codes, units = pd.factorize(panel["community_id"], sort=True)
    day_of = pd.Series(np.arange(len(days)), index=days)
    column = day_of.reindex(panel["activity_date"].to_numpy()).to_numpy()
    inside = ~np.isnan(column)
    rows, cols = codes[inside], column[inside].astype(int)
    arrays = {}
    for name in ("count_members", *OUTCOMES.values()):
        array = np.zeros((len(units), len(days)))
        np.add.at(array, (rows, cols), panel[name].to_numpy(float)[inside])
        arrays[name] = array
    return list(units), arrays


def attribute_interventions(
    windows: pd.DataFrame,
    candidates: pd.DataFrame,
    panel: pd.DataFrame,
    kpis: pd.DataFrame,
    *,
    alpha: float = 0.05,
    max_donors: int = 10,
    min_donors: int = 3,
    pre_trend_alpha: float = 0.05,
) -> pd.DataFrame:
    """One attribution row per intervention.

    Parameters
    ----------
    windows : pandas.DataFrame
        ``int_intervention_windows_dated``: one row per intervention with its periods.
    candidates : pandas.DataFrame
        ``fct_intervention_donors``: ``intervention_id, community_id, lookalike_rank,
        is_eligible``.
    panel : pandas.DataFrame
        Daily sums ``intervention_id, community_id, activity_date, count_members`` and
        the :data:`OUTCOMES` columns for each intervention's target and eligible
        candidates over its pre- and post-period.
    kpis : pandas.DataFrame
        ``intervention_id, avg_dau, avg_contents``: the global KPIs averaged over each
        post-period (``fct_kpi_daily``).
    alpha : float, default 0.05
        Two-sided level of the intervals.
    max_donors, min_donors : int
        Donors kept by the match; fewer eligible than ``min_donors`` gives a row with
        status ``too_few_donors`` and no estimate.
    pre_trend_alpha : float, default 0.05
        ``has_pre_trend`` when the pre-trend p-value is below it.

    Returns
    -------
    pandas.DataFrame
        :data:`RESULT_COLUMNS`; ``status`` is ``estimated``, ``no_snapshot_before_start``,
        ``no_pre_period``, ``no_post_period``, ``target_without_members`` or
        ``too_few_donors``.
    """
    rows = []
    panel = panel.assign(activity_date=pd.to_datetime(panel["activity_date"]))
    kpis = kpis.set_index("intervention_id") if len(kpis) else kpis
    for window in windows.sort_values("intervention_id").itertuples(index=False):
        row = {c: getattr(window, c, None) for c in RESULT_COLUMNS if hasattr(window, c)}
        mine = candidates[candidates["intervention_id"] == window.intervention_id]
        row.update(n_candidates=len(mine), n_eligible=int(mine["is_eligible"].sum()), n_donors=0)
        row["status"] = _estimate(
            row, window, mine[mine["is_eligible"]], panel, kpis, alpha, max_donors,
            min_donors, pre_trend_alpha,
        )  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=RESULT_COLUMNS)


def _estimate(row, window, eligible, panel, kpis, alpha, max_donors, min_donors, trend_alpha):
    # Fills row with the estimates; returns the status.
    if pd.isna(window.snapshot_date):
        return "no_snapshot_before_start"
    pre_days = pd.date_range(window.pre_start_date, window.pre_end_date, freq="D")
    post_days = pd.date_range(window.post_start_date, window.post_end_date, freq="D")
    if len(pre_days) < 3:
        return "no_pre_period"
    if len(post_days) < 1:
        return "no_post_period"
    mine = panel[panel["intervention_id"] == window.intervention_id]
    units, arrays = _unit_arrays(mine, pre_days.append(post_days))
    if window.community_id not in units:
        return "target_without_members"
    n_pre = len(pre_days)
    members = arrays["count_members"]
    pre_md, post_md = members[:, :n_pre].sum(axis=1), members[:, n_pre:].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        daily = {
            name: np.where(members > 0, arrays[column] / members, np.nan)
            for name, column in OUTCOMES.items()
        }
        period = {
            name: (
                arrays[column][:, :n_pre].sum(axis=1) / pre_md,
                arrays[column][:, n_pre:].sum(axis=1) / post_md,
            )
            for name, column in OUTCOMES.items()
        }
    index = {unit: i for i, unit in enumerate(units)}
    target = index[window.community_id]
    pre_x = np.arange(n_pre, dtype=float)

    def pre_slope(i: int) -> float:
        rates = daily["activity"][i, :n_pre]
        ok = np.isfinite(rates)
        if ok.sum() < 3:
            return np.nan
        x = pre_x[ok] - pre_x[ok].mean()
        return float(x @ (rates[ok] - rates[ok].mean()) / (x @ x))

    usable = (
        (pre_md > 0) & (post_md > 0) & (period["activity"][0] > 0) & (period["activity"][1] > 0)
    )
    if not usable[target]:
        return "target_without_members"
    # A numpy mask: an empty object Series would select columns and drop them all.
    in_pool = eligible["community_id"].map(index).map(lambda i: i == i and usable[int(i)])
    pool = eligible[in_pool.to_numpy(dtype=bool)]
    pool = pool.assign(
        unit=pool["community_id"].map(index).astype(int),
    )
    pool = pool.assign(
        pre_slope=[pre_slope(i) for i in pool["unit"]],
        log_members=np.log(pre_md[pool["unit"].to_numpy()] / n_pre),
    )
    pool = pool[np.isfinite(pool["pre_slope"])]
    target_figures = pd.Series(
        {"pre_slope": pre_slope(target), "log_members": float(np.log(pre_md[target] / n_pre))}
    )
    if len(pool) < min_donors or not np.isfinite(target_figures["pre_slope"]):
        row["n_donors"] = len(pool)
        return "too_few_donors"
    chosen = select_donors(target_figures, pool, max_donors)
    donors = chosen["unit"].to_numpy()
    row["n_donors"], row["donor_ids"] = len(donors), ",".join(chosen["community_id"])

    did = {}
    for name in OUTCOMES:
        before, after = period[name]
        try:
            did[name] = difference_in_differences(
                before[target], after[target], before[donors], after[donors], alpha=alpha
            )
        except ValueError:
            did[name] = None  # a rate of 0 (no content at all, say): no estimate
    primary = did["activity"]
    row.update(
        target_pre_rate=period["activity"][0][target],
        target_post_rate=period["activity"][1][target],
        counterfactual_rate=primary.counterfactual, did_effect=primary.effect,
        did_ci_low=primary.ci_low, did_ci_high=primary.ci_high, did_p_value=primary.p_value,
        did_placebo_p_value=primary.placebo_p_value, relative_effect=primary.relative_effect,
        relative_ci_low=primary.relative_ci_low, relative_ci_high=primary.relative_ci_high,
    )  # fmt: skip
    # Days where a unit had no member have no rate: the twin and the slopes use the
    # days every chosen unit has.
    rates = daily["activity"][np.concatenate([[target], donors])]
    pre_ok = np.isfinite(rates[:, :n_pre]).all(axis=0)
    post_ok = np.isfinite(rates[:, n_pre:]).all(axis=0)
    if pre_ok.sum() >= 3 and post_ok.any():
        pre_rates, post_rates = rates[:, :n_pre][:, pre_ok], rates[:, n_pre:][:, post_ok]
        synth = synthetic_control(pre_rates[0], post_rates[0], pre_rates[1:], post_rates[1:])
        trend = pre_trend(pre_x[pre_ok], pre_rates[0], pre_rates[1:], alpha=trend_alpha)
        synthetic_post = float(np.mean(post_rates[0])) - synth.effect
        row.update(
            synth_effect=synth.effect,
            synth_relative_effect=synth.effect / synthetic_post if synthetic_post > 0 else np.nan,
            synth_pre_rmse=synth.pre_rmse,
            pre_trend_difference=trend.slope_difference,
            pre_trend_p_value=trend.p_value,
            has_pre_trend=trend.has_pre_trend,
        )
    avg_members = float(post_md[target] / (members.shape[1] - n_pre))
    row["avg_members_post"] = avg_members
    for name, prefix, column in (
        ("active", "contribution_dau", "contribution_dau"),
        ("contents", "contribution_posts", "contribution_posts_per_day"),
    ):
        if did[name] is not None:
            row[column] = did[name].effect * avg_members
            row[f"{prefix}_ci_low"] = did[name].ci_low * avg_members
            row[f"{prefix}_ci_high"] = did[name].ci_high * avg_members
    if window.intervention_id in kpis.index:
        kpi = kpis.loc[window.intervention_id]
        n_post = members.shape[1] - n_pre
        dau = arrays["count_active_members"][target, n_pre:].sum() / n_post
        contents = arrays["count_contents"][target, n_pre:].sum() / n_post
        row["share_of_dau"] = dau / kpi["avg_dau"] if kpi["avg_dau"] else np.nan
        row["share_of_posts"] = contents / kpi["avg_contents"] if kpi["avg_contents"] else np.nan
    return "estimated"
