"""Benchmark of the attribution of interventions: coverage, false positives, the demo.

Prints, over simulated interventions (``orchestration.lib.evaluation.attribution_panels``:
a target group and 12 donor candidates shaped like the demo's groups, 28 days before and
after the start, run through the product's
:func:`~orchestration.lib.attribution.analysis.attribute_interventions`):

* **coverage**: the planted +40% effect (the demo's ``pilot_effect``) inside the 95%
  interval of the relative effect, and the planted 0 of the DAU contribution inside its
  interval;
* **false positives**: with no effect (a placebo), the share with p < 0.05 (the t test on
  the donors' placebo spread, and the permutation p-value);
* bias and spread of the difference-in-differences and synthetic-control estimates;
* **parity with pysyncon 1.7.0** (when installed): on simulated interventions, the
  product's synthetic-control weights and effect beside pysyncon's in the matching
  configuration (orchestration/lib/evaluation/synth_reference.py), and pysyncon's
  default (V searched by Nelder-Mead) on a few;
* **the demo warehouse** (``SMALLGROUPS_DUCKDB_PATH``, when built): each intervention's
  estimate against the planted effect of the generator's truth, at 95% and 99%, and a
  placebo on an untreated donor of each intervention.

Run: ``python bench/bench_attribution.py [--sims 1000] [--seed 13]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from orchestration.lib.attribution import store
from orchestration.lib.attribution.analysis import OUTCOMES, attribute_interventions
from orchestration.lib.attribution.estimates import synthetic_control
from orchestration.lib.config import load_settings
from orchestration.lib.evaluation.attribution_panels import simulate_intervention

EFFECT = 0.4


def simulate(rng: np.random.Generator, sims: int, effect: float) -> pd.DataFrame:
    """One attribution row per simulated intervention."""
    return pd.concat(
        [attribute_interventions(*simulate_intervention(rng, effect=effect)) for _ in range(sims)],
        ignore_index=True,
    )


def _daily_rates(panel: pd.DataFrame, window, units: list[str]):
    """Daily activity rates per member of ``units`` over the window's pre and post days,
    only on days every unit has members (as the product's synthetic control)."""
    rates = panel.assign(rate=panel[OUTCOMES["activity"]] / panel["count_members"]).pivot(
        index="community_id", columns="activity_date", values="rate"
    )
    pre = pd.date_range(window.pre_start_date, window.pre_end_date, freq="D")
    post = pd.date_range(window.post_start_date, window.post_end_date, freq="D")
    pre_rates = rates.reindex(index=units, columns=pre).dropna(axis=1).to_numpy()
    post_rates = rates.reindex(index=units, columns=post).dropna(axis=1).to_numpy()
    return pre_rates, post_rates


def synth_parity(rng: np.random.Generator, sims: int, with_v: int) -> None:
    """Print the product's synthetic control beside pysyncon's on simulated interventions."""
    try:
        import pysyncon  # noqa: F401

        from orchestration.lib.evaluation.synth_reference import (
            pysyncon_weights,
            weight_objective,
        )
    except ImportError:
        print("\n(pysyncon not installed: `make setup` installs it, test-only)")
        return
    rows = []
    for i in range(sims):
        windows, candidates, panel, kpis = simulate_intervention(rng, effect=EFFECT)
        result = attribute_interventions(windows, candidates, panel, kpis).iloc[0]
        window = windows.iloc[0]
        units = [window.community_id, *result.donor_ids.split(",")]
        pre, post = _daily_rates(panel, window, units)
        ours = synthetic_control(pre[0], post[0], pre[1:], post[1:])
        # The product's own figure (to the optimiser's tolerance: its rates are summed in
        # another order, which moves SLSQP's last digits, up to 1e-8 here).
        assert abs(ours.effect - result.synth_effect) < 1e-6
        theirs, _ = pysyncon_weights(pre[0], pre[1:])
        row = {
            "donors": len(units) - 1,
            "weight_diff": float(np.abs(theirs - ours.weights).max()),
            "effect_ours": ours.effect,
            "effect_theirs": float(np.mean(post[0] - theirs @ post[1:])),
            "objective_gap": weight_objective(theirs, pre[0], pre[1:])
            - weight_objective(ours.weights, pre[0], pre[1:]),
        }
        if i < with_v:
            searched, synth = pysyncon_weights(pre[0], pre[1:], optimise_v=True)
            row["weight_diff_v"] = float(np.abs(searched - ours.weights).max())
            row["effect_theirs_v"] = float(np.mean(post[0] - searched @ post[1:]))
            row["fit_ratio_v"] = synth.loss_V / float(
                np.mean((pre[0] - ours.weights @ pre[1:]) ** 2)
            )
        rows.append(row)
    frame = pd.DataFrame(rows)
    print(f"\nsynthetic control against pysyncon 1.7.0 on {sims} simulated interventions")
    print("  first five, weights in the donors' order (effect: rate per member-day):")
    print(frame.head(5).to_string(float_format=lambda v: f"{v:.6f}"))
    print(
        f"  matching V: max |weight difference| {frame.weight_diff.max():.2e} (median "
        f"{frame.weight_diff.median():.2e}), max |effect difference| "
        f"{(frame.effect_ours - frame.effect_theirs).abs().max():.2e}; pysyncon's objective "
        f"above ours in {(frame.objective_gap > 0).mean():.0%} (min gap "
        f"{frame.objective_gap.min():+.1e})"
    )
    searched = frame.dropna(subset=["weight_diff_v"])
    if len(searched):
        print(
            f"  V searched (pysyncon's default, {len(searched)} of them): max |weight "
            f"difference| {searched.weight_diff_v.max():.3f}, max |effect difference| "
            f"{(searched.effect_ours - searched.effect_theirs_v).abs().max():.2e}; its "
            f"pre-period fit / ours: min {searched.fit_ratio_v.min():.6f}, median "
            f"{searched.fit_ratio_v.median():.6f}"
        )


def placebo_rows(con: duckdb.DuckDBPyConnection, alpha: float) -> pd.DataFrame:
    """Each intervention's best-ranked eligible donor as a placebo target, against the
    intervention's other eligible candidates over the same window."""
    windows, candidates = store.read_windows(con), store.read_candidates(con)
    panel, kpis = store.read_panel(con), store.read_kpis(con)
    targeted = set(windows["community_id"])
    rows = []
    for window in windows.itertuples(index=False):
        eligible = candidates[
            (candidates["intervention_id"] == window.intervention_id)
            & candidates["is_eligible"]
            & ~candidates["community_id"].isin(targeted)
        ]
        if len(eligible) < 4:
            continue
        placebo = eligible.iloc[0]["community_id"]
        fake = pd.DataFrame([window._asdict()]).assign(
            community_id=placebo, intervention_type="placebo"
        )
        rest = eligible.iloc[1:]
        mine = panel[
            (panel["intervention_id"] == window.intervention_id)
            & (panel["community_id"] != window.community_id)
        ]
        result = attribute_interventions(fake, rest, mine, kpis, alpha=alpha)
        rows.append(result.assign(placebo_of=window.intervention_id))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def demo(path: Path) -> None:
    """The built warehouse's attribution against the generator's planted effects."""
    settings = load_settings()
    truth_file = settings.truth_dir / "interventions.parquet"
    con = duckdb.connect(str(path), read_only=True)
    windows, candidates = store.read_windows(con), store.read_candidates(con)
    panel, kpis = store.read_panel(con), store.read_kpis(con)
    truth = (
        pd.read_parquet(truth_file)[["intervention_id", "planted_effect"]]
        if truth_file.exists()
        else pd.DataFrame(columns=["intervention_id", "planted_effect"])
    )
    wide = attribute_interventions(windows, candidates, panel, kpis, alpha=0.01)
    mart = con.execute("select * from fct_intervention_attribution order by all").df()
    both = mart.merge(wide, on="intervention_id", suffixes=("", "_99")).merge(
        truth, on="intervention_id", how="left"
    )
    print(f"\ndemo warehouse {path}: {len(mart)} interventions")
    for r in both.itertuples(index=False):
        line = (
            f"  {r.intervention_id} {r.intervention_type:22s} {r.status:10s} donors "
            f"{r.n_donors:2d}/{r.n_eligible:2d}/{r.n_candidates:2d}"
        )
        if r.status == "estimated":
            line += (
                f"  DiD {r.relative_effect:+.3f} 95% [{r.relative_ci_low:+.3f}, "
                f"{r.relative_ci_high:+.3f}] 99% [{r.relative_ci_low_99:+.3f}, "
                f"{r.relative_ci_high_99:+.3f}] p {r.did_p_value:.3f}"
                f"  synth {r.synth_relative_effect:+.3f}  pre-trend p {r.pre_trend_p_value:.2f}"
                f"  {r.contribution_posts_per_day:+.1f} posts/day {r.contribution_dau:+.1f} DAU"
            )
            if r.intervention_type in ("pilot", "resource_boost"):
                planted = r.planted_effect
                inside = r.relative_ci_low_99 <= planted <= r.relative_ci_high_99
                line += f"  planted {planted:+.2f} inside 99%: {inside}"
        print(line)
    placebos = placebo_rows(con, alpha=0.01)
    for r in placebos.itertuples(index=False):
        print(
            f"  placebo on {r.community_id} (donor of {r.placebo_of}, {r.n_donors} donors): "
            f"{r.relative_effect:+.3f} 99% [{r.relative_ci_low:+.3f}, {r.relative_ci_high:+.3f}]"
            f"  0 inside: {r.relative_ci_low <= 0 <= r.relative_ci_high}"
        )
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--parity-sims", type=int, default=200)
    args = parser.parse_args()
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    planted = simulate(rng, args.sims, EFFECT)
    null = simulate(rng, args.sims, 0.0)
    seconds = time.perf_counter() - started

    def covers(low, high, value):
        return ((low <= value) & (high >= value)).mean()

    cover = covers(planted.relative_ci_low, planted.relative_ci_high, EFFECT)
    dau = covers(planted.contribution_dau_ci_low, planted.contribution_dau_ci_high, 0)
    print(
        f"{args.sims} simulated interventions with a planted +{EFFECT:.0%} effect, and "
        f"{args.sims} placebos (seed {args.seed}; {seconds:.1f} s)"
    )
    print(f"  coverage of the 95% interval (relative effect): {cover:.3f}")
    print(f"  coverage of the 95% interval of the DAU contribution (planted 0): {dau:.3f}")
    print(
        f"  DiD relative effect: mean {planted.relative_effect.mean():+.3f}, "
        f"sd {planted.relative_effect.std():.3f}; synthetic control: mean "
        f"{planted.synth_relative_effect.mean():+.3f}, "
        f"sd {planted.synth_relative_effect.std():.3f}"
    )
    print(f"  power (p < 0.05): {(planted.did_p_value < 0.05).mean():.3f}")
    print(
        f"  placebos: false-positive rate at 0.05 {(null.did_p_value < 0.05).mean():.3f} (t), "
        f"{(null.did_placebo_p_value < 0.05).mean():.3f} (permutation); coverage of 0 "
        f"{covers(null.relative_ci_low, null.relative_ci_high, 0):.3f}; "
        f"pre-trend flagged {null.has_pre_trend.mean():.3f}"
    )
    synth_parity(np.random.default_rng(args.seed + 1), args.parity_sims, with_v=20)
    path = load_settings().duckdb_path
    if path.exists():
        demo(path)
    else:
        print(f"\n(no warehouse at {path}: run `make run` for the demo figures)")


if __name__ == "__main__":
    main()
