"""Benchmark of community lifecycle events and membership, pooled over demo seeds.

The demo plants few lifecycle events per data set (a few percent of its communities
split, merge, dissolve or are born), so one data set cannot give a recall figure worth
reading. This benchmark generates the demo at several seeds (cached under
``data/bench/lifecycle``), builds the dbt inputs of the community step once per seed,
then runs the weekly snapshot step (``refresh_snapshots``, the pipeline's own code) under
each settings variant on a copy of each warehouse, and prints, pooled over the seeds:

1. lifecycle: per event type the planted count, recall within +-14 days of the planted
   date, the median delay (days from the planted date to the first matching detected
   event within -14/+42 days), the detected count and precision (detected events that
   match a planted event of the same type within +-14 days; events matching nothing
   planted count against it), with the rule of bench/bench_communities.py;
2. membership, averaged over every snapshot: precision (assigned users who are planted
   members alive that day; with ``membership_status``, fringe users do not count as
   assigned), recall (planted members assigned) and NMI among planted members
   (unassigned ones as singletons), and the share of planted background users assigned.

Variants: ``today`` is the method before lifecycle work (size-aware resolution, no
membership test, a hard 28-day window, no dormancy rule), ``default`` the settings of
``DetectionSettings()``; ``--variant name:key=value,...`` adds more (keys of
DetectionSettings). Figures only: nothing passes or fails. Results also go to
bench/results/lifecycle.json.

    python bench/bench_lifecycle.py                    # 6 seeds x 10,000 users x 120 days
    python bench/bench_lifecycle.py --seeds 2 --variant short:half_life_days=3.5
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR / "bench"))
sys.path.insert(0, str(PROJECT_DIR))

from _measure import measure  # noqa: E402
from _truth import background_at, demo_command, load_truth, members_at  # noqa: E402
from bench_communities import LIFECYCLE_TYPES, match_lifecycle  # noqa: E402

from orchestration.lib.communities.refresh import refresh_snapshots  # noqa: E402
from orchestration.lib.communities.snapshots import DetectionSettings  # noqa: E402
from orchestration.lib.config import dbt_executable  # noqa: E402
from orchestration.lib.evaluation.partitions import normalized_mutual_info  # noqa: E402

RESULTS = PROJECT_DIR / "bench" / "results" / "lifecycle.json"
CACHE = PROJECT_DIR / "data" / "bench" / "lifecycle"
FIRST_SEED = 42
#: The community step's dbt inputs (orchestration.lib.communities.store.INPUT_MODELS)
#: and what they need.
SELECT = [
    "+int_user_edges_weekly",
    "+int_co_memberships_paired",
    "+dim_users",
    "+fct_user_activity_daily",
    "+stg_product__group_memberships",
]
REGISTER_RAW = (
    "from orchestration.lib.config import load_settings;"
    "from orchestration.lib.raw import register_raw_tables;"
    "from orchestration.lib.warehouse import connect;"
    "s = load_settings();"
    "con = connect(s.duckdb_path); register_raw_tables(con, s.raw_dir); con.close()"
)
#: The method before the lifecycle work: a hard 28-day window, no dormancy, recent-split
#: or hysteresis rule, every placed user a member, every new community born at once.
TODAY = {
    "resolution_rule": "size_aware",
    "membership_alpha": None,
    "horizon_days": 28,
    "half_life_days": None,
    "min_recent_members": 0,
    "split_alpha": None,
    "keep_min_size": None,
    "min_member_neighbours": 0,
    "birth_min_degree": 0.0,
    "change_alpha": None,
    "dormancy_ratio": None,
}
#: The default before the stop that added ``dormancy_ratio``, ``split_joined_ratio`` and
#: ``merge_joined_ratio`` (ALGORITHM_VERSION 10): what the current default changed, so one
#: run compares the two.
BEFORE = {
    "dormancy_ratio": None,
    "split_joined_ratio": None,
    "merge_joined_ratio": None,
}


def build_inputs(users: int, days: int, seed: int) -> tuple[Path, Path]:
    """Generate one demo data set and build the community step's inputs (cached)."""
    work = CACHE / f"u{users}_d{days}_s{seed}"
    raw_dir, truth_dir, db = work / "raw", work / "ground_truth", work / "inputs.duckdb"
    done = work / "inputs.done"
    if done.exists():
        return db, truth_dir
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "SMALLGROUPS_RAW_DIR": str(raw_dir),
        "SMALLGROUPS_DUCKDB_PATH": str(db),
        "DBT_TARGET_PATH": str(work / "target"),
    }
    started = time.perf_counter()
    if not (truth_dir / "summary.json").exists():
        measure(
            demo_command(raw_dir, truth_dir, users=users, days=days, seed=seed),
            env=env,
            cwd=str(PROJECT_DIR),
        )
    db.unlink(missing_ok=True)
    measure([sys.executable, "-c", REGISTER_RAW], env=env, cwd=str(PROJECT_DIR))
    dbt = [dbt_executable(), "--quiet", "--no-use-colors"]
    flags = ["--profiles-dir", str(PROJECT_DIR), "--project-dir", str(PROJECT_DIR)]
    measure(dbt + ["seed"] + flags, env=env, cwd=str(PROJECT_DIR))
    measure(dbt + ["run", "--select", *SELECT] + flags, env=env, cwd=str(PROJECT_DIR))
    done.write_text(f"{time.perf_counter() - started:.1f}\n")
    print(f"  built inputs for seed {seed} in {time.perf_counter() - started:.0f} s")
    return db, truth_dir


