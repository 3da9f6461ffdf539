"""End to end: the semantic layer (MetricFlow, models/marts/kpi/_kpi__semantic.yml)
answers `mf query` on the published snapshot of a warehouse built by the real pipeline
(dbt target `serving`, read-only, as BI users run it), and its figures equal the same
figures computed directly in SQL from the marts. The warehouse is the session's shared
demo build (``demo_build`` in tests/conftest.py), which the test only reads.

The dbt project is copied into the test's folder and parsed there, because `mf` reads
the semantic manifest from <project>/target/ and the manifest names the warehouse's
catalog: parsing in the work tree would overwrite the project's own target/."""

import csv
import math
import os
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.conftest import DEMO_BUILD

pytestmark = pytest.mark.e2e

PROJECT_DIR = Path(__file__).resolve().parents[2]
N_DAYS = DEMO_BUILD["n_days"]


def _executable(name: str) -> str | None:
    beside_python = Path(sys.executable).parent / name
    return str(beside_python) if beside_python.exists() else shutil.which(name)


# The project's `mf` (MetricFlow's CLI without its PyPI update check), if MetricFlow is here.
MF = [sys.executable, "-m", "orchestration.mf"] if _executable("mf") else None
DBT = _executable("dbt")


def _copy_dbt_project(target: Path) -> Path:
    """Copy what dbt parses (dbt_project.yml, profiles.yml and the configured folders)."""
    target.mkdir()
    config = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    folders = {
        folder
        for key in ("model-paths", "seed-paths", "test-paths", "macro-paths", "analysis-paths")
        for folder in config.get(key, [])
    } | {"dbt_packages"}
    for name in ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml"):
        if (PROJECT_DIR / name).exists():
            shutil.copy2(PROJECT_DIR / name, target / name)
    for folder in folders:
        if (PROJECT_DIR / folder).is_dir():
            shutil.copytree(PROJECT_DIR / folder, target / folder)
    return target


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{args}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


@pytest.fixture(scope="module")
def semantic(tmp_path_factory, demo_build):
    """The shared demo build's published snapshot, the project parsed against it, and a
    function that runs `mf query` there and returns the rows of its CSV, and one that runs
    SQL on the snapshot."""
    if MF is None:
        pytest.skip(
            "MetricFlow CLI `mf` is not installed (pip install 'dbt-metricflow[dbt-duckdb]')"
        )
    tmp = tmp_path_factory.mktemp("semantic_layer")
    # What readers use: the snapshot the run published, never the working warehouse.
    serving = demo_build / "warehouse_serving.duckdb"
    assert serving.exists()

    project = _copy_dbt_project(tmp / "project")
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "SMALLGROUPS_DBT_TARGET": "serving",
        "SMALLGROUPS_SERVING_PATH": str(serving),
        "DBT_PROFILES_DIR": str(project),
        "DBT_PROJECT_DIR": str(project),
    }
    env.pop("DBT_TARGET_PATH", None)
    # Parses the copy (writing target/semantic_manifest.json, with the snapshot's
    # catalog), so the test does not depend on how fresh the work tree's manifest was
    # when the pipeline ran; the time spine is a mart, published with the others.
    _run([DBT, "parse", "--quiet", "--profiles-dir", "."], project, env)
    assert (project / "target" / "semantic_manifest.json").exists()

    def query(metrics: str, group_by: str, *extra: str) -> list[dict[str, str]]:
        out = tmp / f"{metrics.replace(',', '-')}-{group_by}.csv"
        _run(
            [
                *MF,
                "query",
                "--metrics",
                metrics,
                "--group-by",
                group_by,
                "--order",
                group_by,
                "--csv",
                str(out),
                "--quiet",
                *extra,
            ],
            project,
            env,
        )
        with out.open(newline="") as handle:
            return list(csv.DictReader(handle))

    def sql(statement: str) -> list[tuple]:
        with duckdb.connect(str(serving), read_only=True) as con:
            return con.execute(statement).fetchall()

    return query, sql


def _day(value: str) -> date:
    return datetime.fromisoformat(value).date()


def _number(value: str) -> float | None:
    return None if value in ("", "None", "nan") else float(value)


def _same(actual: float | None, expected: float | None) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-9)


