"""The invariant checks of the Python outputs (orchestration/defs/invariants.py) count
the rows that break them: 0 on consistent tables, the right count on broken ones."""

import duckdb
import pytest

from orchestration.defs.invariants import INVARIANTS, count_violations


@pytest.fixture
def con():
    con = duckdb.connect(":memory:")
    for schema in ("communities", "text", "experiments"):
        con.execute(f"create schema {schema}")
    con.execute(
        "create table communities.community_snapshot_runs "
        "(snapshot_date date, count_communities bigint)"
    )
    con.execute(
        "create table communities.community_stats (snapshot_date date, group_kind varchar, "
        "community_id varchar, count_members bigint, share_weight_inside double, "
        "conductance double)"
    )
    con.execute(
        "create table communities.community_assignments (snapshot_date date, user_id varchar, "
        "community_id varchar, membership_status varchar)"
    )
    con.execute(
        "create table communities.community_events (snapshot_date date, community_id varchar, "
        "event_type varchar, related_community_id varchar)"
    )
    con.execute("insert into communities.community_snapshot_runs values (date '2026-01-04', 1)")
    con.execute(
        "insert into communities.community_stats values "
        "(date '2026-01-04', 'detected', 'c1', 2, 0.8, 0.2), "
        "(date '2026-01-04', 'declared', 'group:g1', 5, 0.5, 0.5)"
    )
    con.execute(
        "insert into communities.community_assignments values "
        "(date '2026-01-04', 'u1', 'c1', 'member'), (date '2026-01-04', 'u2', 'c1', 'member'), "
        "(date '2026-01-04', 'u3', 'c1', 'fringe')"
    )
    con.execute(
        "insert into communities.community_events values (date '2026-01-04', 'c1', 'born', null)"
    )
    con.execute("create table text.contents_enriched (content_id varchar)")
    con.execute(
        "create table text.content_terms (content_id varchar, term varchar, term_count int)"
    )
    con.execute("insert into text.contents_enriched values ('m1')")
    con.execute("insert into text.content_terms values ('m1', 'tripod', 2)")
    yield con
    con.close()


def _counts(con, table):
    return count_violations(con, INVARIANTS[table][1])


def test_consistent_tables_break_nothing(con):
    for table in (
        ("communities", "community_snapshot_runs"),
        ("communities", "community_events"),
        ("communities", "community_stats"),
        ("text", "content_terms"),
    ):
        assert not any(_counts(con, table).values()), table


def test_broken_rows_are_counted(con):
    con.execute(
        "insert into communities.community_events values "
        "(date '2026-01-11', 'c1', 'split', null), (date '2026-01-04', 'c2', 'vanished', null)"
    )
    assert _counts(con, ("communities", "community_events")) == {
        "events_without_snapshot": 1,
        "events_of_unknown_type": 1,
        "splits_or_merges_without_other_community": 1,
    }
    # A fringe user is not a member: the stats' count of 2 members holds; a third member breaks it.
    con.execute(
        "update communities.community_assignments set membership_status = 'member' "
        "where user_id = 'u3'"
    )
    con.execute("insert into communities.community_snapshot_runs values (date '2026-01-04', 1)")
    runs = _counts(con, ("communities", "community_snapshot_runs"))
    assert runs == {"duplicated_snapshot_dates": 1, "runs_whose_community_count_differs": 0}
    assert _counts(con, ("communities", "community_stats"))["member_counts_that_differ"] == 1
    con.execute("insert into text.content_terms values ('m9', 'x', 1), ('m1', 'tripod', 0)")
    assert _counts(con, ("text", "content_terms")) == {
        "terms_of_unknown_messages": 1,
        "duplicated_terms": 1,
        "rows_without_term_or_count": 1,
    }
