"""The dashboard's queries on the tiny snapshot (no server)."""

import json
from datetime import date

from orchestration.lib.dashboard import charts, queries
from orchestration.lib.dashboard.i18n import negotiate_language, translator


def _by_id(rows):
    return {row["community_id"]: row for row in rows}


def test_groups_table(con):
    rows = queries.groups_table(con)
    assert [r["community_id"] for r in rows] == ["c1", "group:g1", "group:g2", "c2", "c3"]
    by_id = _by_id(rows)
    g1 = by_id["group:g1"]
    assert (g1["display_id"], g1["size"], g1["health_score"]) == ("g1", 6, 70.0)
    assert g1["snapshot_date"] == date(2026, 1, 11)
    # 3 zh and 1 en message: en has 25% >= BILINGUAL_SHARE.
    assert g1["language"] == "zh/en" and by_id["c1"]["language"] == "zh/en"
    assert by_id["group:g2"]["language"] == "en"
    assert by_id["c3"]["language"] == "none" and by_id["c3"]["count_messages"] == 0
    assert {k: r["trend"] for k, r in by_id.items()} == {
        "group:g1": "growing",
        "group:g2": "shrinking",
        "c1": "stable",
        "c2": "new",
        "c3": "new",
    }
    assert by_id["c3"]["size"] == 2  # no health row: dim_communities' count


def test_filter_groups(con):
    rows = queries.groups_table(con)

    def ids(**kwargs):
        return [r["community_id"] for r in queries.filter_groups(rows, **kwargs)]

    assert ids(kind="declared") == ["group:g1", "group:g2"]
    assert ids(language="en") == ["c1", "group:g1", "group:g2", "c2"]
    assert ids(language="zh", kind="detected") == ["c1"]
    assert ids(trend="new") == ["c2", "c3"]
    assert ids(text="夜景") == ["c1"]
    assert ids(text="G2") == ["group:g2"]
    assert ids(min_size=5) == ["c1", "group:g1"]
    assert ids(min_health=50) == ["c1", "group:g1"]
    assert ids(allowed=frozenset({"c2", "group:g2"})) == ["group:g2", "c2"]
    # Ties break on the id, missing values go last whatever the order.
    assert ids(sort="health_score", descending=False) == ["group:g2", "c1", "group:g1", "c2", "c3"]
    assert ids(sort="size", descending=True) == ["group:g1", "c1", "group:g2", "c2", "c3"]
    assert ids(sort="drop table", descending=True) == ids()


def test_group_detail_detected(con):
    d = queries.group_detail(con, "c1")
    assert d["group"]["community_label"].startswith("摄影")
    assert [r["user_id"] for r in d["members"]] == ["u1", "u2"]  # key members, then bridges
    assert {r["member_role"]: r["count_members"] for r in d["role_counts"]} == {
        "key_member": 1,
        "bridge": 1,
        "peripheral": 1,
    }
    assert [t["term"] for t in d["topics"]] == ["夜景噪点", "三脚架"]  # latest snapshot only
    pain = d["pain_points"]
    assert [p["phrase"] for p in pain] == ["夜景噪点", "night noise"]
    assert [e["body"] for e in pain[0]["examples"]] == [
        "夜景噪点太多了,三脚架也不稳",
        "希望能加一个降噪功能",
    ]
    assert [e["content_id"] for e in pain[1]["examples"]] == ["m4"]  # unknown id skipped
    # One row per week, from the latest snapshot covering it.
    assert [(s["week_start_date"], s["net_sentiment_week"]) for s in d["sentiment"]] == [
        (date(2025, 12, 29), 0.3),
        (date(2026, 1, 5), -0.25),
    ]
    assert [r["lookalike_community_id"] for r in d["lookalikes"]] == ["c2"]
    assert [(r["other_community_id"], r["affinity"]) for r in d["affinity"]] == [("c2", 0.4)]
    assert [e["event_type"] for e in d["events"]] == ["born", "grew"]  # not "continued"
    assert [m["content_id"] for m in d["messages"]] == ["m4", "m3", "m2", "m1"]
    assert d["interventions"] == []


def test_group_detail_declared(con):
    d = queries.group_detail(con, "group:g2")
    assert d["group"]["owner_user_id"] == "u5"
    assert [(m["user_id"], m["member_role"]) for m in d["members"]] == [
        ("u3", "member"),
        ("u5", "owner"),
    ]
    assert [m["content_id"] for m in d["messages"]] == ["m6", "m5"]
    assert [i["intervention_id"] for i in d["interventions"]] == ["iv1"]
    assert [h["snapshot_date"] for h in queries.group_detail(con, "group:g1")["health"]] == [
        date(2026, 1, 4),
        date(2026, 1, 11),
    ]
    assert queries.group_detail(con, "nope") is None


def test_growth_and_its_chart(con):
    data = queries.growth(con)
    assert len(data["daily"]) == 10 and data["daily"][0]["kpi_date"] == date(2026, 1, 1)
    assert [i["inflection_date"] for i in data["inflections"]] == [date(2026, 1, 6)]
    figure = json.loads(charts.growth_figure(data, "users", translator("en")).to_json())
    marker = [trace for trace in figure["data"] if trace.get("meta") == "inflection"]
    assert len(marker) == 1
    # On the curve: the DAU of that day.
    assert marker[0]["x"] == ["2026-01-06"] and marker[0]["y"] == [20 + 10]
    assert [t["name"] for t in figure["data"][:3]] == ["count_dau", "count_wau", "count_mau"]
    assert any(t.get("meta") == "intervention" for t in figure["data"])
    # Experiments are marked where they started, with what they are in the hover text.
    assert [e["experiment_id"] for e in data["experiments"]] == ["exp1"]
    stars = [trace for trace in figure["data"] if trace.get("meta") == "experiment"]
    assert len(stars) == 1 and stars[0]["x"][0].startswith("2026-01-03")
    assert stars[0]["text"] == ["exp1 Weekly prompts (group) 2026-01-03 → …"]
    # Sign-ups have no inflection here: no marker trace.
    signups = json.loads(charts.growth_figure(data, "signups", translator("en")).to_json())
    assert not [t for t in signups["data"] if t.get("meta") == "inflection"]


def test_experiments(con):
    data = queries.experiments(con)
    assert data["results"][0]["lift_relative_ci_high"] == 0.22
    assert data["health"][0]["has_spillover"] is True
    assert len(data["spillover"]) == 1 and len(data["power"]) == 1


def test_jsonable_and_languages():
    assert queries.jsonable({"d": date(2026, 1, 2), "x": [float("nan"), 1.5]}) == {
        "d": "2026-01-02",
        "x": [None, 1.5],
    }
    assert negotiate_language("zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert negotiate_language("en-US,en;q=0.9,zh;q=0.8") == "en"
    assert negotiate_language("fr-FR, zh;q=0.5") == "zh"
    assert negotiate_language("de") == "en" and negotiate_language(None) == "en"
    assert translator("zh")("groups") == "小组" and translator("en")("groups") == "Groups"
