"""Design of a community-randomized experiment: strata, a seeded assignment, the cut.

Communities are put in strata by size and health (quantile bins of each), and inside
every stratum shuffled with a fixed seed and dealt to the arms in turn, so each
stratum's arms differ by at most one community, and so do the arms overall (the deal
continues from one stratum to the next). The design reports the share of interaction
weight between members of different arms (the ties through which a treatment can leak
into control), and writes the assignment in the raw ``experiment_assignments`` format
(docs/raw_contract.md) to a file outside the raw folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "assign_stratified",
    "cut_weight_share",
    "design_from_tables",
    "design_strata",
    "refuse_raw_path",
    "write_assignments",
]

#: The raw contract's columns of ``experiment_assignments`` (orchestration.lib.raw.contract).
ASSIGNMENT_COLUMNS = ("experiment_id", "unit_id", "variant", "assigned_at")


def _quantile_bins(values: pd.Series, count: int) -> pd.Series:
    # Bins by rank, so ties and skewed sizes still give `count` bins of equal counts.
    if count <= 1 or len(values) == 0:
        return pd.Series(0, index=values.index)
    ranks = values.rank(method="first")
    return np.minimum(((ranks - 1) * count // len(values)).astype(int), count - 1)


def design_strata(units: pd.DataFrame, *, size_bins: int = 3, health_bins: int = 3) -> pd.Series:
    """Stratum of each unit: quantile bin of size x quantile bin of health.

    Parameters
    ----------
    units : pandas.DataFrame
        ``unit_id, count_members, health_score`` (a missing health score is its own
        bin, ``h?``).
    size_bins, health_bins : int
        Number of quantile bins of each (1 disables that dimension).

    Returns
    -------
    pandas.Series
        Labels like ``s0-h2`` (size bin 0 = smallest), aligned with ``units``.
    """
    size = _quantile_bins(units["count_members"].astype(float), size_bins)
    has_health = units["health_score"].notna()
    health = pd.Series("?", index=units.index, dtype=object)
    health[has_health] = _quantile_bins(units.loc[has_health, "health_score"], health_bins).astype(
        str
    )
    return "s" + size.astype(str) + "-h" + health.astype(str)


def assign_stratified(
    unit_ids: pd.Series,
    strata: pd.Series,
    *,
    arms: tuple[str, ...] = ("control", "treatment"),
    seed: int = 0,
) -> pd.Series:
    """Assign units to arms, balanced within each stratum and overall.

    Units are sorted (so the input order does not matter), shuffled within their
    stratum with ``numpy.random.default_rng(seed)``, and dealt to the arms in turn,
    stratum after stratum (strata in sorted order), the deal starting at a random arm.

    Parameters
    ----------
    unit_ids, strata : pandas.Series
        Aligned: each unit's id (unique) and stratum.
    arms : tuple of str
        The variants, the first being control.
    seed : int
        Seed; the same inputs and seed give the same assignment.

    Returns
    -------
    pandas.Series
        The arm of each unit, indexed by unit id, in unit-id order.
    """
    if unit_ids.duplicated().any():
        raise ValueError("unit ids must be unique")
    if len(arms) < 2:
        raise ValueError("need at least two arms")
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"unit_id": unit_ids.to_numpy(), "stratum": strata.to_numpy()})
    frame = frame.sort_values(["stratum", "unit_id"], kind="stable")
    turn = int(rng.integers(len(arms)))
    assigned = {}
    for _, stratum in frame.groupby("stratum", sort=True):
        for unit in rng.permutation(stratum["unit_id"].to_numpy()):
            assigned[unit] = arms[turn % len(arms)]
            turn += 1
    return pd.Series(assigned, name="variant").sort_index()


def cut_weight_share(edges: pd.DataFrame, arm_of_user: pd.Series) -> tuple[float, float]:
    """Share of interaction weight between users of different arms.

    Parameters
    ----------
    edges : pandas.DataFrame
        ``user_id_a, user_id_b, weight`` (each pair once).
    arm_of_user : pandas.Series
        Arm of each assigned user, indexed by user id.

    Returns
    -------
    (float, float)
        The cut share (weight between arms / weight between assigned users; NaN when
        they share no weight) and that total weight. Ties to users outside the design
        are left out of both.
    """
    arm_a = edges["user_id_a"].map(arm_of_user)
    arm_b = edges["user_id_b"].map(arm_of_user)
    inside = arm_a.notna() & arm_b.notna()
    total = float(edges.loc[inside, "weight"].sum())
    cut = float(edges.loc[inside & (arm_a != arm_b), "weight"].sum())
    return (cut / total if total > 0 else float("nan")), total


def refuse_raw_path(out: Path, raw_dir: Path) -> None:
    """Raise ``ValueError`` naming the raw folder when ``out`` lies inside it.

    The raw folder is the product's input: a designed assignment written there would
    be loaded as if the product had run the experiment.
    """
    out_resolved, raw_resolved = Path(out).resolve(), Path(raw_dir).resolve()
    if out_resolved == raw_resolved or out_resolved.is_relative_to(raw_resolved):
        raise ValueError(
            f"refusing to write {out_resolved}: it is inside the raw folder {raw_resolved} "
            "(SMALLGROUPS_RAW_DIR, the product's input); pass an --out path elsewhere"
        )


def write_assignments(assignments: pd.DataFrame, out: Path) -> Path:
    """Write ``assignments`` (:data:`ASSIGNMENT_COLUMNS`) as Parquet, or CSV for ``.csv``.

    ``assigned_at`` is a UTC timestamp (in a CSV with its ``+00:00`` offset).
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame = assignments[list(ASSIGNMENT_COLUMNS)].copy()
    if out.suffix.lower() == ".csv":
        frame["assigned_at"] = pd.to_datetime(frame["assigned_at"], utc=True).map(
            lambda t: t.isoformat()
        )
        frame.to_csv(out, index=False)
    else:
        frame.to_parquet(out, index=False)
    return out


