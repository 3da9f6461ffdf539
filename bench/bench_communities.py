"""Benchmark of the community outputs of a built warehouse against the planted truth.

Reads the weekly snapshots the pipeline wrote (``communities.*`` and, when it exists,
the mart ``main.fct_community_members``) and the demo generator's ground truth, and
prints

1. per snapshot: NMI and ARI of detected against planted communities among the
   planted members alive that day, coverage of those members, and the share of
   planted background users that were assigned anyway;
2. member roles at the latest snapshot: precision and recall of key members and
   bridges (from the mart; computed here from the member metrics while the mart is
   absent, and shown next to it as a reference when present), and whether each
   planted community's top member by in-community PageRank is one of its planted key
   members;
3. lifecycle: recall of planted splits, merges, dissolutions and births by detected
   events within +-14 days (and allowing for the 28-day window's lag), and the
   detected events per type;
4. stability: share of users keeping their community id when the latest window graph
   gains 1% new random edges (warm start), and with no change at all.

Figures only: nothing passes or fails. The warehouse is opened read-only, read in
one go and closed before any computation (a copy in /tmp is read when another
process holds the write lock). Results also go to bench/results/communities.json.

    python bench/bench_communities.py [--warehouse data/smallgroups.duckdb]
                                      [--truth data/ground_truth]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import yaml

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from _truth import (  # noqa: E402
    LABEL_RULE,
    Truth,
    background_at,
    load_truth,
    members_at,
    memberships_at,
)

from orchestration.lib.communities import assign_community_ids, detect_communities  # noqa: E402
from orchestration.lib.communities.store import read_users, read_window_edges  # noqa: E402
from orchestration.lib.evaluation.partitions import (  # noqa: E402
    adjusted_rand_index,
    normalized_mutual_info,
)

RESULTS = PROJECT_DIR / "bench" / "results" / "communities.json"
WINDOW_DAYS = 28
EVENT_TOLERANCE_DAYS = 14
LIFECYCLE_TYPES = ("split", "merged", "dissolved", "born")
NEW_EDGE_SHARE = 0.01
SEED = 42
#: Unassigned users are labelled "-1" and count as singletons in NMI/ARI.
SINGLETONS: dict[str, Any] = {"unassigned": "singleton", "unassigned_labels": ("-1",)}
# Role rule from member metrics alone (the roles while main.fct_community_members is
# absent, a reference next to it otherwise): thresholds read from dbt_project.yml's
# vars, these values when a var is missing.
ROLE_VARS = {
    "key_member_share": 0.05,
    "key_member_min_pagerank": 1.5,
    "bridge_min_share_to_other": 0.2,
    "bridge_min_weight_to_other": 0.0,
}


@dataclass(frozen=True)
class Warehouse:
    """What the benchmark needs from the warehouse, read in one go."""

    runs: pd.DataFrame
    assignments: pd.DataFrame
    events: pd.DataFrame
    metrics: pd.DataFrame  # member metrics at the latest snapshot
    mart: pd.DataFrame | None  # main.fct_community_members, None when absent
    mart_note: str
    signups: pd.DataFrame  # user_id, signup_date
    window_edges: pd.DataFrame  # latest window graph
    window_users: pd.Series  # users signed up by the latest snapshot
    latest: date
    source: str


# ---------------------------------------------------------------------------- reading


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    rows = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return rows[0][0] > 0


def _read(con: duckdb.DuckDBPyConnection, source: str) -> Warehouse | str:
    """Every frame the benchmark uses; a message instead when the outputs are absent."""
    for table in ("community_snapshot_runs", "community_assignments", "community_events"):
        if not _table_exists(con, "communities", table):
            return f"communities.{table} is absent (run the pipeline first: `make run`)"
    runs = con.execute(
        "select * from communities.community_snapshot_runs order by snapshot_date"
    ).df()
    if runs.empty:
        return "communities.community_snapshot_runs is empty (no snapshot computed yet)"
    latest = pd.Timestamp(runs["snapshot_date"].max()).date()
    assignments = con.execute(
        "select snapshot_date, user_id, community_id from communities.community_assignments"
    ).df()
    events = con.execute("select * from communities.community_events").df()
    metrics = con.execute(
        "select * from communities.community_member_metrics where snapshot_date = ?", [latest]
    ).df()
    mart, mart_note = None, "main.fct_community_members is absent"
    if _table_exists(con, "main", "fct_community_members"):
        try:
            mart = con.execute("select * from main.fct_community_members").df()
            mart_note = "main.fct_community_members"
        except duckdb.Error as error:  # being rebuilt, or columns still changing
            mart_note = f"main.fct_community_members unreadable ({error})"
        if mart is not None and not {"user_id", "is_key_member", "is_bridge"} <= set(mart):
            mart_note = "main.fct_community_members lacks user_id/is_key_member/is_bridge"
            mart = None
    signups = con.execute("select user_id, signup_date from main.dim_users").df()
    window_edges = read_window_edges(con, latest, WINDOW_DAYS)
    window_users = read_users(con, latest)
    for frame in (assignments, events, metrics):
        frame["snapshot_date"] = pd.to_datetime(frame["snapshot_date"]).dt.date
    runs["snapshot_date"] = pd.to_datetime(runs["snapshot_date"]).dt.date
    signups["signup_date"] = pd.to_datetime(signups["signup_date"]).dt.date
    return Warehouse(
        runs=runs,
        assignments=assignments,
        events=events,
        metrics=metrics,
        mart=mart,
        mart_note=mart_note,
        signups=signups,
        window_edges=window_edges,
        window_users=window_users,
        latest=latest,
        source=source,
    )


def read_warehouse(path: Path) -> Warehouse | str:
    """Open read-only (a copy when another process holds the lock), read, close."""
    tmp: Path | None = None
    try:
        con = duckdb.connect(str(path), read_only=True)
        source = str(path)
    except duckdb.Error as error:
        tmp = Path(tempfile.mkdtemp(prefix="bench_communities_"))
        copy = tmp / path.name
        shutil.copy2(path, copy)
        wal = path.with_name(path.name + ".wal")
        if wal.exists():
            shutil.copy2(wal, tmp / wal.name)
        print(f"  ({path} is locked: {str(error).splitlines()[0][:90]}; reading a copy)")
        con = duckdb.connect(str(copy), read_only=True)
        source = f"copy of {path}"
    try:
        return _read(con, source)
    finally:
        con.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------- helpers


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _wrap(text: str, first: int, width: int = 88) -> str:
    """``text`` broken into lines of ``width`` (the first ``first`` shorter), indented."""
    lines = textwrap.wrap(text, width - 3, initial_indent="x" * first)
    lines[0] = lines[0][first:]
    return "\n   ".join(lines)


def _header(title: str) -> None:
    print(f"\n== {title}")


def _signed_up(wh: Warehouse, day: date) -> set[str]:
    return set(wh.signups.loc[wh.signups["signup_date"] <= day, "user_id"])


def _assigned_at(wh: Warehouse, day: date) -> pd.Series:
    frame = wh.assignments[wh.assignments["snapshot_date"] == day]
    return pd.Series(frame["community_id"].to_numpy(), index=frame["user_id"].to_numpy())


# ---------------------------------------------------------------------------- 1. accuracy


def accuracy(wh: Warehouse, truth: Truth) -> dict[str, Any]:
    """NMI/ARI/coverage per snapshot among planted members alive that day."""
    _header("1. Detected vs planted communities, per snapshot")
    print("   scored on planted members alive that day; " + _wrap(LABEL_RULE + ";", 42))
    print("   unassigned members count as singletons (agree with nobody) in NMI and ARI;")
    print("   coverage = share of those members assigned; bg assigned = share of planted")
    print("   background users (never members, signed up, not churned) that were assigned")
    rows = []
    for day in wh.runs["snapshot_date"]:
        labels = members_at(truth, day)
        found_all = _assigned_at(wh, day)
        found = found_all.reindex(labels.index).fillna("-1").astype(str)
        background = background_at(truth, day, _signed_up(wh, day))
        bg_assigned = sum(1 for user in background if user in found_all.index)
        assigned = found != "-1"
        rows.append(
            {
                "snapshot_date": day.isoformat(),
                "members": int(len(labels)),
                "planted": int(labels.nunique()),
                "detected": int(found_all.nunique()),
                "nmi": normalized_mutual_info(labels.to_numpy(), found.to_numpy(), **SINGLETONS),
                "ari": adjusted_rand_index(labels.to_numpy(), found.to_numpy(), **SINGLETONS),
                "nmi_assigned_only": normalized_mutual_info(
                    labels.to_numpy(),
                    found.to_numpy(),
                    unassigned="exclude",
                    unassigned_labels=("-1",),
                ),
                "coverage": float(assigned.mean()) if len(found) else None,
                "background": len(background),
                "background_assigned_share": _ratio(bg_assigned, len(background)),
                "assigned_users": int(len(found_all)),
                "assigned_background_share": _ratio(bg_assigned, len(found_all)),
            }
        )
    print(
        f"   {'snapshot':<11}{'members':>8}{'planted':>8}{'found':>7}{'NMI':>7}{'ARI':>7}"
        f"{'NMI*':>7}{'cover':>7}{'bg asg':>8}"
    )
    for row in rows:
        print(
            f"   {row['snapshot_date']:<11}{row['members']:>8,}{row['planted']:>8}"
            f"{row['detected']:>7}{_fmt(row['nmi']):>7}{_fmt(row['ari']):>7}"
            f"{_fmt(row['nmi_assigned_only']):>7}{_fmt(row['coverage']):>7}"
            f"{_fmt(row['background_assigned_share']):>8}"
        )
    means = {
        key: float(np.mean([r[key] for r in rows if r[key] is not None]))
        for key in (
            "nmi",
            "ari",
            "nmi_assigned_only",
            "coverage",
            "background_assigned_share",
        )
    }
    print(
        f"   {'mean':<11}{'':>8}{'':>8}{'':>7}{_fmt(means['nmi']):>7}{_fmt(means['ari']):>7}"
        f"{_fmt(means['nmi_assigned_only']):>7}{_fmt(means['coverage']):>7}"
        f"{_fmt(means['background_assigned_share']):>8}"
    )
    print("   (NMI* = NMI among members assigned by the pipeline only)")
    last = rows[-1]
    provisional = bool(wh.runs["is_provisional"].iloc[-1]) if "is_provisional" in wh.runs else False
    print(
        f"\n   LATEST SNAPSHOT {last['snapshot_date']}{' (provisional)' if provisional else ''}: "
        f"NMI {_fmt(last['nmi'])} (target >= 0.90), ARI {_fmt(last['ari'])}, "
        f"coverage {_fmt(last['coverage'])}, background assigned "
        f"{_fmt(last['background_assigned_share'])}"
    )
    print(
        f"   {last['members']:,} planted members alive in {last['planted']} communities; "
        f"{last['assigned_users']:,} users assigned to {last['detected']} detected, of whom "
        f"{_fmt(last['assigned_background_share'])} are planted background users"
    )
    return {"label_rule": LABEL_RULE, "snapshots": rows, "mean": means, "latest": last}


# ---------------------------------------------------------------------------- 2. roles


def _role_vars() -> dict[str, float]:
    values = dict(ROLE_VARS)
    try:
        declared = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text()).get("vars", {})
    except (OSError, yaml.YAMLError):
        declared = {}
    for key in values:
        if isinstance(declared.get(key), int | float):
            values[key] = float(declared[key])
    return values


def _fallback_roles(metrics: pd.DataFrame, settings: dict[str, float]) -> pd.DataFrame:
    """Roles from member metrics alone: key member = among the top ``round(share *
    size)`` (at least one) of its community by in-community PageRank, with PageRank at
    least ``min_pagerank`` times the community mean; bridge = at least ``min_share`` of
    its tie weight, and ``min_weight``, goes to one other community. (The mart also
    ranks by messages and accepted invites; this needs only the snapshot tables.)"""
    frame = metrics.copy()
    frame["size"] = frame.groupby("community_id")["user_id"].transform("size")
    frame = frame.sort_values(["community_id", "pagerank_in_community", "user_id"])
    frame["rank"] = frame.groupby("community_id").cumcount(ascending=False) + 1
    top = np.maximum(1, np.floor(settings["key_member_share"] * frame["size"] + 0.5))
    frame["is_key_member"] = (frame["rank"] <= top) & (
        frame["pagerank_in_community"] >= settings["key_member_min_pagerank"]
    )
    degree = frame["weighted_degree"].where(frame["weighted_degree"] > 0)
    share_to_other = (frame["weight_to_top_other"] / degree).fillna(0.0)
    frame["is_bridge"] = (share_to_other >= settings["bridge_min_share_to_other"]) & (
        frame["weight_to_top_other"] >= settings["bridge_min_weight_to_other"]
    )
    return frame[["user_id", "community_id", "is_key_member", "is_bridge"]]


def _prf(found: set[str], planted: set[str]) -> dict[str, Any]:
    hits = len(found & planted)
    return {
        "detected": len(found),
        "planted": len(planted),
        "hits": hits,
        "precision": _ratio(hits, len(found)),
        "recall": _ratio(hits, len(planted)),
    }


def roles(wh: Warehouse, truth: Truth) -> dict[str, Any]:
    """Key members and bridges at the latest snapshot against the planted ones."""
    latest = wh.latest
    _header(f"2. Member roles at the latest snapshot ({latest})")
    settings = _role_vars()
    fallback = _fallback_roles(wh.metrics, settings)
    rule = (
        f"key: top round({settings['key_member_share']:g} x size), at least 1, by "
        f"pagerank_in_community, with pagerank >= {settings['key_member_min_pagerank']:g}; "
        f"bridge: weight_to_top_other / weighted_degree >= "
        f"{settings['bridge_min_share_to_other']:g} and weight_to_top_other >= "
        f"{settings['bridge_min_weight_to_other']:g}"
    )
    sources: dict[str, pd.DataFrame] = {}
    role_mix: dict[str, int] = {}
    if wh.mart is not None:
        mart = wh.mart
        day = latest
        if "snapshot_date" in mart:
            dates = pd.to_datetime(mart["snapshot_date"]).dt.date
            day = dates.max()
            mart = mart[dates == day]
        print(f"   roles from main.fct_community_members (snapshot {day})")
        if day != latest:
            print(f"   NOTE: the mart is of {day}, not the latest snapshot {latest}: stale mart")
        role_column = next((c for c in ("role", "member_role") if c in mart), None)
        if role_column:
            role_mix = {str(k): int(v) for k, v in mart[role_column].value_counts().items()}
            print("   role mix: " + ", ".join(f"{k} {v:,}" for k, v in role_mix.items()))
        sources["mart"] = mart[["user_id", "is_key_member", "is_bridge"]]
        sources["metrics rule"] = fallback
        print(f"   'metrics rule' (reference) = roles from member metrics alone: {rule}")
    else:
        print(
            f"   {wh.mart_note}: roles COMPUTED HERE from communities.community_member_metrics"
            f"\n   ({rule})"
        )
        sources["metrics rule"] = fallback
    rows = memberships_at(truth, latest)
    planted_keys = set(rows.loc[rows["is_key_member"], "user_id"])
    bridge_rows = rows[rows["is_bridge"]]
    bridge_counts = bridge_rows.groupby("user_id")["community_id"].nunique()
    planted_bridges = set(bridge_counts[bridge_counts >= 2].index)
    print("   planted key members: alive on the day, in a planted community alive on the day")
    print("   planted bridges: alive, with planted memberships in two communities both valid")
    print(f"   {'':<26}{'detected':>9}{'planted':>9}{'hits':>6}{'precision':>11}{'recall':>8}")
    figures: dict[str, dict[str, Any]] = {}
    for source, frame in sources.items():
        users = frame["user_id"].astype(str)
        found = {
            "key members": set(users[frame["is_key_member"].fillna(False).astype(bool)]),
            "bridges": set(users[frame["is_bridge"].fillna(False).astype(bool)]),
        }
        planted = {"key members": planted_keys, "bridges": planted_bridges}
        for what in ("key members", "bridges"):
            result = _prf(found[what], planted[what])
            figures.setdefault(source, {})[what.replace(" ", "_")] = result
            print(
                f"   {what + ' (' + source + ')':<26}{result['detected']:>9}{result['planted']:>9}"
                f"{result['hits']:>6}{_fmt(result['precision']):>11}{_fmt(result['recall']):>8}"
            )
    primary = figures["mart" if "mart" in figures else "metrics rule"]

    # Top member by in-community PageRank of each planted community alive at the end.
    pagerank = wh.metrics.set_index(wh.metrics["user_id"].astype(str))["pagerank_in_community"]
    evaluated = hits = no_assigned = no_key = 0
    for _, members in rows.groupby("community_id"):
        keys_here = set(members.loc[members["is_key_member"], "user_id"])
        if not keys_here:
            no_key += 1
            continue
        ranks = pagerank.reindex(members["user_id"]).dropna()
        if ranks.empty:
            no_assigned += 1
            continue
        evaluated += 1
        best = ranks.sort_values(ascending=False, kind="stable")
        top_user = best[best == best.iloc[0]].index.min()
        hits += int(top_user in keys_here)
    top = {
        "communities_evaluated": evaluated,
        "hits": hits,
        "precision_at_1": _ratio(hits, evaluated),
        "skipped_no_assigned_member": no_assigned,
        "skipped_no_key_member_alive": no_key,
    }
    print(
        f"   top member by pagerank_in_community is a planted key member: "
        f"{hits}/{evaluated} planted communities = {_fmt(top['precision_at_1'])} "
        f"(skipped: {no_assigned} with no member assigned, {no_key} with no key member alive)"
    )
    return {
        "source": "main.fct_community_members" if "mart" in figures else "metrics rule",
        "metrics_rule": rule,
        "role_settings": settings,
        "role_mix": role_mix,
        "key_members": primary["key_members"],
        "bridges": primary["bridges"],
        "by_source": figures,
        "top_member": top,
    }


# ---------------------------------------------------------------------------- 3. lifecycle


class _Mapper:
    """Detected community id -> planted community: the plurality planted label of its
    members (members that are no planted member alive count as "none") at the snapshot
    nearest to a given date among those where that plurality is a planted community.
    (After a planted community dissolves, its detected twin lives on for a few weeks
    with members that are no longer planted members: it still maps to it.)"""

    def __init__(self, assignments: pd.DataFrame, truth: Truth) -> None:
        self.by_snapshot: dict[tuple[date, str], str] = {}
        self.dates_of: dict[str, list[date]] = {}
        for day, frame in assignments.groupby("snapshot_date"):
            labels = members_at(truth, day)
            planted = frame["user_id"].map(labels).fillna("-")
            counts = (
                pd.DataFrame({"community_id": frame["community_id"], "planted": planted})
                .value_counts()
                .reset_index(name="n")
                .sort_values(["community_id", "n", "planted"], ascending=[True, False, True])
                .drop_duplicates("community_id")
            )
            for row in counts[counts["planted"] != "-"].itertuples():
                self.by_snapshot[(day, row.community_id)] = row.planted
                self.dates_of.setdefault(row.community_id, []).append(day)

    def __call__(self, community_id: Any, day: date) -> str | None:
        if community_id is None or pd.isna(community_id):
            return None
        dates = self.dates_of.get(community_id)
        if not dates:
            return None
        nearest = min(dates, key=lambda d: (abs((d - day).days), d))
        return self.by_snapshot[(nearest, community_id)]


def match_lifecycle(
    assignments: pd.DataFrame, events: pd.DataFrame, first: date, truth: Truth
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Planted lifecycle events after ``first`` and detected ones, each flagged as matched.

    ``assignments`` (snapshot_date, user_id, community_id) and ``events`` (the
    community_events table) are the pipeline's; ``first`` is the first snapshot (its
    events, all "born", are left out). Returns ``planted`` (event_type, day, involved,
    found, lag_days, found_lag) and ``detected`` (the events table after ``first`` of the
    lifecycle types, with ``mapped`` and ``matched``). See :func:`lifecycle` for the rule.
    """
    tol, lag = EVENT_TOLERANCE_DAYS, EVENT_TOLERANCE_DAYS + WINDOW_DAYS
    mapper = _Mapper(assignments, truth)
    planted = truth.events[truth.events["event_type"].isin(LIFECYCLE_TYPES)].copy()
    planted = planted[planted["day"] > first]
    pure = ~((planted["event_type"] == "born") & planted["related_community_id"].notna())
    planted = planted[pure]
    planted["involved"] = [
        frozenset(x for x in (c, r) if isinstance(x, str))
        for c, r in zip(planted["community_id"], planted["related_community_id"], strict=True)
    ]
    planted = planted.drop_duplicates(["event_type", "day", "involved"])

    detected = events[
        events["event_type"].isin(LIFECYCLE_TYPES) & (events["snapshot_date"] > first)
    ].copy()
    detected["mapped"] = [
        frozenset(x for x in (mapper(c, d), mapper(r, d)) if x is not None)
        for c, r, d in zip(
            detected["community_id"],
            detected["related_community_id"],
            detected["snapshot_date"],
            strict=True,
        )
    ]

    def near(
        kind: str, day: date, ids: frozenset[str], pool: pd.DataFrame, on: str, col: str, after: int
    ) -> bool:
        """Any ``pool`` event of ``kind`` dated ``on`` in [day - tol, day + after] sharing ids."""
        same = pool[pool["event_type"] == kind]
        low, high = day - timedelta(days=tol), day + timedelta(days=after)
        close = same[(same[on] >= low) & (same[on] <= high)]
        return any(ids & other for other in close[col])

    def lag_days(kind: str, day: date, ids: frozenset[str]) -> int | None:
        """Days from the planted event to the earliest detected event found with lag ok."""
        same = detected[detected["event_type"] == kind]
        low, high = day - timedelta(days=tol), day + timedelta(days=lag)
        close = same[(same["snapshot_date"] >= low) & (same["snapshot_date"] <= high)]
        dates = [d for d, m in zip(close["snapshot_date"], close["mapped"], strict=True) if ids & m]
        return (min(dates) - day).days if dates else None

    keys = list(zip(planted["event_type"], planted["day"], planted["involved"], strict=True))
    planted["found"] = [near(k, d, i, detected, "snapshot_date", "mapped", tol) for k, d, i in keys]
    planted["lag_days"] = [lag_days(k, d, i) for k, d, i in keys]
    planted["found_lag"] = planted["lag_days"].notna()
    detected["matched"] = [
        near(k, d, m, planted, "day", "involved", tol)
        for k, d, m in zip(
            detected["event_type"], detected["snapshot_date"], detected["mapped"], strict=True
        )
    ]
    return planted, detected


