"""The two text refresh steps on an open warehouse connection (no Dagster needed).

`enrich_new_messages` enriches the accepted messages not enriched yet (all of them when
the dictionary, lexicons, weights or code changed: mixing two versions would make
figures incomparable); `refresh_pain_points` extracts pain points for every community
snapshot that is new, provisional, computed with other settings or on another community
snapshot, or whose window gained messages enriched after it was computed (late data).
Both return the figures the Dagster assets attach as metadata.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import duckdb

from orchestration.lib.text import store
from orchestration.lib.text.enrich import (
    default_workers,
    enrich_in_batches,
    enrichment_fingerprint,
)
from orchestration.lib.text.snapshots import TextSettings, pain_points_from_warehouse

__all__ = ["BATCH_SIZE", "POOL_MIN_MESSAGES", "enrich_new_messages", "refresh_pain_points"]

BATCH_SIZE = 50_000
"""Messages enriched and written per transaction."""

POOL_MIN_MESSAGES = 2 * BATCH_SIZE
"""Fewer new messages than this are enriched in this process, without a worker pool
(starting workers would cost more than it saves)."""

_log = logging.getLogger(__name__)


def enrich_new_messages(
    con: duckdb.DuckDBPyConnection,
    *,
    recompute_all: bool = False,
    workers: int | None = None,
    log: logging.Logger | None = None,
) -> dict:
    """Enrich every accepted message not enriched yet.

    Batches of `BATCH_SIZE` messages are computed by `workers` processes and written
    here, one transaction per batch, in message order (the stored rows do not depend on
    the number of workers).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Writable warehouse connection (``main.stg_product__contents`` must exist).
    recompute_all : bool, default False
        Drop the stored results first.
    workers : int, optional
        Worker processes; default (None or 0) the cores this process may use
        (`orchestration.lib.text.enrich.default_workers`). With 1, or fewer than
        `POOL_MIN_MESSAGES` new messages, everything runs in this process.
    log : logging.Logger, optional
        Where progress goes.

    Returns
    -------
    dict
        ``messages_enriched_this_run``, ``orphans_removed``, ``recomputed_all``,
        ``seconds_enriching`` (enriching and writing the new messages, wall clock),
        ``messages_per_second``, ``workers`` (processes used), ``enrichment_fingerprint``
        and the table totals
        (``count_messages``, ``count_terms``, shares of languages, labels and need
        messages, ``mean_sentiment``).
    """
    log = log or _log
    fingerprint = enrichment_fingerprint()
    store.ensure_tables(con)
    outdated = store.stored_enrichment_fingerprints(con) - {fingerprint}
    if outdated:
        log.warning(
            "stored messages were enriched by another dictionary, lexicon or model (%s): "
            "enriching all of them again",
            ", ".join(sorted(outdated)),
        )
    recreate = recompute_all or bool(outdated)
    store.ensure_tables(con, recreate_contents=recreate)
    removed = store.delete_orphans(con)
    todo = store.read_unenriched(con)
    log.info("%d new message(s) to enrich, %d orphan(s) removed", len(todo), removed)
    wanted = workers or default_workers()
    used = wanted if len(todo) >= POOL_MIN_MESSAGES else 1
    used = max(1, min(used, -(-len(todo) // BATCH_SIZE)))
    log.info("enriching with %d worker process(es)", used)
    t0 = time.perf_counter()
    done = 0
    for enriched, terms in enrich_in_batches(todo, batch_size=BATCH_SIZE, workers=used):
        store.write_enriched(con, enriched, terms, fingerprint)
        done += len(enriched)
        log.info("enriched %d of %d", done, len(todo))
    del todo
    seconds = time.perf_counter() - t0 if done else 0.0
    totals = con.execute(
        f"""
        select
            count(*),
            avg((language = 'zh')::int), avg((language = 'en')::int),
            avg((language = 'other')::int),
            avg((sentiment_label = 'positive')::int), avg((sentiment_label = 'neutral')::int),
            avg((sentiment_label = 'negative')::int), avg(is_need_message::int),
            avg(sentiment_score),
            avg((language not in ('zh', 'en', 'other'))::int),
            count(*) filter (where sentiment_missing_reason = 'no_model_for_language'),
            count(*) filter (where sentiment_missing_reason = 'no_text')
        from {store.SCHEMA}.contents_enriched
        """
    ).fetchall()[0]
    count_terms = con.execute(f"select count(*) from {store.SCHEMA}.content_terms").fetchall()
    names = (
        "share_zh", "share_en", "share_other", "share_positive", "share_neutral",
        "share_negative", "share_need_messages", "mean_sentiment", "share_other_languages",
    )  # fmt: skip
    languages = dict(
        con.execute(
            f"select language, count(*) from {store.SCHEMA}.contents_enriched "
            "group by language order by count(*) desc, language"
        ).fetchall()
    )
    return {
        "messages_enriched_this_run": done,
        "orphans_removed": removed,
        "recomputed_all": recreate,
        "seconds_enriching": round(seconds, 3),
        "messages_per_second": round(done / seconds, 1) if seconds else None,
        "workers": used,
        "enrichment_fingerprint": fingerprint,
        "count_messages": int(totals[0]),
        "count_terms": int(count_terms[0][0]),
        "count_messages_by_language": {k: int(v) for k, v in languages.items()},
        "count_sentiment_missing_no_model_for_language": int(totals[10]),
        "count_sentiment_missing_no_text": int(totals[11]),
    } | {
        name: round(float(v), 4) if v is not None else None
        for name, v in zip(names, totals[1:10], strict=True)
    }


def refresh_pain_points(
    con: duckdb.DuckDBPyConnection,
    settings: TextSettings | None = None,
    *,
    recompute_all: bool = False,
    log: logging.Logger | None = None,
) -> dict:
    """Extract pain points for every snapshot not computed yet (or stale).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Writable warehouse connection with the community snapshots and enriched messages.
    settings : TextSettings, optional
        Thresholds; a change recomputes every snapshot.
    recompute_all : bool, default False
        Drop every stored snapshot first.
    log : logging.Logger, optional
        Where progress goes.

    Returns
    -------
    dict
        ``snapshots_computed``, ``snapshots_stored``, ``settings_fingerprint``,
        ``count_pain_points`` (rows in the table) and ``seconds_phrase_index`` (cutting
        the word runs of every window into candidate phrases, once; the per-snapshot
        ``seconds`` of ``text.pain_point_runs`` exclude it).
    """
    log = log or _log
    settings = settings or TextSettings()
    store.ensure_tables(con, recreate_snapshots=recompute_all)
    fingerprint = settings.fingerprint(*sorted(store.stored_enrichment_fingerprints(con)))
    wanted = store.wanted_snapshots(con)
    stored = {r.snapshot_date.date(): r for r in store.stored_runs(con).itertuples(index=False)}
    wanted_dates = {r.snapshot_date.date() for r in wanted.itertuples(index=False)}
    store.delete_snapshots(con, [d for d in stored if d not in wanted_dates])
    todo = []
    for r in wanted.itertuples(index=False):
        day = r.snapshot_date.date()
        old = stored.get(day)
        if (
            old is None
            or old.is_provisional
            or r.is_provisional
            or old.settings_fingerprint != fingerprint
            or old.community_fingerprint != r.community_fingerprint
            or old.has_late_messages
        ):
            todo.append((day, bool(r.is_provisional), r.community_fingerprint))
    log.info("%d snapshot(s), %d stored, computing %d", len(wanted), len(stored), len(todo))
    seconds_index = 0.0
    if todo:
        # The candidate phrases of every message are cut once for all the windows.
        t0 = time.perf_counter()
        index = store.build_phrase_index(
            con,
            min(day for day, _, _ in todo) - timedelta(days=settings.window_days - 1),
            max(day for day, _, _ in todo) + timedelta(days=1),
            negative_threshold=settings.negative_threshold,
            max_words=settings.pain_max_words,
            min_messages=settings.pain_min_messages,
        )
        seconds_index = time.perf_counter() - t0
        log.info(
            "phrase index: %d message(s), %d phrase occurrence(s), %.1f s",
            index.count_messages,
            index.count_occurrences,
            seconds_index,
        )
    try:
        for day, provisional, community_fingerprint in todo:
            t0 = time.perf_counter()
            found, counts = pain_points_from_warehouse(con, day, index, settings)
            run = {
                "snapshot_date": day,
                "is_provisional": provisional,
                "window_start_date": day - timedelta(days=settings.window_days - 1),
                "count_messages": counts["count_messages"],
                "count_need_messages": counts["count_need_messages"],
                "count_groups": int(
                    found[["group_kind", "community_id"]].drop_duplicates().shape[0]
                ),
                "count_pain_points": len(found),
                "seconds": round(time.perf_counter() - t0, 3),
                "settings_fingerprint": fingerprint,
                "community_fingerprint": community_fingerprint,
                "computed_at": datetime.now(UTC).replace(tzinfo=None),
            }
            store.write_snapshot(con, run, found)
            log.info(
                "snapshot %s: %d pain points in %d groups from %d messages, %.1f s",
                day,
                run["count_pain_points"],
                run["count_groups"],
                run["count_messages"],
                run["seconds"],
            )
    finally:
        store.drop_phrase_index(con)
    count = con.execute(f"select count(*) from {store.SCHEMA}.community_pain_points").fetchall()
    return {
        "snapshots_computed": len(todo),
        "snapshots_stored": len(wanted),
        "settings_fingerprint": fingerprint,
        "count_pain_points": int(count[0][0]),
        "seconds_phrase_index": round(seconds_index, 3),
    }
