"""Benchmark of community detection: quality against planted and real groups, and speed.

Prints, for the default method (Leiden at the size-aware resolution) next to the
reference methods (networkx Louvain, igraph Leiden on plain modularity, label
propagation): NMI, ARI, groups found and seconds, on

* LFR graphs (networkx generator, run in a child process under a time limit) of
  10,000 and 100,000 users, planted groups of 20-100, mu 0.3;
* the real graphs with ground truth in ``$SMALLGROUPS_EVAL_DATA`` (default
  ``../shared/data``): college football, political books, Email-Eu-core, and the
  karate club; skipped, with a message, when the folder is absent;
* the demo warehouse's weighted ``fct_user_edges`` against its planted communities,
  when a built warehouse and its ground truth are found (``--demo-dir``);
* a generated planted-partition graph of about 1 million edges (full-call timing).

It also times the bare ``igraph.Graph.community_leiden`` call on a prebuilt graph
against the whole :func:`detect_communities` call (string ids, validation, graph
construction, splitting, renumbering). Figures only: nothing passes or fails.
Results also go to bench/results/detection.json.

    python bench/bench_detection.py            # everything (~1-2 min on 2 cores)
    python bench/bench_detection.py --quick    # skip the 100k and 1M-edge parts
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import igraph as ig
import networkx as nx
import numpy as np
import pandas as pd

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from orchestration.lib.communities import detect_communities  # noqa: E402
from orchestration.lib.evaluation.edges import edges_from_duckdb  # noqa: E402
from orchestration.lib.evaluation.partitions import (  # noqa: E402
    adjusted_rand_index,
    normalized_mutual_info,
)

CACHE = PROJECT_DIR / "data" / "bench" / "communities"
REFERENCES = ("louvain_networkx", "leiden_modularity", "label_propagation")

#: LFR graphs (max degree 100): header, name, users, community sizes tried in turn
#: (min, max), generation time limit (s), networkx Louvain time limit (s). ``--quick``
#: runs the first only.
LFR_CASES = (
    (
        "LFR 10,000 users (tau1 3, tau2 1.5, mu 0.3, avg degree 10, max degree 100)",
        "LFR 10k",
        10_000,
        [(20, 100), (50, 500)],
        120,
        300,
    ),
    ("LFR 100,000 users (same settings)", "LFR 100k", 100_000, [(20, 100), (100, 1000)], 300, 120),
)
ROWS: list[dict[str, Any]] = []


def _in_child(fn: Callable[..., Any], args: tuple, timeout: float) -> Any:
    """Run ``fn(*args)`` in a forked child; None if it did not finish in ``timeout`` s."""
    ctx = mp.get_context("fork")
    with ctx.Pool(1) as pool:
        job = pool.apply_async(fn, args)
        try:
            return job.get(timeout=timeout)
        except mp.TimeoutError:
            pool.terminate()
            return None


def _lfr(n: int, max_degree: int, min_c: int, max_c: int, seed: int) -> tuple:
    """LFR edges (int pairs, self-loops removed) and planted labels."""
    graph = nx.generators.community.LFR_benchmark_graph(
        n,
        tau1=3,
        tau2=1.5,
        mu=0.3,
        average_degree=10,
        max_degree=max_degree,
        min_community=min_c,
        max_community=max_c,
        seed=seed,
        max_iters=5000,
    )
    graph.remove_edges_from(list(nx.selfloop_edges(graph)))
    truth = np.empty(n, dtype=np.int64)
    for label, members in enumerate({frozenset(graph.nodes[v]["community"]) for v in graph}):
        truth[list(members)] = label
    return np.asarray(graph.edges(), dtype=np.int64), truth


def _cached_lfr(n: int, max_degree: int, sizes: list[tuple[int, int]], timeout: float):
    """Generate (or reuse) an LFR graph, trying each (min, max) community size in turn."""
    CACHE.mkdir(parents=True, exist_ok=True)
    for min_c, max_c in sizes:
        path = CACHE / f"lfr_n{n}_d{max_degree}_c{min_c}-{max_c}_s1.npz"
        if path.exists():
            data = np.load(path)
            return data["edges"], data["truth"], (min_c, max_c), 0.0
        started = time.perf_counter()
        result = _in_child(_lfr, (n, max_degree, min_c, max_c, 1), timeout)
        seconds = time.perf_counter() - started
        if result is None:
            print(f"  LFR n={n:,} groups {min_c}-{max_c}: no graph within {timeout:.0f} s")
            continue
        np.savez(path, edges=result[0], truth=result[1])
        return result[0], result[1], (min_c, max_c), seconds
    return None


def _planted(n: int, avg_degree: float, mu: float, seed: int) -> tuple:
    """Planted partition with numpy alone: groups of 20-100 users, random pairs inside
    (``(1 - mu) * avg_degree`` per user) and across (``mu * avg_degree``), weights
    log-normal and independent of the groups."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(20, 101, size=n // 20)
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), n) + 1]
    sizes[-1] -= sizes.sum() - n
    truth = np.repeat(np.arange(len(sizes)), sizes)
    offsets = np.repeat(np.cumsum(sizes) - sizes, sizes)
    span = np.repeat(sizes, sizes)
    per_user = max(1, round((1 - mu) * avg_degree / 2))
    src_in = np.repeat(np.arange(n), per_user)
    dst_in = offsets[src_in] + (rng.random(len(src_in)) * span[src_in]).astype(np.int64)
    n_out = round(n * mu * avg_degree / 2)
    src_out, dst_out = rng.integers(0, n, n_out), rng.integers(0, n, n_out)
    src = np.concatenate([src_in, src_out])
    dst = np.concatenate([dst_in, dst_out])
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    keys = np.unique(lo[lo != hi] * n + hi[lo != hi])
    edges = np.column_stack([keys // n, keys % n])
    weights = rng.lognormal(0.0, 0.7, len(edges)) + 0.1
    return edges, weights, truth


def _frame(edges: np.ndarray, weights: np.ndarray | None = None) -> pd.DataFrame:
    """Edge table with warehouse-like string ids (``u0000042``)."""
    ids = np.char.add("u", np.char.zfill(np.arange(edges.max() + 1).astype(str), 7))
    return pd.DataFrame(
        {
            "user_id_a": pd.Series(ids[edges[:, 0]], dtype=str),
            "user_id_b": pd.Series(ids[edges[:, 1]], dtype=str),
            "edge_weight": np.ones(len(edges)) if weights is None else weights,
        }
    )


def _score(graph: str, method: str, result, truth: pd.Series, note: str = "") -> dict[str, Any]:
    """NMI/ARI of a result against truth (users absent from the result = unassigned)."""
    found = result.membership.set_index("user_id")["community_label"]
    found = found.reindex(truth.index).fillna(-1).astype(np.int64)
    row = {
        "graph": graph,
        "method": method,
        "nmi": normalized_mutual_info(truth.to_numpy(), found.to_numpy()),
        "ari": adjusted_rand_index(truth.to_numpy(), found.to_numpy()),
        "found": result.quality["n_communities"],
        "planted": int(truth.nunique()),
        "unassigned": int((found < 0).sum()),
        "resolution": result.quality["resolution"],
        "seconds": result.quality["seconds"],
        "note": note,
    }
    ROWS.append(row)
    _print_row(row)
    return row


def _print_header(title: str) -> None:
    print(f"\n{title}")
    print(
        f"  {'graph':<22}{'method':<20}{'NMI':>7}{'ARI':>7}{'found':>7}{'truth':>7}"
        f"{'unasg':>7}{'res':>8}{'sec':>8}  note"
    )


def _print_row(row: dict[str, Any]) -> None:
    res = "-" if row["resolution"] is None else f"{row['resolution']:.2f}"
    print(
        f"  {row['graph']:<22}{row['method']:<20}{row['nmi']:>7.3f}{row['ari']:>7.3f}"
        f"{row['found']:>7}{row['planted']:>7}{row['unassigned']:>7}{res:>8}"
        f"{row['seconds']:>8.2f}  {row['note']}",
        flush=True,
    )


def _truth_series(truth: np.ndarray) -> pd.Series:
    ids = np.char.add("u", np.char.zfill(np.arange(len(truth)).astype(str), 7))
    return pd.Series(truth, index=pd.Index(ids, dtype=str))


def _detect_labels(edges: pd.DataFrame, kwargs: dict[str, Any]):
    return detect_communities(edges, **kwargs)


def _synthetic(name: str, edges: np.ndarray, truth: np.ndarray, louvain_timeout: float) -> None:
    """Every method on one synthetic graph, plus the bare-call timing."""
    frame = _frame(edges)
    users = list(_truth_series(truth).index)
    truth_s = _truth_series(truth)
    ours = detect_communities(frame, user_ids=users)
    _score(name, "leiden (ours)", ours, truth_s, "default settings")
    for method in REFERENCES:
        kwargs = {"user_ids": users, "method": method, "min_size": 1, "max_size": None}
        if method == "louvain_networkx":
            result = _in_child(_detect_labels, (frame, kwargs), louvain_timeout)
            if result is None:
                print(f"  {name:<22}{method:<20}skipped: over {louvain_timeout:.0f} s")
                continue
        else:
            result = detect_communities(frame, **kwargs)
        _score(name, method, result, truth_s, "min_size=1, no max_size")
    graph = ig.Graph(n=len(truth))
    graph.add_edges(edges)
    full = ours.quality["seconds"]
    timings = {}
    for iterations in (-1, 2):
        state = random.getstate()
        random.seed(42)
        started = time.perf_counter()
        graph.community_leiden(
            objective_function="modularity",
            resolution=ours.quality["resolution"],
            n_iterations=iterations,
        )
        timings[iterations] = time.perf_counter() - started
        random.setstate(state)
    print(
        f"  {name}: full detect_communities {full:.2f} s vs bare community_leiden on a "
        f"prebuilt graph, same resolution: n_iterations=-1 {timings[-1]:.2f} s "
        f"(ratio {full / timings[-1]:.2f}), n_iterations=2 {timings[2]:.2f} s "
        f"(ratio {full / timings[2]:.2f})"
    )
    asset_path = _asset_path_seconds(frame, users)
    print(
        f"  {name}: the asset's whole path (read edges from DuckDB, detect, write the "
        f"membership back) {asset_path:.2f} s = {asset_path / timings[2]:.2f}x the bare "
        "call (2 iterations)"
    )
    ROWS.append(
        {
            "graph": name,
            "full_seconds": full,
            "asset_path_seconds": asset_path,
            "bare_seconds_until_stable": timings[-1],
            "bare_seconds_2_iterations": timings[2],
        }
    )


def _asset_path_seconds(frame: pd.DataFrame, users: list) -> float:
    """Time what the community step does around detection: read the edges from a DuckDB
    table, detect, write the membership back (in a temporary warehouse)."""
    import tempfile

    import duckdb

    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "w.duckdb"))
        con.register("frame", frame)
        con.execute("create table fct_user_edges as select * from frame")
        con.unregister("frame")
        started = time.perf_counter()
        edges = edges_from_duckdb(con)
        result = detect_communities(edges, user_ids=users)
        con.register("membership", result.membership)
        con.execute("create table assignments as select * from membership")
        seconds = time.perf_counter() - started
        con.close()
    return seconds


