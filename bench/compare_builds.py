"""Prove that a change left every table the same: a checksum per table, two builds compared.

A refactoring must not change what users read. This benchmark builds the demo data set
with the code of a git revision (default ``HEAD``, in a temporary worktree) and with the
working tree, then compares every table and view of both warehouses (every schema but
``raw``) by row count and an order-independent checksum of its rows. Columns that only
record when a row was written (``_loaded_at``, ``enriched_at``, ...) and step timings are
left out; doubles are rounded to 9 significant digits so that a different summation order
of the same numbers does not count as a change. Tables present in only one build are
listed apart (a new intermediate model is expected; a vanished mart is not). Tables in
both are compared on the columns they share, with added or dropped columns named, and
the raw folder's path inside text values (base models record each row's file) is
replaced by a placeholder, so the same files read from two folders give the same rows.

Usage::

    python bench/compare_builds.py                      # HEAD vs the working tree, demo 1,500 users
    python bench/compare_builds.py --ref f2b94ff --users 10000 --days 120 --seed 42
    python bench/compare_builds.py --before a.duckdb --before-raw a/raw \
        --after b.duckdb --after-raw b/raw                  # two existing files
    python bench/compare_builds.py --before a.duckdb --after-ref HEAD   # a file vs a revision

Prints one line per table (``same``, ``DIFFERENT``, ``only before``, ``only after``) and
a last line with the counts; exits 1 when a table present in both builds differs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from orchestration.lib.warehouse.checksums import table_checksums, table_columns

PROJECT_DIR = Path(__file__).resolve().parents[1]

__all__ = ["compare", "main", "table_checksums", "table_columns"]


def compare(
    before: Path | str,
    after: Path | str,
    before_raw: Path | str | None = None,
    after_raw: Path | str | None = None,
) -> list[tuple[str, str, str]]:
    """One row per table of two warehouses: (name, status, detail).

    Tables in both builds are compared on the columns they share; a column added or
    dropped is named in the detail (``+raw_record``), so a new column does not hide
    whether the existing ones kept their values. Status is same, DIFFERENT, only before
    or only after.
    """
    columns_before, columns_after = table_columns(before), table_columns(after)
    shared = {
        name: [pair for pair in pairs if pair in columns_after[name]]
        for name, pairs in columns_before.items()
        if name in columns_after
    }
    sums_before = table_checksums(before, before_raw, shared)
    sums_after = table_checksums(after, after_raw, shared)
    rows = []
    for name in sorted(columns_before.keys() | columns_after.keys()):
        if name not in columns_after:
            rows.append((name, "only before", ""))
            continue
        if name not in columns_before:
            rows.append((name, "only after", ""))
            continue
        names_before = {n for n, _ in columns_before[name]}
        names_after = {n for n, _ in columns_after[name]}
        changed = [f"+{n}" for n in sorted(names_after - names_before)]
        changed += [f"-{n}" for n in sorted(names_before - names_after)]
        (count_before, sum_before), (count_after, sum_after) = sums_before[name], sums_after[name]
        detail = f"{count_after:,} rows" + (f" ({', '.join(changed)})" if changed else "")
        if (count_before, sum_before) == (count_after, sum_after):
            rows.append((name, "same", detail))
        else:
            rows.append((name, "DIFFERENT", f"{count_before:,} rows before, {detail} after"))
    return rows


def _build(code_dir: Path, work: Path, users: int, days: int, seed: int) -> Path:
    """Generate the demo data set and run the whole pipeline with the code in ``code_dir``."""
    work.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(code_dir),
        "DO_NOT_TRACK": "1",
        "DAGSTER_HOME": str(work / "dagster_home"),
        "SMALLGROUPS_DUCKDB_PATH": str(work / "warehouse.duckdb"),
        "DBT_TARGET_PATH": str(work / "dbt_target"),
        "SMALLGROUPS_RAW_DIR": str(work / "raw"),
        "SMALLGROUPS_TRUTH_DIR": str(work / "truth"),
    }
    (work / "dagster_home").mkdir(exist_ok=True)
    (work / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    generate = [sys.executable, "-m", "orchestration.lib.demo.cli", "--out", str(work / "raw")]
    generate += ["--truth", str(work / "truth"), "--users", str(users), "--days", str(days)]
    generate += ["--seed", str(seed)]
    subprocess.run(generate, cwd=code_dir, env=env, check=True, capture_output=True)
    run = [sys.executable, "-m", "orchestration.cli", "run", "--log-level", "WARNING"]
    done = subprocess.run(run, cwd=code_dir, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"build in {code_dir} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return work / "warehouse.duckdb"


def _build_revision(ref: str, work: Path, name: str, args: argparse.Namespace) -> Path:
    """Build the demo with the code of git revision ``ref`` (a temporary worktree)."""
    tree = work / f"{name}_code"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(tree), ref],
        cwd=PROJECT_DIR,
        check=True,
        capture_output=True,
    )
    try:
        return _build(tree, work / name, args.users, args.days, args.seed)
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(tree)],
            cwd=PROJECT_DIR,
            capture_output=True,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref", default="HEAD", help="git revision built as 'before'")
    parser.add_argument("--before", type=Path, help="an existing warehouse instead of --ref")
    parser.add_argument("--after", type=Path, help="an existing warehouse instead of the tree")
    parser.add_argument(
        "--after-ref", help="build this git revision as 'after' instead of the working tree"
    )
    parser.add_argument("--users", type=int, default=1_500)
    parser.add_argument("--days", type=int, default=40)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", type=Path, help="keep the builds in this folder")
    parser.add_argument("--before-raw", type=Path, help="raw folder the --before file read")
    parser.add_argument("--after-raw", type=Path, help="raw folder the --after file read")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="compare_builds_") as scratch:
        work = args.keep or Path(scratch)
        before, after = args.before, args.after
        before_raw, after_raw = args.before_raw, args.after_raw
        if before is None:
            before_raw = work / "before" / "raw"
            before = _build_revision(args.ref, work, "before", args)
        if after is None:
            after_raw = work / "after" / "raw"
        if after is None and args.after_ref:
            after = _build_revision(args.after_ref, work, "after", args)
        elif after is None:
            after = _build(PROJECT_DIR, work / "after", args.users, args.days, args.seed)
        rows = compare(before, after, before_raw, after_raw)

    width = max(len(name) for name, _, _ in rows)
    for name, status, detail in rows:
        print(f"{name:<{width}}  {status:<11}  {detail}")
    counts = {s: sum(1 for _, status, _ in rows if status == s) for s in ("same", "DIFFERENT")}
    only = sum(1 for _, status, _ in rows if status.startswith("only"))
    print(
        f"\n{counts['same']} tables the same, {counts['DIFFERENT']} different, "
        f"{only} in one build only"
    )
    return 1 if counts["DIFFERENT"] else 0


if __name__ == "__main__":
    sys.exit(main())
