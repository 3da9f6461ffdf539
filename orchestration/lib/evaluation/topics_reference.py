"""Reference Python version of the SQL topics and trending terms, kept only to check them.

The product computes each community's topics and trending terms in dbt
(``int_community_terms_weekly``, ``fct_community_topics``,
``fct_community_trending_terms``); nothing in the pipeline calls this module. It
restates the same definitions in pandas so that a test and a benchmark can compare the
marts with an independent implementation (:func:`compare_with_marts`), and so that the
benchmarks can score the definition on labelled text that never enters a warehouse.

`community_terms` ranks each community's terms by class-based TF-IDF (c-TF-IDF, as in
BERTopic): all messages of a community form one class, a term's frequency in the
class is normalised by the class's total term count and weighted by
``log(1 + A / f_t)`` where ``A`` is the average class size in terms and ``f_t`` the
term's frequency over all classes, so words every community uses score low.
Unigrams and bigrams (adjacent content tokens) are both candidates, and a term gives
way to a longer one containing it (`contains_term`) that covers most of its messages.
`trending_terms` compares, per community, each term's share of messages in the latest
week with its share over the previous weeks and keeps the largest rises that have
real support (enough messages and distinct authors, so one chatty message is not a
trend); `weekly_term_counts` prepares its input from messages. Pure pandas,
deterministic (ties broken by term); only :func:`compare_with_marts` reads a warehouse.
"""

from __future__ import annotations

import re
import time
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from orchestration.lib.config import dbt_project_var
from orchestration.lib.text.topics import document_terms

__all__ = [
    "community_terms",
    "compare_with_marts",
    "contains_term",
    "trending_terms",
    "weekly_term_counts",
]


_ALL_CJK = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$")


def contains_term(longer: str, term: str) -> bool:
    """Whether `longer` starts or ends with the whole term `term`.

    English words must end at a space (``"getting stuck"`` contains ``"getting"``,
    ``"gettings"`` does not); an all-Chinese term may sit directly at either end
    (``夜景噪点`` contains ``夜景`` and ``噪点``). The same rule as the SQL model
    ``fct_community_topics``.

    Parameters
    ----------
    longer, term : str
        Two terms.

    Returns
    -------
    bool
        True when `longer` is longer and contains `term` at one end.
    """
    if len(longer) <= len(term):
        return False
    if longer.startswith(term + " ") or longer.endswith(" " + term):
        return True
    return bool(_ALL_CJK.match(term)) and (longer.startswith(term) or longer.endswith(term))


def _exploded(docs: pd.DataFrame, class_col: str, ngram_max: int) -> pd.DataFrame:
    """One row per (class, document, term occurrence)."""
    terms = [document_terms(t, ngram_max) for t in docs["tokens"]]
    lengths = np.fromiter((len(t) for t in terms), dtype=np.int64, count=len(terms))
    return pd.DataFrame(
        {
            "cls": np.repeat(docs[class_col].to_numpy(), lengths),
            "doc": np.repeat(np.arange(len(docs)), lengths),
            "term": [x for t in terms for x in t],
        }
    )


