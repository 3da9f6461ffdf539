"""Benchmark of the experiment statistics: A/A false positives, coverage, parity.

Simulates the units' outcomes directly with the demo generator's distributions
(:class:`orchestration.lib.demo._common.Knobs`), not by rebuilding the warehouse, and
prints:

* **user-randomized A/A** (purchases per user, the demo's user experiment metric): a
  user is active on a day with ``p_session_member`` or ``p_session_background``, buys on
  an active day with ``purchase_base`` (x ``purchase_group_uplift`` for group members),
  spends lognormal(2.7, 0.6); per-user activity varies (gamma, shape 1). Share of
  experiments with p < 0.05 for Welch on the mean, and for CUPED on the pre-period;
* **cluster-randomized A/A** (posts per member, the demo's group experiment metric):
  group sizes from the demo's truncated power law (``size_min``..``size_max``, alpha
  ``size_alpha``), a group-level activity factor (gamma, shape 4: members of a group
  share their group's pace), posts per active day ``posts_per_session_day``. Share with
  p < 0.05 for the cluster-level ratio (delta method), for the ratio CUPED on each
  group's own pre-period posts (drawn from a second generator seeded ``seed + 1``, so
  the other figures stay those of the seed), and for a naive per-member Welch test that
  ignores the clustering; and the member-level SRM's false alarms (members per arm of
  half the groups, conditional test against the plain chi-square of members);
* **coverage**: the same designs with the planted effects (+30% purchases, +20% posts):
  share of 95% intervals of the relative lift that contain the planted effect;
* **parity**: gbstats' own fixture, ours against gbstats 0.8.0, side by side;
* **spillover** (``--spillover``): user experiments whose control users post more the
  larger the treated share of their community peers
  (``orchestration.lib.evaluation.spillover_simulation``): without spillover, the share
  of experiments whose spillover estimate has p < 0.05 (interaction and community
  exposure) and the share recommended for community randomization; with the demo's
  planted ``spillover_effect``, the coverage of the community estimate's 95% interval,
  its median, the power, and the readout's bias on the metric (treated vs control
  lift, whose true value is 0).

* **speed** (``--speed WAREHOUSE [--copies 67]``): the whole experiments step (the
  experiment intermediate tables, readout, power and spillover assets, then the
  experiment marts) on a copy of a built warehouse
  whose inputs are replicated ``--copies`` times (``bench/_scaled_experiments.py``): 67
  copies of the e2e demo's 1,500 users are 100,500 users.

Run: ``python bench/bench_experiments.py [--sims 1000] [--seed 7] [--spillover]``, or
``python bench/bench_experiments.py --speed data/smallgroups.duckdb --copies 67``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from orchestration.lib.demo._common import Knobs
from orchestration.lib.experiments.stats import (
    CupedStats,
    RatioCupedStats,
    RatioStats,
    SampleStats,
    cuped_test,
    member_srm_p_value,
    ratio_cuped_test,
    ratio_test,
    srm_p_value,
    welch_test,
)

K = Knobs()
WINDOW_DAYS = 42
PRE_DAYS = 28


def _sums(x: np.ndarray) -> SampleStats:
    return SampleStats(len(x), float(x.sum()), float((x**2).sum()))


def _user_outcomes(rng, n, effect, days):
    """Purchase amount per user over ``days``, and the same user's pre-period amount."""
    member = rng.random(n) < K.declared_group_share
    p_active = np.where(member, K.p_session_member, K.p_session_background)
    pace = rng.gamma(1.0, 1.0, n)
    rate = K.purchase_base * np.where(member, K.purchase_group_uplift, 1.0) * pace

    def amount(d, lift):
        buys = rng.binomial(rng.binomial(d, p_active), np.minimum(rate * lift, 1.0))
        spend = np.zeros(n)
        has = buys > 0
        # A sum of `buys` lognormals, drawn per purchase.
        counts = buys[has]
        draws = rng.lognormal(2.7, 0.6, counts.sum())
        spend[has] = np.add.reduceat(draws, np.r_[0, np.cumsum(counts)[:-1]])
        return spend

    return amount(days, 1.0 + effect), amount(PRE_DAYS, 1.0)


