"""Speed of message enrichment, one process and the pool, against a reference build.

Enriches the first ``-n`` messages of the demo data set (``contents.parquet`` of a raw
folder written by the demo generator; generated into a temporary folder with the
generator's defaults when ``--raw`` is not given) with `enrich_in_batches`, once in this
machine's single process and once with the worker pool, and prints for each the wall
time, the CPU time (user + system, the workers' included) and messages per second of
wall time and per core (per CPU second). The same runs are made, back to back, with the
text modules of a reference revision (``--reference``, default ``main``: its
``orchestration`` and ``seeds`` exported by ``git archive`` into a temporary folder),
and every output (the enriched rows and the terms, every column) is compared with the
reference's: ``identical: True`` only when all are equal, value for value (floats by
their bits). Each run is its own child process, so no run inherits another's caches.
Figures only: nothing passes or fails. ``--profile`` adds a ``cProfile`` of the single
process (this checkout) with its top entries by own time.

    python bench/bench_enrich_speed.py [--raw data/raw] [-n 40000] [--batch-size 10000]
                                       [--workers 2] [--reference main] [--repeat 3]
                                       [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import math
import os
import pickle
import pstats
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
COLUMNS = ["content_id", "body", "language"]


def _load(raw: Path, n: int):
    import pandas as pd

    return pd.read_parquet(raw / "contents.parquet", columns=COLUMNS).head(n)


def _child(args: argparse.Namespace) -> None:
    """One measured run, in this process, with the tree `args.tree` on the path."""
    sys.path.insert(0, args.tree)
    import pandas as pd

    from orchestration.lib.text.enrich import enrich_in_batches, warm_up

    contents = _load(Path(args.raw), args.n)
    warm_up()
    profiler = cProfile.Profile() if args.child == "profile" else None
    workers = args.workers if args.child == "pool" else 1
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before = time.process_time()
    wall_before = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    parts = list(enrich_in_batches(contents, batch_size=args.batch_size, workers=workers))
    if profiler is not None:
        profiler.disable()
    wall = time.perf_counter() - wall_before
    cpu = time.process_time() - cpu_before
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_workers = (children.ru_utime - children_before.ru_utime) + (
        children.ru_stime - children_before.ru_stime
    )
    out = {"wall": wall, "cpu_parent": cpu, "cpu_workers": cpu_workers}
    if profiler is not None:
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(args.top)
        out["profile"] = stream.getvalue()
    else:
        enriched = pd.concat([e for e, _ in parts], ignore_index=True)
        terms = pd.concat([t for _, t in parts], ignore_index=True)
        out["digests"] = {
            **{f"enriched.{c}": _digest(enriched[c]) for c in enriched.columns},
            **{f"terms.{c}": _digest(terms[c]) for c in terms.columns},
        }
        out["rows"] = (len(enriched), len(terms))
    with open(args.out, "wb") as fh:
        pickle.dump(out, fh)


def _canonical(value):
    """A JSON-able form of one cell: floats by their bits, arrays as lists."""
    if isinstance(value, str | bool | int | None):
        return value
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, float):
        return "nan" if math.isnan(value) else value.hex()
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def _digest(column) -> str:
    """SHA-256 of a column's values in order (same digest iff the same values)."""
    values = [_canonical(v) for v in column.tolist()]
    return hashlib.sha256(json.dumps(values, ensure_ascii=False).encode()).hexdigest()


