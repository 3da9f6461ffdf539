"""The SQL portability audit (scripts/audit_sql_portability.py, docs/spark.md).

The Spark scope (selector ``spark_portable``) holds no DuckDB-only construct; the audit
finds each construct it lists when one is planted in a scope model; docs/spark.md
carries the audit's current table.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "audit_sql_portability", PROJECT_DIR / "scripts" / "audit_sql_portability.py"
)
audit_module = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = audit_module  # dataclasses look their module up there
_spec.loader.exec_module(audit_module)


def test_the_spark_scope_has_no_duckdb_only_construct():
    inside = [f for f in audit_module.audit() if f["in_spark_scope"]]
    assert not inside, [f"{f['file']}:{f['line']} {f['construct']}" for f in inside]


def test_the_scope_follows_the_selector():
    assert audit_module.spark_scope_paths() == [
        "models/staging/product",
        "models/marts/core",
        "models/marts/graph",
        "models/marts/kpi/fct_retention_cohorts.sql",
        "models/marts/kpi/metricflow_time_spine.sql",
        "models/intermediate/kpi/int_rolling_active_users_daily.sql",
        "models/intermediate/kpi/int_declared_group_activity_daily.sql",
        "models/intermediate/kpi/int_group_member_days_spined.sql",
        "models/intermediate/graph/int_user_edges_weekly.sql",
        "models/staging/communities",
        "models/intermediate/kpi/int_detected_communities_daily.sql",
        "models/marts/kpi/fct_kpi_daily.sql",
        "models/staging/kpi",
    ]


def test_the_kpi_files_of_the_scope_are_scanned():
    scope = {str(p.relative_to(PROJECT_DIR)) for p in audit_module._spark_scope_files(PROJECT_DIR)}
    kpi = {p for p in scope if "/kpi/" in p}
    assert kpi == {
        "models/intermediate/kpi/int_declared_group_activity_daily.sql",
        "models/intermediate/kpi/int_detected_communities_daily.sql",
        "models/intermediate/kpi/int_group_member_days_spined.sql",
        "models/intermediate/kpi/int_group_membership_spells.sql",
        "models/intermediate/kpi/int_kpi_days.sql",
        "models/intermediate/kpi/int_rolling_active_users_daily.sql",
        "models/marts/kpi/fct_kpi_daily.sql",
        "models/marts/kpi/fct_retention_cohorts.sql",
        "models/marts/kpi/metricflow_time_spine.sql",
        # The staging of the growth-inflection step's output (phase 3).
        "models/staging/kpi/stg_kpi__growth_inflections.sql",
        # The singular test of fct_kpi_daily, a file of the scope.
        "data-tests/marts/kpi/assert_kpi_daily_has_no_gaps.sql",
    }


def test_the_community_staging_files_of_the_scope_are_scanned():
    scope = {str(p.relative_to(PROJECT_DIR)) for p in audit_module._spark_scope_files(PROJECT_DIR)}
    assert {p for p in scope if "/communities/" in p} == {
        "models/staging/communities/base/base_communities__assignments.sql",
        "models/staging/communities/stg_communities__assignments.sql",
        "models/staging/communities/stg_communities__events.sql",
        "models/staging/communities/stg_communities__fringe_assignments.sql",
        "models/staging/communities/stg_communities__member_metrics.sql",
        "models/staging/communities/stg_communities__snapshot_runs.sql",
        "models/staging/communities/stg_communities__stats.sql",
    }


@pytest.fixture
def project_copy(tmp_path):
    for name in ("models", "macros", "data-tests", "selectors.yml"):
        source = PROJECT_DIR / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name)
        else:
            shutil.copy2(source, tmp_path / name)
    return tmp_path


PLANTED = {
    "trailing_comma": "select a, b, from t",
    "star_exclude": "select * exclude (a) from t",
    "row_to_json": "select to_json(t) from t",
    "timestamptz": "select try_cast(a as timestamptz) from t",
    "varchar_type": "select cast(a as varchar) from t",
    "regexp_matches": "select regexp_matches(a, 'x') from t",
    "isfinite": "select isfinite(a) from t",
    "generate_series": "select * from generate_series(1, 3)",
    "semi_anti_join": "select t.a from t semi join u on t.a = u.a",
    "interval_functions": "select a + to_days(3) from t",
    "strftime": "select strftime(a, '%Y') from t",
    "qualify": "select a from t qualify row_number() over (order by a) = 1",
    "log": "select log(a) from t",
    "double_quoted_identifier": 'select "a" from t',
}


@pytest.mark.parametrize("construct", sorted(PLANTED))
def test_a_planted_construct_in_the_scope_is_found(project_copy, construct):
    model = project_copy / "models" / "marts" / "core" / "planted.sql"
    model.write_text(f"-- {construct}\nwith t as (select 1 as a)\n{PLANTED[construct]}\n")
    found = [
        f for f in audit_module.audit(project_copy) if f["file"] == "models/marts/core/planted.sql"
    ]
    assert [(f["construct"], f["in_spark_scope"]) for f in found] == [(construct, True)]


def test_macro_calls_and_the_duckdb_side_of_dispatched_macros_do_not_count(project_copy):
    model = project_copy / "models" / "marts" / "core" / "planted.sql"
    model.write_text(
        "select {{ star_except(['a']) }}, coalesce(a, {{ var('x') }})\n"
        "-- a comment: select a, from t; to_json(t)\n"
        "from t where b = 'select a, from t'\n"
    )
    found = [f for f in audit_module.audit(project_copy) if f["file"].endswith("planted.sql")]
    assert found == []


def test_docs_list_every_construct_with_its_decision():
    """docs/spark.md carries the audit's table; the counts of models outside the scope
    may move as models are added, the constructs and decisions may not."""
    docs = (PROJECT_DIR / "docs" / "spark.md").read_text()
    rows = audit_module.markdown_table(audit_module.audit()).splitlines()[2:]
    missing = [row.rsplit(" | ", 2)[0] for row in rows if row.rsplit(" | ", 2)[0] not in docs]
    assert not missing, missing
