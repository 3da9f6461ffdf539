"""Read messages from the warehouse and write the text tables (schema ``text``).

``text.contents_enriched`` and ``text.content_terms`` grow by the messages not enriched
yet; ``text.pain_point_runs`` and ``text.community_pain_points`` are replaced one
snapshot at a time in a transaction, like the community snapshots. All are dbt sources
(see ``models/staging/text``).
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd

from orchestration.lib.communities.store import DECLARED_PREFIX, SCHEMA as COMMUNITY_SCHEMA
from orchestration.lib.text.enrich import ENRICHED_COLUMNS
from orchestration.lib.warehouse.tables import (
    ddl_names,
    insert_frame,
    stored_columns,
    transaction,
)

__all__ = [
    "CONTENT_TABLES",
    "ENRICHMENT_INPUT_MODELS",
    "PAIN_POINT_COMMUNITY_TABLES",
    "PAIN_POINT_INPUT_MODELS",
    "SCHEMA",
    "SNAPSHOT_TABLES",
    "delete_orphans",
    "delete_snapshots",
    "ensure_tables",
    "read_snapshot_messages",
    "read_unenriched",
    "stored_enrichment_fingerprints",
    "stored_runs",
    "wanted_snapshots",
    "write_enriched",
    "write_snapshot",
]

SCHEMA = "text"

#: The dbt models and seeds the enrichment reads: the accepted messages, and the domain
#: terms of the tokenizer (read from the seed file, so a change re-enriches).
ENRICHMENT_INPUT_MODELS = ("stg_product__contents", "text_domain_terms")

#: The dbt models the pain points read, besides the enriched messages (this module's
#: ``contents_enriched``) and the community snapshots (:data:`PAIN_POINT_COMMUNITY_TABLES`).
PAIN_POINT_INPUT_MODELS = ("stg_product__contents",)

#: The tables of the community snapshots (schema ``communities``, written by the
#: communities step) that the pain points read.
PAIN_POINT_COMMUNITY_TABLES = ("community_assignments", "community_snapshot_runs")

CONTENT_TABLES: dict[str, str] = {
    "contents_enriched": """
        content_id varchar, language varchar, tokens varchar[], count_tokens bigint,
        sentiment_score double, sentiment_label varchar, is_need_message boolean,
        segments varchar[][], sentiment_missing_reason varchar,
        enrichment_fingerprint varchar, enriched_at timestamp""",
    "content_terms": "content_id varchar, term varchar, term_count bigint",
}

SNAPSHOT_TABLES: dict[str, str] = {
    "pain_point_runs": """
        snapshot_date date, is_provisional boolean, window_start_date date,
        count_messages bigint, count_need_messages bigint, count_groups bigint,
        count_pain_points bigint, seconds double, settings_fingerprint varchar,
        community_fingerprint varchar, computed_at timestamp""",
    "community_pain_points": """
        snapshot_date date, group_kind varchar, community_id varchar, rank bigint,
        phrase varchar, language varchar, count_messages bigint, count_authors bigint,
        share_of_messages double, share_of_need_messages double,
        count_messages_this_week bigint, count_messages_earlier_weeks bigint,
        messages_per_week_this_week double, messages_per_week_earlier double,
        trend varchar, avg_sentiment double, share_negative double, score double,
        example_content_ids varchar[]""",
}


def ensure_tables(
    con: duckdb.DuckDBPyConnection,
    *,
    recreate_contents: bool = False,
    recreate_snapshots: bool = False,
) -> None:
    """Create the schema and tables; drop them first when asked or when a table's
    columns are not the expected ones (written by an older version: recomputed)."""
    con.execute(f"create schema if not exists {SCHEMA}")
    for tables, recreate in (
        (CONTENT_TABLES, recreate_contents),
        (SNAPSHOT_TABLES, recreate_snapshots),
    ):
        outdated = any(
            stored_columns(con, SCHEMA, name) not in ([], ddl_names(ddl))
            for name, ddl in tables.items()
        )
        for name, ddl in tables.items():
            if recreate or outdated:
                con.execute(f"drop table if exists {SCHEMA}.{name}")
            con.execute(f"create table if not exists {SCHEMA}.{name} ({ddl})")


def stored_enrichment_fingerprints(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Fingerprints of the enrichment that produced the stored rows."""
    rows = con.execute(
        f"select distinct enrichment_fingerprint from {SCHEMA}.contents_enriched"
    ).fetchall()
    return {r[0] for r in rows}


