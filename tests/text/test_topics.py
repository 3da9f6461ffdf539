"""Class-based TF-IDF community terms and trending terms."""

from __future__ import annotations

import pandas as pd

from orchestration.lib.text.topics import community_terms, trending_terms, weekly_term_counts


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
    from orchestration.lib.text.topics import contains_term

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