def _export(revision: str, into: Path) -> Path:
    """``orchestration`` and ``seeds`` of a git revision, written under `into`."""
    blob = subprocess.run(
        ["git", "-C", str(PROJECT_DIR), "archive", revision, "orchestration", "seeds"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
    return into


def _run(tree: Path, mode: str, args: argparse.Namespace, raw: Path, tmp: Path) -> dict:
    out = tmp / f"{mode}-{len(list(tmp.iterdir()))}.pkl"
    cmd = [sys.executable, __file__, "--child", mode, "--tree", str(tree), "--raw", str(raw)]
    cmd += ["-n", str(args.n), "--batch-size", str(args.batch_size)]
    cmd += ["--workers", str(args.workers), "--top", str(args.top), "--out", str(out)]
    load = os.getloadavg()[0]
    subprocess.run(cmd, check=True)
    with open(out, "rb") as fh:
        result = pickle.load(fh)
    result["load"] = load
    return result


def _report(label: str, mode: str, r: dict, n: int) -> None:
    cpu = r["cpu_parent"] + r["cpu_workers"]
    print(
        f"  {label:<9} {mode:<6} wall {r['wall']:6.2f} s  {n / r['wall']:7,.0f} msg/s"
        f"   CPU {cpu:6.2f} s (parent {r['cpu_parent']:.2f}, workers {r['cpu_workers']:.2f})"
        f"  {1000 * cpu / n:.3f} ms/msg  {n / cpu:6,.0f} msg/s per core   load {r['load']:.1f}"
    )


def _demo_raw(tmp: Path) -> Path:
    raw = tmp / "raw"
    subprocess.run(
        [sys.executable, "-m", "orchestration.lib.demo.cli", "--out", str(raw)]
        + ["--truth", str(tmp / "truth")],
        check=True,
        cwd=PROJECT_DIR,
        stdout=subprocess.DEVNULL,
    )
    return raw


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw", help="raw folder with contents.parquet (default: generate)")
    parser.add_argument("-n", type=int, default=40_000, help="messages (default 40000)")
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="pool workers (default 2)")
    parser.add_argument("--reference", default="main", help="git revision to compare with")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; medians are printed")
    parser.add_argument("--profile", action="store_true", help="cProfile the single process")
    parser.add_argument("--top", type=int, default=15, help="profile entries printed")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--tree", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args)
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="bench_enrich_"))
    try:
        raw = Path(args.raw) if args.raw else _demo_raw(tmp)
        runs_dir = tmp / "runs"
        runs_dir.mkdir()
        trees = {"reference": _export(args.reference, tmp / "reference"), "this": PROJECT_DIR}
        print(
            f"enrichment of the first {args.n:,} messages of {raw / 'contents.parquet'}, "
            f"batches of {args.batch_size:,}, pool of {args.workers} workers; "
            f"reference = {args.reference}"
        )
        runs: dict[tuple[str, str], list[dict]] = {}
        for round_ in range(args.repeat):
            if args.repeat > 1:
                print(f" round {round_ + 1} of {args.repeat}")
            for mode in ("single", "pool"):
                for label, tree in trees.items():
                    r = _run(tree, mode, args, raw, runs_dir)
                    runs.setdefault((label, mode), []).append(r)
                    _report(label, mode, r, args.n)
        # The run of median CPU time of each (code, mode): a busy machine varies a lot.
        results = {
            key: sorted(rs, key=lambda r: r["cpu_parent"] + r["cpu_workers"])[len(rs) // 2]
            for key, rs in runs.items()
        }
        if args.repeat > 1:
            print(f" median of {args.repeat} (by CPU time)")
            for (label, mode), r in results.items():
                _report(label, mode, r, args.n)
        ref = results["reference", "single"]
        every = True
        for (label, mode), rs in runs.items():
            differ = sorted(
                {c for r in rs for c in ref["digests"] if r["digests"].get(c) != ref["digests"][c]}
            )
            same = not differ and all(r["rows"] == ref["rows"] for r in rs)
            every = every and same
            print(
                f"  {label} {mode} ({len(rs)} runs) vs reference single: identical: {same}", end=""
            )
            print(f" (differing: {', '.join(differ)})" if differ else "")
        print(f"identical: {every}")
        for mode in ("single", "pool"):
            before, after = results["reference", mode], results["this", mode]
            cpu = [r["cpu_parent"] + r["cpu_workers"] for r in (before, after)]
            wall = before["wall"] / after["wall"]
            print(
                f"  {mode}: CPU {cpu[0] / cpu[1]:.2f}x less, wall {wall:.2f}x less than reference"
            )
        if args.profile:
            prof = _run(PROJECT_DIR, "profile", args, raw, runs_dir)
            print(f"cProfile of the single process (this checkout), load {prof['load']:.1f}")
            print(prof["profile"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
