"""Read messages from the warehouse and write the text tables (schema ``text``).

``text.contents_enriched`` and ``text.content_terms`` grow by the messages not enriched
yet; ``text.pain_point_runs`` and ``text.community_pain_points`` are replaced one
snapshot at a time in a transaction, like the community snapshots. Every destructive
write (dropping the tables, removing orphans, deleting snapshots) is one transaction: an
interrupted step leaves the previous state. All are dbt sources (see
``models/staging/text``).

The pain points of the warehouse are counted here in DuckDB: `build_phrase_index` cuts
the stored word runs of a period into candidate phrases once (temp tables), and
`read_phrase_counts` counts them per group for each snapshot's window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pyarrow.compute as pc

from orchestration.lib.communities.store import DECLARED_PREFIX, SCHEMA as COMMUNITY_SCHEMA
from orchestration.lib.text.enrich import ENRICHED_COLUMNS
from orchestration.lib.text.painpoints import phrase_occurrences, token_flags
from orchestration.lib.warehouse.tables import (
    ddl_names,
    insert_frame,
    stored_columns,
    transaction,
)

__all__ = [
    "CONTENT_TABLES",
    "ENRICHMENT_INPUT_MODELS",
    "PhraseIndex",
    "PAIN_POINT_COMMUNITY_TABLES",
    "PAIN_POINT_INPUT_MODELS",
    "SCHEMA",
    "SNAPSHOT_TABLES",
    "build_phrase_index",
    "delete_orphans",
    "delete_snapshots",
    "drop_phrase_index",
    "ensure_tables",
    "read_content_info",
    "read_phrase_content_ids",
    "read_phrase_counts",
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
    columns are not the expected ones (written by an older version: recomputed).

    Each group of tables (the content tables, the snapshot tables) is dropped and
    created again in one transaction: an interrupted call leaves them as they were.
    """
    con.execute(f"create schema if not exists {SCHEMA}")
    for tables, recreate in (
        (CONTENT_TABLES, recreate_contents),
        (SNAPSHOT_TABLES, recreate_snapshots),
    ):
        outdated = any(
            stored_columns(con, SCHEMA, name) not in ([], ddl_names(ddl))
            for name, ddl in tables.items()
        )
        with transaction(con):
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
    """Drop enriched rows whose message is no longer accepted; return how many.

    The rows of every content table go in one transaction: an interrupted call leaves
    them all in place.
    """
    with transaction(con):
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
                    f"delete from {SCHEMA}.{name} "
                    "where content_id in (select content_id from _orphans)"
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
    """Delete every row of the given snapshots, in one transaction."""
    if not dates:
        return
    with transaction(con):
        _delete_snapshots(con, dates)


def _delete_snapshots(con: duckdb.DuckDBPyConnection, dates: list[date]) -> None:
    """`delete_snapshots` inside the caller's transaction."""
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
        _delete_snapshots(con, [run["snapshot_date"]])
        for name, frame in tables.items():
            if not frame.empty:
                insert_frame(con, SCHEMA, name, SNAPSHOT_TABLES[name], frame)


@dataclass(frozen=True)
class PhraseIndex:
    """The candidate phrases of the messages of a period, held in temp tables.

    `build_phrase_index` writes ``_pp_msgs`` (one row per enriched message of the
    period: a dense ``msg_idx`` in content id order, author, declared group, creation
    time, sentiment and the complaint flag) and ``_pp_grams`` (``msg_idx, gram``: each
    candidate phrase of a message once, see
    `orchestration.lib.text.painpoints.phrase_occurrences`) on the connection;
    `read_phrase_counts` counts them for one snapshot's window.
    """

    first: date
    """First day of the period."""
    end: date
    """Day after the period."""
    tokens: tuple[str, ...]
    """The vocabulary: token id -> token."""
    levels: tuple[np.ndarray, ...] | None
    """Decoding table of the phrase ids, if any
    (`orchestration.lib.text.painpoints.decode_phrase`)."""
    count_messages: int
    """Enriched messages of the period."""
    count_occurrences: int
    """Rows of ``_pp_grams``."""


