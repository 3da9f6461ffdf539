"""Benchmark of the intervention forecast against the planted heterogeneous effects.

For each generator seed a small demo (``--users`` users, ``--days`` days) is generated
with ``staggered_interventions`` (60 staggered 21-day interventions whose planted effect
depends on the group's features: ``orchestration/lib/demo/_world.py``
``STAGGERED_TYPES``) and only what the forecast reads is built (the upstream of the
``forecasts__intervention_forecasts`` asset, without asset checks, into
``<work>/seed<N>``; kept and reused by later runs with the same arguments). Then, pooled
over the seeds:

* **split**: the interventions starting in the last ``--holdout-weeks`` weeks of each
  seed are held out; the model (:func:`~orchestration.lib.planning.forecast.fit_effect_model`
  on :func:`~orchestration.lib.planning.forecast_refresh.prepare_training`'s used rows,
  as the product fits it) is fitted on the earlier ones of every seed, without the
  ``pilot`` type, the effect form it never sees;
* on the held-out ``activity`` and ``resource_boost`` interventions (the attribution
  estimated them): the Spearman rank correlation of forecast vs planted effect and the
  share of planted effects inside the 90% interval;
* **targeting** at the last snapshot of each seed: every declared group backed by a
  community gets a forecast (features from ``fct_community_health``) and a planted
  effect (the truth's form on its world features that day), per type; the mean planted
  effect of the top ``--top-share`` of groups by forecast, by the potential score
  (``rpt_high_potential_communities``'s, via ``lib/planning/backtest.potential_score``)
  and at random (the mean), and the uplift curve at 5, 10, 20 and 50%;
* **held-out form**: the same figures for ``pilot`` (a type the model never saw: it
  forecasts the shared part, with the wide interval of a new type).

Aims (issue 17): rank correlation >= 0.6, targeting >= 1.5x random at 10% of groups,
coverage 85-95%.

Run: ``python bench/bench_forecast.py [--seeds 1 2 3 4] [--users 4000] [--work DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy import stats

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from orchestration.lib.demo._common import Knobs  # noqa: E402
from orchestration.lib.demo._world import (  # noqa: E402
    _group_features,
    build_world,
    staggered_effect,
)
from orchestration.lib.demo.generator import generate  # noqa: E402
from orchestration.lib.demo.text import TOPICS  # noqa: E402
from orchestration.lib.planning import forecast_store as store  # noqa: E402
from orchestration.lib.planning.backtest import potential_score  # noqa: E402
from orchestration.lib.planning.forecast import (  # noqa: E402
    fit_effect_model,
    group_features,
    predict_effects,
)
from orchestration.lib.planning.forecast_refresh import prepare_training  # noqa: E402

MAIN_TYPES = ("activity", "resource_boost")
HELD_OUT_FORM = "pilot"
START = date(2026, 1, 1)


def _build_inputs() -> None:
    """Materialise the upstream of the forecast asset (env vars say where)."""
    import dagster as dg

    from orchestration.definitions import defs

    job = dg.define_asset_job(
        "forecast_inputs",
        selection=dg.AssetSelection.assets(dg.AssetKey(["forecasts", "intervention_forecasts"]))
        .upstream()
        .required_multi_asset_neighbors()
        .without_checks(),
    )
    merged = dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
    result = merged.resolve_job_def("forecast_inputs").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        raise_on_error=False,
    )
    raise SystemExit(0 if result.success else 1)


def build_seed(seed: int, args: argparse.Namespace) -> tuple[Path, Path, float]:
    """Generate and build one seed's demo (reused when its stamp matches)."""
    work = args.work / f"seed{seed}"
    stamp = {"seed": seed, "users": args.users, "days": args.days, "n": args.interventions,
             "share": args.declared_group_share}  # fmt: skip
    stamp_file = work / "stamp.json"
    if stamp_file.exists() and json.loads(stamp_file.read_text()) == stamp:
        return work / "warehouse.duckdb", work / "truth", 0.0
    started = time.perf_counter()
    work.mkdir(parents=True, exist_ok=True)
    for name in ("warehouse.duckdb", "warehouse.duckdb.wal"):
        (work / name).unlink(missing_ok=True)
    generate(
        work / "raw", work / "truth", n_users=args.users, n_days=args.days, seed=seed,
        staggered_interventions=args.interventions,
        declared_group_share=args.declared_group_share,
    )  # fmt: skip
    (work / "dagster_home").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "SMALLGROUPS_RAW_DIR": str(work / "raw"),
        "SMALLGROUPS_DUCKDB_PATH": str(work / "warehouse.duckdb"),
        "DAGSTER_HOME": str(work / "dagster_home"),
        "DBT_TARGET_PATH": str(work / "dbt_target"),
        "PYTHONPATH": str(PROJECT_DIR),
    }
    for unset in ("SMALLGROUPS_SERVING_PATH", "SMALLGROUPS_TRUTH_DIR"):
        env.pop(unset, None)
    done = subprocess.run(
        [sys.executable, __file__, "--build-inputs"], cwd=PROJECT_DIR, env=env,
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:])
        raise SystemExit(f"building seed {seed} failed")
    stamp_file.write_text(json.dumps(stamp))
    return work / "warehouse.duckdb", work / "truth", time.perf_counter() - started


