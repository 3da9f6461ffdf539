"""Benchmark of the whole pipeline at several sizes: seconds and memory per step, and how they grow.

For each size (default 10,000, 30,000 and 100,000 users x 180 days, demo data cached
under data/bench/) the whole pipeline (`smallgroups run`: raw step, every dbt layer and
test, the Python steps, publishing) runs ``--repeat`` times on a fresh warehouse, each in
its own process with its own Dagster home. Printed per size: the median seconds of every
Dagster step, the slowest dbt models (their "Execution Duration"), the whole run's wall
time and its peak memory. Then, over the sizes, the fitted growth exponent of each step
(the slope of log seconds against log users: 1 grows like the data, 2 quadratically).

``--quiet-history`` adds the benchmark case of a long, mostly quiet history: 2,500 users
over about 10 years in 13 two-week bursts (:mod:`orchestration.lib.demo.quiet`), where
most weekly snapshots have nothing new. The aims of the issue are printed beside the
figures (whole pipeline <= 600 s and <= 4 GB at 100,000 users; the quiet history <= 60 s);
nothing here passes or fails. Results go to bench/results/pipeline.json.

    python bench/bench_pipeline.py                                  # 10k, 30k, 100k; 3 runs each
    python bench/bench_pipeline.py --users 10000 30000 --repeat 1
    python bench/bench_pipeline.py --users --quiet-history          # only the quiet history

Quote figures from an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import measure  # noqa: E402
from _truth import demo_command  # noqa: E402

PROJECT_DIR = Path(__file__).resolve().parents[1]
AIM_SECONDS, AIM_MIB, AIM_QUIET_SECONDS = 600.0, 4096.0, 60.0
QUIET = {"users": 2_500, "days": 182, "start": "2014-01-01", "burst_days": 14, "gap_days": 280}


def _run_stats(dagster_home: Path) -> tuple[dict[str, float], dict[str, float], dict[str, str]]:
    """Seconds per step and per dbt model of the latest run recorded in ``dagster_home``,
    and a readable label of each dbt step (its model count and slowest model)."""
    import dagster as dg

    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    try:
        with dg.DagsterInstance.get() as instance:
            run = instance.get_runs(limit=1)[0]
            steps = {
                stat.step_key: stat.end_time - stat.start_time
                for stat in instance.get_run_step_stats(run.run_id)
                if stat.start_time is not None and stat.end_time is not None
            }
            records = instance.get_records_for_run(
                run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=100_000
            ).records
    finally:
        if previous is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous
    models: dict[str, float] = {}
    step_models: dict[str, list[str]] = {}
    for record in records:
        materialization = record.event_log_entry.dagster_event.event_specific_data.materialization
        duration = materialization.metadata.get("Execution Duration")
        if duration is not None:
            name = materialization.asset_key.to_user_string()
            models[name] = float(duration.value)
            step_models.setdefault(record.event_log_entry.step_key or "", []).append(name)
    labels = {
        step: f"dbt, {len(names)} models, slowest {max(names, key=models.__getitem__)}"
        for step, names in step_models.items()
        if step
    }
    return steps, models, labels


def _pipeline(work: Path, raw_dir: Path) -> tuple[float, float, dict, dict, dict]:
    """One fresh `smallgroups run` on ``raw_dir``: seconds, peak MiB, step and model
    seconds, dbt step labels."""
    shutil.rmtree(work, ignore_errors=True)
    home = work / "dagster_home"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "DAGSTER_HOME": str(home),
        "SMALLGROUPS_RAW_DIR": str(raw_dir),
        "SMALLGROUPS_DUCKDB_PATH": str(work / "smallgroups.duckdb"),
        "SMALLGROUPS_SERVING_PATH": str(work / "serving.duckdb"),
        "DBT_TARGET_PATH": str(work / "dbt_target"),
    }
    env.pop("SMALLGROUPS_TRUTH_DIR", None)
    cmd = [sys.executable, "-m", "orchestration.cli", "run", "--log-level", "WARNING"]
    measured = measure(cmd, env=env, cwd=str(PROJECT_DIR))
    steps, models, labels = _run_stats(home)
    return measured.seconds, measured.peak_rss_mb, steps, models, labels


def _demo(users: int, days: int, seed: int) -> Path:
    """The cached raw folder of a demo data set (generated on first use)."""
    work = PROJECT_DIR / "data" / "bench" / f"u{users}_d{days}_s{seed}"
    raw_dir, truth_dir = work / "raw", work / "ground_truth"
    if not (truth_dir / "summary.json").exists():
        cmd = demo_command(raw_dir, truth_dir, users=users, days=days, seed=seed)
        generated = measure(cmd, cwd=str(PROJECT_DIR))
        print(f"generated {users:,} users x {days} days in {generated.seconds:.1f} s", flush=True)
    return raw_dir


def _quiet(seed: int) -> Path:
    """The cached raw folder of the quiet-history case."""
    from orchestration.lib.demo.quiet import stretch_history

    work = PROJECT_DIR / "data" / "bench" / f"quiet_u{QUIET['users']}_s{seed}"
    raw_dir, truth_dir = work / "raw", work / "ground_truth"
    if not (raw_dir / "users.parquet").exists():
        cmd = demo_command(
            work / "src", truth_dir, users=QUIET["users"], days=QUIET["days"], seed=seed
        )
        measure([*cmd, "--start-date", QUIET["start"]], cwd=str(PROJECT_DIR))
        result = stretch_history(
            work / "src", raw_dir, burst_days=QUIET["burst_days"], gap_days=QUIET["gap_days"]
        )
        print(
            f"quiet history: {result.bursts} bursts over {result.span_days:,} days "
            f"({result.first_date} to {result.last_date})",
            flush=True,
        )
    return raw_dir


def _case(name: str, raw_dir: Path, repeat: int) -> dict:
    """Run one data set ``repeat`` times; the medians, printed."""
    runs = [
        _pipeline(PROJECT_DIR / "data" / "bench" / "pipeline_runs" / name, raw_dir)
        for _ in range(repeat)
    ]
    seconds = statistics.median(run[0] for run in runs)
    peak = max(run[1] for run in runs)
    step_keys = sorted({key for run in runs for key in run[2]})
    steps = {key: statistics.median(run[2].get(key, 0.0) for run in runs) for key in step_keys}
    model_keys = sorted({key for run in runs for key in run[3]})
    models = {key: statistics.median(run[3].get(key, 0.0) for run in runs) for key in model_keys}
    labels = {key: label for run in runs for key, label in run[4].items()}
    print(f"\n{name}: median of {repeat} run(s)")
    print(f"{'step':<60} {'seconds':>9}")
    for key, value in sorted(steps.items(), key=lambda item: -item[1]):
        if value >= 0.5:
            label = f"  ({labels[key]})" if key in labels else ""
            print(f"{key:<60} {value:>9.1f}{label}")
    print(f"{'slowest dbt models':<60}")
    for key, value in sorted(models.items(), key=lambda item: -item[1])[:8]:
        print(f"  {key:<58} {value:>9.1f}")
    print(f"{'whole run (process wall time)':<60} {seconds:>9.1f}")
    print(f"{'peak memory of the run, MiB':<60} {peak:>9.0f}")
    return {
        "seconds": seconds,
        "peak_mib": peak,
        "steps": steps,
        "models": models,
        "dbt_steps": labels,
        "runs": repeat,
    }


def _exponent(sizes: list[int], values: list[float]) -> float | None:
    """Least-squares slope of log(value) on log(size); None without two positive points."""
    points = [(math.log(s), math.log(v)) for s, v in zip(sizes, values, strict=True) if v > 0]
    if len(points) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="*", default=[10_000, 30_000, 100_000])
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (median)")
    parser.add_argument("--quiet-history", action="store_true", help="add the quiet case")
    args = parser.parse_args()

    results: dict = {"days": args.days, "seed": args.seed, "sizes": {}}
    for users in args.users:
        raw_dir = _demo(users, args.days, args.seed)
        results["sizes"][str(users)] = _case(f"u{users}_d{args.days}", raw_dir, args.repeat)
    if args.quiet_history:
        results["quiet_history"] = _case("quiet_history", _quiet(args.seed), args.repeat)

    sizes = [int(users) for users in results["sizes"]]
    if len(sizes) >= 2:
        print(f"\ngrowth exponent per step over {', '.join(f'{s:,}' for s in sizes)} users")
        keys = sorted({key for size in results["sizes"].values() for key in size["steps"]})
        per = {k: [results["sizes"][str(s)]["steps"].get(k, 0.0) for s in sizes] for k in keys}
        per["whole run"] = [results["sizes"][str(s)]["seconds"] for s in sizes]
        exponents = {key: _exponent(sizes, values) for key, values in per.items()}
        results["exponents"] = exponents
        for key, values in sorted(per.items(), key=lambda item: -item[1][-1]):
            if values[-1] >= 0.5 and exponents[key] is not None:
                figures = " ".join(f"{v:>8.1f}" for v in values)
                print(f"{key:<52} {figures}   exponent {exponents[key]:.2f}")
    largest = results["sizes"].get("100000")
    if largest:
        print(
            f"aim at 100,000 users: <= {AIM_SECONDS:.0f} s: {largest['seconds']:.0f} s "
            f"({'met' if largest['seconds'] <= AIM_SECONDS else 'MISSED'}); "
            f"<= {AIM_MIB:.0f} MiB: {largest['peak_mib']:.0f} MiB "
            f"({'met' if largest['peak_mib'] <= AIM_MIB else 'MISSED'})"
        )
    if "quiet_history" in results:
        quiet = results["quiet_history"]["seconds"]
        print(
            f"aim for the quiet history: <= {AIM_QUIET_SECONDS:.0f} s: {quiet:.0f} s "
            f"({'met' if quiet <= AIM_QUIET_SECONDS else 'MISSED'})"
        )
    out = PROJECT_DIR / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "pipeline.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
