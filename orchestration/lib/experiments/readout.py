"""An experiment readout from per-arm sufficient statistics (pure pandas, no warehouse).

:func:`analyse_experiments` turns one row per (experiment, metric, variant) of sums,
which the warehouse computes in SQL, into the rows of ``fct_experiment_results`` (one
per experiment, metric, variant and adjustment, control included), one health row per
experiment (units per variant, sample-ratio mismatch) and the problems found on the way
(an unknown primary metric, an invalid traffic split). Every metric is a ratio over
units: a user metric has denominator 1 per unit (the ratio test is then Welch's test on
the mean), a cluster metric the cluster's members or member-days. CUPED rows come out
for the metrics with a pre-period value and a denominator of 1 per unit.
"""

from __future__ import annotations

import math

import pandas as pd

from orchestration.lib.experiments.stats import (
    CupedStats,
    RatioStats,
    adjust_p_values,
    cuped_test,
    parse_traffic_split,
    ratio_test,
    srm_p_value,
)

__all__ = ["RESULT_COLUMNS", "SRM_ALPHA", "STAT_COLUMNS", "analyse_experiments"]

#: Sample-ratio mismatch is flagged below this p-value (the issue's threshold: a split
#: this unlikely under the intended one means assignment or logging is broken).
SRM_ALPHA = 0.001

#: Columns of the per-arm sufficient statistics the readout needs.
STAT_COLUMNS = (
    "experiment_id", "metric_name", "variant", "units", "m_sum", "m_sum_squares",
    "d_sum", "d_sum_squares", "m_d_sum_products", "pre_sum", "pre_sum_squares",
    "post_pre_sum_products",
)  # fmt: skip

#: Columns of fct_experiment_results, in order (the mart's contract).
RESULT_COLUMNS = (
    "experiment_id", "metric_name", "is_primary", "variant", "analysis_unit", "adjustment",
    "units", "mean_control", "mean_variant", "lift_absolute", "lift_relative",
    "lift_relative_ci_low", "lift_relative_ci_high", "p_value", "p_value_adjusted",
    "variance_reduction",
)  # fmt: skip


def _ratio(row) -> RatioStats:
    return RatioStats(int(row.units), row.m_sum, row.m_sum_squares, row.d_sum,
                      row.d_sum_squares, row.m_d_sum_products)  # fmt: skip


def _cuped(row) -> CupedStats:
    return CupedStats(int(row.units), row.m_sum, row.m_sum_squares, row.pre_sum,
                      row.pre_sum_squares, row.post_pre_sum_products)  # fmt: skip


def _is_per_unit(row) -> bool:
    """Denominator 1 for every unit (a user metric): CUPED applies."""
    return row.d_sum == row.units and row.d_sum_squares == row.units


def analyse_experiments(
    experiments: pd.DataFrame,
    stats: pd.DataFrame,
    *,
    control: str = "control",
    alpha: float = 0.05,
    adjustment_method: str = "holm",
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Results, health and problems of every experiment.

    Parameters
    ----------
    experiments : pandas.DataFrame
        ``experiment_id, unit_type, primary_metric, traffic_split`` (split may be null).
    stats : pandas.DataFrame
        :data:`STAT_COLUMNS`, one row per (experiment, metric, variant); ``pre_*`` null
        when the metric has no pre-period value.
    control : str
        Name of the control variant.
    alpha : float
        Two-sided level of the intervals.
    adjustment_method : {'holm', 'bh'}
        Multiple-testing adjustment across an experiment's metrics and variants.

    Returns
    -------
    results, health, problems : pandas.DataFrame
        ``results`` has :data:`RESULT_COLUMNS`; ``health`` one row per experiment
        (``experiment_id, units_per_variant, srm_p_value, has_srm``); ``problems`` rows
        ``experiment_id, problem, unit_id, reason, raw_values``.
    """
    rows, health, problems = [], [], []
    for exp in experiments.itertuples(index=False):
        arms = stats[stats["experiment_id"] == exp.experiment_id]
        unit = exp.unit_type
        if arms.empty:
            reason = "no unit with a measured metric (cluster metrics are not computed yet)"
            problems.append((exp.experiment_id, "no_units", None, reason, None))
            continue
        if exp.primary_metric not in set(arms["metric_name"]):
            problems.append((exp.experiment_id, "unknown_metric", None,
                             f"primary_metric {exp.primary_metric!r} is not in the catalog "
                             f"for unit type {unit!r}", str(exp.primary_metric)))  # fmt: skip
        counts = arms.groupby("variant")["units"].max().sort_index()
        weights = None
        split = getattr(exp, "traffic_split", None)
        try:
            weights = parse_traffic_split(
                None if split is None or split != split else split, len(counts)
            )
        except ValueError as error:
            problems.append((exp.experiment_id, "invalid_traffic_split", None, str(error),
                             str(split)))  # fmt: skip
            weights = None
        p_srm = srm_p_value([int(c) for c in counts], weights)
        health.append((exp.experiment_id, ", ".join(f"{v}={int(c)}" for v, c in counts.items()),
                       p_srm, p_srm < SRM_ALPHA))  # fmt: skip
        if control not in counts.index:
            problems.append((exp.experiment_id, "missing_control", None,
                             f"no unit in the control variant {control!r}", None))  # fmt: skip
            continue
        start = len(rows)
        for metric, metric_arms in arms.groupby("metric_name", sort=True):
            by_variant = {r.variant: r for r in metric_arms.itertuples(index=False)}
            base = by_variant.get(control)
            if base is None:
                continue
            is_primary = metric == exp.primary_metric
            mean_control = _ratio(base).mean
            rows.append([exp.experiment_id, metric, is_primary, control, unit, "none",
                         int(base.units), mean_control, mean_control] + [math.nan] * 7)  # fmt: skip
            for variant, row in sorted(by_variant.items()):
                if variant == control:
                    continue
                tests = [("none", ratio_test(_ratio(base), _ratio(row), alpha=alpha))]
                has_pre = not (pd.isna(row.pre_sum) or pd.isna(base.pre_sum))
                if has_pre and _is_per_unit(row) and _is_per_unit(base):
                    tests.append(("cuped", cuped_test(_cuped(base), _cuped(row), alpha=alpha)))
                for adjustment, r in tests:
                    rows.append([
                        exp.experiment_id, metric, is_primary, variant, unit, adjustment,
                        int(row.units), r.mean_control, r.mean_variant, r.lift_absolute,
                        r.lift_relative, r.lift_relative_ci_low, r.lift_relative_ci_high,
                        r.p_value, math.nan,
                        math.nan if r.variance_reduction is None else r.variance_reduction,
                    ])  # fmt: skip
        # Holm/BH within each adjustment family of the experiment (its metrics x variants).
        block = rows[start:]
        for adjustment in ("none", "cuped"):
            idx = [i for i, r in enumerate(block) if r[5] == adjustment and r[3] != control]
            adjusted = adjust_p_values([block[i][13] for i in idx], adjustment_method)
            for i, p in zip(idx, adjusted, strict=True):
                block[i][14] = p
    results = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    health_frame = pd.DataFrame(
        health, columns=["experiment_id", "units_per_variant", "srm_p_value", "has_srm"]
    )
    problem_frame = pd.DataFrame(
        problems, columns=["experiment_id", "problem", "unit_id", "reason", "raw_values"]
    )
    return results, health_frame, problem_frame
