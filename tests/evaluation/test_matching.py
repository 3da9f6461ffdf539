"""Planted communities matched to detected ones, and the text scores built on it."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from orchestration.lib.evaluation.matching import map_planted_to_detected, planted_and_detected
from orchestration.lib.evaluation.text import phrase_found, score_pain_points, score_topics


def _pairs() -> pd.DataFrame:
    rows = [("p1", "d1")] * 6 + [("p1", "d2")] * 3 + [("p1", None)]  # d1 holds 6 of 10
    rows += [("p2", "d2")] * 4 + [("p2", "d3")] * 4 + [("p2", None)] * 2  # 4 of 10: no map
    rows += [("p3", "d3")] * 2 + [("p3", "d4")] * 2  # a tie goes to the smaller id
    return pd.DataFrame(
        [(f"u{i}", p, d) for i, (p, d) in enumerate(rows)],
        columns=["user_id", "planted", "detected"],
    )


def test_each_planted_community_maps_to_its_majority_at_half_or_more():
    mapping = map_planted_to_detected(_pairs())
    assert mapping.to_dict("records") == [
        {"planted": "p1", "detected": "d1", "share": 0.6},
        {"planted": "p3", "detected": "d3", "share": 0.5},
    ]
    assert list(map_planted_to_detected(_pairs(), min_share=0.55)["planted"]) == ["p1"]


def test_planted_and_detected_reads_members_alive_at_the_snapshot(tmp_path):
    day = date(2026, 3, 1)
    truth = pd.DataFrame(
        {
            "user_id": ["a", "b", "c", "d", "b"],
            "community_id": ["p1", "p1", "p1", "p1", "p0"],
            "valid_from": pd.to_datetime(["2026-01-01"] * 3 + ["2026-03-02", "2026-02-01"]),
            "valid_to": pd.to_datetime([None, None, "2026-02-01", None, None]),
            "churned_on": pd.to_datetime([None, None, None, None, None]),
        }
    )
    truth.to_parquet(tmp_path / "community_memberships.parquet")
    con = duckdb.connect()
    con.execute("create schema communities")
    con.execute(
        "create table communities.community_assignments as select * from (values "
        "('a', 'd1', date '2026-03-01', 'member'), ('b', 'd1', date '2026-02-22', 'member'), "
        "('b', 'd1', date '2026-03-01', 'fringe')) "
        "t(user_id, community_id, snapshot_date, membership_status)"
    )
    pairs = planted_and_detected(con, tmp_path, day).sort_values("user_id")
    # c left before the day, d joins after it; b is a bridge (smallest planted id) and
    # no member at this snapshot (a member at another one, fringe at this one).
    assert pairs["user_id"].tolist() == ["a", "b"]
    assert pairs["planted"].tolist() == ["p1", "p0"]
    assert pairs["detected"].tolist()[0] == "d1" and pd.isna(pairs["detected"].tolist()[1])


def test_a_planted_phrase_is_found_as_a_substring_or_by_its_tokens():
    assert phrase_found("battery drain", "en", ["fast battery drain after update"])
    assert phrase_found("battery drain", "en", ["drain on the battery"])
    assert not phrase_found("battery drain", "en", ["screen flicker"])
    assert phrase_found("夜景噪点", "zh", ["夜景噪点太多"])


def test_pain_points_and_topics_are_scored_in_the_mapped_community():
    mapping = pd.DataFrame({"planted": ["p1", "p2"], "detected": ["d1", "d2"], "share": 1.0})
    planted = pd.DataFrame(
        {
            "community_id": ["p1", "p2"],
            "language": ["en", "en"],
            "phrase_zh": ["", ""],
            "phrase_en": ["battery drain", "late delivery"],
            "rank": [1, 1],
            "n_messages": [5, 5],
        }
    )
    extracted = pd.DataFrame(
        {
            "community_id": ["d1", "d1", "d2", "d2"],
            "rank": [1, 4, 1, 2],
            "phrase": ["screen flicker", "battery drain", "late delivery", "refund"],
        }
    )
    pain = score_pain_points(extracted, planted, mapping, top_k=3)
    assert dict(zip(pain["community_id"], pain["found"], strict=True)) == {
        "p1": False,  # found only at rank 4, outside the top 3
        "p2": True,
    }
    terms = pd.DataFrame(
        {
            "community_id": ["d1"] * 3 + ["d2"] * 3,
            "rank": [1, 2, 3] * 2,
            "term": ["Tripod", "long exposure", "lens", "tripod", "pace", "shoes"],
        }
    )
    topics = score_topics(
        terms,
        pd.DataFrame({"community_id": ["p1", "p2"], "topic_key": ["photo", "photo"]}),
        {"photo": {"tripod", "longexposure", "lens"}},
        mapping,
        top_k=3,
        min_hits=3,
    )
    assert topics["hits"].tolist() == [3, 1] and topics["found"].tolist() == [True, False]