def lifecycle(wh: Warehouse, truth: Truth) -> dict[str, Any]:
    """Planted split/merged/dissolved/born events found by detected events nearby."""
    _header("3. Lifecycle events")
    first = wh.runs["snapshot_date"].min()
    tol, lag = EVENT_TOLERANCE_DAYS, EVENT_TOLERANCE_DAYS + WINDOW_DAYS
    print(
        f"   planted events after the first snapshot ({first}). A planted event is found when a\n"
        f"   detected event of the same type within +-{tol} days involves (as community or\n"
        "   related community) a detected community that maps to one of the planted communities\n"
        "   involved; a detected id maps to the planted community most of its members belong to,\n"
        "   at the nearest snapshot where most belong to one. Planted merges are counted once\n"
        "   per pair; 'born' counts new communities only (split offspring count with the split).\n"
        f"   'lag ok' also accepts detected events up to {lag} days after (the {WINDOW_DAYS}-day "
        "window keeps\n   old ties for weeks); 'lag d' = median days from the planted event "
        "to the first such\n   detected event. Detected events of the first snapshot "
        "(all 'born') are left out."
    )
    planted, detected = match_lifecycle(wh.assignments, wh.events, first, truth)
    all_detected = wh.events.groupby("event_type").size()
    table = []
    print(
        f"   {'type':<11}{'planted':>8}{'found':>7}{'recall':>8}{'lag ok':>8}{'lag d':>7}"
        f"{'detected':>10}{'matched':>9}{'all snapshots':>15}"
    )
    for kind in LIFECYCLE_TYPES:
        p = planted[planted["event_type"] == kind]
        d = detected[detected["event_type"] == kind]
        row = {
            "event_type": kind,
            "planted": int(len(p)),
            "found": int(p["found"].sum()),
            "recall": _ratio(int(p["found"].sum()), len(p)),
            "found_lag_ok": int(p["found_lag"].sum()),
            "recall_lag_ok": _ratio(int(p["found_lag"].sum()), len(p)),
            "median_lag_days": (
                float(p["lag_days"].dropna().median()) if p["found_lag"].any() else None
            ),
            "detected_after_first_snapshot": int(len(d)),
            "detected_matched": int(d["matched"].sum()),
            "detected_all_snapshots": int(all_detected.get(kind, 0)),
        }
        table.append(row)
        print(
            f"   {kind:<11}{row['planted']:>8}{row['found']:>7}{_fmt(row['recall']):>8}"
            f"{_fmt(row['recall_lag_ok']):>8}{_fmt(row['median_lag_days'], 0):>7}"
            f"{row['detected_after_first_snapshot']:>10}"
            f"{row['detected_matched']:>9}{row['detected_all_snapshots']:>15}"
        )
    others = {k: int(v) for k, v in all_detected.items() if k not in LIFECYCLE_TYPES}
    print(
        f"   (detected = after the first snapshot; matched = near a planted event of the same "
        f"type\n   within +-{tol} days by the same rule; other detected types: "
        + ", ".join(f"{k} {v}" for k, v in sorted(others.items()))
        + ")"
    )
    return {
        "rule": (
            f"same type, within +-{tol} days (lag ok: -{tol}/+{lag}), a detected community "
            "involved maps (plurality of members, at the nearest snapshot where the plurality "
            "is a planted community) to a planted community involved"
        ),
        "by_type": table,
        "other_detected_types": others,
    }