def _real_graphs(data_dir: Path) -> None:
    graphs_dir = data_dir / "graphs"
    cases: list[tuple[str, nx.Graph, dict]] = []
    karate = nx.karate_club_graph()
    cases.append(("karate (2 clubs)", karate, nx.get_node_attributes(karate, "club")))
    if not graphs_dir.is_dir():
        print(
            f"  evaluation data not found at {data_dir} (set SMALLGROUPS_EVAL_DATA): "
            "football, polbooks and Email-Eu-core skipped"
        )
    else:
        football = nx.read_gml(graphs_dir / "football_evans" / "footballTSEinput.gml", label="id")
        cases.append(("football", football, nx.get_node_attributes(football, "value")))
        polbooks = nx.read_gml(graphs_dir / "polbooks" / "polbooks.gml", label="id")
        cases.append(("polbooks (3 groups)", polbooks, nx.get_node_attributes(polbooks, "value")))
        email_dir = graphs_dir / "email_eu_core"
        pairs = np.loadtxt(email_dir / "email-Eu-core.txt", dtype=np.int64)
        labels = np.loadtxt(email_dir / "email-Eu-core-department-labels.txt", dtype=np.int64)
        email = nx.Graph()
        email.add_nodes_from(labels[:, 0].tolist())
        email.add_edges_from(pairs.tolist())
        email.remove_edges_from(list(nx.selfloop_edges(email)))
        cases.append(("email-Eu-core", email, dict(labels.tolist())))
    for name, graph, truth in cases:
        rows = [(str(a), str(b)) for a, b in graph.edges() if a != b]
        frame = pd.DataFrame(rows, columns=["user_id_a", "user_id_b"]).assign(edge_weight=1.0)
        truth_s = pd.Series({str(k): v for k, v in truth.items()})
        truth_s = pd.Series(pd.factorize(truth_s)[0], index=truth_s.index.astype(str))
        users = list(truth_s.index)
        ours = detect_communities(frame, user_ids=users, min_size=1)
        _score(name, "leiden (ours)", ours, truth_s, "min_size=1")
        for method in REFERENCES:
            result = detect_communities(
                frame, user_ids=users, method=method, min_size=1, max_size=None
            )
            _score(name, method, result, truth_s, "min_size=1")