def _weights() -> dict[str, float]:
    # The potential score's weights from their seed (the forecast's inputs do not build it).
    seed = pd.read_csv(PROJECT_DIR / "seeds" / "high_potential_score_components.csv")
    return {row.component: float(row.weight) for row in seed.itertuples(index=False)}


def read_seed(seed: int, warehouse: Path, truth: Path, args: argparse.Namespace):
    """The seed's training rows (with planted truth) and its targeting candidates."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set enable_progress_bar = false")
        training = prepare_training(store.read_training(con))
        candidates = store.read_candidates(con)
    planted = pd.read_parquet(truth / "interventions.parquet")
    training = training.merge(
        planted[["intervention_id", "planted_effect", "start_date"]], on="intervention_id"
    )
    last_start = pd.to_datetime(planted["start_date"]).max()
    cutoff = last_start - pd.Timedelta(weeks=args.holdout_weeks)
    training["is_held_out"] = pd.to_datetime(training["start_date"]) > cutoff
    training["seed"] = seed
    # Counterfactual truth for every community-backed declared group at the last snapshot.
    world = build_world(
        args.users, args.days, seed, START, TOPICS,
        Knobs(declared_group_share=args.declared_group_share),
        staggered_interventions=args.interventions,
    )  # fmt: skip
    declared = candidates[candidates["group_kind"] == "declared"].copy()
    index = declared["community_id"].str.removeprefix("group:g").astype(int) - 1
    declared = declared[(world.grp_comm[index.to_numpy()] >= 0)]
    index = declared["community_id"].str.removeprefix("group:g").astype(int).to_numpy() - 1
    day = (pd.Timestamp(declared["snapshot_date"].iloc[0]).date() - START).days
    features = _group_features(world, index, np.full(len(index), day))
    for kind in (*MAIN_TYPES, HELD_OUT_FORM):
        declared[f"planted_{kind}"] = staggered_effect(kind, features)
    declared["potential_score"] = potential_score(declared, _weights())
    declared["seed"] = seed
    return training, declared.reset_index(drop=True)


def _coverage(forecast: pd.DataFrame, planted: np.ndarray) -> float:
    low, high = np.expm1(forecast["ci_low"]), np.expm1(forecast["ci_high"])
    return float(((low <= planted) & (planted <= high)).mean())


def _top_mean(score: np.ndarray, planted: np.ndarray, share: float) -> float:
    n = max(1, int(np.ceil(share * len(score))))
    order = np.lexsort((np.arange(len(score)), -score))
    return float(planted[order[:n]].mean())


def targeting(candidates: pd.DataFrame, model, kind: str, share: float) -> dict:
    """Mean planted effect of the top share of groups by forecast, potential, random."""
    rows = {"forecast": [], "potential": [], "random": []}
    curve = {s: [] for s in (0.05, 0.1, 0.2, 0.5)}
    for _, groups in candidates.groupby("seed"):
        forecast = predict_effects(
            model, np.full(len(groups), kind, dtype=object), group_features(groups)
        )["predicted"].to_numpy()
        planted = groups[f"planted_{kind}"].to_numpy()
        rows["forecast"].append(_top_mean(forecast, planted, share))
        rows["potential"].append(_top_mean(groups["potential_score"].to_numpy(), planted, share))
        rows["random"].append(float(planted.mean()))
        for s in curve:
            curve[s].append(_top_mean(forecast, planted, s) / planted.mean())
    out = {name: float(np.mean(values)) for name, values in rows.items()}
    out["curve"] = {s: float(np.mean(v)) for s, v in curve.items()}
    out["n_groups"] = len(candidates)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--users", type=int, default=4000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--interventions", type=int, default=60)
    parser.add_argument("--declared-group-share", type=float, default=0.8)
    parser.add_argument("--holdout-weeks", type=float, default=5.0)
    parser.add_argument("--top-share", type=float, default=0.10)
    parser.add_argument("--work", type=Path, default=Path("/tmp/smallgroups_bench_forecast"))
    parser.add_argument("--build-inputs", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build_inputs:
        _build_inputs()
    trainings, candidates = [], []
    for seed in args.seeds:
        warehouse, truth, seconds = build_seed(seed, args)
        if seconds:
            print(f"seed {seed}: generated and built in {seconds:.0f} s", flush=True)
        training, groups = read_seed(seed, warehouse, truth, args)
        trainings.append(training)
        candidates.append(groups)
    training = pd.concat(trainings, ignore_index=True)
    candidates = pd.concat(candidates, ignore_index=True)
    used = training[training["is_used"]]
    fit_rows = used[~used["is_held_out"] & (used["intervention_type"] != HELD_OUT_FORM)]
    started = time.perf_counter()
    model = fit_effect_model(
        fit_rows["log_effect"].to_numpy(), fit_rows["log_effect_se"].to_numpy(),
        fit_rows["intervention_type"].to_numpy(), group_features(fit_rows),
    )  # fmt: skip
    fit_seconds = time.perf_counter() - started
    print(
        f"\n{len(args.seeds)} seeds x {args.users:,} users x {args.days} days, "
        f"{args.interventions} staggered interventions each: {len(training)} attributed, "
        f"{training['is_used'].sum()} usable (excluded: "
        f"{training.loc[~training['is_used'], 'exclusion_reason'].value_counts().to_dict()})"
    )
    print(
        f"fitted on {len(fit_rows)} interventions before the last {args.holdout_weeks:g} weeks "
        f"(by type {model.n_by_type}) in {fit_seconds:.1f} s; sigma {model.sigma:.3f} (log), "
        f"sd scale {model.sd_scale:.3f}, most probable subsets {model.hyper}"
    )
    print("\nheld-out interventions (planted vs forecast):")
    print(f"{'types':<24}{'n':>5}{'rank corr':>11}{'90% coverage':>14}{'attributed rank corr':>22}")
    held = used[used["is_held_out"]]
    groups = (
        ("activity + resource_boost", MAIN_TYPES),
        *((k, (k,)) for k in MAIN_TYPES),
        (f"{HELD_OUT_FORM} (never seen)", (HELD_OUT_FORM,)),
    )
    for label, kinds in groups:
        rows = held[held["intervention_type"].isin(kinds)]
        if len(rows) < 3:
            continue
        forecast = predict_effects(
            model, rows["intervention_type"].to_numpy(), group_features(rows)
        )
        planted = rows["planted_effect"].to_numpy()
        rho = stats.spearmanr(forecast["predicted"], planted).statistic
        attributed = stats.spearmanr(rows["log_effect"], planted).statistic
        print(f"{label:<24}{len(rows):>5}{rho:>+11.3f}{_coverage(forecast, planted):>14.3f}"
              f"{attributed:>+22.3f}")  # fmt: skip
    print(
        f"\ntargeting the top {args.top_share:.0%} of community-backed declared groups at "
        "each seed's last snapshot (mean planted effect; x random):"
    )
    print(f"{'type':<26}{'groups':>7}{'forecast':>16}{'potential score':>18}{'random':>9}"
          "   uplift curve (top 5/10/20/50%, x random)")  # fmt: skip
    for kind in (*MAIN_TYPES, HELD_OUT_FORM):
        t = targeting(candidates, model, kind, args.top_share)
        curve = " ".join(f"{v:.2f}" for v in t["curve"].values())
        label = kind if kind != HELD_OUT_FORM else f"{kind} (never seen)"
        ratio, potential = t["forecast"] / t["random"], t["potential"] / t["random"]
        print(
            f"{label:<26}{t['n_groups']:>7}{t['forecast']:>9.3f} ({ratio:.2f}x)"
            f"{t['potential']:>11.3f} ({potential:.2f}x){t['random']:>9.3f}   {curve}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
