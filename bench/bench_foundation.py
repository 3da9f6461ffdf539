"""Benchmark of the warehouse foundation on a large generated data set.

Prints, for the demo generator at --users/--days (default 100,000 users x 180 days,
about 10 million events): generation time, the time to register the raw files, the
full-refresh time of each dbt layer (staging, intermediate, marts) and of the dbt
tests, events per second, and the peak memory of each step. Figures only: nothing
here passes or fails. Results also go to bench/results/foundation.json.

    python bench/bench_foundation.py                 # 100k users x 180 days
    python bench/bench_foundation.py --users 10000 --days 120
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

from orchestration.lib.config import dbt_executable  # noqa: E402

PROJECT_DIR = Path(__file__).resolve().parents[1]
# What the raw asset does, run in its own process so its time and memory are measured.
REGISTER_RAW = (
    "from orchestration.lib.config import load_settings;"
    "from orchestration.lib.raw import register_raw_tables;"
    "from orchestration.lib.warehouse import connect;"
    "s = load_settings();"
    "con = connect(s.duckdb_path); register_raw_tables(con, s.raw_dir); con.close()"
)


def _incremental_day(raw_dir, work, env, base, flags, layers):
    """Build on all days but the last, land the last day's file, time the refresh."""
    inc_raw = work / "raw_incremental"
    if inc_raw.exists():
        shutil.rmtree(inc_raw)
    inc_raw.mkdir()
    for entry in raw_dir.iterdir():
        if entry.name != "events":
            (inc_raw / entry.name).symlink_to(entry)
    (inc_raw / "events").mkdir()
    days = sorted((raw_dir / "events").glob("*.parquet"))
    for path in days[:-1]:
        (inc_raw / "events" / path.name).symlink_to(path)
    inc_db = work / "warehouse_incremental.duckdb"
    inc_db.unlink(missing_ok=True)
    inc_env = {**env, "SMALLGROUPS_RAW_DIR": str(inc_raw), "SMALLGROUPS_DUCKDB_PATH": str(inc_db)}
    selection = [item for sel in layers.values() for item in sel]
    py = sys.executable
    measure([py, "-c", REGISTER_RAW], env=inc_env, cwd=str(PROJECT_DIR))
    measure(base + ["seed"] + flags, env=inc_env, cwd=str(PROJECT_DIR))
    measure(base + ["run", "--select", *selection] + flags, env=inc_env, cwd=str(PROJECT_DIR))
    (inc_raw / "events" / days[-1].name).symlink_to(days[-1])
    measure([py, "-c", REGISTER_RAW], env=inc_env, cwd=str(PROJECT_DIR))
    m = measure(base + ["run", "--select", *selection] + flags, env=inc_env, cwd=str(PROJECT_DIR))
    return [(f"incremental refresh (+1 day of {len(days)})", m.seconds, m.peak_rss_mb)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--regenerate", action="store_true", help="regenerate even if present")
    parser.add_argument(
        "--incremental",
        action="store_true",
        help="also time a refresh that adds one day of events to the full history",
    )
    args = parser.parse_args()

    work = PROJECT_DIR / "data" / "bench" / f"u{args.users}_d{args.days}_s{args.seed}"
    raw_dir, truth_dir, db = work / "raw", work / "ground_truth", work / "warehouse.duckdb"
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "SMALLGROUPS_RAW_DIR": str(raw_dir),
        "SMALLGROUPS_DUCKDB_PATH": str(db),
    }
    py = sys.executable
    dbt = dbt_executable()
    rows: list[tuple[str, float, float]] = []

    if args.regenerate or not (truth_dir / "summary.json").exists():
        cmd = demo_command(raw_dir, truth_dir, users=args.users, days=args.days, seed=args.seed)
        m = measure(cmd, env=env, cwd=str(PROJECT_DIR))
        rows.append(("generate demo data", m.seconds, m.peak_rss_mb))
    else:
        print(f"reusing generated data in {work} (--regenerate to redo)")

    db.unlink(missing_ok=True)
    m = measure([py, "-c", REGISTER_RAW], env=env, cwd=str(PROJECT_DIR))
    rows.append(("register raw views", m.seconds, m.peak_rss_mb))

    base = [dbt, "--quiet", "--no-use-colors"]
    flags = ["--profiles-dir", str(PROJECT_DIR), "--project-dir", str(PROJECT_DIR)]
    m = measure(base + ["seed"] + flags, env=env, cwd=str(PROJECT_DIR))
    rows.append(("dbt seed", m.seconds, m.peak_rss_mb))
    # The foundation layers only: the community models need the Python snapshot step
    # (measured by bench/bench_communities.py and the detection benchmark).
    layers = {
        "staging": ["path:models/staging/product"],
        "intermediate": ["path:models/intermediate/graph"],
        "marts": ["path:models/marts/core", "path:models/marts/graph"],
    }
    for layer, selection in layers.items():
        m = measure(base + ["run", "--select", *selection] + flags, env=env, cwd=str(PROJECT_DIR))
        rows.append((f"dbt run {layer}", m.seconds, m.peak_rss_mb))
    everything = [item for selection in layers.values() for item in selection]
    test_args = ["test", "--select", *everything, "--indirect-selection", "buildable"]
    m = measure(base + test_args + flags, env=env, cwd=str(PROJECT_DIR))
    rows.append(("dbt test (data + unit tests)", m.seconds, m.peak_rss_mb))

    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    n_raw_events = con.execute("select count(*) from raw.events").fetchall()[0][0]
    counts = {
        t: con.execute(f"select count(*) from main.{t}").fetchall()[0][0]
        for t in (
            "stg_product__events",
            "stg_product__contents",
            "dim_users",
            "fct_user_activity_daily",
            "fct_user_edges",
            "stg_product__rejected_rows",
        )
    }
    con.close()

    if args.incremental:
        rows += _incremental_day(raw_dir, work, env, base, flags, layers)

    dbt_seconds = sum(s for name, s, _ in rows if name.startswith("dbt run "))
    print(
        f"\nfoundation benchmark: {args.users:,} users x {args.days} days, "
        f"{n_raw_events:,} raw events, {os.cpu_count()} cores"
    )
    print(f"  {'step':<36}{'seconds':>10}{'peak MiB':>10}{'events/s':>14}")
    for name, seconds, rss in rows:
        print(f"  {name:<36}{seconds:>10.1f}{rss:>10.0f}{n_raw_events / seconds:>14,.0f}")
    print(
        f"  {'dbt layers (staging+int+marts)':<36}{dbt_seconds:>10.1f}{'':>10}"
        f"{n_raw_events / dbt_seconds:>14,.0f}"
    )
    print("  rows: " + ", ".join(f"{t}={c:,}" for t, c in counts.items()))

    out = PROJECT_DIR / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "foundation.json").write_text(
        json.dumps(
            {
                "users": args.users,
                "days": args.days,
                "seed": args.seed,
                "raw_events": n_raw_events,
                "steps": [
                    {"step": n, "seconds": round(s, 2), "peak_rss_mb": round(r)} for n, s, r in rows
                ],
                "dbt_layers_seconds": round(dbt_seconds, 2),
                "row_counts": counts,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
