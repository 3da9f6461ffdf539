"""The Python reference of the SQL topics (class-based TF-IDF) and trending terms."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from orchestration.lib.evaluation.topics_reference import (
    community_terms,
    compare_with_marts,
    contains_term,
    trending_terms,
    weekly_term_counts,
)


def _docs() -> pd.DataFrame:
    rows = []
    for i in range(6):
        rows.append(("a", ["tripod", "group", "weekend", f"x{i}"]))
        rows.append(("b", ["marathon", "group", "weekend", f"y{i}"]))
    rows.append(("a", ["marathon"]))
    return pd.DataFrame(rows, columns=["community_id", "tokens"])


def test_distinctive_term_ranks_first():
    out = community_terms(_docs(), top_n=3, min_df=3, ngram_max=1)
    top = out[out["rank"] == 1].set_index("community_id")["term"]
    assert top["a"] == "tripod" and top["b"] == "marathon"
    assert set(out.columns) == {"community_id", "term", "score", "count", "rank"}
    # terms used by every class score lower than the distinctive one
    a = out[out["community_id"] == "a"].set_index("term")["score"]
    assert a["tripod"] > a.get("group", 0)
    # min_df drops the one-off x_i tokens
    assert not out["term"].str.startswith("x").any()


def test_bigrams_included():
    docs = pd.DataFrame(
        {
            "community_id": ["a"] * 4 + ["b"] * 4,
            "tokens": [["shutter", "speed"]] * 4 + [["pace"]] * 4,
        }
    )
    terms = set(community_terms(docs, top_n=5, min_df=3)["term"])
    assert "shutter speed" in terms


def _messages(spike_authors: int, spike_msgs: int) -> pd.DataFrame:
    rows = []
    for week in range(5):
        day = pd.Timestamp("2026-01-05") + pd.Timedelta(weeks=week)
        for i in range(10):
            rows.append(("c1", f"u{i}", day, ["tripod", "lens"]))
    last = pd.Timestamp("2026-01-05") + pd.Timedelta(weeks=5)
    for i in range(10):
        rows.append(("c1", f"u{i}", last, ["tripod"]))
    for j in range(spike_msgs):
        rows.append(("c1", f"u{j % spike_authors}", last, ["firmware", "bug"]))
    return pd.DataFrame(rows, columns=["community_id", "author_user_id", "created_at", "tokens"])


def test_trending_term_found_with_support():
    weekly = weekly_term_counts(_messages(spike_authors=3, spike_msgs=4), ngram_max=1)
    out = trending_terms(weekly, baseline_weeks=4, min_messages=3, min_authors=2)
    assert out.iloc[0]["term"] in {"bug", "firmware"}
    assert set(out["term"]) == {"bug", "firmware"}  # lens fell, tripod is flat


def test_trending_requires_min_support():
    one_author = weekly_term_counts(_messages(spike_authors=1, spike_msgs=5), ngram_max=1)
    assert trending_terms(one_author, min_messages=3, min_authors=2).empty
    two_msgs = weekly_term_counts(_messages(spike_authors=2, spike_msgs=2), ngram_max=1)
    assert trending_terms(two_msgs, min_messages=3, min_authors=2).empty


def test_contains_term_respects_word_ends():
    assert contains_term("getting stuck", "getting")
    assert contains_term("getting stuck", "stuck")
    assert not contains_term("gettings stuck", "getting")
    assert not contains_term("getting", "getting")
    assert contains_term("夜景噪点", "夜景") and contains_term("夜景噪点", "噪点")
    assert not contains_term("夜景噪点", "景噪")
    assert contains_term("app 卡顿", "卡顿") and not contains_term("app卡", "app")


def test_a_term_gives_way_to_a_longer_one_covering_its_messages():
    docs = pd.DataFrame(
        {
            "community_id": ["a"] * 4 + ["b"] * 4,
            "tokens": [["getting", "stuck", "proofs"]] * 3
            + [["proofs", "exam"]]
            + [["tent", "stove"]] * 4,
        }
    )
    kept = community_terms(docs, top_n=5, min_df=1)
    terms_a = list(kept.loc[kept["community_id"] == "a", "term"])
    # "getting" and "stuck" only occur inside "getting stuck" / "stuck proofs";
    # "proofs" is also used alone (4 messages, its longer terms 3 >= 0.6 x 4): absorbed too.
    assert "getting" not in terms_a and "stuck" not in terms_a
    assert {"getting stuck", "stuck proofs"} <= set(terms_a)
    plain = community_terms(docs, top_n=5, min_df=1, absorb=None)
    assert "getting" in set(plain.loc[plain["community_id"] == "a", "term"])


def _warehouse(messages: pd.DataFrame, day: str) -> duckdb.DuckDBPyConnection:
    """The four relations `compare_with_marts` reads, with marts equal to the reference."""
    con = duckdb.connect()
    frame = messages.assign(
        content_id=[f"m{i}" for i in range(len(messages))],
        snapshot_date=pd.Timestamp(day).date(),
        group_kind="detected",
        is_in_window=True,
    )
    con.register("frame", frame)
    con.execute("create schema text")
    con.execute(
        "create table int_group_messages_weekly as select snapshot_date, group_kind, "
        "community_id, content_id, author_user_id, created_at, is_in_window from frame"
    )
    con.execute("create table text.contents_enriched as select content_id, tokens from frame")
    topics = community_terms(messages, top_n=20, min_df=3).assign(snapshot_date=day)
    trending = trending_terms(weekly_term_counts(messages), baseline_weeks=4).assign(
        snapshot_date=day
    )
    for name, mart in (
        ("fct_community_topics", topics),
        ("fct_community_trending_terms", trending),
    ):
        con.register("mart", mart.assign(group_kind="detected"))
        con.execute(f"create table {name} as select * from mart")
        con.unregister("mart")
    con.execute("alter table fct_community_topics rename column count to count_messages")
    return con


def test_compare_with_marts_agrees_with_itself_and_sees_a_changed_score():
    messages = _messages(spike_authors=3, spike_msgs=4)
    day = str((messages["created_at"].max() + pd.Timedelta(days=6)).date())
    con = _warehouse(messages, day)
    same = compare_with_marts(con, day)
    assert same["count_messages"] == len(messages)
    assert same["topics"]["rows_reference"] == same["topics"]["rows_mart"] > 0
    assert same["topics"]["share_in_both"] == 1.0 and same["topics"]["counts_equal"]
    assert same["trending"]["share_in_both"] == 1.0 and same["trending"]["rows_mart"] > 0
    con.execute("update fct_community_topics set score = score + 0.25 where term = 'tripod lens'")
    con.execute("delete from fct_community_trending_terms where term = 'bug'")
    changed = compare_with_marts(con, day)
    assert changed["topics"]["max_difference"] == pytest.approx(0.25)
    assert changed["trending"]["share_in_both"] < 1.0
