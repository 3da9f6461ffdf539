"""The asset checks of the growth inflections and the pain points pass on consistent
tables and name what is wrong on broken ones (a small warehouse built by hand)."""

import duckdb
import pytest

from orchestration.defs.kpi.assets import growth_inflections_are_valid
from orchestration.defs.text.assets import community_pain_points_are_consistent
from orchestration.lib.kpi import store as kpi_store
from orchestration.lib.text import store as text_store

_INFLECTION = (
    "'count_dau', date '2026-02-10', 1.0, 3.0, 2.0, 'acceleration', 0.01, "
    "date '2026-02-08', date '2026-02-12', 0.4, 12.0, 'i1,i2', 2, '', 0"
)


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    path = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("SMALLGROUPS_DUCKDB_PATH", str(path))
    with duckdb.connect(str(path)) as con:
        con.execute("create schema kpi")
        con.execute(
            f"create table kpi.growth_inflections ({kpi_store.TABLES['growth_inflections']})"
        )
        con.execute(f"insert into kpi.growth_inflections values ({_INFLECTION})")
        con.execute("create schema communities")
        con.execute(
            "create table communities.community_snapshot_runs as "
            "select * from (values (date '2026-02-01'), (date '2026-02-08')) as t(snapshot_date)"
        )
        con.execute("create schema text")
        for name, ddl in text_store.SNAPSHOT_TABLES.items():
            con.execute(f"create table text.{name} ({ddl})")
        for day in ("2026-02-01", "2026-02-08"):
            con.execute(
                "insert into text.pain_point_runs (snapshot_date, count_pain_points) "
                f"values (date '{day}', 2)"
            )
            for rank, phrase in ((1, "夜景噪点"), (2, "dark mode")):
                con.execute(
                    "insert into text.community_pain_points (snapshot_date, group_kind, "
                    "community_id, rank, phrase, count_messages, count_authors, "
                    "share_of_messages, share_of_need_messages, share_negative) "
                    f"values (date '{day}', 'detected', 'c1', {rank}, '{phrase}', 5, 3, "
                    "0.2, 0.5, 0.4)"
                )
    return path


def _failures(result) -> dict:
    return {k: v.value for k, v in result.metadata.items() if v.value and k != "inflections"}


def test_consistent_tables_pass(warehouse):
    inflections = growth_inflections_are_valid()
    assert inflections.passed, inflections.metadata
    pains = community_pain_points_are_consistent()
    assert pains.passed, pains.metadata
    assert pains.metadata["pain_points"].value == 4


@pytest.mark.parametrize(
    ("change", "failure"),
    [
        ("update kpi.growth_inflections set direction = 'sideways'", "invalid_directions"),
        ("update kpi.growth_inflections set slope_change = -2.0", "invalid_directions"),
        ("update kpi.growth_inflections set series_name = 'count_mau'", "unknown_series"),
        (
            "update kpi.growth_inflections set date_high = date '2026-02-09'",
            "dates_outside_interval",
        ),
        ("update kpi.growth_inflections set p_value = 1.5", "values_out_of_range"),
        ("update kpi.growth_inflections set n_interventions = 1", "context_counts_mismatched"),
        ("update kpi.growth_inflections set n_experiments = 1", "context_counts_mismatched"),
        (f"insert into kpi.growth_inflections values ({_INFLECTION})", "duplicated_series_dates"),
    ],
)
def test_broken_inflections_fail(warehouse, change, failure):
    with duckdb.connect(str(warehouse)) as con:
        con.execute(change)
    result = growth_inflections_are_valid()
    assert not result.passed
    assert set(_failures(result)) == {failure}


@pytest.mark.parametrize(
    ("change", "failures"),
    [
        (
            "delete from text.pain_point_runs where snapshot_date = date '2026-02-08'",
            {"community_snapshots_without_run", "pain_points_without_run"},
        ),
        (
            "delete from communities.community_snapshot_runs "
            "where snapshot_date = date '2026-02-01'",
            {"runs_without_community_snapshot"},
        ),
        ("update text.pain_point_runs set count_pain_points = 3", {"runs_miscounting_pain_points"}),
        (
            "update text.community_pain_points set phrase = 'dark mode'",
            {"duplicated_snapshot_group_phrases"},
        ),
        (
            "update text.community_pain_points set rank = 3 where rank = 2",
            {"groups_with_broken_ranks"},
        ),
        (
            "update text.community_pain_points set count_authors = 6",
            {"rows_with_invalid_counts_or_shares"},
        ),
        (
            "update text.community_pain_points set count_messages = 0, count_authors = 0",
            {"rows_with_invalid_counts_or_shares"},
        ),
        (
            "update text.community_pain_points set share_negative = 1.2",
            {"rows_with_invalid_counts_or_shares"},
        ),
    ],
)
def test_broken_pain_points_fail(warehouse, change, failures):
    with duckdb.connect(str(warehouse)) as con:
        con.execute(change)
    result = community_pain_points_are_consistent()
    assert not result.passed
    assert set(_failures(result)) - {"pain_points", "snapshots_analysed"} == failures