def _group_sizes(rng, n):
    u = rng.random(n)
    lo, hi, a = K.size_min, K.size_max, K.size_alpha
    # inverse CDF of a power law truncated to [lo, hi]
    sizes = (lo ** (1 - a) + u * (hi ** (1 - a) - lo ** (1 - a))) ** (1 / (1 - a))
    return np.floor(sizes).astype(int)


def _cluster_outcomes(rng, n_groups, effect, days):
    sizes = _group_sizes(rng, n_groups)
    group_pace = rng.gamma(4.0, 0.25, n_groups)
    ids = np.repeat(np.arange(n_groups), sizes)
    member_pace = rng.gamma(2.0, 0.5, ids.size) * group_pace[ids]
    active = rng.binomial(days, K.p_session_member, ids.size)
    treated = np.arange(n_groups) % 2 == 1
    lift = np.where(treated[ids], 1.0 + effect, 1.0)
    posts = rng.poisson(active * K.posts_per_session_day * member_pace * lift).astype(float)
    return sizes, ids, treated, posts, member_pace


def _ratio(m, d):
    return RatioStats(len(m), m.sum(), (m**2).sum(), d.sum(), (d**2).sum(), (m * d).sum())


def simulate_user(rng, sims, n_users, effect):
    hits = {"welch": 0, "cuped": 0}
    cover = {"welch": 0, "cuped": 0}
    reductions = []
    for _ in range(sims):
        post, pre = _user_outcomes(rng, n_users, 0.0, WINDOW_DAYS)
        post_b, pre_b = _user_outcomes(rng, n_users, effect, WINDOW_DAYS)
        a, b = _sums(post), _sums(post_b)
        ca = CupedStats(n_users, post.sum(), (post**2).sum(), pre.sum(), (pre**2).sum(),
                        (post * pre).sum())  # fmt: skip
        cb = CupedStats(n_users, post_b.sum(), (post_b**2).sum(), pre_b.sum(),
                        (pre_b**2).sum(), (post_b * pre_b).sum())  # fmt: skip
        for name, result in (("welch", welch_test(a, b)), ("cuped", cuped_test(ca, cb))):
            hits[name] += result.p_value < 0.05
            cover[name] += result.lift_relative_ci_low <= effect <= result.lift_relative_ci_high
            if name == "cuped":
                reductions.append(result.variance_reduction)
    return hits, cover, float(np.mean(reductions))


def _ratio_cuped(m, d, p, q):
    return RatioCupedStats(
        len(m), m.sum(), (m * m).sum(), d.sum(), (d * d).sum(), (m * d).sum(),
        p.sum(), (p * p).sum(), q.sum(), (q * q).sum(), (p * q).sum(),
        (m * p).sum(), (m * q).sum(), (d * p).sum(), (d * q).sum(),
    )  # fmt: skip


def simulate_cluster(rng, sims, n_groups, effect, pre_rng):
    names = ("cluster", "cluster_cuped", "naive_member")
    hits, cover = dict.fromkeys(names, 0), dict.fromkeys(names, 0)
    reductions, member_srm = [], {"conditional": 0, "plain_members": 0}
    for _ in range(sims):
        sizes, ids, treated, posts, pace = _cluster_outcomes(rng, n_groups, effect, WINDOW_DAYS)
        # The same members' posts over the pre-period, at their own pace, untreated.
        pre_active = pre_rng.binomial(PRE_DAYS, K.p_session_member, ids.size)
        pre_posts = pre_rng.poisson(pre_active * K.posts_per_session_day * pace)
        per_group = np.bincount(ids, weights=posts, minlength=n_groups)
        pre_group = np.bincount(ids, weights=pre_posts, minlength=n_groups)
        d = sizes.astype(float)
        arms = [_ratio(per_group[treated == t], d[treated == t]) for t in (False, True)]
        cuped_arms = [
            _ratio_cuped(per_group[treated == t], d[treated == t], pre_group[treated == t],
                         d[treated == t])
            for t in (False, True)
        ]  # fmt: skip
        cuped = ratio_cuped_test(*cuped_arms)
        reductions.append(cuped.variance_reduction)
        member_treated = treated[ids]
        naive = welch_test(_sums(posts[~member_treated]), _sums(posts[member_treated]))
        for name, result in zip(names, (ratio_test(*arms), cuped, naive), strict=True):
            hits[name] += result.p_value < 0.05
            cover[name] += result.lift_relative_ci_low <= effect <= result.lift_relative_ci_high
        members = [int(sizes[~treated].sum()), int(sizes[treated].sum())]
        clusters = [int((~treated).sum()), int(treated.sum())]
        squares = float((d**2).sum())
        member_srm["conditional"] += member_srm_p_value(clusters, members, squares) < 0.05
        member_srm["plain_members"] += srm_p_value(members) < 0.05
    return hits, cover, float(np.mean(reductions)), member_srm


