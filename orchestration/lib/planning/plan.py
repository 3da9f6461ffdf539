"""``smallgroups plan``: which groups to roll an intervention type out to, whom to contact,
what to expect, and the assignment file of the experiment that verifies it.

:func:`build_plan` reads ``rpt_pilot_replication`` (the lookalikes of every significant
pilot of the type, ranked by forecast effect or similarity), keeps each candidate group
once (its best row over the type's pilots), restricted to one kind (the verifying
experiment randomizes one kind of unit), and takes the first ``2 x budget``: the first
``budget`` are the plan, and all of them are randomized half to the roll-out, half to
control by the experiment design (:func:`design_verifying_experiment`: for detected
communities ``design_community_experiment`` of ``smallgroups experiment design``, on
these communities only; for declared groups its ``design_from_tables`` on their members,
with the group ids the raw contract's group experiments use). The key members to contact
come from ``rpt_high_potential_key_members`` (only groups the potential report ranks
have them).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from orchestration.lib.experiments import design, store
from orchestration.lib.experiments.refresh import DesignSettings, design_community_experiment
from orchestration.lib.planning.replication import mde_at

__all__ = ["build_plan", "design_verifying_experiment", "format_plan"]


def build_plan(
    con: duckdb.DuckDBPyConnection,
    intervention_type: str,
    budget: int,
    *,
    group_kind: str | None = None,
) -> dict:
    """The plan for ``budget`` groups (pure reads of the warehouse).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A built warehouse (read only is enough).
    intervention_type : str
        ``resource_boost``, ``pilot``, ``activity`` or ``cross_group_connection``.
    budget : int
        Groups to roll out to.
    group_kind : str, optional
        ``detected`` or ``declared``; default the kind most of the first candidates have.

    Returns
    -------
    dict
        ``intervention_type``, ``group_kind``, ``pilots`` (ids), ``candidates`` (the
        first ``2 x budget``, with ``is_planned`` for the first ``budget``),
        ``key_members`` (of the planned groups), ``expected`` (sums over the planned
        groups of the DAU and posts-per-day contributions, and the DAU the verifying
        experiment's random half is expected to add), ``ranking_basis`` (rows per
        basis among the planned) and ``design_power`` (the verifying experiment's
        detectable relative effect at its units per arm, :func:`.replication.mde_at`,
        beside the first planned row's pilot's relative effect).

    Raises
    ------
    ValueError
        No significant pilot of the type, a budget below 1, or no candidate.
    """
    if budget < 1:
        raise ValueError(f"--budget must be at least 1 (got {budget})")
    rows = con.execute(
        "select * from main.rpt_pilot_replication where intervention_type = ?"
        " order by intervention_id, replication_rank",
        [intervention_type],
    ).df()
    if rows.empty:
        known = [r[0] for r in con.execute(
            "select distinct intervention_type from main.rpt_pilot_replication order by 1"
        ).fetchall()]  # fmt: skip
        raise ValueError(
            f"no significant pilot of type {intervention_type!r} to replicate "
            f"(types with one: {', '.join(known) or 'none'})"
        )
    # Each group once: its best row (forecast before similarity, then effect, similarity).
    rows["_basis_order"] = (rows["ranking_basis"] != "forecast").astype(int)
    rows["_effect"] = np.where(rows["ranking_basis"] == "forecast", -rows["predicted_effect"], 0)
    rows = rows.sort_values(
        ["_basis_order", "_effect", "similarity", "group_kind", "community_id", "intervention_id"],
        ascending=[True, True, False, True, True, True],
    ).drop_duplicates(["group_kind", "community_id"])
    if group_kind is None:
        first = rows.head(2 * budget)["group_kind"]
        group_kind = first.value_counts().sort_index().idxmax()
    rows = rows[rows["group_kind"] == group_kind].head(2 * budget).reset_index(drop=True)
    if rows.empty:
        raise ValueError(f"no {group_kind} candidate for {intervention_type}")
    rows["plan_rank"] = np.arange(1, len(rows) + 1)
    rows["is_planned"] = rows["plan_rank"] <= budget
    planned = rows[rows["is_planned"]]
    con.register("_planned", planned[["group_kind", "community_id"]])
    try:
        key_members = con.execute(
            "select k.group_kind, k.community_id, k.contact_rank, k.user_id, k.member_role,"
            " k.reason from main.rpt_high_potential_key_members as k"
            " semi join _planned as p on p.group_kind = k.group_kind"
            " and p.community_id = k.community_id order by k.community_id, k.contact_rank"
        ).df()
    finally:
        con.unregister("_planned")
    # The experiment treats a random half of the candidates: its expected contribution
    # is the candidates' mean times the treated count.
    treated = len(rows) // 2
    expected = {
        "dau": float(planned["expected_dau_contribution"].sum()),
        "posts_per_day": float(planned["expected_posts_per_day_contribution"].sum()),
        "dau_under_experiment": float(rows["expected_dau_contribution"].mean() * treated),
        "treated_under_experiment": treated,
    }
    power = con.execute(
        "select unit_type, metric_name, alpha, power, count_units_control, count_units_variant,"
        " mde_relative, mde_relative_cuped from main.fct_experiment_power"
    ).df()
    unit_type = "community" if group_kind == "detected" else "group"
    mde, mde_cuped = mde_at(power, unit_type, treated)
    design_power = {
        "unit_type": unit_type,
        "units_per_arm": treated,
        "mde_relative": mde,
        "mde_relative_cuped": mde_cuped,
        "pilot_relative_effect": float(planned["pilot_relative_effect"].iloc[0]),
    }
    return {
        "intervention_type": intervention_type,
        "group_kind": group_kind,
        "pilots": sorted(rows["intervention_id"].unique()),
        "candidates": rows.drop(columns=["_basis_order", "_effect"]),
        "key_members": key_members,
        "expected": expected,
        "ranking_basis": planned["ranking_basis"].value_counts().sort_index().to_dict(),
        "design_power": design_power,
    }


def design_verifying_experiment(
    con: duckdb.DuckDBPyConnection,
    plan: dict,
    out: Path,
    raw_dir: Path,
    *,
    seed: int = 0,
    experiment_id: str | None = None,
) -> dict:
    """Randomize the plan's candidates (half roll-out, half control) and write the file.

    Detected communities go through ``design_community_experiment`` (``smallgroups
    experiment design`` on these communities); declared groups through the same
    design's ``design_from_tables`` on their members at the latest snapshot, with unit
    ids the group ids (``group:`` stripped, as group experiments name them); a user in
    several of them counts in the best ranked one (the design needs one unit per user).

    Returns
    -------
    dict
        The design's summary (``experiment_id``, ``out``, ``units_per_arm``, ...).
    """
    candidates = plan["candidates"]
    ids = tuple(candidates["community_id"])
    name = experiment_id or f"rollout_{plan['intervention_type']}_seed{seed}"
    arms = ("control", "treatment")
    if len(ids) < 2:
        raise ValueError("a verifying experiment needs at least 2 candidates (one per arm)")
    if plan["group_kind"] == "detected":
        settings = DesignSettings(experiment_id=name, seed=seed, community_ids=ids, arms=arms)
        return design_community_experiment(con, out, raw_dir, settings)
    design.refuse_raw_path(out, raw_dir)
    snapshot, last_event, _, _, edges = store.read_design_inputs(con, 28)
    con.register("_ids", pd.DataFrame({"community_id": list(ids)}))
    try:
        members = con.execute(
            "select replace(m.community_id, 'group:', '') as community_id, m.user_id"
            " from main.int_group_members_weekly as m semi join _ids using (community_id)"
            " where m.group_kind = 'declared' and m.snapshot_date ="
            " (select max(snapshot_date) from main.int_group_members_weekly) order by all"
        ).df()
        health = con.execute(
            "select replace(h.community_id, 'group:', '') as community_id, h.health_score"
            " from main.fct_community_health as h semi join _ids using (community_id)"
            " where h.group_kind = 'declared' and h.snapshot_date ="
            " (select max(snapshot_date) from main.fct_community_health) order by all"
        ).df()
    finally:
        con.unregister("_ids")
    assigned_at = last_event.normalize() + pd.Timedelta(days=1)
    # Declared groups overlap; the design needs each user in one unit (its strata by size
    # and its cut share of ties between arms): a member of several of these groups counts
    # in the best ranked one.
    rank = {f"{cid}".replace("group:", "", 1): i for i, cid in enumerate(ids)}
    members = (
        members.assign(_rank=members["community_id"].map(rank))
        .sort_values(["_rank", "user_id"])
        .drop_duplicates("user_id")
        .drop(columns="_rank")
        .reset_index(drop=True)
    )
    assignments, summary = design.design_from_tables(
        members, health, edges, experiment_id=name, assigned_at=assigned_at, arms=arms,
        seed=seed,
    )  # fmt: skip
    path = design.write_assignments(assignments, out)
    return {"experiment_id": name, "snapshot_date": str(snapshot.date()),
            "assigned_at": str(assigned_at), "seed": seed, "out": str(path), **summary}  # fmt: skip


def _fmt(value: float, spec: str = "+.3f") -> str:
    return "n/a" if value is None or not np.isfinite(value) else format(value, spec)


def format_plan(plan: dict, budget: int, summary: dict | None = None) -> str:
    """The plan as text: groups, key members, expected effect, design."""
    candidates = plan["candidates"]
    planned = candidates[candidates["is_planned"]]
    lines = [
        f"Plan: {plan['intervention_type']} on {len(planned)} {plan['group_kind']} group(s) "
        f"(budget {budget}), replicating {', '.join(plan['pilots'])}; ranked by "
        + ", ".join(f"{basis} ({n})" for basis, n in plan["ranking_basis"].items())
    ]
    if (planned["ranking_basis"] == "similarity").any():
        lines.append(
            "  (similarity: no forecast for these groups; the pilot's effect per member-day "
            "is carried over)"
        )
    lines.append("")
    lines.append(
        f"  {'#':>2}  {'group':<16} {'members':>7}  {'similarity':>10}  "
        f"{'effect [interval]':<28} {'DAU':>7} {'posts/day':>9}  basis"
    )
    for row in planned.itertuples(index=False):
        lines.append(
            f"  {row.plan_rank:>2}  {row.community_id:<16} {row.count_members:>7}  "
            f"{row.similarity:>10.3f}  {_fmt(row.predicted_effect)} "
            f"[{_fmt(row.effect_ci_low)}, {_fmt(row.effect_ci_high)}]{'':<4} "
            f"{_fmt(row.expected_dau_contribution, '+7.2f')} "
            f"{_fmt(row.expected_posts_per_day_contribution, '+9.2f')}  {row.ranking_basis}"
        )
    expected = plan["expected"]
    lines += [
        "",
        f"  Expected: {expected['dau']:+.2f} DAU and {expected['posts_per_day']:+.2f} posts "
        "per day over the planned groups (sums of the rows above; effects in activity "
        "events per member-day).",
        "",
        "  Whom to contact:",
    ]
    key = plan["key_members"]
    for community_id in planned["community_id"]:
        mine = key[key["community_id"] == community_id]
        if mine.empty:
            lines.append(f"    {community_id}: no key member listed (not ranked by "
                         "rpt_high_potential_communities)")  # fmt: skip
        for row in mine.itertuples(index=False):
            lines.append(f"    {community_id}: {row.user_id} ({row.reason})")
    dp = plan["design_power"]
    lines += [
        "",
        f"  Verifying design: {dp['unit_type']}-randomized, these and the next lookalikes "
        f"({len(candidates)} groups), {expected['treated_under_experiment']} to the roll-out "
        f"and the rest to control, stratified by size and health (expected "
        f"{expected['dau_under_experiment']:+.2f} DAU from the treated half). Detectable "
        f"effect on posts_per_member_day with {dp['units_per_arm']} per arm: "
        f"{_fmt(100 * dp['mde_relative_cuped'], '.0f')}% with CUPED "
        f"({_fmt(100 * dp['mde_relative'], '.0f')}% without); the pilot's effect "
        f"{100 * dp['pilot_relative_effect']:+.0f}%.",
    ]
    if summary is not None:
        lines.append(
            f"  Assignment file: {summary['out']} ({summary['experiment_id']}, "
            f"{summary['units_per_arm']} units per arm, seed {summary['seed']}; the "
            "treatment arm gets the roll-out)"
        )
    return "\n".join(lines)