# ---------------------------------------------------------------------------- 4. stability


def _with_new_edges(edges: pd.DataFrame, share: float, seed: int) -> pd.DataFrame:
    """``edges`` plus ``share * len(edges)`` new pairs between random active users that
    are not linked yet, weights drawn from the existing weights."""
    rng = np.random.default_rng(seed)
    users = np.unique(np.concatenate([edges["user_id_a"], edges["user_id_b"]]).astype(str))
    existing = set(zip(edges["user_id_a"].astype(str), edges["user_id_b"].astype(str), strict=True))
    wanted = max(1, round(share * len(edges)))
    new: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    while len(new) < wanted:
        a, b = users[rng.integers(0, len(users), size=2)]
        pair = (min(a, b), max(a, b))
        if a == b or pair in seen or pair in existing or pair[::-1] in existing:
            continue
        seen.add(pair)
        new.append(pair)
    weights = rng.choice(edges["edge_weight"].to_numpy(), size=len(new))
    added = pd.DataFrame(
        {
            "user_id_a": [p[0] for p in new],
            "user_id_b": [p[1] for p in new],
            "edge_weight": weights,
        }
    )
    return pd.concat([edges, added], ignore_index=True)


def _kept(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, Any]:
    joined = before.merge(after, on="user_id", how="left", suffixes=("_before", "_after"))
    assigned = joined[joined["community_id_before"].notna()]
    same = assigned["community_id_before"] == assigned["community_id_after"]
    labels_before = joined["community_id_before"].fillna("-1").astype(str).to_numpy()
    labels_after = joined["community_id_after"].fillna("-1").astype(str).to_numpy()
    return {
        "users_assigned_before": int(len(assigned)),
        "kept_share": float(same.mean()) if len(assigned) else None,
        "moved": int((~same).sum()),
        "nmi_between_runs": normalized_mutual_info(labels_before, labels_after, **SINGLETONS),
        "communities_before": int(before["community_id"].nunique()),
        "communities_after": int(after["community_id"].nunique()),
    }