def test_weekly_flows_and_ratio_equal_sums_of_the_daily_mart(semantic):
    query, sql = semantic
    rows = query("new_users,contents,share_contents_by_group_members", "metric_time__week")
    expected = {
        week: (new_users, contents, share)
        for week, new_users, contents, share in sql(
            """
            select
                cast(date_trunc('week', kpi_date) as date),
                sum(count_new_users),
                sum(count_contents),
                sum(count_contents_by_group_members) / nullif(sum(count_contents), 0),
            from fct_kpi_daily
            group by all
            """
        )
    }
    assert len(expected) >= 4
    got = {
        _day(row["metric_time__week"]): (
            _number(row["new_users"]),
            _number(row["contents"]),
            _number(row["share_contents_by_group_members"]),
        )
        for row in rows
    }
    assert got.keys() == expected.keys()
    for week, values in expected.items():
        assert all(_same(a, e) for a, e in zip(got[week], values, strict=True)), (
            week,
            got[week],
            values,
        )


def test_cumulative_and_last_value_metrics_match_the_daily_kpis(semantic):
    """weekly_active_users (7-day distinct users from fct_user_activity_daily) and
    total_users (running sign-ups from dim_users) are computed independently of the
    mart's count_wau / count_users; wau is its last-value measure and
    active_groups_growth_wow a derived metric with a 7-day offset."""
    query, sql = semantic
    [(first, last)] = sql("select min(kpi_date), max(kpi_date) from fct_kpi_daily")
    rows = query(
        "weekly_active_users,total_users,wau,active_groups_growth_wow",
        "metric_time__day",
        "--start-time",
        first.isoformat(),
        "--end-time",
        last.isoformat(),
    )
    got = {_day(row["metric_time__day"]): row for row in rows}
    mart = sql(
        "select kpi_date, count_wau, count_users, active_groups_growth_rate_wow "
        "from fct_kpi_daily order by kpi_date"
    )
    assert len(mart) == N_DAYS
    assert set(got) == {kpi_date for kpi_date, *_ in mart}
    for kpi_date, count_wau, count_users, growth in mart:
        row = got[kpi_date]
        assert _number(row["weekly_active_users"]) == count_wau, kpi_date
        assert _number(row["wau"]) == count_wau, kpi_date
        assert _number(row["total_users"]) == count_users, kpi_date
        assert _same(_number(row["active_groups_growth_wow"]), growth), (kpi_date, row)


def test_end_of_week_stock_and_member_ratio_by_week(semantic):
    """Semi-additive metrics take the week's last day with data; events per member is a
    ratio of sums (events / member-days), not an average of daily ratios."""
    query, sql = semantic
    rows = query("users,events_per_group_member", "metric_time__week")
    expected = {
        week: (users, per_member)
        for week, users, per_member in sql(
            """
            select
                cast(date_trunc('week', kpi_date) as date),
                arg_max(count_users, kpi_date),
                sum(count_events_group_members) / nullif(sum(count_group_members), 0),
            from fct_kpi_daily
            group by all
            """
        )
    }
    got = {
        _day(row["metric_time__week"]): (
            _number(row["users"]),
            _number(row["events_per_group_member"]),
        )
        for row in rows
    }
    assert got.keys() == expected.keys()
    for week, (users, per_member) in expected.items():
        assert got[week][0] == users, week
        assert _same(got[week][1], per_member), (week, got[week], per_member)


def test_text_metrics_by_week_and_language_match_the_enriched_messages(semantic):
    query, sql = semantic
    rows = query(
        "messages,negative_message_share,need_message_share,mean_sentiment,net_sentiment",
        "metric_time__week,content__language",
    )
    expected = {
        (week, language): values
        for week, language, *values in sql(
            """
            select
                cast(date_trunc('week', created_date) as date),
                language,
                count(*),
                avg(case when sentiment_label = 'negative' then 1 else 0 end),
                avg(case when is_need_message then 1 else 0 end),
                avg(sentiment_score),
                avg(case sentiment_label when 'positive' then 1 when 'negative' then -1 else 0 end),
            from fct_contents_enriched
            group by all
            """
        )
    }
    assert len(expected) >= 8
    got = {
        (_day(row["metric_time__week"]), row["content__language"]): [
            _number(row[name])
            for name in (
                "messages",
                "negative_message_share",
                "need_message_share",
                "mean_sentiment",
                "net_sentiment",
            )
        ]
        for row in rows
    }
    assert got.keys() == expected.keys()
    for key, values in expected.items():
        # A language without a sentiment model has no score: both sides say null.
        assert all(
            (a is None and e is None)
            or (None not in (a, e) and math.isclose(a, e, rel_tol=1e-6, abs_tol=1e-9))
            for a, e in zip(got[key], values, strict=True)
        ), (key, got[key], values)