def community_terms(
    docs: pd.DataFrame,
    top_n: int = 10,
    min_df: int = 3,
    *,
    ngram_max: int = 2,
    class_col: str = "community_id",
    absorb: float | None = 0.6,
) -> pd.DataFrame:
    """Rank each community's characteristic terms by class-based TF-IDF.

    Parameters
    ----------
    docs : DataFrame
        One row per message with `class_col` (default ``community_id``) and
        ``tokens`` (list of str). Rows with a null class are ignored.
    top_n : int, default 10
        Terms kept per class.
    min_df : int, default 3
        Minimum number of messages (over all classes) containing a term.
    ngram_max : int, default 2
        Longest n-gram of adjacent tokens used as a term.
    class_col : str, default "community_id"
        The class column.
    absorb : float or None, default 0.6
        When set, a term is dropped in favour of a longer candidate of its class that
        contains it (``"getting"`` in ``"getting stuck"``, ``夜景`` in ``夜景噪点``) and
        is used in at least this share of its messages, so one idea does not fill
        several slots. Candidates are the class's ``3 * top_n`` best terms;
        `contains_term` defines containment.

    Returns
    -------
    DataFrame
        ``[class_col, term, score, count, rank]``: c-TF-IDF score
        (``tf / class_terms * log(1 + A / f_term)``), ``count`` = messages of the
        class containing the term, ``rank`` from 1; sorted by class then rank.
    """
    cols = [class_col, "term", "score", "count", "rank"]
    docs = docs.loc[docs[class_col].notna(), [class_col, "tokens"]].reset_index(drop=True)
    if docs.empty:
        return pd.DataFrame(columns=cols)
    ex = _exploded(docs, class_col, ngram_max)
    if ex.empty:
        return pd.DataFrame(columns=cols)
    doc_freq = ex.drop_duplicates(["doc", "term"]).groupby("term").size()
    keep = doc_freq.index[doc_freq >= min_df]
    ex = ex[ex["term"].isin(keep)]
    if ex.empty:
        return pd.DataFrame(columns=cols)
    tf = ex.groupby(["cls", "term"]).size().rename("tf").reset_index()
    class_total = ex.groupby("cls").size()
    avg_class = float(class_total.mean())
    term_total = ex.groupby("term").size()
    count = ex.drop_duplicates(["doc", "term"]).groupby(["cls", "term"]).size()
    tf["count"] = count.reindex(pd.MultiIndex.from_frame(tf[["cls", "term"]])).to_numpy()
    tf["score"] = (tf["tf"].to_numpy() / class_total.reindex(tf["cls"]).to_numpy()) * np.log1p(
        avg_class / term_total.reindex(tf["term"]).to_numpy()
    )
    tf = tf.sort_values(["cls", "score", "term"], ascending=[True, False, True], kind="mergesort")
    if absorb is not None:
        tf = tf[tf.groupby("cls").cumcount() < 3 * top_n]
        keep = []
        for _, group in tf.groupby("cls", sort=False):
            terms = list(zip(group["term"], group["count"], strict=True))
            keep.extend(
                not any(b != u and nb >= absorb * nu and contains_term(b, u) for b, nb in terms)
                for u, nu in terms
            )
        tf = tf[np.asarray(keep, dtype=bool)]
    tf["rank"] = tf.groupby("cls").cumcount() + 1
    out = tf[tf["rank"] <= top_n].rename(columns={"cls": class_col})
    out["count"] = out["count"].astype("int64")
    return out[cols].reset_index(drop=True)


def weekly_term_counts(
    messages: pd.DataFrame, *, ngram_max: int = 2, time_col: str = "created_at"
) -> pd.DataFrame:
    """Count, per community and ISO week, the messages and authors using each term.

    Parameters
    ----------
    messages : DataFrame
        ``community_id``, ``author_user_id``, `time_col` (timestamp) and ``tokens``.
    ngram_max : int, default 2
        Longest n-gram used as a term.
    time_col : str, default "created_at"
        Timestamp column.

    Returns
    -------
    DataFrame
        ``[community_id, week_start, term, n_messages, n_authors, week_messages,
        week_authors]`` where the ``week_*`` columns are the community's totals for
        the week (over all its messages, with or without terms).
    """
    cols = ["community_id", "week_start", "term", "n_messages", "n_authors"]
    m = messages.loc[messages["community_id"].notna()].reset_index(drop=True)
    ts = pd.to_datetime(m[time_col])
    week = (ts.dt.tz_localize(None) if ts.dt.tz is not None else ts).dt.to_period("W-SUN")
    m = m.assign(week_start=week.dt.start_time)
    totals = (
        m.groupby(["community_id", "week_start"])
        .agg(week_messages=("tokens", "size"), week_authors=("author_user_id", "nunique"))
        .reset_index()
    )
    terms = [sorted(set(document_terms(t, ngram_max))) for t in m["tokens"]]
    lengths = np.fromiter((len(t) for t in terms), dtype=np.int64, count=len(terms))
    ex = pd.DataFrame(
        {
            "community_id": np.repeat(m["community_id"].to_numpy(), lengths),
            "week_start": np.repeat(m["week_start"].to_numpy(), lengths),
            "author_user_id": np.repeat(m["author_user_id"].to_numpy(), lengths),
            "term": [x for t in terms for x in t],
        }
    )
    counts = (
        ex.groupby(["community_id", "week_start", "term"])
        .agg(n_messages=("term", "size"), n_authors=("author_user_id", "nunique"))
        .reset_index()
    )
    out = counts[cols].merge(totals, on=["community_id", "week_start"], how="left")
    return out.sort_values(["community_id", "week_start", "term"]).reset_index(drop=True)