def stability(wh: Warehouse) -> dict[str, Any]:
    """Share of users keeping their community id after a small change of the graph."""
    day = wh.latest
    _header(f"4. Stability on the latest window graph ({day}, {WINDOW_DAYS} days)")
    edges, users = wh.window_edges, wh.window_users
    started = time.perf_counter()
    base = detect_communities(edges, user_ids=users, seed=SEED)
    ids = assign_community_ids(base.membership, None, as_of=day).assignment
    ids = ids[["user_id", "community_id"]]
    initial = dict(zip(ids["user_id"], ids["community_id"], strict=True))
    perturbed = _with_new_edges(edges, NEW_EDGE_SHARE, SEED)
    cases = {
        f"+{NEW_EDGE_SHARE:.0%} random edges, warm start": (perturbed, initial),
        "no change, warm start": (edges, initial),
        f"+{NEW_EDGE_SHARE:.0%} random edges, cold start (reference)": (perturbed, None),
    }
    print(
        f"   {len(users):,} users, {len(edges):,} edges; detect (seed {SEED}), ids by "
        "assign_community_ids; then detect\n   again (initial_membership = first result "
        "unless cold) and assign ids with the first as previous"
    )
    results: dict[str, Any] = {
        "snapshot_date": day.isoformat(),
        "users": int(len(users)),
        "edges": int(len(edges)),
        "new_edges": int(len(perturbed) - len(edges)),
        "cases": {},
    }
    print(f"   {'case':<44}{'kept id':>9}{'moved':>7}{'NMI':>7}{'groups':>11}")
    for name, (graph, start) in cases.items():
        again = detect_communities(graph, user_ids=users, seed=SEED, initial_membership=start)
        later = assign_community_ids(again.membership, ids, as_of=day + timedelta(days=7))
        figures = _kept(ids, later.assignment[["user_id", "community_id"]])
        results["cases"][name] = figures
        groups = f"{figures['communities_before']}->{figures['communities_after']}"
        print(
            f"   {name:<44}{_fmt(figures['kept_share']):>9}{figures['moved']:>7}"
            f"{_fmt(figures['nmi_between_runs']):>7}{groups:>11}"
        )
    warm = results["cases"][f"+{NEW_EDGE_SHARE:.0%} random edges, warm start"]["kept_share"]
    same = results["cases"]["no change, warm start"]["kept_share"]
    print(
        f"\n   KEPT COMMUNITY ID: {_fmt(warm)} with {results['new_edges']:,} new edges "
        f"(target >= 0.95); {_fmt(same)} with no change (expected 1.0)"
    )
    results["seconds"] = time.perf_counter() - started
    return results


