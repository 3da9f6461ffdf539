"""Benchmark of inflection detection: planted dates, false alarms, search, speed.

Compares :func:`orchestration.lib.kpi.detect_inflections` (continuous hinge
regression, BIC, forward selection with exchange refinement) with ruptures' PELT on the
same series, and prints:

* **demo sign-ups**: the daily sign-up series of the demo generator (users by UTC
  sign-up date, null and duplicate user ids dropped), 10,000 users x 120 days for five
  seeds, and 3,000 users x 120 days for more seeds: error in days of the detected
  change nearest to the planted inflection, number of changes, runtime. Every method
  works on the log of the counts (the planted curve is flat, then compounding: a
  single kink on the log scale). Our method is also shown with ``weights=counts`` and
  on the raw scale. Next to it, the asymptotic standard error of the date for an
  efficient estimator at that noise level (Poisson counts, known curve shape): a
  lower bound on what any method can do;
* **false alarms**: synthetic series without a change (50 each: linear trend plus
  Poisson noise, linear trend plus Gaussian noise, constant growth rate plus Poisson
  noise on the log scale; 120 days, 30-60 a day): share of series with at least one
  change, and the mean number of changes;
* **planted slope changes**: 50 broken lines plus Poisson noise, the change at a
  random day 25-95 of 120, slope change 0.4-1.0 a day in either direction: share
  found within 3 days, share with any change, extra changes, and (ours) how often the
  90% bootstrap interval covers the planted day;
* **search**: K = 2 and K = 3 knots found by the search against exhaustive search;
* **speed**: one call at 120, 365 and 1,000 days.

ruptures is used with ``jump=1`` and ``min_size=14`` (ours: ``min_segment_days=14``),
on ``clinear`` (continuous piecewise linear, the same model class as ours, though
ruptures anchors each segment on the observed end points rather than fitting them)
and on ``linear`` (piecewise linear regression on [1, t], not continuous). Its
penalty follows a BIC rule with a robust noise estimate: ``pen = q * sigma^2 *
ln(n)``, with q = 2 parameters per change for ``clinear`` (slope change, position),
3 for ``linear`` (intercept, slope, position), and ``sigma = 1.4826 * MAD(second
differences) / sqrt(6)``. A ruptures break at index k (first sample of the new
segment) is dated to sample k - 1, the last day on the old slope, as ours is; a zero
count is taken as 0.5 before the log (ours drops it). When ruptures is not installed
its columns are skipped.

Figures only: nothing passes or fails. The demo data sets are cached under
``data/bench/inflection``; results also go to bench/results/inflection.json.

    python bench/bench_inflection.py            # everything (~1-2 min)
    python bench/bench_inflection.py --quick    # fewer seeds and series
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from orchestration.lib.demo.generator import generate  # noqa: E402
from orchestration.lib.evaluation.inflection_reference import exhaustive_rss  # noqa: E402
from orchestration.lib.kpi import detect_inflections  # noqa: E402
from orchestration.lib.kpi.inflection import _Fitter  # noqa: E402

try:
    import ruptures as rpt
except ImportError:  # figures for our method only
    rpt = None

CACHE = PROJECT_DIR / "data" / "bench" / "inflection"
RESULTS = PROJECT_DIR / "bench" / "results" / "inflection.json"
MIN_SEG = 14
START = pd.Timestamp("2026-01-01")

Method = Callable[[pd.DatetimeIndex, np.ndarray], list[pd.Timestamp]]


# --------------------------------------------------------------------------- methods


def _ours(**options: Any) -> Method:
    def run(dates: pd.DatetimeIndex, counts: np.ndarray) -> list[pd.Timestamp]:
        weights = counts if options.get("weights") else None
        kw = {k: v for k, v in options.items() if k != "weights"}
        found = detect_inflections(dates, counts, weights=weights, **kw)
        return list(found["inflection_date"])

    return run


def _robust_sigma(y: np.ndarray) -> float:
    """Noise sd from the MAD of second differences (unaffected by trends and kinks)."""
    d2 = np.diff(y, 2)
    return 1.4826 * float(np.median(np.abs(d2 - np.median(d2)))) / math.sqrt(6)


def _pelt(model: str, log: bool) -> Method:
    per_change = {"clinear": 2, "linear": 3}[model]

    def run(dates: pd.DatetimeIndex, counts: np.ndarray) -> list[pd.Timestamp]:
        y = np.log(np.maximum(counts, 0.5)) if log else counts.astype(float)
        n = len(y)
        signal = y if model == "clinear" else np.column_stack([y, np.ones(n), np.arange(n)])
        pen = per_change * _robust_sigma(y) ** 2 * math.log(n)
        algo = rpt.Pelt(model=model, min_size=MIN_SEG, jump=1).fit(signal)
        breaks = algo.predict(pen=pen)[:-1]
        return [dates[k - 1] for k in breaks]

    return run


def _methods(log: bool, extra: bool) -> dict[str, Method]:
    methods: dict[str, Method] = {"ours": _ours(log=log)}
    if extra:
        methods["ours weights=counts"] = _ours(log=log, weights=True)
        methods["ours raw scale"] = _ours(log=False)
    if rpt is not None:
        methods["PELT clinear"] = _pelt("clinear", log)
        methods["PELT linear"] = _pelt("linear", log)
    return methods


def _timed(method: Method, dates: pd.DatetimeIndex, counts: np.ndarray) -> tuple[list, float]:
    started = time.perf_counter()
    found = method(dates, counts)
    return found, time.perf_counter() - started


# --------------------------------------------------------------------------- demo


def _demo_series(users: int, days: int, seed: int) -> tuple[pd.Series, dict[str, Any]]:
    """Daily sign-ups of a (cached) demo data set and its planted growth truth."""
    root = CACHE / f"{users}_{days}_{seed}"
    if not (root / "truth" / "growth.parquet").exists():
        generate(root / "raw", root / "truth", n_users=users, n_days=days, seed=seed)
    users_df = pd.read_parquet(root / "raw" / "users.parquet", columns=["user_id", "signed_up_at"])
    users_df = users_df.dropna(subset=["user_id", "signed_up_at"]).drop_duplicates("user_id")
    day = users_df["signed_up_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    counts = day.value_counts().sort_index()
    counts = counts.reindex(pd.date_range(counts.index[0], counts.index[-1]), fill_value=0)
    truth = pd.read_parquet(root / "truth" / "growth.parquet").iloc[0].to_dict()
    truth["inflection_date"] = pd.Timestamp(truth["inflection_date"])
    return counts, truth


def _efficient_se(truth: dict[str, Any], start: pd.Timestamp, end: pd.Timestamp) -> float:
    """Asymptotic sd of the knot date for Poisson counts on the planted log curve.

    The Fisher information of the knot position, with intercept, slope and slope
    change as nuisance parameters, weighting each day by its expected count.
    """
    days = np.arange((end - start).days + 1, dtype=float)
    tau = float((truth["inflection_date"] - start).days)
    growth = truth["planted_daily_growth_after"]
    lam = truth["planted_rate_before_per_day"] * np.exp(growth * np.maximum(0.0, days - tau))
    w = np.sqrt(lam)
    x = np.column_stack([np.ones_like(days), days, np.maximum(0.0, days - tau)]) * w[:, None]
    step = (days > tau).astype(float) * w  # derivative of the curve in tau, over -growth
    q, _ = np.linalg.qr(x)
    resid = step - q @ (q.T @ step)
    return float(1.0 / (growth * np.linalg.norm(resid)))


def _bench_demo(users: int, days: int, seeds: list[int], extra: bool) -> dict[str, Any]:
    methods = _methods(log=True, extra=extra)
    rows = []
    ses = []
    for seed in seeds:
        counts, truth = _demo_series(users, days, seed)
        planted = truth["inflection_date"]
        ses.append(_efficient_se(truth, counts.index[0], counts.index[-1]))
        row: dict[str, Any] = {"seed": seed, "planted": planted.date().isoformat()}
        for name, method in methods.items():
            found, seconds = _timed(method, counts.index, counts.to_numpy())
            errors = [(d - planted).days for d in found]
            row[name] = {
                "error": min(errors, key=abs) if errors else None,
                "n_changes": len(found),
                "seconds": seconds,
            }
        rows.append(row)

    print(f"\nDemo sign-ups, {users:,} users x {days} days ({len(counts)} days of sign-ups)")
    print(f"  asymptotic sd of the date (efficient estimator): {np.mean(ses):.1f} days")
    names = list(methods)
    width = max(len(n) for n in names) + 2
    if len(seeds) <= 8:
        print("  error in days of the nearest detected change (number of changes):")
        print(f"  {'seed':<6}{'planted':<12}" + "".join(f"{n:>{width}}" for n in names))
        for row in rows:
            cells = [f"{_fmt(row[n]['error'])} ({row[n]['n_changes']})".rjust(width) for n in names]
            print(f"  {row['seed']:<6}{row['planted']:<12}" + "".join(cells))
    summary = {}
    print(f"  {'':<18}" + "".join(f"{n:>{width}}" for n in names))
    for label, fn in (
        ("mean abs error", lambda r: _mae(r)),
        ("within 3 days", lambda r: f"{sum(_hit(x) for x in r)}/{len(r)}"),
        ("mean changes", lambda r: f"{np.mean([x['n_changes'] for x in r]):.2f}"),
        ("mean ms / series", lambda r: f"{1000 * np.mean([x['seconds'] for x in r]):.0f}"),
    ):
        cells = [fn([row[n] for row in rows]).rjust(width) for n in names]
        print(f"  {label:<18}" + "".join(cells))
    for n in names:
        per = [row[n] for row in rows]
        summary[n] = {
            "mean_abs_error": _mae(per),
            "within_3_days": sum(_hit(x) for x in per),
            "series": len(per),
            "mean_changes": float(np.mean([x["n_changes"] for x in per])),
            "mean_seconds": float(np.mean([x["seconds"] for x in per])),
        }
    return {
        "users": users,
        "days": days,
        "seeds": seeds,
        "efficient_sd_days": float(np.mean(ses)),
        "rows": rows,
        "summary": summary,
    }


def _fmt(error: int | None) -> str:
    return "none" if error is None else f"{error:+d}"


def _hit(result: dict[str, Any]) -> bool:
    return result["error"] is not None and abs(result["error"]) <= 3


def _mae(results: list[dict[str, Any]]) -> str:
    errors = [abs(r["error"]) for r in results if r["error"] is not None]
    missed = len(results) - len(errors)
    text = f"{np.mean(errors):.1f}" if errors else "-"
    return text + (f" ({missed} none)" if missed else "")


# --------------------------------------------------------------------------- synthetic


def _null_series(kind: str, rng: np.random.Generator, n: int) -> np.ndarray:
    t = np.arange(n, dtype=float)
    level = rng.uniform(30, 60)
    if kind == "linear + Poisson":
        return rng.poisson(np.clip(level + rng.uniform(-0.15, 0.15) * t, 1, None)).astype(float)
    if kind == "linear + Gaussian":
        return level + rng.uniform(-0.15, 0.15) * t + rng.normal(0, math.sqrt(level), n)
    if kind == "constant growth + Poisson (log)":
        return rng.poisson(level * np.exp(rng.uniform(0.0, 0.01) * t)).astype(float)
    raise ValueError(kind)


def _bench_null(n_series: int, n: int = 120) -> dict[str, Any]:
    dates = pd.date_range(START, periods=n)
    print(f"\nFalse alarms: {n_series} series per kind, {n} days, no change")
    out: dict[str, Any] = {}
    for kind in ("linear + Poisson", "linear + Gaussian", "constant growth + Poisson (log)"):
        log = kind.endswith("(log)")
        methods = _methods(log=log, extra=False)
        rng = np.random.default_rng(2024)
        counts = {name: [] for name in methods}
        seconds = {name: 0.0 for name in methods}
        for _ in range(n_series):
            y = _null_series(kind, rng, n)
            for name, method in methods.items():
                found, s = _timed(method, dates, y)
                counts[name].append(len(found))
                seconds[name] += s
        print(f"  {kind}:")
        for name in methods:
            c = np.array(counts[name])
            print(
                f"    {name:<14} series with a change {int((c > 0).sum()):>3}/{n_series}"
                f"   mean changes {c.mean():.2f}   {1000 * seconds[name] / n_series:.0f} ms/series"
            )
            out.setdefault(kind, {})[name] = {
                "series_with_change": int((c > 0).sum()),
                "series": n_series,
                "mean_changes": float(c.mean()),
            }
    return out


def _bench_planted(n_series: int, n: int = 120) -> dict[str, Any]:
    dates = pd.date_range(START, periods=n)
    t = np.arange(n, dtype=float)
    methods = _methods(log=False, extra=False)
    rng = np.random.default_rng(77)
    stats: dict[str, dict[str, list]] = {
        name: {"hit": [], "any": [], "extra": [], "error": []} for name in methods
    }
    covered = []
    for _ in range(n_series):
        level, slope = rng.uniform(30, 60), rng.uniform(-0.1, 0.1)
        tau = int(rng.integers(25, 96))
        change = rng.uniform(0.4, 1.0) * rng.choice([-1.0, 1.0])
        if level + slope * (n - 1) + change * (n - 1 - tau) < 5:
            change = -change  # keep the mean count positive
        y = rng.poisson(level + slope * t + change * np.maximum(0.0, t - tau)).astype(float)
        for name, method in methods.items():
            found = method(dates, y)
            errors = [(d - dates[tau]).days for d in found]
            best = min(errors, key=abs) if errors else None
            stats[name]["any"].append(bool(errors))
            stats[name]["hit"].append(best is not None and abs(best) <= 3)
            stats[name]["extra"].append(max(0, len(errors) - 1))
            if best is not None:
                stats[name]["error"].append(abs(best))
        result = detect_inflections(dates, y)
        if len(result):
            j = int(np.argmin(np.abs((result["inflection_date"] - dates[tau]).dt.days)))
            covered.append(bool(result["date_low"][j] <= dates[tau] <= result["date_high"][j]))
    print(
        f"\nPlanted slope change: {n_series} broken lines + Poisson noise, {n} days, "
        "change 0.4-1.0/day at day 25-95"
    )
    out = {}
    for name, s in stats.items():
        out[name] = {
            "within_3_days": int(sum(s["hit"])),
            "any_change": int(sum(s["any"])),
            "series": n_series,
            "mean_extra_changes": float(np.mean(s["extra"])),
            "mean_abs_error_nearest": float(np.mean(s["error"])) if s["error"] else None,
        }
        print(
            f"  {name:<14} within 3 days {sum(s['hit']):>3}/{n_series}   any change "
            f"{sum(s['any']):>3}/{n_series}   extra changes/series {np.mean(s['extra']):.2f}"
            f"   mean abs error {np.mean(s['error']) if s['error'] else float('nan'):.1f} days"
        )
    print(
        f"  ours: the 90% bootstrap interval covers the planted day in "
        f"{sum(covered)}/{len(covered)} series with a detection"
    )
    out["ours"]["interval_coverage"] = [int(sum(covered)), len(covered)]
    return out


# --------------------------------------------------------------------------- search, speed


def _bench_search(n_series: int, n: int = 80) -> dict[str, Any]:
    rng = np.random.default_rng(5)
    t = np.arange(n, dtype=float)
    equal = {2: 0, 3: 0}
    gaps = {2: [], 3: []}
    for _ in range(n_series):
        mean = rng.uniform(30, 60) + rng.uniform(-0.2, 0.2) * t
        for _ in range(int(rng.integers(1, 4))):
            mean = mean + rng.uniform(-0.8, 0.8) * np.maximum(0.0, t - rng.integers(10, n - 10))
        mean = mean + rng.uniform(0, 4) * np.sin(t / rng.uniform(3, 15))
        fit = _Fitter(t.astype(np.int64), rng.poisson(np.clip(mean, 1, None)).astype(float), 8)
        path = fit.select(3, penalty=1e-9)[0]  # a tiny penalty: K = 3 chosen and polished
        for k in (2, 3):
            exact = exhaustive_rss(fit, k)
            gap = path[k][1] / exact - 1
            equal[k] += gap <= 1e-9
            gaps[k].append(gap)
    print(f"\nSearch against exhaustive search: {n_series} series of {n} days (Poisson, kinks)")
    for k in (2, 3):
        print(
            f"  K = {k}: optimum found in {equal[k]}/{n_series}; "
            f"largest RSS excess {100 * max(gaps[k]):.2f}%"
        )
    return {f"k{k}": {"optimal": equal[k], "max_rss_excess": max(gaps[k])} for k in (2, 3)}


def _bench_speed() -> dict[str, Any]:
    print("\nSpeed (3 changes, Gaussian noise; best of 3):")
    out = {}
    for n in (120, 365, 1000):
        rng = np.random.default_rng(n)
        t = np.arange(n, dtype=float)
        y = 50 + 0.05 * t + rng.normal(0, 3, n)
        for k, change in zip((0.25, 0.5, 0.75), (0.4, -0.6, 0.5), strict=True):
            y += change * 120 / n * np.maximum(0.0, t - int(k * n))
        dates = pd.date_range(START, periods=n)
        times = {}
        for label, n_boot in (("with bootstrap", 200), ("no bootstrap", 0)):
            best = math.inf
            for _ in range(3):
                started = time.perf_counter()
                detect_inflections(dates, y, n_boot=n_boot)
                best = min(best, time.perf_counter() - started)
            times[label] = best
        print(
            f"  {n:>5} days: {1000 * times['with bootstrap']:>7.0f} ms with the bootstrap (200), "
            f"{1000 * times['no bootstrap']:>6.0f} ms without"
        )
        out[n] = times
    return out


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer seeds and series")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON results file")
    args = parser.parse_args()
    started = time.perf_counter()
    print("Inflection benchmark" + ("" if rpt else " (ruptures not installed: ours only)"))
    if rpt is not None:
        print(f"  ruptures {rpt.__version__}")
    results: dict[str, Any] = {"ruptures": getattr(rpt, "__version__", None)}
    results["demo_10000"] = _bench_demo(10_000, 120, [42, 1, 2, 3, 4], extra=True)
    small_seeds = list(range(1, 6 if args.quick else 21))
    results["demo_3000"] = _bench_demo(3_000, 120, small_seeds, extra=True)
    n_series = 20 if args.quick else 50
    results["false_alarms"] = _bench_null(n_series)
    results["planted"] = _bench_planted(n_series)
    results["search"] = _bench_search(10 if args.quick else 30)
    results["speed"] = _bench_speed()
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