def build_phrase_index(
    con: duckdb.DuckDBPyConnection,
    first: date,
    end: date,
    *,
    negative_threshold: float,
    max_words: int,
    min_messages: int,
) -> PhraseIndex:
    """Write the candidate phrases of the messages created in ``[first, end)``.

    The word runs are read once (not once per snapshot) and cut into phrases by array
    operations. Only phrases said in at least `min_messages` complaint messages of the
    period are kept: a pain point of any window needs that many, so the counts of every
    window are the same as with all phrases.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Warehouse connection (the temp tables live on it).
    first, end : date
        The period: every window to count lies inside it.
    negative_threshold : float
        Messages scoring at most this are complaints too.
    max_words : int
        Longest phrase in words.
    min_messages : int
        Least complaint messages of a kept phrase.

    Returns
    -------
    PhraseIndex
    """
    con.execute(
        f"""
        create or replace temp table _pp_source as
        select
            (row_number() over (order by contents.content_id) - 1)::bigint as msg_idx,
            contents.content_id, contents.author_user_id,
            case when contents.author_user_id is not null
                then dense_rank() over (order by contents.author_user_id) end as author_idx,
            case when contents.group_id is not null
                then '{DECLARED_PREFIX}' || contents.group_id end as declared,
            contents.created_at, enriched.sentiment_score,
            coalesce(enriched.is_need_message, false)
                or coalesce(enriched.sentiment_score <= $threshold, false) as complaint,
            enriched.segments
        from main.stg_product__contents as contents
        inner join {SCHEMA}.contents_enriched as enriched
            on contents.content_id = enriched.content_id
        where contents.created_at >= $first and contents.created_at < $end
        """,
        {"first": first, "end": end, "threshold": negative_threshold},
    )
    # The word runs as arrow arrays: one row per message, runs and words by offsets.
    table = con.sql("select msg_idx, complaint, segments from _pp_source").to_arrow_table()
    messages = table["msg_idx"].to_numpy().astype(np.int64)
    complaint = np.zeros(len(messages), dtype=bool)
    complaint[messages] = table["complaint"].to_numpy(zero_copy_only=False).astype(bool)
    nested = table["segments"].combine_chunks()
    runs_per_message = pc.fill_null(pc.list_value_length(nested), 0).to_numpy()
    runs = nested.flatten()
    words_per_run = pc.fill_null(pc.list_value_length(runs), 0).to_numpy()
    words = runs.flatten()
    if words.null_count:
        raise ValueError("a word run of text.contents_enriched.segments holds a null word")
    vocab = pc.unique(words)
    vocab = vocab.take(pc.sort_indices(vocab))
    tokens = tuple(vocab.to_pylist())
    token_ids = pc.index_in(words, value_set=vocab).to_numpy().astype(np.int64)
    run_ids = np.repeat(np.arange(len(words_per_run), dtype=np.int64), words_per_run)
    msg = np.repeat(np.repeat(messages, runs_per_message), words_per_run)
    del table, nested, runs, words  # the arrow copies of the word runs
    flags = token_flags(list(tokens))
    starts, grams, levels = phrase_occurrences(run_ids, token_ids, flags, max_words)
    owner = msg[starts]
    pairs = pd.DataFrame({"msg_idx": owner, "gram": grams, "complaint": complaint[owner]})
    con.register("_pp_pairs", pairs)
    try:
        # Occurrences in complaint messages bound the complaint messages of a phrase.
        con.execute(
            """
            create or replace temp table _pp_grams as
            select distinct msg_idx, gram from _pp_pairs
            where gram in (
                select gram from _pp_pairs where complaint
                group by gram having count(*) >= $min_messages
            )
            order by msg_idx, gram
            """,
            {"min_messages": min_messages},
        )
    finally:
        con.unregister("_pp_pairs")
    del pairs, owner, grams, starts, msg, run_ids, token_ids
    con.execute(
        "create or replace temp table _pp_msgs as select * exclude (segments) from _pp_source"
    )
    con.execute("drop table _pp_source")
    n_msgs = con.execute("select count(*) from _pp_msgs").fetchall()[0][0]
    n_occ = con.execute("select count(*) from _pp_grams").fetchall()[0][0]
    return PhraseIndex(
        first=first,
        end=end,
        tokens=tokens,
        levels=tuple(levels) if levels is not None else None,
        count_messages=int(n_msgs),
        count_occurrences=int(n_occ),
    )