def design_from_tables(
    members: pd.DataFrame,
    health: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    experiment_id: str,
    assigned_at: pd.Timestamp,
    arms: tuple[str, ...] = ("control", "treatment"),
    size_bins: int = 3,
    health_bins: int = 3,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict]:
    """The whole design on plain tables (no warehouse).

    Parameters
    ----------
    members : pandas.DataFrame
        ``community_id, user_id`` of the snapshot (members only).
    health : pandas.DataFrame
        ``community_id, health_score`` (communities without a row have no score).
    edges : pandas.DataFrame
        ``user_id_a, user_id_b, weight`` of the interaction graph.
    experiment_id, assigned_at, arms, size_bins, health_bins, seed
        See :func:`assign_stratified` and :func:`design_strata`.

    Returns
    -------
    (pandas.DataFrame, dict)
        The assignments (:data:`ASSIGNMENT_COLUMNS`, one row per community) and a
        summary: ``count_units``, ``units_per_arm``, ``members_per_arm``,
        ``count_strata``, ``max_stratum_imbalance``, ``cut_weight_share``,
        ``weight_between_assigned``.
    """
    sizes = members.groupby("community_id").size().rename("count_members").reset_index()
    units = sizes.merge(health, on="community_id", how="left").rename(
        columns={"community_id": "unit_id"}
    )
    units["stratum"] = design_strata(units, size_bins=size_bins, health_bins=health_bins)
    arm = assign_stratified(units["unit_id"], units["stratum"], arms=arms, seed=seed)
    units["variant"] = units["unit_id"].map(arm)
    arm_of_user = members.set_index("user_id")["community_id"].map(arm)
    share, total = cut_weight_share(edges, arm_of_user)
    per_stratum = units.groupby(["stratum", "variant"]).size().unstack(fill_value=0)
    per_stratum = per_stratum.reindex(columns=list(arms), fill_value=0)
    assignments = pd.DataFrame(
        {
            "experiment_id": experiment_id,
            "unit_id": units["unit_id"],
            "variant": units["variant"],
            "assigned_at": pd.Timestamp(assigned_at),
        }
    ).sort_values("unit_id", ignore_index=True)
    summary = {
        "count_units": len(units),
        "units_per_arm": {a: int((units["variant"] == a).sum()) for a in arms},
        "members_per_arm": {
            a: int(units.loc[units["variant"] == a, "count_members"].sum()) for a in arms
        },
        "count_strata": int(units["stratum"].nunique()),
        "max_stratum_imbalance": int((per_stratum.max(axis=1) - per_stratum.min(axis=1)).max())
        if len(units)
        else 0,
        "cut_weight_share": share,
        "weight_between_assigned": total,
    }
    return assignments, summary
