"""Each group's pain points at one weekly snapshot, with their trend and sentiment.

`pain_points_at` takes the messages of a snapshot's window (28 days by default, like
the community detection), each labelled with its author's group (detected community at
that snapshot) or the declared group it was posted in, and returns each group's
recurring complaint and request phrases (need patterns or clearly negative messages,
see `orchestration.lib.text.painpoints`) with counts, their trend (rate in the
snapshot's week against the earlier weeks of the window), average sentiment and example
content ids. Topics and trending terms are set-based and live in SQL (dbt models
``fct_community_topics`` and ``fct_community_trending_terms``). Pure pandas,
deterministic. The Dagster asset ``text/community_pain_points`` uses
`pain_points_from_warehouse` instead: the same rows, counted in DuckDB over a phrase
index of the stored word runs (`orchestration.lib.text.store.build_phrase_index`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd

from orchestration.lib.config import dbt_project_var
from orchestration.lib.text import store
from orchestration.lib.text.painpoints import (
    PainPointSettings,
    decode_phrase,
    extract_pain_points,
    rank_pain_points,
)
from orchestration.lib.text.sentiment import NEUTRAL_BAND

__all__ = [
    "ALGORITHM_VERSION",
    "PAIN_POINT_COLUMNS",
    "TextSettings",
    "pain_points_at",
    "pain_points_from_warehouse",
    "week_start",
]

ALGORITHM_VERSION = "3"
"""Bumped whenever `pain_points_at` changes its results for the same inputs."""

PAIN_POINT_COLUMNS = [
    "snapshot_date",
    "group_kind",
    "community_id",
    "rank",
    "phrase",
    "language",
    "count_messages",
    "count_authors",
    "share_of_messages",
    "share_of_need_messages",
    "count_messages_this_week",
    "count_messages_earlier_weeks",
    "messages_per_week_this_week",
    "messages_per_week_earlier",
    "trend",
    "avg_sentiment",
    "share_negative",
    "score",
    "example_content_ids",
]


@dataclass(frozen=True)
class TextSettings(PainPointSettings):
    """Settings of the per-snapshot pain points: the extraction's (`PainPointSettings`),
    the window and the trend (the defaults are the documented ones)."""

    window_days: int = int(dbt_project_var("text_window_days"))
    """Days of messages behind a snapshot's pain points (dbt's var text_window_days, the
    window of the topic and sentiment marts)."""
    trend_ratio: float = 1.5
    """Rising / falling when the weekly rate changes by this factor..."""
    trend_min_change: float = 2.0
    """...and by at least this many messages per week."""

    def fingerprint(self, *parts: str) -> str:
        """Hash of the settings, the algorithm version and any upstream fingerprints."""
        payload = json.dumps([ALGORITHM_VERSION, asdict(self), list(parts)], sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def week_start(day: date) -> date:
    """Monday of the ISO week containing `day`."""
    return day - timedelta(days=day.weekday())


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=columns)


def _pain_points(
    window: pd.DataFrame, snapshot_date: date, kind: str, s: TextSettings
) -> pd.DataFrame:
    found = extract_pain_points(window, s, with_content_ids=True)
    if found.empty:
        return _empty(PAIN_POINT_COLUMNS)
    info = window.drop_duplicates("content_id")[["content_id", "created_at", "sentiment_score"]]
    return _with_trend(found, info, snapshot_date, kind, s)


def _with_trend(
    found: pd.DataFrame, info: pd.DataFrame, snapshot_date: date, kind: str, s: TextSettings
) -> pd.DataFrame:
    """`PAIN_POINT_COLUMNS` of extracted pain points (with ``content_ids``), given the
    ``content_id, created_at, sentiment_score`` of (at least) their messages."""
    monday = pd.Timestamp(week_start(snapshot_date))
    first_day = pd.Timestamp(snapshot_date - timedelta(days=s.window_days - 1))
    days_this = (pd.Timestamp(snapshot_date) - max(monday, first_day)).days + 1
    days_earlier = max((monday - first_day).days, 0)
    lengths = np.fromiter((len(ids) for ids in found["content_ids"]), dtype=np.int64)
    hits = pd.DataFrame(
        {
            "phrase_row": np.repeat(np.arange(len(found)), lengths),
            "content_id": [c for ids in found["content_ids"] for c in ids],
        }
    ).merge(info, on="content_id", how="left")
    hits["this_week"] = pd.to_datetime(hits["created_at"]) >= monday
    hits["score"] = hits["sentiment_score"].astype(float)
    hits["negative"] = hits["score"] <= -NEUTRAL_BAND
    per = hits.groupby("phrase_row").agg(
        this=("this_week", "sum"), avg=("score", "mean"), neg=("negative", "mean")
    )
    per = per.reindex(np.arange(len(found)))
    this = per["this"].to_numpy(dtype=np.int64)
    earlier = lengths - this
    avg = per["avg"].to_numpy(dtype=float)
    neg = per["neg"].to_numpy(dtype=float)
    found["count_messages_this_week"] = this
    found["count_messages_earlier_weeks"] = earlier
    rate_this = np.asarray(this, dtype=float) * 7 / days_this
    rate_earlier = (
        np.asarray(earlier, dtype=float) * 7 / days_earlier
        if days_earlier
        else np.full(len(found), np.nan)
    )
    found["messages_per_week_this_week"] = np.round(rate_this, 4)
    found["messages_per_week_earlier"] = np.round(rate_earlier, 4)
    found["trend"] = [_trend(a, b, s) for a, b in zip(rate_this, rate_earlier, strict=True)]
    found["avg_sentiment"] = np.round(avg, 6)
    found["share_negative"] = np.round(neg, 6)
    found["snapshot_date"] = snapshot_date
    found["group_kind"] = kind
    return found[PAIN_POINT_COLUMNS]


def _trend(rate_this: float, rate_earlier: float, s: TextSettings) -> str:
    """``new`` / ``rising`` / ``falling`` / ``steady`` from two weekly rates."""
    if np.isnan(rate_earlier):
        return "new"
    if rate_earlier == 0:
        return "new" if rate_this > 0 else "steady"
    change = rate_this - rate_earlier
    if rate_this >= s.trend_ratio * rate_earlier and change >= s.trend_min_change:
        return "rising"
    if rate_this * s.trend_ratio <= rate_earlier and -change >= s.trend_min_change:
        return "falling"
    return "steady"


def pain_points_at(
    messages: pd.DataFrame, snapshot_date: date, settings: TextSettings | None = None
) -> pd.DataFrame:
    """Pain points of every group at one snapshot.

    Parameters
    ----------
    messages : DataFrame
        One row per (message, group kind): ``group_kind`` (``detected`` /
        ``declared``), ``community_id`` (null: the author or message belongs to no
        group of that kind; such messages are background), ``content_id``,
        ``author_user_id``, ``created_at``, ``body``, ``language``, ``segments``
        (optional, see `extract_pain_points`) and ``sentiment_score``. Rows outside
        the snapshot's window are ignored.
    snapshot_date : date
        The snapshot (usually a Sunday; the last day of data for a provisional one).
    settings : TextSettings, optional
        Thresholds and sizes; defaults to `TextSettings()`.

    Returns
    -------
    DataFrame
        `PAIN_POINT_COLUMNS`, ranked per (group_kind, community_id).
    """
    s = settings or TextSettings()
    if messages.empty:
        return _empty(PAIN_POINT_COLUMNS)
    created = pd.to_datetime(messages["created_at"])
    end = pd.Timestamp(snapshot_date) + pd.Timedelta(days=1)
    first = pd.Timestamp(snapshot_date - timedelta(days=s.window_days - 1))
    messages = messages.loc[(created < end) & (created >= first)]
    frames = [
        _pain_points(rows.reset_index(drop=True), snapshot_date, str(kind), s)
        for kind, rows in messages.groupby("group_kind", sort=True)
    ]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else _empty(PAIN_POINT_COLUMNS)


def pain_points_from_warehouse(
    con: duckdb.DuckDBPyConnection,
    snapshot_date: date,
    index: store.PhraseIndex,
    settings: TextSettings | None = None,
) -> tuple[pd.DataFrame, dict]:
    """`pain_points_at` of a snapshot, counted in DuckDB over a phrase index.

    The candidate phrases of every message are cut once (`store.build_phrase_index`);
    each snapshot then only counts them per group in SQL, and Python ranks the few
    candidates with enough support (`rank_pain_points`, the code of
    `extract_pain_points`): the same rows as `pain_points_at` on the window's messages
    (`store.read_snapshot_messages`). A window without messages costs one count.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Warehouse connection holding `index`.
    snapshot_date : date
        The snapshot; its window must lie inside the index's period.
    index : store.PhraseIndex
        Built with the settings' threshold, phrase length and least support.
    settings : TextSettings, optional
        Thresholds and sizes; defaults to `TextSettings()`.

    Returns
    -------
    found : DataFrame
        `PAIN_POINT_COLUMNS`, ranked per (group_kind, community_id).
    counts : dict
        ``count_messages`` and ``count_need_messages`` of the detected kind's rows.
    """
    s = settings or TextSettings()
    first = snapshot_date - timedelta(days=s.window_days - 1)
    if first < index.first or snapshot_date + timedelta(days=1) > index.end:
        raise ValueError(f"the window of {snapshot_date} is not inside the phrase index")
    counts = store.read_phrase_counts(
        con,
        snapshot_date,
        s.window_days,
        min_messages=s.pain_min_messages,
        min_authors=s.pain_min_authors,
    )
    summary = {k: counts[k] for k in ("count_messages", "count_need_messages")}
    cand = counts["candidates"]
    if cand.empty:
        return _empty(PAIN_POINT_COLUMNS), summary
    tokens = index.tokens
    levels = list(index.levels) if index.levels is not None else None
    decoded = {
        g: tuple(tokens[t] for t in decode_phrase(g, len(tokens), levels))
        for g in set(cand["gram"].tolist())
    }
    sizes = counts["sizes"]
    frames = []
    for kind in sorted(set(cand["group_kind"])):
        rows = cand[cand["group_kind"] == kind]
        comm = rows["community_id"].astype(object).to_numpy()
        grams = [decoded[g] for g in rows["gram"].tolist()]
        order = sorted(range(len(rows)), key=lambda i: (comm[i], grams[i]))
        agg = pd.DataFrame(
            {
                "community_id": comm[order],
                "gram": pd.Series([grams[i] for i in order], dtype=object),
                "phrase_id": rows["gram"].to_numpy(dtype=np.int64)[order],
                "count_messages": rows["count_messages"].to_numpy(dtype=np.int64)[order],
                "count_authors": rows["count_authors"].to_numpy(dtype=np.int64)[order],
                "count_corpus": rows["count_corpus"].to_numpy(dtype=np.int64)[order],
                "count_other": rows["count_other"].to_numpy(dtype=np.int64)[order],
            }
        )
        size = sizes[sizes["group_kind"] == kind]
        index_ = pd.Index(size["community_id"].astype(object).to_numpy(), dtype=object)
        n_all = pd.Series(size["count_messages"].to_numpy(dtype=np.int64), index=index_)
        n_need = pd.Series(size["count_need_messages"].to_numpy(dtype=np.int64), index=index_)
        n_need = n_need[n_need > 0]

        phrase_of = dict(
            zip(
                zip(agg["community_id"], agg["gram"], strict=True),
                agg["phrase_id"].tolist(),
                strict=True,
            )
        )

        def content_ids(kept: pd.DataFrame, kind: str = kind, phrase_of: dict = phrase_of) -> list:
            comms = kept["community_id"].tolist()
            phrase_ids = [phrase_of[k] for k in zip(comms, kept["gram"], strict=True)]
            ids = store.read_phrase_content_ids(
                con,
                pd.DataFrame(
                    {
                        "group_kind": kind,
                        "community_id": pd.Series(comms, dtype=object),
                        "gram": np.asarray(phrase_ids, dtype=np.int64),
                    }
                ),
            )
            lookup = {
                (c, int(g)): sorted(v)
                for c, g, v in zip(
                    ids["community_id"], ids["gram"], ids["content_ids"], strict=True
                )
            }
            return [lookup[k] for k in zip(comms, phrase_ids, strict=True)]

        found = rank_pain_points(
            agg.drop(columns="phrase_id"),
            n_all,
            n_need,
            counts["count_corpus"],
            s,
            content_ids,
            with_content_ids=True,
        )
        if found.empty:
            continue
        info = store.read_content_info(
            con, sorted({c for ids in found["content_ids"] for c in ids})
        )
        frames.append(_with_trend(found, info, snapshot_date, kind, s))
    found = pd.concat(frames, ignore_index=True) if frames else _empty(PAIN_POINT_COLUMNS)
    return found, summary