def _demo_warehouse(demo_dir: Path) -> None:
    import duckdb

    db = demo_dir / "smallgroups.duckdb"
    truth_file = demo_dir / "ground_truth" / "community_memberships.parquet"
    if not (db.exists() and truth_file.exists()):
        print(
            f"  no built demo warehouse with ground truth in {demo_dir}: skipped "
            "(`make run`, or --demo-dir)"
        )
        return
    try:
        con = duckdb.connect(str(db), read_only=True)
        started = time.perf_counter()
        edges = edges_from_duckdb(con)
        read_seconds = time.perf_counter() - started
        con.close()
    except duckdb.Error as error:
        print(f"  cannot read fct_user_edges from {db}: {error}; skipped")
        return
    spells = pd.read_parquet(truth_file)
    current = spells[spells["valid_to"].isna()].drop_duplicates("user_id")
    truth_s = pd.Series(
        pd.factorize(current["community_id"])[0], index=current["user_id"].astype(str)
    )
    print(
        f"  {len(edges):,} weighted edges read in {read_seconds:.2f} s; scored on the "
        f"{len(truth_s):,} users with an open planted membership"
    )
    ours = detect_communities(edges)
    _score("demo fct_user_edges", "leiden (ours)", ours, truth_s, "weighted, default settings")
    for method in REFERENCES:
        result = detect_communities(edges, method=method, min_size=1, max_size=None)
        _score("demo fct_user_edges", method, result, truth_s, "min_size=1")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the 100k and 1M-edge parts")
    parser.add_argument(
        "--demo-dir",
        type=Path,
        default=PROJECT_DIR / "data",
        help="folder with smallgroups.duckdb and ground_truth/ (default: data/)",
    )
    args = parser.parse_args()
    data_dir = Path(
        os.environ.get("SMALLGROUPS_EVAL_DATA") or PROJECT_DIR.parent / "shared" / "data"
    )
    print(f"community detection benchmark, {os.cpu_count()} cores, igraph {ig.__version__}")

    lfr_cases = LFR_CASES[:1] if args.quick else LFR_CASES
    for title, name, n, sizes, timeout, louvain_timeout in lfr_cases:
        _print_header(title)
        lfr = _cached_lfr(n, 100, sizes, timeout=timeout)
        if lfr:
            edges, truth, found_sizes, gen = lfr
            print(
                f"  groups {found_sizes[0]}-{found_sizes[1]}, {len(edges):,} edges,"
                f" generated in {gen:.1f} s"
            )
            _synthetic(name, edges, truth, louvain_timeout=louvain_timeout)

    _print_header(f"Real graphs with ground truth ({data_dir})")
    _real_graphs(data_dir)

    _print_header(f"Demo warehouse, weighted ({args.demo_dir})")
    _demo_warehouse(args.demo_dir)

    if not args.quick:
        _print_header("Planted partition, ~1M weighted edges (numpy generator), full call")
        edges, weights, truth = _planted(200_000, avg_degree=10.0, mu=0.3, seed=1)
        frame = _frame(edges, weights)
        print(f"  {len(truth):,} users, {len(edges):,} edges, {truth.max() + 1:,} groups")
        result = detect_communities(frame)
        _score("planted 1M edges", "leiden (ours)", result, _truth_series(truth), "default")

    out = PROJECT_DIR / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "detection.json").write_text(json.dumps(ROWS, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
