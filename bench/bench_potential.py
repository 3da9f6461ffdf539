"""Backtest of the potential score (issue 17): does "high potential" predict the next 4 weeks?

For every past snapshot with a snapshot 4 weeks later, the groups
``rpt_high_potential_communities`` would rank (its size range, detected and declared)
are scored by its seed logic (the ``high_potential_score_components`` seed's weights on
the growth, cohesion and activity scores of ``fct_community_health``), by the refitted
score (``fitted_score``: each snapshot scored by the weights fitted on the outcomes
known by then, ``orchestration/lib/planning/potential.py``; compared with the others on
those snapshots only, "out-of-time") and by two naive baselines (current size; last 4
weeks' member growth, 0 for a group too new to have one), and compared with what
happened next: member growth, activity growth (posts and comments, reactions, shares,
mentions) and member retention (``orchestration/lib/planning/backtest.py``). Printed per
data set, for all groups and per group kind: the mean over snapshots of the rank
correlation and of the top decile's lift over the median (snapshots with at least
``--min-groups`` groups), and the same pooled over snapshots (within-snapshot
percentiles and median-centred outcomes, for the real sets' few groups per snapshot),
each with a 95% moving-block bootstrap interval (blocks of 4 weekly snapshots). Figures
only: nothing passes or fails.

    python bench/bench_potential.py --warehouse /tmp/wh30k.duckdb    # a built demo (a copy)
    python bench/bench_potential.py --real                           # CollegeMsg, Stack Exchange
    python bench/bench_potential.py --real --work /tmp/real          # built there
    python bench/bench_potential.py --real-warehouse collegemsg=/tmp/real/cm/warehouse.duckdb

``--real`` imports and builds the real data sets of ``SMALLGROUPS_EVAL_DATA`` (default
``../shared/data``: ``interactions/collegemsg/CollegeMsg.txt`` and
``interactions/stackexchange_conlang_meta``) with the whole pipeline, one warehouse each
under ``--work`` (default ``data/real/<name>``, as ``bench/report_real.py``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from orchestration.lib.config import dbt_project_var  # noqa: E402
from orchestration.lib.planning.backtest import (  # noqa: E402
    BASELINES,
    OUTCOMES,
    backtest,
    pooled_backtest,
    potential_score,
    read_panel,
)
from orchestration.lib.planning.potential import out_of_time_scores  # noqa: E402

EVAL = Path(os.environ.get("SMALLGROUPS_EVAL_DATA", PROJECT_DIR.parent / "shared" / "data"))
REAL = (
    ("collegemsg", "SMALLGROUPS_COLLEGEMSG_FILE", Path("interactions/collegemsg/CollegeMsg.txt")),
    ("stackexchange_conlang_meta", "SMALLGROUPS_STACKEXCHANGE_DUMP",
     Path("interactions/stackexchange_conlang_meta")),
)  # fmt: skip
SCORES = ("potential_score", *BASELINES)
#: Compared on the snapshots the refit scores out of time (fitted on earlier ones only).
OOT_SCORES = ("fitted_score", *SCORES)


def build(name: str, env_name: str, source: Path, work: Path) -> Path:
    """Import ``source`` and run the whole pipeline into ``work/warehouse.duckdb``."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "dagster_home").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        env_name: str(source),
        "SMALLGROUPS_RAW_DIR": str(work / "raw"),
        "SMALLGROUPS_DUCKDB_PATH": str(work / "warehouse.duckdb"),
        "DAGSTER_HOME": str(work / "dagster_home"),
        "DBT_TARGET_PATH": str(work / "dbt_target"),
    }
    for unset in ("SMALLGROUPS_SERVING_PATH", "SMALLGROUPS_TRUTH_DIR"):
        env.pop(unset, None)
    print(f"{name}: running the pipeline on {source} ...", flush=True)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", "--log-level", "WARNING"],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        print(done.stdout[-2000:], done.stderr[-4000:])
        raise SystemExit(f"pipeline failed on {source}")
    print(f"{name}: built in {time.perf_counter() - started:.0f} s", flush=True)
    return work / "warehouse.duckdb"