def read_phrase_counts(
    con: duckdb.DuckDBPyConnection,
    snapshot_date: date,
    window_days: int,
    *,
    min_messages: int,
    min_authors: int,
) -> dict:
    """Count the indexed phrases of one snapshot's window (see `build_phrase_index`).

    Per group kind (``detected``: the author's community at the snapshot; ``declared``:
    the group the message was posted in) the window's messages and complaint messages
    per group, and for each (group, phrase) with at least `min_messages` complaint
    messages of `min_authors` distinct authors the counts the lift needs.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        The connection holding the phrase index.
    snapshot_date : date
        The snapshot.
    window_days : int
        Days of messages up to and including `snapshot_date`.
    min_messages, min_authors : int
        Least support of a candidate.

    Returns
    -------
    dict
        ``count_messages`` and ``count_need_messages`` (rows of the detected kind, one
        per message and membership), ``count_corpus`` (messages of the window),
        ``sizes`` (``group_kind, community_id, count_messages, count_need_messages``)
        and ``candidates`` (``group_kind, community_id, gram, count_messages,
        count_authors, count_other, count_corpus``; ``count_other``: the group's
        messages holding the phrase that are no complaint, ``count_corpus``: the
        window's messages holding it).
    """
    first = snapshot_date - timedelta(days=window_days - 1)
    end = snapshot_date + timedelta(days=1)
    window = {"first": first, "end": end}
    n_corpus = con.execute(
        "select count(*) from _pp_msgs where created_at >= $first and created_at < $end", window
    ).fetchall()[0][0]
    out = {
        "count_messages": 0,
        "count_need_messages": 0,
        "count_corpus": int(n_corpus),
        "sizes": pd.DataFrame(),
        "candidates": pd.DataFrame(),
    }
    if not n_corpus:
        return out
    con.execute(
        f"""
        create or replace temp table _pp_w as
        select
            'detected' as group_kind, assignments.community_id, msgs.msg_idx,
            msgs.author_idx, msgs.complaint
        from _pp_msgs as msgs
        left join {COMMUNITY_SCHEMA}.community_assignments as assignments
            on assignments.user_id = msgs.author_user_id
            and assignments.snapshot_date = $snapshot
            and assignments.membership_status = 'member'
        where msgs.created_at >= $first and msgs.created_at < $end
        union all
        select 'declared', msgs.declared, msgs.msg_idx, msgs.author_idx, msgs.complaint
        from _pp_msgs as msgs
        where msgs.created_at >= $first and msgs.created_at < $end
        """,
        window | {"snapshot": snapshot_date},
    )
    n_rows, n_need = con.execute(
        "select count(*), count(*) filter (where complaint) from _pp_w "
        "where group_kind = 'detected'"
    ).fetchall()[0]
    out["count_messages"], out["count_need_messages"] = int(n_rows), int(n_need)
    out["sizes"] = con.execute(
        """
        select group_kind, community_id, count(*) as count_messages,
            count(*) filter (where complaint) as count_need_messages
        from _pp_w where community_id is not null
        group by all order by all
        """
    ).df()
    # The complaint messages of a group with their phrases (the candidates' messages).
    con.execute(
        """
        create or replace temp table _pp_wg as
        select w.group_kind, w.community_id, w.msg_idx, w.author_idx, g.gram
        from _pp_w as w inner join _pp_grams as g on g.msg_idx = w.msg_idx
        where w.community_id is not null and w.complaint
        """
    )
    con.execute(
        """
        create or replace temp table _pp_cand as
        select group_kind, community_id, gram, count(*) as count_messages,
            count(distinct author_idx) as count_authors
        from _pp_wg
        group by all
        having count(*) >= $min_messages and count(distinct author_idx) >= $min_authors
        """,
        {"min_messages": min_messages, "min_authors": min_authors},
    )
    out["candidates"] = con.execute(
        """
        with other as (
            select w.group_kind, w.community_id, g.gram, count(*) as count_other
            from _pp_w as w
            inner join _pp_grams as g on g.msg_idx = w.msg_idx
            inner join _pp_cand as cand
                on cand.group_kind = w.group_kind and cand.community_id = w.community_id
                and cand.gram = g.gram
            where not w.complaint and w.community_id is not null
            group by all
        ),
        corpus as (
            select g.gram, count(*) as count_corpus
            from _pp_msgs as msgs inner join _pp_grams as g on g.msg_idx = msgs.msg_idx
            where msgs.created_at >= $first and msgs.created_at < $end
                and g.gram in (select gram from _pp_cand)
            group by g.gram
        )
        select cand.group_kind, cand.community_id, cand.gram, cand.count_messages,
            cand.count_authors, coalesce(other.count_other, 0) as count_other,
            corpus.count_corpus
        from _pp_cand as cand
        left join other using (group_kind, community_id, gram)
        inner join corpus using (gram)
        order by cand.group_kind, cand.community_id, cand.gram
        """,
        window,
    ).df()
    return out


def read_phrase_content_ids(con: duckdb.DuckDBPyConnection, kept: pd.DataFrame) -> pd.DataFrame:
    """Content ids of the complaint messages of each kept (group, phrase) of the last
    `read_phrase_counts` (``group_kind, community_id, gram, content_ids``; unsorted)."""
    con.register("_pp_kept", kept[["group_kind", "community_id", "gram"]])
    try:
        return con.execute(
            """
            select wg.group_kind, wg.community_id, wg.gram, list(msgs.content_id) as content_ids
            from _pp_wg as wg
            inner join _pp_kept as kept
                on kept.group_kind = wg.group_kind and kept.community_id = wg.community_id
                and kept.gram = wg.gram
            inner join _pp_msgs as msgs on msgs.msg_idx = wg.msg_idx
            group by all
            """
        ).df()
    finally:
        con.unregister("_pp_kept")


def read_content_info(con: duckdb.DuckDBPyConnection, content_ids: list[str]) -> pd.DataFrame:
    """``content_id, created_at, sentiment_score`` of indexed messages."""
    con.register("_pp_ids", pd.DataFrame({"content_id": pd.Series(content_ids, dtype=object)}))
    try:
        return con.execute(
            "select content_id, created_at, sentiment_score from _pp_msgs "
            "where content_id in (select content_id from _pp_ids) order by content_id"
        ).df()
    finally:
        con.unregister("_pp_ids")


def drop_phrase_index(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the temp tables of `build_phrase_index` and `read_phrase_counts`."""
    for name in ("_pp_msgs", "_pp_grams", "_pp_w", "_pp_wg", "_pp_cand"):
        con.execute(f"drop table if exists {name}")
