"""End to end on a small generated demo data set: the real pipeline (raw asset + every
dbt model and test, through Dagster) is scored against the planted truth, is
deterministic, and an incremental refresh gives what a full refresh gives."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.lib.demo.generator import generate
from orchestration.lib.warehouse.checksums import table_checksums, table_columns

pytestmark = pytest.mark.e2e

N_USERS, N_DAYS, SEED = 1_500, 40, 11
# Tables of the working warehouse that the day-by-day load must rebuild exactly, besides
# every published mart.
_COMPARED = (
    "stg_product__events",
    "base_product__contents",
    "stg_product__contents",
    "stg_product__rejected_rows",
    "dim_users",
    "dim_groups",
    "fct_user_activity_daily",
    "fct_group_members_daily",
    "fct_user_edges",
    "communities.community_assignments",
    "communities.community_events",
    "fct_community_health",
    "fct_community_members",
    "text.contents_enriched",
    "text.community_pain_points",
    "fct_contents_enriched",
    "fct_community_topics",
    "fct_community_trending_terms",
    "fct_community_sentiment_weekly",
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory, run_pipeline):
    """Full demo-mode run (the generator runs inside the raw asset)."""
    tmp = tmp_path_factory.mktemp("demo_run")
    env = {
        "SMALLGROUPS_DEMO_USERS": str(N_USERS),
        "SMALLGROUPS_DEMO_DAYS": str(N_DAYS),
        "SMALLGROUPS_DEMO_SEED": str(SEED),
        "SMALLGROUPS_TRUTH_DIR": str(tmp / "truth"),
    }
    # Generated here (the generator is what demo mode runs) so the run can point at a
    # folder of its own instead of the project's data/raw.
    generate(tmp / "raw", tmp / "truth", n_users=N_USERS, n_days=N_DAYS, seed=SEED)
    result = run_pipeline(tmp, SMALLGROUPS_RAW_DIR=str(tmp / "raw"), **env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    con = duckdb.connect(str(tmp / "warehouse.duckdb"), read_only=True)
    yield tmp, con
    con.close()


def _truth(tmp: Path, name: str) -> str:
    return f"read_parquet('{tmp / 'truth' / name}.parquet')"


def test_every_planted_bad_row_is_rejected_with_its_reason(demo):
    tmp, con = demo
    planted = con.execute(
        f'select "table", reason, count(*) from {_truth(tmp, "bad_rows")} group by all'
    ).fetchall()
    found = con.execute(
        "select source_table, rejection_reason, count(*) from stg_product__rejected_rows "
        "group by all"
    ).fetchall()
    assert sorted(found) == sorted(planted)
    # Same rows, not just the same counts: match on the planted file position.
    unmatched = con.execute(
        f"""
        select count(*) from {_truth(tmp, "bad_rows")} as truth
        anti join stg_product__rejected_rows as rejected
            on rejected.source_file like '%' || truth.file
            and rejected.source_row_number = truth.row_index
            and rejected.rejection_reason = truth.reason
        """
    ).fetchone()[0]
    assert unmatched == 0


def test_valid_rows_all_arrive(demo):
    tmp, con = demo
    import json

    summary = json.loads((tmp / "truth" / "summary.json").read_text())
    assert (
        con.execute("select count(*) from stg_product__events").fetchone()[0]
        == (summary["counts"]["valid_events"])
    )
    assert (
        con.execute("select count(*) from stg_product__contents").fetchone()[0]
        == (summary["counts"]["valid_contents"])
    )
    assert con.execute("select count(*) from dim_users").fetchone()[0] == N_USERS


def test_group_graph_is_dense_inside_planted_communities(demo):
    tmp, con = demo
    # Share of interaction weight between two members of the same planted community,
    # among edges whose both ends belong to some community: planted mixing is 0.25.
    inside_share = con.execute(
        f"""
        with members as (select distinct user_id, community_id
                         from {_truth(tmp, "community_memberships")}),
        edges as (
            select e.user_id_a, e.user_id_b, e.count_interactions,
                exists (select 1 from members a join members b using (community_id)
                        where a.user_id = e.user_id_a and b.user_id = e.user_id_b) as inside
            from fct_user_edges e
            where e.user_id_a in (select user_id from members)
              and e.user_id_b in (select user_id from members)
        )
        select sum(count_interactions) filter (where inside) / sum(count_interactions)
        from edges
        """
    ).fetchone()[0]
    assert 0.6 < inside_share < 0.9


def test_profile_reflects_planted_membership_and_retention(demo):
    tmp, con = demo
    member_share, member_active, other_active = con.execute(
        f"""
        with truth as (select * from {_truth(tmp, "users")})
        select
            avg(case when d.is_group_member then 1 else 0 end),
            avg(d.count_active_days) filter (where t.is_community_member),
            avg(d.count_active_days) filter (where not t.is_community_member)
        from dim_users d join truth t using (user_id)
        """
    ).fetchone()
    assert 0.2 < member_share < 0.95
    assert member_active > 1.5 * other_active


def test_detected_communities_recover_the_planted_ones(demo):
    from orchestration.lib.evaluation.partitions import normalized_mutual_info

    tmp, con = demo
    last = con.execute("select max(snapshot_date) from communities.community_snapshot_runs")
    last = last.fetchone()[0]
    frame = con.execute(
        f"""
        with truth as (
            select user_id, min(community_id) as planted
            from {_truth(tmp, "community_memberships")}
            where valid_from <= ? and (valid_to is null or valid_to > ?)
              and (churned_on is null or churned_on > ?)
            group by user_id
        )
        select truth.user_id, truth.planted, a.community_id as detected
        from truth left join communities.community_assignments as a
            on a.user_id = truth.user_id and a.snapshot_date = ?
        """,
        [last, last, last, last],
    ).df()
    assigned = frame["detected"].notna()
    # Planted members assigned at the last snapshot: 0.913 on this seed (0.73-0.92 on
    # seeds 12 and 13 at this size; docs/communities.md). The membership aim (0.95) is
    # the benchmark's (bench/bench_lifecycle.py), not this test's.
    assert assigned.mean() > 0.9
    nmi = normalized_mutual_info(frame.loc[assigned, "planted"], frame.loc[assigned, "detected"])
    assert nmi > 0.85
    roles = dict(
        con.execute("select member_role, count(*) from fct_community_members group by 1").fetchall()
    )
    assert (
        set(roles) <= {"key_member", "bridge", "core", "peripheral"}
        and roles.get("key_member", 0) > 0
    )
    scores = con.execute(
        "select min(least(health_score, activity_score, cohesion_score, growth_score)), "
        "max(greatest(health_score, activity_score, cohesion_score, growth_score)) "
        "from fct_community_health"
    ).fetchone()
    assert scores[0] >= 0 and scores[1] <= 100


def test_same_input_same_output_and_incremental_equals_full(demo, run_pipeline, tmp_path):
    """Landing the event files day by day publishes exactly the marts of one full build.

    All but the last 2 days land in one run, then one day per run (the nightly refresh:
    two of them, so a refresh also starts from a warehouse that a refresh left);
    contents.parquet is exported whole every day, holding the messages up to the last
    landed day (the last run gets the full build's file), so the incremental contents
    model reads it again when its row count changed. Every table of the published
    snapshot then has the same row count and checksum as the full build's (run
    bookkeeping columns left out, doubles at 9 significant digits, the raw folder's path
    replaced), and the three loads are three batches of base events.
    """
    full_tmp, _ = demo
    raw = tmp_path / "raw"
    shutil.copytree(full_tmp / "raw", raw, ignore=shutil.ignore_patterns("events"))
    (raw / "events").mkdir()
    day_files = sorted((full_tmp / "raw" / "events").glob("*.parquet"))
    batches = [day_files[:-2], *([path] for path in day_files[-2:])]
    full_contents = full_tmp / "raw" / "contents.parquet"
    stored_contents, exported_contents = [], []
    for number, batch in enumerate(batches, start=1):
        for path in batch:
            shutil.copy(path, raw / "events" / path.name)
        (raw / "contents.parquet").unlink()
        if number == len(batches):
            shutil.copy(full_contents, raw / "contents.parquet")
        else:
            # The messages created before the day after the last landed day, in file order.
            cutoff = f"{batch[-1].stem} 00:00:00+00"
            with duckdb.connect() as con:
                con.execute(
                    f"copy (select * from read_parquet('{full_contents}') "
                    f"where created_at < timestamptz '{cutoff}' + interval 1 day) "
                    f"to '{raw / 'contents.parquet'}' (format parquet)"
                )
        with duckdb.connect() as con:
            exported_contents.append(
                con.execute(
                    f"select count(*) from read_parquet('{raw / 'contents.parquet'}')"
                ).fetchone()[0]
            )
        result = run_pipeline(tmp_path, SMALLGROUPS_RAW_DIR=str(raw))
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-4000:]
        with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
            stored_contents.append(
                con.execute("select count(*) from base_product__contents").fetchone()[0]
            )
    # Each run stored its day's whole export once (a re-read file replaces its rows).
    assert stored_contents == exported_contents and len(set(exported_contents)) > 1

    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        loads = con.execute("select count(distinct _loaded_at) from base_product__events")
        assert loads.fetchone()[0] == len(batches)
    # Every table of the published snapshot (the marts and the rejects) ...
    full = table_checksums(full_tmp / "warehouse_serving.duckdb", raw_dir=full_tmp / "raw")
    daily = table_checksums(tmp_path / "warehouse_serving.duckdb", raw_dir=raw)
    assert set(full) == set(daily) and len(full) > 30
    # ... and the staging and Python-step tables of the working warehouse behind them.
    working = {name if "." in name else f"main.{name}" for name in _COMPARED}
    columns = {
        name: pairs
        for name, pairs in table_columns(full_tmp / "warehouse.duckdb").items()
        if name in working
    }
    assert set(columns) == working
    full |= table_checksums(full_tmp / "warehouse.duckdb", full_tmp / "raw", columns)
    daily |= table_checksums(tmp_path / "warehouse.duckdb", raw, columns)
    changed = sorted(
        f"{name}: full {full[name]}, day by day {daily[name]}"
        for name in full
        if not name.endswith(".smallgroups_publication") and full[name] != daily[name]
    )
    assert not changed, changed


def test_dbt_unit_tests_pass(demo, tmp_path):
    """The dbt unit tests, which the refresh leaves out (they test SQL logic on fixed
    inputs, not the data), pass against a copy of the built warehouse."""
    full_tmp, _ = demo
    shutil.copy(full_tmp / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    project = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "SMALLGROUPS_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "DBT_TARGET_PATH": str(tmp_path / "dbt_target"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    dbt = Path(sys.executable).with_name("dbt")
    done = subprocess.run(
        [str(dbt), "test", "--select", "test_type:unit", "--log-path", str(tmp_path / "logs")],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    counted = [line for line in done.stdout.splitlines() if "Done. PASS=" in line]
    assert counted and " PASS=0 " not in counted[-1] and "ERROR=0" in counted[-1], counted


def test_missing_raw_folder_stops_with_its_name(run_pipeline, tmp_path):
    missing = tmp_path / "no_such_folder"
    result = run_pipeline(tmp_path, SMALLGROUPS_RAW_DIR=str(missing))
    assert result.returncode != 0
    assert str(missing) in result.stderr and "does not exist" in result.stderr


def test_kpis_match_an_independent_recomputation_from_staging(demo):
    _, con = demo
    days = con.execute(
        "select count(*), count(distinct kpi_date), "
        "datediff('day', min(kpi_date), max(kpi_date)) + 1 from fct_kpi_daily"
    ).fetchone()
    assert days[0] == days[1] == days[2]  # one row per day, no gaps
    recomputed = con.execute(
        """
        with days as (select kpi_date from fct_kpi_daily),
        events as (
            select user_id, cast(occurred_at as date) as d, event_type from stg_product__events
        ),
        members as (
            select user_id, cast(joined_at as date) as joined, cast(left_at as date) as left_date
            from stg_product__group_memberships
        )
        select
            days.kpi_date,
            (select count(distinct user_id) from events where d = days.kpi_date),
            (select count(distinct user_id) from events
                where d between days.kpi_date - 6 and days.kpi_date),
            (select count(distinct user_id) from events
                where d between days.kpi_date - 29 and days.kpi_date),
            (select count(*) from stg_product__users
                where cast(signed_up_at as date) = days.kpi_date),
            (select count(*) from events e where e.d = days.kpi_date
                and e.event_type in ('post', 'comment')
                and exists (select 1 from members m where m.user_id = e.user_id
                    and m.joined <= e.d and (m.left_date is null or m.left_date > e.d)))
        from days
        order by 1
        """
    ).fetchall()
    marts = con.execute(
        "select kpi_date, count_dau, count_wau, count_mau, count_new_users, "
        "count_contents_by_group_members from fct_kpi_daily order by 1"
    ).fetchall()
    assert marts == recomputed


def test_group_members_retain_better_in_the_cohorts(demo):
    _, con = demo
    rates = dict(
        con.execute(
            "select membership_segment, sum(count_retained_users) / sum(count_cohort_users) "
            "from fct_retention_cohorts where retention_period = 'week_2' and is_complete "
            "group by 1"
        ).fetchall()
    )
    assert rates["group_member"] > rates["non_member"]


def _last_full_snapshot(con):
    return con.execute(
        "select max(snapshot_date) from communities.community_snapshot_runs "
        "where not is_provisional"
    ).fetchone()[0]


def test_every_message_is_enriched_once(demo):
    tmp, con = demo
    counts = con.execute(
        """
        select
            (select count(*) from stg_product__contents),
            (select count(*) from fct_contents_enriched),
            (select count(distinct content_id) from text.contents_enriched)
        """
    ).fetchone()
    assert counts[0] == counts[1] == counts[2]
    from orchestration.lib.evaluation.text import evaluate_snapshot

    result = evaluate_snapshot(con, tmp / "truth", _last_full_snapshot(con))
    assert result["language_agreement"] > 0.99
    # Planted labels come from templates; the scorer was never fitted on them.
    print(f"sentiment agreement with planted labels: {result['sentiment_agreement']:.3f}")
    assert result["sentiment_agreement"] >= 0.85  # measured 0.891 (0.729 before issue 12)


def test_text_marts_recover_planted_topics_and_pain_points(demo):
    from orchestration.lib.evaluation.text import evaluate_snapshot

    tmp, con = demo
    result = evaluate_snapshot(con, tmp / "truth", _last_full_snapshot(con))
    pain = result["pain_points"]
    supported = pain[pain["n_window"] >= 3]
    topics = result["topics"]
    big = topics[topics["n_window"] >= 20]
    print(
        f"pain points found {supported['found'].mean():.3f} of {len(supported)}; "
        f"topics found {big['found'].mean():.3f} of {len(big)}"
    )
    assert len(supported) >= 10 and supported["found"].mean() >= 0.8
    # Pain points measured 0.873 of 63 (0.836 before the issue-12 rework), topics 1.000;
    # the issue asks for 0.8.
    assert len(big) >= 10 and big["found"].mean() >= 0.8
    # Every top pain point has support and a sentiment; trends are labelled.
    bad = con.execute(
        """
        select count(*) from fct_community_pain_points
        where count_messages < 3 or count_authors < 2 or avg_sentiment is null
           or count_messages != count_messages_this_week + count_messages_earlier_weeks
        """
    ).fetchone()[0]
    assert bad == 0


def test_sql_topics_and_trending_terms_match_the_reference(demo):
    from orchestration.lib.evaluation.topics_reference import compare_with_marts

    _, con = demo
    result = compare_with_marts(con, _last_full_snapshot(con))
    topics, trending = result["topics"], result["trending"]
    assert topics["share_in_both"] > 0.99 and topics["max_difference"] < 1e-6
    assert topics["counts_equal"]
    assert trending["rows_reference"] > 0 and trending["share_in_both"] > 0.99


def test_planted_experiment_effects_lie_in_their_99_intervals(demo):
    """The user experiment (exp002) and the group experiment (exp001): every planted unit
    analysed in its arm, no SRM (units or members), and the planted relative effect inside
    the 99% interval of the primary metric, unadjusted and with CUPED."""
    from orchestration.lib.experiments import store
    from orchestration.lib.experiments.readout import analyse_experiments

    tmp, con = demo
    truth = con.execute(
        f"select experiment_id, unit_type, metric, planted_effect, n_treatment, n_control "
        f"from {_truth(tmp, 'experiments')} order by experiment_id"
    ).df()
    assert list(truth["unit_type"]) == ["group", "user"]
    # The readout's own statistics at alpha 0.01 on the warehouse's per-arm sums; the
    # mart's 95% rows must be the same readout at alpha 0.05.
    experiments, sums = store.read_experiments(con), store.read_sums(con)
    wide, _, _ = analyse_experiments(experiments, sums, alpha=0.01)
    mart = con.execute("select * from fct_experiment_results").df()
    usual, _, _ = analyse_experiments(experiments, sums, alpha=0.05)
    key = ["experiment_id", "metric_name", "variant", "adjustment"]
    joined = mart.merge(usual, on=key, suffixes=("", "_readout"))
    assert len(joined) == len(mart) == len(usual)
    for column in ("lift_relative", "lift_relative_ci_low", "p_value_adjusted"):
        a, b = joined[column].to_numpy(float), joined[f"{column}_readout"].to_numpy(float)
        assert ((abs(a - b) < 1e-9) | (a != a) & (b != b)).all(), column
    health = con.execute("select * from fct_experiment_health").df().set_index("experiment_id")
    for planted in truth.itertuples():
        rows = wide[(wide["experiment_id"] == planted.experiment_id)
                    & (wide["metric_name"] == planted.metric)]  # fmt: skip
        arms = rows[rows["adjustment"] == "none"].set_index("variant")["units"]
        assert arms.to_dict() == {"control": planted.n_control, "treatment": planted.n_treatment}
        treated = rows[rows["variant"] == "treatment"].set_index("adjustment")
        assert set(treated.index) == {"none", "cuped"}
        for adjustment, row in treated.iterrows():
            print(
                f"{planted.experiment_id} {planted.metric} {adjustment}: planted "
                f"{planted.planted_effect:+.3f}, estimated {row.lift_relative:+.3f}, 99% "
                f"[{row.lift_relative_ci_low:+.3f}, {row.lift_relative_ci_high:+.3f}], "
                f"variance reduction {row.variance_reduction:.3f}"
            )
            assert row.lift_relative_ci_low <= planted.planted_effect <= row.lift_relative_ci_high
        assert treated.loc["cuped", "variance_reduction"] > 0
        srm = health.loc[planted.experiment_id]
        print(f"{planted.experiment_id} srm p {srm.srm_p_value:.3f}, member srm p "
              f"{srm.member_srm_p_value:.3f}, members {srm.members_per_variant}")  # fmt: skip
        assert not srm.has_srm
    # Whole groups were assigned by a fair permutation: members per arm are no SRM once
    # the clusters' sizes are accounted for (a plain chi-square of members flags it).
    assert health.loc["exp001", "has_member_srm"] == False  # noqa: E712 (numpy bool)
    assert pd.isna(health.loc["exp002", "member_srm_p_value"])


def test_spillover_exposure_tracks_the_planted_one(demo):
    """The demo plants a posting spillover on exp002's control users (truth/spillover,
    per user in truth/spillover_exposure): fct_experiment_spillover is the step's analysis
    at 0.05, every control unit is in one bin of each exposure kind, the community exposure
    the SQL measures tracks each control user's planted treated share, and the step's
    estimator given the planted exposure puts the planted effect inside its 99% interval;
    fct_experiment_health carries the summary for the user experiment only.

    The detected-community estimate itself is printed, not checked against the planted
    value: at this size (about 40 communities, treated shares of sd 0.12) its 99% interval
    is about +-1 and lands on either side of +1.0 from one seed to the next (seeds 11-13 in
    docs/experiments.md); the estimator's coverage is checked by the planted simulations of
    tests/experiments/test_spillover.py instead.
    """
    from orchestration.lib.experiments import store
    from orchestration.lib.experiments.spillover import (
        analyse_spillover,
        community_exposure,
        estimate_spillover,
    )

    tmp, con = demo
    truth = con.execute(
        f"select experiment_id, metric, planted_effect, mean_treated_share "
        f"from {_truth(tmp, 'spillover')}"
    ).df()
    assert len(truth) == 1
    planted = truth.iloc[0]
    units = store.read_spillover_units(con)
    mart = con.execute("select * from fct_experiment_spillover").df()
    usual = analyse_spillover(units, alpha=0.05)
    key = ["experiment_id", "metric_name", "exposure_kind", "exposure_level"]
    joined = mart.merge(usual, on=key, suffixes=("", "_step"))
    assert len(joined) == len(mart) == len(usual) > 0
    for column in ("units", "mean_outcome", "spillover_estimate", "ci_low", "p_value_adjusted"):
        a, b = joined[column].to_numpy(float), joined[f"{column}_step"].to_numpy(float)
        assert ((abs(a - b) < 1e-9) | (a != a) & (b != b)).all(), column
    controls = units[units["variant"] == "control"].groupby("metric_name").size()
    bins = mart[mart["exposure_level"] != "all"]
    sums = bins.groupby(["metric_name", "exposure_kind"])["units"].sum()
    assert (sums.to_numpy() == controls.reindex(sums.index.get_level_values(0)).to_numpy()).all()
    wide = analyse_spillover(units, alpha=0.01)
    for kind in ("community", "interaction"):
        row = wide[(wide["experiment_id"] == planted.experiment_id)
                   & (wide["metric_name"] == planted.metric)
                   & (wide["exposure_kind"] == kind)
                   & (wide["exposure_level"] == "all")].iloc[0]  # fmt: skip
        print(
            f"{planted.experiment_id} {planted.metric} {kind}: planted "
            f"{planted.planted_effect:+.3f}, estimated {row.spillover_estimate:+.3f}, 99% "
            f"[{row.ci_low:+.3f}, {row.ci_high:+.3f}], units {row.units}, mean exposure "
            f"{row.mean_exposure:.3f}, spillover share {row.spillover_share:+.3f}, readout "
            f"lift {row.lift_relative:+.3f}"
        )
    community = wide[(wide["metric_name"] == planted.metric)
                     & (wide["exposure_kind"] == "community")
                     & (wide["exposure_level"] == "all")].iloc[0]  # fmt: skip
    assert community.units > 0.4 * controls[planted.metric]

    # The exposure the SQL measures against the planted one, control user by control user.
    exposed = con.execute(
        f"select user_id, mean_planted_share from {_truth(tmp, 'spillover_exposure')}"
    ).df()
    ctrl = units[(units["experiment_id"] == planted.experiment_id)
                 & (units["metric_name"] == planted.metric)
                 & (units["variant"] == "control")]  # fmt: skip
    ctrl = ctrl.merge(exposed, left_on="unit_id", right_on="user_id", how="left")
    measured = community_exposure(
        ctrl["count_community_peer_units"], ctrl["count_community_peers_other_variants"]
    )
    has_both = ~np.isnan(measured) & ctrl["mean_planted_share"].notna().to_numpy()
    assert has_both.sum() > 0.7 * ctrl["mean_planted_share"].notna().sum()
    x_measured = measured[has_both]
    x_planted = ctrl["mean_planted_share"].to_numpy(float)[has_both]
    corr = float(np.corrcoef(x_measured, x_planted)[0, 1])
    print(
        f"community exposure: measured mean {x_measured.mean():.3f}, planted mean "
        f"{x_planted.mean():.3f} (truth summary {planted.mean_treated_share:.3f}), "
        f"correlation {corr:.3f} over {has_both.sum()} control users"
    )
    assert corr > 0.5
    assert abs(x_measured.mean() - x_planted.mean()) < 0.05

    # The known answer: the step's estimator given each control user's planted exposure.
    on_truth = ctrl[ctrl["mean_planted_share"].notna()]
    clusters = on_truth["community_id"].fillna("none:" + on_truth["unit_id"]).to_numpy()
    known = estimate_spillover(
        on_truth["metric_value"].to_numpy(float),
        on_truth["mean_planted_share"].to_numpy(float),
        on_truth["pre_period_value"].to_numpy(float),
        clusters,
        alpha=0.01,
    )
    print(
        f"on the planted exposure: {known.estimate:+.3f} "
        f"[{known.ci_low:+.3f}, {known.ci_high:+.3f}] over {known.units} control users"
    )
    assert known.ci_low <= planted.planted_effect <= known.ci_high
    health = con.execute("select * from fct_experiment_health").df().set_index("experiment_id")
    assert health.loc["exp002", "spillover_metric_name"] in set(units["metric_name"])
    assert pd.notna(health.loc["exp002", "has_spillover"])
    assert pd.isna(health.loc["exp001", "has_spillover"])


def test_power_mart_covers_the_catalog_and_the_design_cli_is_balanced(demo, tmp_path):
    """fct_experiment_power has one row per catalog (metric, unit type) with figures
    recomputed from its own sums; `smallgroups experiment design` on the demo writes a
    balanced, reproducible assignment outside the raw folder and refuses the raw one."""
    import subprocess
    import sys

    from orchestration.lib.experiments.power import measure_power

    tmp, con = demo
    power = con.execute("select * from fct_experiment_power order by all").df()
    catalog = con.execute(
        "select metric_name, unnest(string_split(unit_types, '|')) as unit_type"
        " from experiment_metrics order by all"
    ).fetchall()
    assert sorted(zip(power.metric_name, power.unit_type, strict=True)) == sorted(catalog)
    users = power[power.unit_type == "user"]
    assert (users.design_effect == 1).all() and (users.count_units > 0).all()
    again = measure_power(con.execute("select * from int_experiment_power_sums_aggregated").df())
    merged = power.merge(again, on=["metric_name", "unit_type"], suffixes=("", "_again"))
    pd.testing.assert_series_equal(
        merged.mde_relative, merged.mde_relative_again, check_names=False, rtol=1e-9
    )
    env = {
        **__import__("os").environ,
        "SMALLGROUPS_DUCKDB_PATH": str(tmp / "warehouse.duckdb"),
        "SMALLGROUPS_RAW_DIR": str(tmp / "raw"),
    }

    def design(out):
        return subprocess.run(
            [sys.executable, "-m", "orchestration.cli", "experiment", "design", "--out", str(out)],
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    refused = design(tmp / "raw" / "experiment_assignments.csv")
    assert refused.returncode == 2 and "inside the raw folder" in refused.stderr
    first, _ = design(tmp_path / "a.csv"), design(tmp_path / "b.csv")
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assigned = pd.read_csv(tmp_path / "a.csv")
    counts = assigned.variant.value_counts()
    assert counts.max() - counts.min() <= 1
    members = con.execute(
        "select count(distinct community_id) from stg_communities__assignments"
        " where snapshot_date = (select max(snapshot_date) from stg_communities__assignments)"
    ).fetchone()[0]
    assert len(assigned) == members
    assert '"max_stratum_imbalance": 1' in first.stdout or '"max_stratum_imbalance": 0' in (
        first.stdout
    )


def test_a_designed_community_experiment_is_read_out_with_the_community_as_the_unit(
    demo, run_pipeline, tmp_path
):
    """Two phases (lib/demo/community_experiment.py): on a copy of the built demo,
    `smallgroups experiment design --assigned-at` (the midnight after exp002's end) designs
    exp003 on the detected communities, the treatment communities' members post 30% more
    from then on (extra posts landed as a new raw events file, the experiment and its
    assignments appended to the raw tables), and an incremental run reads it out: the
    community is the unit (one unit per designed community), the planted effect lies in
    the 99% interval (unadjusted and CUPED), no SRM of units or members, the split/merge
    flag is the count of assigned communities that split or merged after the assignment,
    the detected communities did not move, and exp001 / exp002 read out exactly as
    before."""
    import subprocess
    import sys

    from orchestration.lib.demo.community_experiment import (
        plant_community_experiment,
        read_assignments,
    )
    from orchestration.lib.experiments import store
    from orchestration.lib.experiments.readout import analyse_experiments

    tmp, con = demo
    raw, truth = tmp_path / "raw", tmp_path / "truth"
    shutil.copytree(tmp / "raw", raw)
    shutil.copytree(tmp / "truth", truth)
    shutil.copy(tmp / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    ended = con.execute(
        "select ended_at from stg_product__experiments where experiment_id = 'exp002'"
    ).fetchone()[0]
    start = (pd.Timestamp(ended).normalize() + pd.Timedelta(days=1)).isoformat()  # UTC
    env = {
        **__import__("os").environ,
        "SMALLGROUPS_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "SMALLGROUPS_RAW_DIR": str(raw),
    }
    design = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "experiment", "design",
         "--out", str(tmp_path / "exp003.csv"), "--experiment-id", "exp003",
         "--assigned-at", start],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert design.returncode == 0, design.stderr
    designed = read_assignments(tmp_path / "exp003.csv")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as before:
        planted = plant_community_experiment(before, raw, truth, designed, effect=0.3)
    print("planted", planted)
    # The design dated T used the snapshot the readout resolves members from, not the latest.
    assert __import__("json").loads(design.stdout)["snapshot_date"] == planted["snapshot_date"]
    assert planted["extra_posts"] > 0.2 * planted["eligible_posts"] > 0
    result = run_pipeline(tmp_path, SMALLGROUPS_RAW_DIR=str(raw), SMALLGROUPS_TRUTH_DIR=str(truth))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]

    key = ["experiment_id", "metric_name", "variant", "adjustment"]
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as after:
        # The extra posts (no target user) leave the detected communities as they were.
        query = "select * from communities.community_assignments order by all"
        pd.testing.assert_frame_equal(con.execute(query).df(), after.execute(query).df())
        for table, order in (
            ("fct_experiment_results", key),
            ("fct_experiment_health", ["experiment_id"]),
            ("fct_experiment_spillover", ["experiment_id", "metric_name", "exposure_kind",
                                          "exposure_level"]),
        ):  # fmt: skip
            query = (
                f"select * from {table} where experiment_id in ('exp001', 'exp002')"
                f" order by {', '.join(order)}"
            )
            old, new = con.execute(query).df(), after.execute(query).df()
            assert len(old) > 0
            pd.testing.assert_frame_equal(old, new, check_exact=False, rtol=1e-12)
        experiments, sums = store.read_experiments(after), store.read_sums(after)
        wide, _, _ = analyse_experiments(experiments, sums, alpha=0.01)
        mart = after.execute(
            "select * from fct_experiment_results where experiment_id = 'exp003'"
        ).df()
        health = (
            after.execute("select * from fct_experiment_health where experiment_id = 'exp003'")
            .df()
            .iloc[0]
        )
        changed = after.execute(
            """
            select count(distinct assignments.unit_id)
            from stg_product__experiment_assignments as assignments
            inner join communities.community_events as events
                on assignments.unit_id in (events.community_id, events.related_community_id)
                and events.event_type in ('split', 'merged')
                and events.snapshot_date > cast(assignments.assigned_at as date)
            where assignments.experiment_id = 'exp003'
            """
        ).fetchone()[0]
        snapshots_after = after.execute(
            "select count(*) from communities.community_snapshot_runs where snapshot_date > ?",
            [pd.Timestamp(start).date()],
        ).fetchone()[0]
    assert len(mart) > 0 and (mart["analysis_unit"] == "community").all()
    rows = wide[(wide["experiment_id"] == "exp003")
                & (wide["metric_name"] == "posts_per_member_day")]  # fmt: skip
    arms = rows[rows["adjustment"] == "none"].set_index("variant")["units"].to_dict()
    assert arms == planted["units_per_arm"]  # one unit per community, not per member
    treated = rows[rows["variant"] == "treatment"].set_index("adjustment")
    assert set(treated.index) == {"none", "cuped"}
    for adjustment, row in treated.iterrows():
        print(
            f"exp003 posts_per_member_day {adjustment}: planted +0.300, estimated "
            f"{row.lift_relative:+.3f}, 99% [{row.lift_relative_ci_low:+.3f}, "
            f"{row.lift_relative_ci_high:+.3f}], p {row.p_value:.2g}, variance reduction "
            f"{row.variance_reduction:.3f}"
        )
        assert row.lift_relative_ci_low <= 0.3 <= row.lift_relative_ci_high
    print(
        f"exp003 srm p {health.srm_p_value:.3f}, member srm p {health.member_srm_p_value:.3f}, "
        f"members {health.members_per_variant}, split or merged "
        f"{health.count_units_split_or_merged} (snapshots after the start: {snapshots_after})"
    )
    assert not health.has_srm and health.has_member_srm == False  # noqa: E712 (numpy bool)
    assert health.count_units_split_or_merged == changed
    assert health.has_unit_split_or_merge == (changed > 0)


# ------------------------------------------------- attribution of interventions


def test_planted_intervention_effects_lie_in_their_99_intervals_and_a_placebo_shows_none(demo):
    """Every intervention has an attribution row; each planted pilot / resource boost
    (+40% posts and interactions per member) lies inside the 99% interval of its relative
    effect, and its DAU contribution's (planted 0: sessions do not move) too; the donors
    were picked at the last snapshot before the start; a placebo intervention on an
    untreated donor shows no effect; the inflection mart sums the listed contributions."""
    import sys

    from orchestration.lib.attribution import store
    from orchestration.lib.attribution.analysis import attribute_interventions

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from bench_attribution import placebo_rows

    tmp, con = demo
    truth = con.execute(
        f"select intervention_id, intervention_type, planted_effect "
        f"from {_truth(tmp, 'interventions')} order by intervention_id"
    ).df()
    mart = con.execute("select * from fct_intervention_attribution order by all").df()
    assert list(mart.intervention_id) == list(truth.intervention_id)
    windows, candidates = store.read_windows(con), store.read_candidates(con)
    panel, kpis = store.read_panel(con), store.read_kpis(con)
    usual = attribute_interventions(windows, candidates, panel, kpis, alpha=0.05)
    pd.testing.assert_series_equal(
        mart.set_index("intervention_id").relative_ci_low,
        usual.set_index("intervention_id").relative_ci_low,
        check_dtype=False,
    )
    wide = attribute_interventions(windows, candidates, panel, kpis, alpha=0.01)
    wide = wide.merge(truth, on=["intervention_id", "intervention_type"])
    boosts = wide[wide.intervention_type.isin(["pilot", "resource_boost"])]
    assert len(boosts) >= 5 and (boosts.status == "estimated").all()
    for r in boosts.itertuples(index=False):
        print(
            f"{r.intervention_id} {r.intervention_type}: planted {r.planted_effect:+.2f}, "
            f"DiD {r.relative_effect:+.3f} 99% [{r.relative_ci_low:+.3f}, "
            f"{r.relative_ci_high:+.3f}] ({r.n_donors} donors), synth "
            f"{r.synth_relative_effect:+.3f}, DAU {r.contribution_dau:+.2f} "
            f"[{r.contribution_dau_ci_low:+.2f}, {r.contribution_dau_ci_high:+.2f}]"
        )
        assert r.n_donors >= 3
        assert r.relative_ci_low <= r.planted_effect <= r.relative_ci_high
        assert r.contribution_dau_ci_low <= 0 <= r.contribution_dau_ci_high
    # Donors come from the lookalikes of the last snapshot before the start, never from
    # a group another overlapping intervention targets.
    late = con.execute(
        """
        select count(*) from fct_intervention_donors as donors
        inner join int_intervention_windows_dated as windows using (intervention_id)
        where donors.snapshot_date >= windows.started_date
           or exists (select 1 from stg_communities__snapshot_runs as runs
                      where runs.snapshot_date > donors.snapshot_date
                        and runs.snapshot_date < windows.started_date)
        """
    ).fetchone()[0]
    assert late == 0
    used = (
        mart.dropna(subset=["donor_ids"])
        .assign(community_id=lambda f: f.donor_ids.str.split(","))
        .explode("community_id")[["intervention_id", "community_id"]]
    )
    assert not used.community_id.isin(windows.community_id).any()
    # The cross-group connection's partner (raw related_target_id) is treated too: it is
    # a candidate left out as connected_to_target, never a donor.
    partners = con.execute(
        """
        select windows.intervention_id, windows.related_community_id, donors.exclusion_reason
        from int_intervention_windows_dated as windows
        left join fct_intervention_donors as donors
            on windows.intervention_id = donors.intervention_id
            and windows.related_community_id = donors.community_id
        where windows.intervention_type = 'cross_group_connection'
        """
    ).df()
    assert len(partners) == 1 and partners.related_community_id.notna().all()
    assert (partners.exclusion_reason == "connected_to_target").all()
    assert not used.community_id.isin(partners.related_community_id).any()
    placebos = placebo_rows(con, alpha=0.01)
    assert len(placebos) >= 1
    for r in placebos.itertuples(index=False):
        print(f"placebo on {r.community_id}: {r.relative_effect:+.3f} 99% "
              f"[{r.relative_ci_low:+.3f}, {r.relative_ci_high:+.3f}]")  # fmt: skip
        assert r.status == "estimated" and r.relative_ci_low <= 0 <= r.relative_ci_high
    bends = con.execute(
        "select series_name, intervention_ids, contribution_dau from fct_growth_inflections"
        " where count_interventions > 0"
    ).df()
    by_id = mart.set_index("intervention_id").contribution_dau
    for bend in bends.itertuples(index=False):
        listed = bend.intervention_ids.split(",")
        assert bend.contribution_dau == pytest.approx(by_id[listed].sum(), abs=1e-9)


def test_potential_score_refit_and_pilot_replication_on_the_demo(demo, tmp_path):
    """The refit stores one weight per component beside the seed's (the seed's own when
    the 40-day demo has too little history), the report ranks by the score its basis
    says with the backtested growth of its decile; every replication row is of a
    significant pilot, ranked by similarity without forecasts; `smallgroups plan` prints
    the plan and writes a balanced assignment file of the candidates."""
    tmp, con = demo
    weights = con.execute("select * from fct_potential_score_weights order by component").df()
    assert len(weights) == 6 and weights["weight_basis"].nunique() == 1
    basis = weights["weight_basis"].iloc[0]
    report = con.execute("select * from rpt_high_potential_communities").df()
    assert set(report["score_basis"]) == {basis}
    if basis == "seed_default":
        assert (weights["weight"] == weights["seed_default_weight"]).all()
        assert (report["potential_score"] == report["seed_potential_score"]).all()
    else:
        assert weights["weight"].abs().sum() == pytest.approx(1.0)
    calibrated = report[report["expected_member_growth_4_weeks"].notna()]
    deciles = con.execute("select score_decile from fct_potential_score_calibration").df()
    assert set(calibrated["score_decile"]) == set(report["score_decile"]) & set(
        deciles["score_decile"]
    )
    assert (calibrated["expected_growth_ci_low"] <= calibrated["expected_growth_ci_high"]).all()
    replication = con.execute("select * from rpt_pilot_replication").df()
    significant = con.execute(
        "select intervention_id from fct_intervention_attribution"
        " where status = 'estimated' and did_ci_low > 0"
    ).df()
    assert set(replication["intervention_id"]) <= set(significant["intervention_id"])
    forecasts = con.execute(
        "select count(*) from information_schema.tables"
        " where table_name = 'fct_intervention_forecasts'"
    ).fetchone()[0]
    if not forecasts:
        assert set(replication["ranking_basis"]) <= {"similarity"}
    env = {
        **os.environ,
        "SMALLGROUPS_DUCKDB_PATH": str(tmp / "warehouse.duckdb"),
        "SMALLGROUPS_RAW_DIR": str(tmp / "raw"),
    }
    kind = replication["intervention_type"].iloc[0] if len(replication) else "activity"
    plan = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "plan", "--intervention-type", kind,
         "--budget", "2", "--out", str(tmp_path / "plan.csv")],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if replication.empty:
        assert plan.returncode == 2 and "no significant pilot" in plan.stderr
        return
    assert plan.returncode == 0, plan.stderr
    assert "Whom to contact" in plan.stdout and "Verifying design" in plan.stdout
    assigned = pd.read_csv(tmp_path / "plan.csv")
    counts = assigned["variant"].value_counts()
    assert len(assigned) <= 4 and counts.max() - counts.min() <= 1
