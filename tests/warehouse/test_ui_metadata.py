"""The markdown the publishing step shows in the Dagster UI (lib/warehouse/ui_metadata)."""

from datetime import date, timedelta

import duckdb
import pytest

from orchestration.lib.warehouse.ui_metadata import (
    growth_curve_md,
    markdown_table,
    rejects_md,
    sparkline,
    top_groups_md,
)


def test_sparkline_scales_from_lowest_to_highest():
    assert sparkline([0, 7, 14]) == "▁▅█"
    assert sparkline([3, 3, 3]) == "▁▁▁"
    assert sparkline([1, None, 2]) == "▁ █"
    assert sparkline([]) == ""
    assert sparkline([None, None]) == "  "


def test_markdown_table_escapes_what_would_break_a_row():
    table = markdown_table(["a", "b"], [["x|y", "two\nlines"], [1234567, 0.5]])
    assert table.splitlines() == [
        "| a | b |",
        "|---|---|",
        "| x\\|y | two lines |",
        "| 1,234,567 | 0.500 |",
    ]


@pytest.fixture
def con():
    con = duckdb.connect(":memory:")
    yield con
    con.close()


def test_absent_or_empty_marts_say_so(con):
    assert rejects_md(con) == (0, "No rejects table in this warehouse.")
    assert top_groups_md(con) == "rpt_high_potential_communities is not built."
    assert growth_curve_md(con) == "fct_kpi_daily is not built."
    con.execute(
        "create table stg_product__rejected_rows (source_table varchar, rejection_reason varchar)"
    )
    con.execute("create table fct_kpi_daily (kpi_date date, count_dau bigint)")
    assert rejects_md(con) == (0, "No row was rejected.")
    assert growth_curve_md(con) == "fct_kpi_daily is empty."


def test_rejects_are_counted_by_table_and_reason(con):
    con.execute(
        "create table stg_product__rejected_rows as select * from (values "
        "('events', 'unknown_user'), ('events', 'unknown_user'), ('events', 'duplicate_key'), "
        "('users', 'missing_key')) as t(source_table, rejection_reason)"
    )
    total, table = rejects_md(con)
    assert total == 4
    assert table.splitlines()[2:] == [
        "| events | unknown_user | 2 |",
        "| events | duplicate_key | 1 |",
        "| users | missing_key | 1 |",
    ]


def test_top_groups_are_the_latest_snapshots_best_ranks(con):
    con.execute(
        """
        create table rpt_high_potential_communities as select * from (values
            (1, date '2026-01-04', 'detected', 'c1', null, 'old label', 5, 9.0, 9.0, 'old'),
            (2, date '2026-01-11', 'detected', 'c2', null, 'fishing · line', 17, 71.1, 70.0,
             'growth | 61'),
            (1, date '2026-01-11', 'declared', 'g1', 'Club', null, 30, 80.0, 60.0, 'why')
        ) as t(potential_rank, snapshot_date, group_kind, community_id, group_name,
               community_label, count_members, potential_score, health_score, reason)
        """
    )
    rows = top_groups_md(con).splitlines()[2:]
    assert rows == [
        "| 1 | declared | Club | 30 | 80.000 | 60.000 | why |",
        "| 2 | detected | fishing · line | 17 | 71.100 | 70.000 | growth \\| 61 |",
    ]
    assert len(top_groups_md(con, limit=1).splitlines()) == 3


def test_growth_curve_draws_dau_and_lists_its_inflections(con):
    start = date(2026, 1, 1)
    con.execute("create table fct_kpi_daily (kpi_date date, count_dau bigint)")
    con.executemany(
        "insert into fct_kpi_daily values (?, ?)",
        [
            (start + timedelta(days=i), 100 + (i if i < 10 else 10 + 5 * (i - 10)))
            for i in range(20)
        ],
    )
    con.execute(
        "create table fct_growth_inflections as select * from (values "
        "('count_dau', date '2026-01-11', 'acceleration', 5.0, 2), "
        "('count_new_users', date '2026-01-05', 'slowdown', 0.5, 0)) "
        "as t(series_name, inflection_date, direction, slope_ratio, count_interventions)"
    )
    text = growth_curve_md(con)
    line = text.splitlines()[0]
    assert line.startswith("`▁") and line.endswith("█`") and len(line) == 22
    assert "DAU, 2026-01-01 to 2026-01-20: 100 -> 155 (min 100, max 155)" in text
    assert "| 2026-01-11 | acceleration | 5.000 | 2 |" in text
    assert "2026-01-05" not in text  # another series' inflection
    # A long history is drawn by week, so the line stays short.
    weekly = growth_curve_md(con, max_points=10)
    assert "weekly mean DAU" in weekly and len(weekly.splitlines()[0]) < 10