def weights(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """The seed's weights, as the warehouse holds them."""
    rows = con.execute("select component, weight from main.high_potential_score_components")
    return {component: float(weight) for component, weight in rows.fetchall()}


def panel_of(warehouse: Path, horizon_days: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """The backtest panel of a built warehouse, with the three scores."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set enable_progress_bar = false")
        seed = weights(con)
        panel = read_panel(
            con,
            horizon_days=horizon_days,
            min_members=int(dbt_project_var("high_potential_min_members")),
            max_members=int(dbt_project_var("high_potential_max_members")),
        )
    panel["potential_score"] = potential_score(panel, seed)
    panel["size_now"] = panel["count_members"].astype(float)
    panel["growth_last_4_weeks"] = panel["member_growth_rate_4_weeks"].astype(float).fillna(0.0)
    # The refitted score (orchestration/lib/planning/potential.py), each snapshot scored
    # by the weights fitted on the outcomes known by then (NaN before 4 such snapshots).
    panel = panel.sort_values(["snapshot_date", "group_kind", "community_id"], ignore_index=True)
    panel["fitted_score"], _ = out_of_time_scores(panel)
    return panel, seed


def report(
    name: str,
    warehouse: Path,
    *,
    horizon_days: int,
    n_boot: int,
    seed: int,
    min_groups: int = 10,
    pooled_min_groups: int = 3,
) -> None:
    """Print the backtest of one warehouse: all groups, then per group kind."""
    started = time.perf_counter()
    panel, used = panel_of(warehouse, horizon_days)
    print(
        f"\n== {name} ({warehouse}): weights {used}; {panel['snapshot_date'].nunique()} "
        f"snapshots with one {horizon_days} days later, {len(panel):,} (snapshot, group) "
        f"rows, {panel.groupby('group_kind').size().to_dict()}"
    )
    if panel.empty:
        print("   no snapshot has one 4 weeks later: nothing to backtest")
        return
    oot = panel[panel["fitted_score"].notna()]
    parts = [("all", panel, SCORES)] + [
        (kind, frame, SCORES) for kind, frame in panel.groupby("group_kind", sort=True)
    ]
    if len(oot):
        print(
            f"   out of time: {oot['snapshot_date'].nunique()} snapshots "
            f"({oot['snapshot_date'].min():%Y-%m-%d} to {oot['snapshot_date'].max():%Y-%m-%d}) "
            f"scored by weights fitted on earlier outcomes, {len(oot):,} rows"
        )
        parts += [("out-of-time all", oot, OOT_SCORES)] + [
            (f"out-of-time {kind}", frame, OOT_SCORES)
            for kind, frame in oot.groupby("group_kind", sort=True)
        ]
    for label, frame, scores in parts:
        for method, run in (("per snapshot", backtest), ("pooled", pooled_backtest)):
            minimum = min_groups if method == "per snapshot" else pooled_min_groups
            table = run(frame, scores, OUTCOMES, n_boot=n_boot, seed=seed, min_groups=minimum)
            print(f"-- {name}, {label} groups, {method} (snapshots with >= {minimum} groups)")
            print(
                f"   {'score':<20} {'outcome':<17} {'snaps':>5} {'rows':>6}  "
                f"{'rank corr [95%]':<26} {'top-decile lift [95%]':<28} {'median':>7}"
            )
            for row in table.itertuples(index=False):
                print(
                    f"   {row.score:<20} {row.outcome:<17} {row.count_snapshots:>5} "
                    f"{row.count_rows:>6}  {row.rank_correlation:+.3f} "
                    f"[{row.rank_correlation_ci_low:+.3f}, {row.rank_correlation_ci_high:+.3f}]"
                    f"   {row.top_decile_lift:+.3f} [{row.top_decile_lift_ci_low:+.3f}, "
                    f"{row.top_decile_lift_ci_high:+.3f}]      {row.median_outcome:+.3f}"
                )
    print(f"   ({time.perf_counter() - started:.1f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, action="append", default=[],
                        help="a built warehouse to backtest (opened read only)")  # fmt: skip
    parser.add_argument("--real", action="store_true", help="build and backtest the real sets")
    parser.add_argument("--real-warehouse", action="append", default=[], metavar="NAME=PATH",
                        help="an already built warehouse of a real set")  # fmt: skip
    parser.add_argument("--work", type=Path, default=PROJECT_DIR / "data" / "real",
                        help="where --real builds (one folder per set)")  # fmt: skip
    parser.add_argument("--horizon-days", type=int, default=28)
    parser.add_argument("--n-boot", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--min-groups",
        type=int,
        default=10,
        help="per-snapshot statistics: snapshots with at least this many groups",
    )
    parser.add_argument(
        "--pooled-min-groups",
        type=int,
        default=3,
        help="pooled statistics: snapshots with at least this many groups",
    )
    args = parser.parse_args()
    targets = [("demo" if len(args.warehouse) == 1 else str(p), p) for p in args.warehouse]
    for item in args.real_warehouse:
        name, _, path = item.partition("=")
        targets.append((name, Path(path)))
    if args.real:
        for name, env_name, relative in REAL:
            source = EVAL / relative
            if not source.exists():
                print(f"{name}: {source} not found (set SMALLGROUPS_EVAL_DATA); skipped")
                continue
            targets.append((name, build(name, env_name, source, args.work / name)))
    if not targets:
        parser.error("give --warehouse, --real or --real-warehouse")
    for name, warehouse in targets:
        report(
            name,
            warehouse,
            horizon_days=args.horizon_days,
            n_boot=args.n_boot,
            seed=args.seed,
            min_groups=args.min_groups,
            pooled_min_groups=args.pooled_min_groups,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