def trending_terms(
    weekly: pd.DataFrame,
    *,
    week: object | None = None,
    baseline_weeks: int = 4,
    min_messages: int = 3,
    min_authors: int = 2,
    top_n: int = 10,
    smoothing: float = 1.0,
) -> pd.DataFrame:
    """Find the terms whose share of messages rose most in the latest week.

    Parameters
    ----------
    weekly : DataFrame
        Output of `weekly_term_counts`: ``community_id, week_start, term,
        n_messages, n_authors, week_messages`` (``week_messages`` repeated per row).
    week : timestamp-like, optional
        The week to score (its ``week_start``); defaults to the latest week in the data.
    baseline_weeks : int, default 4
        Number of preceding weeks forming the baseline.
    min_messages : int, default 3
        Minimum messages using the term in the scored week.
    min_authors : int, default 2
        Minimum distinct authors using the term in the scored week.
    top_n : int, default 10
        Terms kept per community.
    smoothing : float, default 1.0
        Pseudo-count added to the baseline in the ``lift`` ratio.

    Returns
    -------
    DataFrame
        ``[community_id, week_start, term, n_messages, n_authors, share,
        baseline_share, rise, lift, rank]``: ``share`` = messages using the term /
        messages of the week, ``baseline_share`` the same over the baseline weeks,
        ``rise`` = ``share - baseline_share`` (the ranking key, positive only),
        ``lift`` = ``(n_messages + s) / week_messages`` over
        ``(baseline_n + s) / baseline_messages``.
    """
    cols = [
        "community_id",
        "week_start",
        "term",
        "n_messages",
        "n_authors",
        "share",
        "baseline_share",
        "rise",
        "lift",
        "rank",
    ]
    if weekly.empty:
        return pd.DataFrame(columns=cols)
    w = weekly.copy()
    w["week_start"] = pd.to_datetime(w["week_start"])
    target = pd.Timestamp(week) if week is not None else w["week_start"].max()
    start = target - pd.Timedelta(weeks=baseline_weeks)
    totals = w.drop_duplicates(["community_id", "week_start"])[
        ["community_id", "week_start", "week_messages"]
    ]
    base_tot = (
        totals[(totals["week_start"] >= start) & (totals["week_start"] < target)]
        .groupby("community_id")["week_messages"]
        .sum()
    )
    cur = w[w["week_start"] == target]
    cur = cur[(cur["n_messages"] >= min_messages) & (cur["n_authors"] >= min_authors)]
    if cur.empty:
        return pd.DataFrame(columns=cols)
    base = (
        w[(w["week_start"] >= start) & (w["week_start"] < target)]
        .groupby(["community_id", "term"])["n_messages"]
        .sum()
    )
    cur = cur.reset_index(drop=True)
    base_n = base.reindex(pd.MultiIndex.from_frame(cur[["community_id", "term"]])).fillna(0)
    base_n = base_n.to_numpy(dtype=float)
    base_m = base_tot.reindex(cur["community_id"]).fillna(0).to_numpy(dtype=float)
    share = cur["n_messages"].to_numpy(dtype=float) / cur["week_messages"].to_numpy(dtype=float)
    base_share = np.divide(base_n, base_m, out=np.zeros_like(base_n), where=base_m > 0)
    cur["share"] = share
    cur["baseline_share"] = base_share
    cur["rise"] = share - base_share
    cur["lift"] = ((cur["n_messages"] + smoothing) / cur["week_messages"]) / (
        (base_n + smoothing) / np.maximum(base_m, 1.0)
    )
    cur = cur[cur["rise"] > 0]
    cur = cur.sort_values(
        ["community_id", "rise", "term"], ascending=[True, False, True], kind="mergesort"
    )
    cur["rank"] = cur.groupby("community_id").cumcount() + 1
    out = cur[cur["rank"] <= top_n]
    return out[cols].reset_index(drop=True)