def run_variant(db: Path, settings: DetectionSettings) -> dict[str, pd.DataFrame]:
    """The snapshot step under ``settings`` on a copy of the inputs; its outputs."""
    tmp = Path(tempfile.mkdtemp(prefix="bench_lifecycle_"))
    try:
        copy = tmp / "wh.duckdb"
        shutil.copy2(db, copy)
        con = duckdb.connect(str(copy))
        try:
            started = time.perf_counter()
            refresh_snapshots(con, settings, recompute_all=True)
            seconds = time.perf_counter() - started
            frames = {
                "runs": con.execute("select * from communities.community_snapshot_runs").df(),
                "assignments": con.execute("select * from communities.community_assignments").df(),
                "events": con.execute("select * from communities.community_events").df(),
                "signups": con.execute("select user_id, signup_date from main.dim_users").df(),
            }
        finally:
            con.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for name in ("runs", "assignments", "events"):
        frames[name]["snapshot_date"] = pd.to_datetime(frames[name]["snapshot_date"]).dt.date
    frames["signups"]["signup_date"] = pd.to_datetime(frames["signups"]["signup_date"]).dt.date
    frames["seconds"] = pd.DataFrame({"seconds": [seconds]})
    return frames


def membership_figures(frames: dict[str, pd.DataFrame], truth: Any) -> dict[str, float]:
    """Precision, recall, NMI and background assigned, averaged over the snapshots."""
    rows = []
    assignments = frames["assignments"]
    if "membership_status" in assignments:
        assignments = assignments[assignments["membership_status"].fillna("member") == "member"]
    signups = frames["signups"]
    for day in sorted(frames["runs"]["snapshot_date"]):
        signed = set(signups.loc[signups["signup_date"] <= day, "user_id"])
        planted = members_at(truth, day)
        planted = planted[planted.index.isin(signed)]
        here = assignments[assignments["snapshot_date"] == day]
        detected = pd.Series(here["community_id"].to_numpy(), index=here["user_id"].to_numpy())
        assigned = set(detected.index)
        members = set(planted.index)
        background = background_at(truth, day, signed)
        labels = detected.reindex(planted.index).fillna("-1").astype(str)
        rows.append(
            {
                "precision": len(assigned & members) / len(assigned) if assigned else np.nan,
                "recall": len(assigned & members) / len(members) if members else np.nan,
                "nmi": normalized_mutual_info(
                    planted.astype(str).to_numpy(),
                    labels.to_numpy(),
                    unassigned="singleton",
                    unassigned_labels=("-1",),
                )
                if len(members)
                else np.nan,
                "background_assigned": len(assigned & background) / len(background)
                if background
                else np.nan,
            }
        )
    return {key: float(np.nanmean([r[key] for r in rows])) for key in rows[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seeds", type=int, default=6, help="demo seeds 42, 43, ...")
    parser.add_argument(
        "--variant", action="append", default=[], help="name:key=value,... (DetectionSettings)"
    )
    parser.add_argument("--only", action="append", default=[], help="run only these variants")
    parser.add_argument(
        "--dump",
        type=Path,
        help="also write each variant's planted and detected events (matched flags) here",
    )
    args = parser.parse_args()

    variants = parse_variants(args.variant)
    if args.only:
        variants = {k: v for k, v in variants.items() if k in args.only}

    seeds = [FIRST_SEED + i for i in range(args.seeds)]
    print(f"demo {args.users:,} users x {args.days} days, seeds {seeds}")
    inputs = [build_inputs(args.users, args.days, seed) for seed in seeds]
    truths = [load_truth(truth_dir) for _, truth_dir in inputs]

    results: dict[str, Any] = {}
    for name, settings in variants.items():
        planted_all, detected_all, member_rows, seconds = [], [], [], 0.0
        emerged = 0
        for (db, _), truth, seed in zip(inputs, truths, seeds, strict=True):
            frames = run_variant(db, settings)
            seconds += float(frames["seconds"]["seconds"].iloc[0])
            first: date = frames["runs"]["snapshot_date"].min()
            later = frames["events"][frames["events"]["snapshot_date"] > first]
            emerged += int((later["event_type"] == "emerged").sum())
            planted, detected = match_lifecycle(
                frames["assignments"], frames["events"], first, truth
            )
            planted_all.append(planted.assign(seed=seed))
            detected_all.append(detected.assign(seed=seed))
            member_rows.append(membership_figures(frames, truth))
        planted = pd.concat(planted_all, ignore_index=True)
        detected = pd.concat(detected_all, ignore_index=True)
        if args.dump:
            _dump(args.dump, name, planted, detected)
        by_type = []
        for kind in LIFECYCLE_TYPES:
            p = planted[planted["event_type"] == kind]
            d = detected[detected["event_type"] == kind]
            by_type.append(
                {
                    "event_type": kind,
                    "planted": int(len(p)),
                    "found": int(p["found"].sum()),
                    "recall": float(p["found"].mean()) if len(p) else None,
                    "median_delay_days": float(p["lag_days"].dropna().median())
                    if p["found_lag"].any()
                    else None,
                    "detected": int(len(d)),
                    "matched": int(d["matched"].sum()),
                    "precision": float(d["matched"].mean()) if len(d) else None,
                }
            )
        membership = {
            key: float(np.mean([row[key] for row in member_rows])) for key in member_rows[0]
        }
        results[name] = {
            "settings": dataclasses.asdict(settings),
            "lifecycle": by_type,
            "membership": membership,
            "emerged": emerged,
            "snapshot_seconds": round(seconds, 1),
        }

    print("\n1. Lifecycle events, pooled (recall/precision within +-14 days; delay = median days")
    print("   from the planted date to the first matching event within -14/+42 days)")
    print(
        f"   {'variant':<12}{'type':<11}{'planted':>8}{'found':>7}{'recall':>8}{'delay':>7}"
        f"{'detected':>10}{'matched':>9}{'precision':>11}"
    )
    for name, result in results.items():
        for row in result["lifecycle"]:
            print(
                f"   {name:<12}{row['event_type']:<11}{row['planted']:>8}{row['found']:>7}"
                f"{_fmt(row['recall']):>8}{_fmt(row['median_delay_days'], 0):>7}"
                f"{row['detected']:>10}{row['matched']:>9}{_fmt(row['precision']):>11}"
            )
    print("   emerged (new communities whose inner ties are not new; no planted type):")
    print("   " + ", ".join(f"{name} {result['emerged']}" for name, result in results.items()))
    print("\n2. Membership, mean over snapshots and seeds")
    print(
        f"   {'variant':<12}{'precision':>10}{'recall':>8}{'NMI':>7}{'background assigned':>21}"
        f"{'snapshot step s':>17}"
    )
    for name, result in results.items():
        m = result["membership"]
        print(
            f"   {name:<12}{_fmt(m['precision']):>10}{_fmt(m['recall']):>8}{_fmt(m['nmi']):>7}"
            f"{_fmt(m['background_assigned']):>21}{result['snapshot_seconds']:>17.1f}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"users": args.users, "days": args.days, "seeds": seeds, "variants": results},
            indent=2,
            default=str,
        )
    )
    print(f"\n(results in {RESULTS.relative_to(PROJECT_DIR)})")
    return 0


def parse_variants(specs: list[str]) -> dict[str, DetectionSettings]:
    """``today``, ``before`` and ``default``, then one variant per ``--variant`` spec.

    Parameters
    ----------
    specs : list of str
        ``name:key=value,...`` with keys of DetectionSettings (changes to the default).

    Returns
    -------
    dict of str to DetectionSettings
        In the order given.
    """
    variants: dict[str, DetectionSettings] = {
        "today": dataclasses.replace(DetectionSettings(), **TODAY),
        "before": dataclasses.replace(DetectionSettings(), **BEFORE),
        "default": DetectionSettings(),
    }
    fields = {f.name for f in dataclasses.fields(DetectionSettings)}
    for spec in specs:
        name, _, pairs = spec.partition(":")
        changes: dict[str, Any] = {}
        for pair in filter(None, pairs.split(",")):
            key, _, value = pair.partition("=")
            if key not in fields:
                raise SystemExit(f"--variant {spec}: {key!r} is no DetectionSettings field")
            changes[key] = _parse(value, getattr(DetectionSettings(), key))
        variants[name] = dataclasses.replace(DetectionSettings(), **changes)
    return variants


def _dump(folder: Path, name: str, planted: pd.DataFrame, detected: pd.DataFrame) -> None:
    """Planted and detected events of one variant as Parquet (id sets as sorted lists)."""
    folder.mkdir(parents=True, exist_ok=True)
    for frame, column, kind in ((planted, "involved", "planted"), (detected, "mapped", "detected")):
        out = frame.copy()
        out[column] = [sorted(ids) for ids in out[column]]
        out.to_parquet(folder / f"{name}_{kind}.parquet", index=False)


def _parse(value: str, default: Any) -> Any:
    """A --variant value in the type of the setting's default (float when it is None)."""
    if value.lower() in ("", "none"):
        return None
    kind = type(default) if default is not None else float
    return kind(value) if kind is not bool else value.lower() in ("1", "true", "yes")


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


if __name__ == "__main__":
    raise SystemExit(main())
