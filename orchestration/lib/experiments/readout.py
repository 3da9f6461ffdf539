"""An experiment readout from per-arm sufficient statistics (pure pandas, no warehouse).

:func:`analyse_experiments` turns one row per (experiment, metric, variant) of sums,
which the warehouse computes in SQL, into the rows of ``fct_experiment_results`` (one
per experiment, metric, variant and adjustment, control included), one health row per
experiment (units per variant, sample-ratio mismatch) and the problems found on the way
(an unknown primary metric, an invalid traffic split). Every metric is a ratio over
units: a user metric has denominator 1 per unit (the ratio test is then Welch's test on
the mean), a cluster metric (group or community unit: the cluster is the unit) the
cluster's members or member-days. CUPED rows come out for the metrics with a
pre-period value: the unit's own value for a user metric, the cluster's pre-period
ratio for a cluster metric. A cluster experiment's health row also tests the members
per arm against the intended split (member-level SRM).
"""

from __future__ import annotations

import math

import pandas as pd

from orchestration.lib.experiments.stats import (
    CupedStats,
    RatioCupedStats,
    RatioStats,
    adjust_p_values,
    cuped_test,
    member_srm_p_value,
    parse_traffic_split,
    ratio_cuped_test,
    ratio_test,
    srm_p_value,
)

__all__ = [
    "CLUSTER_UNITS",
    "HEALTH_COLUMNS",
    "RESULT_COLUMNS",
    "SRM_ALPHA",
    "STAT_COLUMNS",
    "analyse_experiments",
]

#: Sample-ratio mismatch is flagged below this p-value (the issue's threshold: a split
#: this unlikely under the intended one means assignment or logging is broken).
SRM_ALPHA = 0.001

#: Unit types analysed as clusters (a ratio over clusters, member-level SRM).
CLUSTER_UNITS = ("group", "community")

#: Columns of the per-arm sufficient statistics the readout needs. ``members`` (and
#: ``members_sum_squares``, the sum of the clusters' squared member counts) and the
#: pre-period denominator's sums (``pre_d_*`` and the products with it) are optional:
#: missing, members are the units and the pre-period denominator is 1 per unit.
STAT_COLUMNS = (
    "experiment_id", "metric_name", "variant", "units", "m_sum", "m_sum_squares",
    "d_sum", "d_sum_squares", "m_d_sum_products", "pre_sum", "pre_sum_squares",
    "post_pre_sum_products", "members", "members_sum_squares", "pre_d_sum", "pre_d_sum_squares",
    "pre_m_pre_d_sum_products", "m_pre_d_sum_products", "d_pre_sum_products",
    "d_pre_d_sum_products",
)  # fmt: skip

#: Columns of the readout's health table (one row per experiment with units).
HEALTH_COLUMNS = (
    "experiment_id", "units_per_variant", "srm_p_value", "has_srm", "members_per_variant",
    "member_srm_p_value", "has_member_srm",
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


def _ratio_cuped(row) -> RatioCupedStats:
    return RatioCupedStats(
        int(row.units), row.m_sum, row.m_sum_squares, row.d_sum, row.d_sum_squares,
        row.m_d_sum_products, row.pre_sum, row.pre_sum_squares, row.pre_d_sum,
        row.pre_d_sum_squares, row.pre_m_pre_d_sum_products, row.post_pre_sum_products,
        row.m_pre_d_sum_products, row.d_pre_sum_products, row.d_pre_d_sum_products,
    )  # fmt: skip


def _with_optional_columns(stats: pd.DataFrame) -> pd.DataFrame:
    """Fill the optional columns of :data:`STAT_COLUMNS` (per-unit denominators of 1)."""
    stats = stats.copy()
    defaults = {
        "members": "units", "members_sum_squares": "units", "pre_d_sum": "units",
        "pre_d_sum_squares": "units",
        "pre_m_pre_d_sum_products": "pre_sum", "m_pre_d_sum_products": "m_sum",
        "d_pre_sum_products": "pre_sum", "d_pre_d_sum_products": "units",
    }  # fmt: skip
    for column, source in defaults.items():
        if column not in stats:
            stats[column] = stats[source]
    return stats


def _split_weights(experiment_id, n_variants: int, split, problems: list) -> list | None:
    """Intended shares; an invalid split is a problem (and the equal split is tested)."""
    try:
        return parse_traffic_split(None if split is None or split != split else split, n_variants)
    except ValueError as error:
        problems.append((experiment_id, "invalid_traffic_split", None, str(error), str(split)))
        return None


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
        ``results`` has :data:`RESULT_COLUMNS`; ``health`` one row per experiment with
        units (:data:`HEALTH_COLUMNS`: units per variant and their SRM test; for a
        cluster experiment also the members per variant and their SRM test, else null);
        ``problems`` rows ``experiment_id, problem, unit_id, reason, raw_values``.
    """
    rows, health, problems = [], [], []
    stats = _with_optional_columns(stats)
    for exp in experiments.itertuples(index=False):
        arms = stats[stats["experiment_id"] == exp.experiment_id]
        unit = exp.unit_type
        is_cluster = unit in CLUSTER_UNITS
        if arms.empty:
            reason = "no unit with a measured metric (no assigned unit exists, or none has members)"
            problems.append((exp.experiment_id, "no_units", None, reason, None))
            continue
        if exp.primary_metric not in set(arms["metric_name"]):
            problems.append((exp.experiment_id, "unknown_metric", None,
                             f"primary_metric {exp.primary_metric!r} is not in the catalog "
                             f"for unit type {unit!r}", str(exp.primary_metric)))  # fmt: skip
        # A unit missing from one metric (a zero denominator) still counts in the split.
        counts = arms.groupby("variant")["units"].max().sort_index()
        split = getattr(exp, "traffic_split", None)
        weights = _split_weights(exp.experiment_id, len(counts), split, problems)
        p_srm = srm_p_value([int(c) for c in counts], weights)
        members_text, p_member, has_member_srm = None, math.nan, None
        if is_cluster:
            by_variant = arms.groupby("variant")
            members = by_variant["members"].max().sort_index()
            size_squares = float(by_variant["members_sum_squares"].max().sum())
            p_member = member_srm_p_value(
                [int(c) for c in counts], [int(c) for c in members], size_squares
            )
            members_text = ", ".join(f"{v}={int(c)}" for v, c in members.items())
            has_member_srm = p_member < SRM_ALPHA
        health.append((exp.experiment_id, ", ".join(f"{v}={int(c)}" for v, c in counts.items()),
                       p_srm, p_srm < SRM_ALPHA, members_text, p_member,
                       has_member_srm))  # fmt: skip
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
                if has_pre and is_cluster and not pd.isna(row.pre_d_sum + base.pre_d_sum):
                    cuped = ratio_cuped_test(_ratio_cuped(base), _ratio_cuped(row), alpha=alpha)
                    tests.append(("cuped", cuped))
                elif has_pre and _is_per_unit(row) and _is_per_unit(base):
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
    health_frame = pd.DataFrame(health, columns=list(HEALTH_COLUMNS))
    problem_frame = pd.DataFrame(
        problems, columns=["experiment_id", "problem", "unit_id", "reason", "raw_values"]
    )
    return results, health_frame, problem_frame