def parity():
    from gbstats.frequentist.tests import TwoSidedTTest
    from gbstats.models.statistics import SampleMeanStatistic

    ours = welch_test(SampleStats(3407, 1396.87, 52377.9767), SampleStats(3461, 2422.7, 134698.29))
    live = TwoSidedTTest(
        SampleMeanStatistic(n=3407, sum=1396.87, sum_squares=52377.9767),
        SampleMeanStatistic(n=3461, sum=2422.7, sum_squares=134698.29),
    ).compute_result()
    print("\nParity on gbstats' fixture (ours | gbstats 0.8.0 live)")
    print(f"  relative lift  {ours.lift_relative:.8f} | {live.expected:.8f}")
    print(f"  CI low         {ours.lift_relative_ci_low:.8f} | {live.ci[0]:.8f}")
    print(f"  CI high        {ours.lift_relative_ci_high:.8f} | {live.ci[1]:.8f}")
    print(f"  p-value        {ours.p_value:.8f} | {live.p_value:.8f}")


def simulate_spillover(rng, sims: int) -> None:
    """Print the spillover step's A/A false positives and its planted-effect coverage."""
    from orchestration.lib.evaluation.spillover_simulation import simulate_units
    from orchestration.lib.experiments.spillover import analyse_spillover

    started = time.perf_counter()
    flagged = {"interaction": 0, "community": 0}
    recommended = 0
    for _ in range(sims):
        out = analyse_spillover(simulate_units(rng, n_communities=60))
        est = out[out["exposure_level"] == "all"].set_index("exposure_kind")
        for kind in flagged:
            flagged[kind] += bool(est.loc[kind, "p_value"] < 0.05)
        recommended += bool(est["is_material"].any())
    print(f"\nSpillover A/A ({sims} experiments, 60 communities, posts, no spillover)")
    for kind, count in flagged.items():
        print(f"  false-positive rate at 0.05, {kind:<12} exposure {count / sims:.4f}")
    print(f"  recommend_randomize_by_community (Holm over both) {recommended / sims:.4f}")
    planted = K.spillover_effect
    for n_communities in (60, 200):
        covered, detected, estimates, lifts = 0, 0, [], []
        for _ in range(sims):
            out = analyse_spillover(
                simulate_units(rng, n_communities=n_communities, spillover=planted)
            )
            row = out[(out["exposure_level"] == "all") & (out["exposure_kind"] == "community")]
            row = row.iloc[0]
            covered += bool(row["ci_low"] <= planted <= row["ci_high"])
            detected += bool(row["p_value"] < 0.05)
            estimates.append(row["spillover_estimate"])
            lifts.append(row["lift_relative"])
        print(
            f"\nSpillover planted +{planted:.0%} at full community exposure "
            f"({sims} experiments, {n_communities} communities)"
        )
        print(f"  coverage of the 95% interval  {covered / sims:.4f}")
        print(f"  median estimate               {np.median(estimates):.4f}")
        print(f"  power at 0.05                 {detected / sims:.4f}")
        print(f"  readout lift (truth 0), mean  {np.mean(lifts):+.4f}")
    print(f"  ({time.perf_counter() - started:.1f} s)")


