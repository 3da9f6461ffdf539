"""Benchmark of the nightly refresh: what one more day costs against a full build.

Generates a demo data set (default 100,000 users x 180 days, cached under
data/bench/), then runs the whole pipeline (`smallgroups run`: raw step, every dbt
layer and test, the Python steps, publishing) three times, each in its own process
with its own warehouse and Dagster home:

1. **full**: a fresh warehouse on every day of events;
2. **history**: a fresh warehouse on every day but the last (not compared, it sets up 3);
3. **one day**: the last day's event file lands beside the history and the pipeline
   runs again (the nightly refresh).

Prints, per Dagster step (from the run's step stats in its Dagster home), the seconds of
the full build and of the one-day refresh and their ratio, then the totals, the
one-day refresh as a share of the full build and the peak memory of each run. The
issue's aims (one day <= 15% of the full build and <= 60 s) are printed beside the
figures; nothing here passes or fails. Results also go to bench/results/daily_refresh.json.

    python bench/bench_daily_refresh.py                       # 100k users x 180 days
    python bench/bench_daily_refresh.py --users 10000 --days 60
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import measure  # noqa: E402
from _truth import demo_command  # noqa: E402

PROJECT_DIR = Path(__file__).resolve().parents[1]
AIM_SHARE, AIM_SECONDS = 0.15, 60.0


def _step_seconds(dagster_home: Path) -> dict[str, float]:
    """Seconds per step of the latest run recorded in ``dagster_home``."""
    import dagster as dg

    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    try:
        with dg.DagsterInstance.get() as instance:
            run = instance.get_runs(limit=1)[0]
            stats = instance.get_run_step_stats(run.run_id)
    finally:
        if previous is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous
    return {
        stat.step_key: stat.end_time - stat.start_time
        for stat in stats
        if stat.start_time is not None and stat.end_time is not None
    }


def _raw_view(source: Path, target: Path, days: list[Path]) -> None:
    """``target``: every raw table of ``source`` by symlink, events limited to ``days``."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for entry in source.iterdir():
        if entry.name != "events":
            (target / entry.name).symlink_to(entry.resolve())
    (target / "events").mkdir()
    for path in days:
        (target / "events" / path.name).symlink_to(path.resolve())


def _pipeline(work: Path, name: str, raw_dir: Path, *, fresh: bool) -> tuple[float, float]:
    """Run `smallgroups run` on ``raw_dir`` with the warehouse ``work/<name>``; seconds, MiB."""
    home, db = work / f"{name}_dagster_home", work / f"{name}.duckdb"
    if fresh:
        shutil.rmtree(home, ignore_errors=True)
        for path in work.glob(f"{name}*.duckdb*"):
            path.unlink()
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "DAGSTER_HOME": str(home),
        "SMALLGROUPS_RAW_DIR": str(raw_dir),
        "SMALLGROUPS_DUCKDB_PATH": str(db),
        "SMALLGROUPS_SERVING_PATH": str(work / f"{name}_serving.duckdb"),
        "DBT_TARGET_PATH": str(work / f"{name}_dbt_target"),
    }
    for variable in ("SMALLGROUPS_TRUTH_DIR",):
        env.pop(variable, None)
    cmd = [sys.executable, "-m", "orchestration.cli", "run", "--log-level", "WARNING"]
    measured = measure(cmd, env=env, cwd=str(PROJECT_DIR))
    return measured.seconds, measured.peak_rss_mb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    work = PROJECT_DIR / "data" / "bench" / f"u{args.users}_d{args.days}_s{args.seed}"
    raw_dir, truth_dir = work / "raw", work / "ground_truth"
    if not (truth_dir / "summary.json").exists():
        cmd = demo_command(raw_dir, truth_dir, users=args.users, days=args.days, seed=args.seed)
        generated = measure(cmd, cwd=str(PROJECT_DIR))
        print(f"generated the demo data in {generated.seconds:.1f} s")
    days = sorted((raw_dir / "events").glob("*.parquet"))
    if len(days) < 2:
        raise SystemExit(f"{raw_dir / 'events'}: needs daily event files, found {len(days)}")
    runs = work / "daily_refresh"
    runs.mkdir(exist_ok=True)

    _raw_view(raw_dir, runs / "raw_full", days)
    full_seconds, full_mib = _pipeline(runs, "full", runs / "raw_full", fresh=True)
    full_steps = _step_seconds(runs / "full_dagster_home")

    _raw_view(raw_dir, runs / "raw_daily", days[:-1])
    history_seconds, _ = _pipeline(runs, "daily", runs / "raw_daily", fresh=True)
    (runs / "raw_daily" / "events" / days[-1].name).symlink_to(days[-1].resolve())
    day_seconds, day_mib = _pipeline(runs, "daily", runs / "raw_daily", fresh=False)
    day_steps = _step_seconds(runs / "daily_dagster_home")

    print(f"\nnightly refresh, {args.users:,} users x {len(days)} days (seed {args.seed})")
    print(f"{'step':<44} {'full s':>8} {'one day s':>10} {'share':>7}")
    for step in sorted(set(full_steps) | set(day_steps), key=lambda s: -full_steps.get(s, 0)):
        full, day = full_steps.get(step, 0.0), day_steps.get(step, 0.0)
        share = f"{day / full:.0%}" if full else "-"
        print(f"{step:<44} {full:>8.1f} {day:>10.1f} {share:>7}")
    share = day_seconds / full_seconds
    print(
        f"{'whole run (process wall time)':<44} {full_seconds:>8.1f} {day_seconds:>10.1f} "
        f"{share:>7.0%}"
    )
    print(f"history build (all days but the last): {history_seconds:.1f} s")
    print(f"peak memory: full {full_mib:.0f} MiB, one day {day_mib:.0f} MiB")
    print(
        f"aims: one day <= {AIM_SHARE:.0%} of the full build: {share:.1%} "
        f"({'met' if share <= AIM_SHARE else 'MISSED'}); <= {AIM_SECONDS:.0f} s: "
        f"{day_seconds:.1f} s ({'met' if day_seconds <= AIM_SECONDS else 'MISSED'})"
    )
    results = PROJECT_DIR / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "daily_refresh.json").write_text(
        json.dumps(
            {
                "users": args.users,
                "days": len(days),
                "seed": args.seed,
                "full_seconds": full_seconds,
                "one_day_seconds": day_seconds,
                "history_seconds": history_seconds,
                "share": share,
                "full_peak_mib": full_mib,
                "one_day_peak_mib": day_mib,
                "full_steps": full_steps,
                "one_day_steps": day_steps,
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