# ---------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, default=PROJECT_DIR / "data/smallgroups.duckdb")
    parser.add_argument("--truth", type=Path, default=PROJECT_DIR / "data/ground_truth")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON results file")
    args = parser.parse_args()

    started = time.perf_counter()
    print(f"Community benchmark: {args.warehouse} against {args.truth}")
    if not args.warehouse.exists():
        print(f"  no warehouse at {args.warehouse}: nothing to score (`make run` builds it)")
        return 0
    truth = load_truth(args.truth)
    if truth is None:
        print(
            f"  no planted ground truth in {args.truth}: nothing to score "
            "(`make demo` writes it; real data has none)"
        )
        return 0
    wh = read_warehouse(args.warehouse)
    if isinstance(wh, str):
        print(f"  {wh}: nothing to score")
        return 0
    read_seconds = time.perf_counter() - started
    print(
        f"  {len(wh.runs)} snapshots {wh.runs['snapshot_date'].min()} .. {wh.latest}, "
        f"read in {read_seconds:.1f} s from {wh.source}"
    )

    results: dict[str, Any] = {"warehouse": str(args.warehouse), "truth": str(args.truth)}
    timings: dict[str, float] = {"read": read_seconds}
    for name, section in (
        ("accuracy", lambda: accuracy(wh, truth)),
        ("roles", lambda: roles(wh, truth)),
        ("lifecycle", lambda: lifecycle(wh, truth)),
        ("stability", lambda: stability(wh)),
    ):
        began = time.perf_counter()
        results[name] = section()
        timings[name] = round(time.perf_counter() - began, 2)
    timings["total"] = round(time.perf_counter() - started, 2)
    results["seconds"] = timings
    print(f"\n  done in {timings['total']:.1f} s")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"  results written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
