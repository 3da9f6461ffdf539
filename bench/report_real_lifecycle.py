"""Lifecycle events per month on real temporal data, today's method next to the default.

Imports a real community (the SNAP CollegeMsg file and the Stack Exchange dump in
``SMALLGROUPS_EVAL_DATA``, default ``../shared/data``) with the whole pipeline, like
``bench/report_real.py`` (same warehouse under ``data/real/<name>/``), then reruns the
weekly community snapshots on copies of that warehouse under each variant of
``bench/bench_lifecycle.py`` (``today``: size-aware resolution, every placed user a
member, a hard 28-day window, no dormancy, recent-split or candidate rule; ``default``:
``DetectionSettings()``; ``before``: the default before its last change; more with
``--variant``, as in bench_lifecycle) and prints, per month, how many communities were born, split,
merged, dissolved and emerged, and the share of users assigned as members (and as fringe) at the
month's snapshots. No truth exists here: the figures show what an operator would be
told, and how much the lifecycle rules change it. Figures only.

    python bench/report_real_lifecycle.py
    python bench/report_real_lifecycle.py --collegemsg path/CollegeMsg.txt --skip-stackexchange
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pandas as pd

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR / "bench"))
sys.path.insert(0, str(PROJECT_DIR))

from bench_communities import LIFECYCLE_TYPES  # noqa: E402
from bench_lifecycle import parse_variants, run_variant  # noqa: E402
from report_real import _run_pipeline  # noqa: E402

from orchestration.lib.communities.snapshots import DetectionSettings  # noqa: E402

#: The planted types and "emerged" (a community first seen whose inner ties are not new).
REPORTED = (*LIFECYCLE_TYPES, "emerged")
EVAL = Path(os.environ.get("SMALLGROUPS_EVAL_DATA", PROJECT_DIR.parent / "shared" / "data"))


def monthly(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Events per month and type, and the mean shares of users assigned, per month.

    The first snapshot's events (every community is "born" there) are left out.
    """
    runs = frames["runs"].copy()
    first = runs["snapshot_date"].min()
    runs["month"] = pd.to_datetime(runs["snapshot_date"]).dt.strftime("%Y-%m")
    events = frames["events"]
    events = events[events["event_type"].isin(REPORTED) & (events["snapshot_date"] > first)].copy()
    events["month"] = pd.to_datetime(events["snapshot_date"]).dt.strftime("%Y-%m")
    counts = (
        events.groupby(["month", "event_type"])
        .size()
        .unstack(fill_value=0)
        .reindex(columns=list(REPORTED), fill_value=0)
    )
    fringe = runs.get("count_fringe", 0)
    runs = runs.assign(
        member_share=runs["count_assigned"] / runs["count_users"].clip(lower=1),
        fringe_share=fringe / runs["count_users"].clip(lower=1),
    )
    shares = runs.groupby("month").agg(
        snapshots=("snapshot_date", "size"),
        communities=("count_communities", "mean"),
        member_share=("member_share", "mean"),
        fringe_share=("fringe_share", "mean"),
    )
    return shares.join(counts, how="left").fillna(0)


def report(db: Path, variants: dict[str, DetectionSettings]) -> None:
    """Print the monthly table of every variant for the warehouse ``db``."""
    for name, settings in variants.items():
        table = monthly(run_variant(db, settings))
        print(f"\n  {name}: per month (events after the first snapshot; shares of all users)")
        header = f"    {'month':<9}{'weeks':>6}{'communities':>12}{'members':>9}{'fringe':>8}"
        print(header + "".join(f"{kind:>11}" for kind in REPORTED))
        for month, row in table.iterrows():
            print(
                f"    {month:<9}{int(row['snapshots']):>6}{row['communities']:>12.1f}"
                f"{row['member_share']:>9.1%}{row['fringe_share']:>8.1%}"
                + "".join(f"{int(row[kind]):>11}" for kind in REPORTED)
            )
        totals = table[list(REPORTED)].sum()
        print(
            f"    {'all':<9}{int(table['snapshots'].sum()):>6}"
            f"{table['communities'].mean():>12.1f}{table['member_share'].mean():>9.1%}"
            f"{table['fringe_share'].mean():>8.1%}"
            + "".join(f"{int(totals[kind]):>11}" for kind in REPORTED)
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stackexchange", type=Path, help="unpacked Stack Exchange dump folder")
    parser.add_argument("--collegemsg", type=Path, help="SNAP CollegeMsg.txt")
    parser.add_argument("--skip-stackexchange", action="store_true")
    parser.add_argument("--skip-collegemsg", action="store_true")
    parser.add_argument(
        "--variant", action="append", default=[], help="name:key=value,... (DetectionSettings)"
    )
    parser.add_argument(
        "--only", action="append", default=[], help="run only these variants (default: all)"
    )
    args = parser.parse_args()
    variants = parse_variants(args.variant)
    if args.only:
        variants = {k: v for k, v in variants.items() if k in args.only}
    sources = [
        (
            "collegemsg",
            args.collegemsg or EVAL / "interactions" / "collegemsg" / "CollegeMsg.txt",
            "SMALLGROUPS_COLLEGEMSG_FILE",
            args.skip_collegemsg,
        ),
        (
            "stackexchange",
            args.stackexchange or EVAL / "interactions" / "stackexchange_conlang_meta",
            "SMALLGROUPS_STACKEXCHANGE_DUMP",
            args.skip_stackexchange,
        ),
    ]
    for kind, path, env_name, skip in sources:
        if skip:
            continue
        if not path.exists():
            print(f"{kind}: {path} not found (set SMALLGROUPS_EVAL_DATA); skipped")
            continue
        print(f"\n== {kind}: {path}")
        report(_run_pipeline(env_name, path, path.stem.lower()), variants)
    return 0


if __name__ == "__main__":
    sys.exit(main())