def compare_with_marts(con: Any, snapshot_date: date | str) -> dict[str, Any]:
    """Compare the topic and trending-term marts of one snapshot with this reference.

    Both sides read the same enriched messages of the detected communities
    (``int_group_messages_weekly`` joined to ``text.contents_enriched``) and use the
    dbt project's vars (``topic_*``, ``trending_*``), so any difference is one of
    definition, not of input.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A built warehouse (read-only is enough).
    snapshot_date : date or str
        A snapshot present in ``fct_community_topics``.

    Returns
    -------
    dict
        ``count_messages`` and ``reference_seconds`` (the time `community_terms` took),
        then under ``topics`` and ``trending``: ``rows_reference``, ``rows_mart``,
        ``share_in_both`` (of the (community, term) rows of either side),
        ``max_difference`` (of ``score``, resp. ``rise``, over the rows in both), and
        for topics ``counts_equal`` (the messages using each term agree).
    """
    var = dbt_project_var
    messages = con.execute(
        """
        select m.community_id, m.content_id, m.author_user_id, m.created_at,
               m.is_in_window, e.tokens
        from int_group_messages_weekly as m
        inner join text.contents_enriched as e using (content_id)
        where m.snapshot_date = ? and m.group_kind = 'detected'
        """,
        [snapshot_date],
    ).df()
    messages["tokens"] = messages["tokens"].map(list)
    started = time.perf_counter()
    topics = community_terms(
        messages[messages["is_in_window"]],
        top_n=int(var("topic_terms_per_community")),
        min_df=int(var("topic_min_messages")),
        absorb=float(var("topic_absorb_share")),
    )
    seconds = time.perf_counter() - started
    day = pd.Timestamp(snapshot_date)
    trending = trending_terms(
        weekly_term_counts(messages),
        week=day - pd.Timedelta(days=day.weekday()),
        baseline_weeks=int(var("trending_baseline_weeks")),
        min_messages=int(var("trending_min_messages")),
        min_authors=int(var("trending_min_authors")),
        top_n=int(var("trending_terms_per_community")),
    )
    mart = "where snapshot_date = ? and group_kind = 'detected'"
    topics_mart = con.execute(
        f"select community_id, term, score, count_messages from fct_community_topics {mart}",
        [snapshot_date],
    ).df()
    trending_mart = con.execute(
        f"select community_id, term, rise from fct_community_trending_terms {mart}",
        [snapshot_date],
    ).df()
    topic_figures, both = _agreement(topics, topics_mart, "score")
    topic_figures["counts_equal"] = bool((both["count"] == both["count_messages"]).all())
    return {
        "count_messages": len(messages),
        "reference_seconds": seconds,
        "topics": topic_figures,
        "trending": _agreement(trending, trending_mart, "rise")[0],
    }


def _agreement(
    reference: pd.DataFrame, mart: pd.DataFrame, value: str
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Figures of one reference-against-mart comparison, and the rows in both."""
    merged = reference.merge(mart, on=["community_id", "term"], how="outer", indicator=True)
    in_both = merged["_merge"] == "both"
    both = merged[in_both]
    gap = (both[f"{value}_x"] - both[f"{value}_y"]).abs()
    figures = {
        "rows_reference": len(reference),
        "rows_mart": len(mart),
        "share_in_both": float(in_both.mean()) if len(merged) else 1.0,
        "max_difference": float(gap.max()) if len(both) else 0.0,
    }
    return figures, both