def read_unenriched(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Accepted messages not enriched yet (``content_id, body, language``), by id."""
    return con.execute(
        f"""
        select contents.content_id, contents.body, contents.language
        from main.stg_product__contents as contents
        anti join {SCHEMA}.contents_enriched as done on contents.content_id = done.content_id
        order by contents.content_id
        """
    ).df()


def delete_orphans(con: duckdb.DuckDBPyConnection) -> int:
    """Drop enriched rows whose message is no longer accepted; return how many."""
    con.execute(
        f"""
        create or replace temp table _orphans as
        select done.content_id from {SCHEMA}.contents_enriched as done
        anti join main.stg_product__contents as contents
            on contents.content_id = done.content_id
        """
    )
    n = con.execute("select count(*) from _orphans").fetchall()[0][0]
    if n:
        for name in CONTENT_TABLES:
            con.execute(
                f"delete from {SCHEMA}.{name} where content_id in (select content_id from _orphans)"
            )
    con.execute("drop table _orphans")
    return int(n)


def write_enriched(
    con: duckdb.DuckDBPyConnection, enriched: pd.DataFrame, terms: pd.DataFrame, fingerprint: str
) -> None:
    """Append enriched messages and their terms, in one transaction."""
    frame = enriched[ENRICHED_COLUMNS].assign(enrichment_fingerprint=fingerprint)
    with transaction(con):
        con.register("_enriched", frame)
        try:
            con.execute(
                f"insert into {SCHEMA}.contents_enriched "
                f"select {', '.join(ENRICHED_COLUMNS)}, enrichment_fingerprint, "
                "current_localtimestamp() from _enriched"
            )
        finally:
            con.unregister("_enriched")
        insert_frame(con, SCHEMA, "content_terms", CONTENT_TABLES["content_terms"], terms)


def wanted_snapshots(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The community snapshots (``snapshot_date, is_provisional, community_fingerprint``)."""
    return con.execute(
        f"""
        select snapshot_date, is_provisional, settings_fingerprint as community_fingerprint
        from {COMMUNITY_SCHEMA}.community_snapshot_runs
        order by snapshot_date
        """
    ).df()


def stored_runs(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Stored pain-point snapshots with their fingerprints and whether a message of
    their window was enriched after they were computed (``has_late_messages``)."""
    return con.execute(
        f"""
        select
            runs.snapshot_date, runs.is_provisional, runs.settings_fingerprint,
            runs.community_fingerprint,
            exists (
                select 1
                from {SCHEMA}.contents_enriched as enriched
                inner join main.stg_product__contents as contents
                    on contents.content_id = enriched.content_id
                where contents.created_at >= runs.window_start_date
                  and contents.created_at < runs.snapshot_date + 1
                  and enriched.enriched_at > runs.computed_at
            ) as has_late_messages
        from {SCHEMA}.pain_point_runs as runs
        order by runs.snapshot_date
        """
    ).df()


def delete_snapshots(con: duckdb.DuckDBPyConnection, dates: list[date]) -> None:
    """Delete every row of the given snapshots."""
    if not dates:
        return
    frame = pd.DataFrame({"snapshot_date": pd.to_datetime(pd.Series(dates)).dt.date})
    con.register("_dates", frame)
    try:
        for name in SNAPSHOT_TABLES:
            con.execute(
                f"delete from {SCHEMA}.{name} where snapshot_date in "
                "(select snapshot_date from _dates)"
            )
    finally:
        con.unregister("_dates")


def read_snapshot_messages(
    con: duckdb.DuckDBPyConnection, snapshot_date: date, window_days: int
) -> pd.DataFrame:
    """Enriched messages of a snapshot's window, once per group kind.

    ``detected`` rows carry the author's community at the snapshot (null when
    unassigned), ``declared`` rows the group the message was posted in (null when none).
    """
    first = snapshot_date - timedelta(days=window_days - 1)
    end = snapshot_date + timedelta(days=1)
    return con.execute(
        f"""
        with messages as (
            select
                contents.content_id, contents.author_user_id, contents.group_id,
                contents.created_at, contents.body, enriched.language, enriched.segments,
                enriched.sentiment_score, enriched.is_need_message
            from main.stg_product__contents as contents
            inner join {SCHEMA}.contents_enriched as enriched
                on contents.content_id = enriched.content_id
            where contents.created_at >= $first and contents.created_at < $end
        )
        select 'detected' as group_kind, assignments.community_id, messages.* exclude (group_id)
        from messages
        left join {COMMUNITY_SCHEMA}.community_assignments as assignments
            on assignments.user_id = messages.author_user_id
            and assignments.snapshot_date = $snapshot
            and assignments.membership_status = 'member'
        union all
        select
            'declared' as group_kind,
            case when group_id is not null then '{DECLARED_PREFIX}' || group_id end,
            messages.* exclude (group_id)
        from messages
        order by group_kind, content_id
        """,
        {"first": first, "end": end, "snapshot": snapshot_date},
    ).df()


def write_snapshot(con: duckdb.DuckDBPyConnection, run: dict, pain_points: pd.DataFrame) -> None:
    """Replace one snapshot's rows in every snapshot table, in one transaction."""
    tables = {"pain_point_runs": pd.DataFrame([run]), "community_pain_points": pain_points}
    with transaction(con):
        delete_snapshots(con, [run["snapshot_date"]])
        for name, frame in tables.items():
            if not frame.empty:
                insert_frame(con, SCHEMA, name, SNAPSHOT_TABLES[name], frame)