def print_speed(warehouse: Path, copies: int) -> None:
    """Time the experiments step on ``warehouse`` with its inputs copied ``copies`` times."""
    from _scaled_experiments import measure_scaled_step

    with tempfile.TemporaryDirectory(prefix="bench_experiments_") as workdir:
        f = measure_scaled_step(warehouse, copies, Path(workdir))
    rows = ", ".join(f"{name} {count:,}" for name, count in f["rows"].items())
    units = ", ".join(f"{name} {count:,}" for name, count in sorted(f["units"].items()))
    print(f"Experiments step on {warehouse} x {copies} copies: {f['count_users']:,} users")
    print(f"  rows: {rows}")
    print(f"  units assigned: {units} (scaling took {f['scale_seconds']:.1f} s, not counted)")
    print(
        f"  sufficient statistics (dbt, experiment intermediate tables) {f['sums_seconds']:.1f} s"
        f" ({f['sums_wall_seconds']:.1f} s with dbt's start and parse)"
    )
    print(
        f"  readout {f['readout_seconds']:.1f} s, power {f['power_seconds']:.1f} s, spillover "
        f"{f['spillover_seconds']:.1f} s, experiment marts {f['marts_seconds']:.1f} s "
        f"(dbt, first start to last end; {f['marts_wall_seconds']:.1f} s with its start and parse)"
    )
    print(f"  whole step: {f['step_seconds']:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--users", type=int, default=2000, help="users per arm")
    parser.add_argument("--groups", type=int, default=200, help="groups in all")
    parser.add_argument(
        "--spillover", action="store_true", help="only the spillover section (seeded --seed)"
    )
    parser.add_argument("--speed", type=Path, help="built warehouse to scale and time")
    parser.add_argument("--copies", type=int, default=67, help="copies of its inputs")
    args = parser.parse_args()
    if args.speed:
        print_speed(args.speed, args.copies)
        return
    if args.spillover:
        simulate_spillover(np.random.default_rng(args.seed), args.sims)
        return
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    print(f"{args.sims} simulated experiments per design, seed {args.seed}")
    hits, _, reduction = simulate_user(rng, args.sims, args.users, 0.0)
    print(f"\nUser-randomized A/A ({args.users} users per arm, {WINDOW_DAYS} days, purchases)")
    for name, count in hits.items():
        print(f"  false-positive rate at 0.05, {name:<13} {count / args.sims:.4f}")
    print(f"  mean CUPED variance reduction ({PRE_DAYS}-day pre-period) {reduction:.4f}")
    pre_rng = np.random.default_rng(args.seed + 1)
    hits, _, reduction, member_srm = simulate_cluster(rng, args.sims, args.groups, 0.0, pre_rng)
    print(f"\nCluster-randomized A/A ({args.groups} groups, posts per member)")
    for name, count in hits.items():
        print(f"  false-positive rate at 0.05, {name:<13} {count / args.sims:.4f}")
    print(f"  mean cluster CUPED variance reduction ({PRE_DAYS}-day pre-period) {reduction:.4f}")
    for name, count in member_srm.items():
        print(f"  member-level SRM false alarms at 0.05, {name:<13} {count / args.sims:.4f}")
    print(
        f"  naive per-member test inflation: x{hits['naive_member'] / max(hits['cluster'], 1):.2f}"
    )
    effect_user, effect_group = K.user_experiment_effect, K.group_experiment_effect
    _, cover, _ = simulate_user(rng, args.sims, args.users, effect_user)
    print(f"\nCoverage of 95% intervals, planted +{effect_user:.0%} purchases per user")
    for name, count in cover.items():
        print(f"  {name:<13} {count / args.sims:.4f}")
    _, cover, _, _ = simulate_cluster(rng, args.sims, args.groups, effect_group, pre_rng)
    print(f"\nCoverage of 95% intervals, planted +{effect_group:.0%} posts per member (groups)")
    for name, count in cover.items():
        print(f"  {name:<13} {count / args.sims:.4f}")
    parity()
    simulate_spillover(np.random.default_rng(args.seed + 2), args.sims)
    print(f"\n{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
