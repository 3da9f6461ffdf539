"""The text refresh steps on a small warehouse: only new messages are enriched, a
changed model re-enriches everything, and pain-point snapshots are computed once."""

from datetime import date, datetime, timedelta

import duckdb
import pandas as pd
import pytest

from orchestration.lib.text import refresh, store
from orchestration.lib.text.snapshots import TextSettings

_BODIES_A = [  # users u0-u3 (community cA): night-shot noise
    "夜景噪点太严重了，希望能改进一下",
    "为什么夜景噪点这么多？能不能优化",
    "夜景噪点还是老样子，不好用",
    "今天拍的照片很满意，谢谢大家",
]
_BODIES_B = [  # users u4-u6 (community cB): dark mode
    "please add dark mode, the screen is too bright at night",
    "I wish there was a dark mode",
    "The new guide is great, thanks a lot!",
    "1234 ???",
]


def _contents(n: int, start: int = 0) -> pd.DataFrame:
    rows = []
    for i in range(start, start + n):
        author = i % 7
        bodies = _BODIES_A if author < 4 else _BODIES_B
        rows.append(
            {
                "content_id": f"c{i:05d}",
                "author_user_id": f"u{author}",
                "group_id": None,
                "created_at": datetime(2026, 1, 5) + timedelta(hours=7 * i),
                "body": bodies[(i // 7) % len(bodies)],
                "language": None,
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.register("_c", _contents(28))
    con.execute("create table main.stg_product__contents as select * from _c")
    con.unregister("_c")
    yield con
    con.close()


def test_only_new_messages_are_enriched(con):
    first = refresh.enrich_new_messages(con)
    assert first["messages_enriched_this_run"] == 28
    assert first["count_messages"] == 28
    again = refresh.enrich_new_messages(con)
    assert again["messages_enriched_this_run"] == 0
    con.register("_c", _contents(5, start=28))
    con.execute("insert into main.stg_product__contents select * from _c")
    third = refresh.enrich_new_messages(con)
    assert third["messages_enriched_this_run"] == 5
    assert third["count_messages"] == 33
    ids = con.execute("select content_id from text.contents_enriched").fetchall()
    assert len(ids) == len(set(ids)) == 33
    # Every message has its terms, none twice.
    dup = con.execute(
        "select count(*) from (select content_id, term from text.content_terms "
        "group by all having count(*) > 1)"
    ).fetchall()[0][0]
    assert dup == 0


def test_enriched_values(con):
    refresh.enrich_new_messages(con)
    rows = dict(
        con.execute(
            "select content_id, (language, sentiment_label, is_need_message) "
            "from text.contents_enriched"
        ).fetchall()
    )
    assert rows["c00000"][0] == "zh" and rows["c00000"][2] is True  # 希望
    assert rows["c00004"][0] == "en" and rows["c00004"][2] is True  # please add
    assert rows["c00018"] == ("en", "positive", False)  # the guide is great
    assert rows["c00025"] == ("other", None, False)  # 1234 ???: no text, no score
    assert rows["c00021"][:2] == ("zh", "positive")  # 很满意


def test_removed_messages_leave_and_a_changed_model_reenriches(con, monkeypatch):
    refresh.enrich_new_messages(con)
    con.execute("delete from main.stg_product__contents where content_id = 'c00003'")
    out = refresh.enrich_new_messages(con)
    assert out["orphans_removed"] == 1 and out["count_messages"] == 27
    assert out["messages_enriched_this_run"] == 0
    assert (
        con.execute(
            "select count(*) from text.content_terms where content_id = 'c00003'"
        ).fetchall()[0][0]
        == 0
    )
    monkeypatch.setattr(refresh, "enrichment_fingerprint", lambda: "v-other")
    out = refresh.enrich_new_messages(con)
    assert out["recomputed_all"] and out["messages_enriched_this_run"] == 27


def _snapshot_tables(con, days: list[date], provisional_last: bool) -> None:
    con.execute("create schema if not exists communities")
    runs = pd.DataFrame(
        {
            "snapshot_date": days,
            "is_provisional": [provisional_last and i == len(days) - 1 for i in range(len(days))],
            "settings_fingerprint": "f1",
        }
    )
    con.execute("drop table if exists communities.community_snapshot_runs")
    con.register("_r", runs)
    con.execute("create table communities.community_snapshot_runs as select * from _r")
    assignments = pd.DataFrame(
        [(d, f"u{i}", "cA" if i < 4 else "cB", "member") for d in days for i in range(7)],
        columns=["snapshot_date", "user_id", "community_id", "membership_status"],
    )
    con.execute("drop table if exists communities.community_assignments")
    con.register("_a", assignments)
    con.execute("create table communities.community_assignments as select * from _a")


def test_pain_point_snapshots_are_computed_once(con):
    refresh.enrich_new_messages(con)
    _snapshot_tables(con, [date(2026, 1, 11)], provisional_last=False)
    settings = TextSettings(pain_min_messages=2, pain_min_authors=2)
    first = refresh.refresh_pain_points(con, settings)
    assert first["snapshots_computed"] == 1
    assert refresh.refresh_pain_points(con, settings)["snapshots_computed"] == 0
    # A new week plus a provisional one: only those two are computed.
    _snapshot_tables(con, [date(2026, 1, 11), date(2026, 1, 18), date(2026, 1, 20)], True)
    assert refresh.refresh_pain_points(con, settings)["snapshots_computed"] == 2
    # The provisional snapshot is always recomputed; gone snapshots are deleted.
    _snapshot_tables(con, [date(2026, 1, 11), date(2026, 1, 18)], False)
    assert refresh.refresh_pain_points(con, settings)["snapshots_computed"] == 0
    stored = con.execute("select snapshot_date from text.pain_point_runs order by 1").fetchall()
    assert [r[0] for r in stored] == [date(2026, 1, 11), date(2026, 1, 18)]
    # Other settings: everything again.
    other = TextSettings(pain_min_messages=3, pain_min_authors=2)
    assert refresh.refresh_pain_points(con, other)["snapshots_computed"] == 2


def test_pain_points_name_the_repeated_complaint(con):
    refresh.enrich_new_messages(con)
    _snapshot_tables(con, [date(2026, 1, 11)], provisional_last=False)
    refresh.refresh_pain_points(con, TextSettings(pain_min_messages=2, pain_min_authors=2))
    top = dict(
        con.execute(
            "select community_id, (phrase, count_messages, count_authors, avg_sentiment) "
            "from text.community_pain_points where rank = 1 and group_kind = 'detected'"
        ).fetchall()
    )
    assert top["cA"][0] == "夜景噪点"
    assert top["cB"][0] == "dark mode"
    for _, n, authors, avg in top.values():
        assert n >= 2 and authors >= 2 and -1 <= avg <= 1
    runs = con.execute(
        f"select count_messages, count_need_messages from {store.SCHEMA}.pain_point_runs"
    ).fetchall()
    # Messages every 7 hours from Monday 2026-01-05: 24 of them by the end of Sunday the 11th.
    assert runs[0][0] == 24 and 0 < runs[0][1] < 24


def test_late_messages_recompute_their_snapshot(con):
    refresh.enrich_new_messages(con)
    _snapshot_tables(con, [date(2026, 1, 11), date(2026, 1, 18)], provisional_last=False)
    settings = TextSettings(pain_min_messages=2, pain_min_authors=2)
    assert refresh.refresh_pain_points(con, settings)["snapshots_computed"] == 2
    # A message of the first week arrives late: both windows (28 days) hold it.
    late = _contents(1, start=90).assign(created_at=datetime(2026, 1, 6, 12))
    con.register("_late", late)
    con.execute("insert into main.stg_product__contents select * from _late")
    assert refresh.enrich_new_messages(con)["messages_enriched_this_run"] == 1
    assert refresh.refresh_pain_points(con, settings)["snapshots_computed"] == 2
    assert refresh.refresh_pain_points(con, settings)["snapshots_computed"] == 0


def test_tables_of_an_older_layout_are_rebuilt(con):
    con.execute("create schema text")
    con.execute("create table text.pain_point_runs (snapshot_date date, seconds double)")
    store.ensure_tables(con)
    columns = [r[0] for r in con.execute("describe text.pain_point_runs").fetchall()]
    assert columns[-1] == "computed_at" and "settings_fingerprint" in columns


def test_the_fingerprint_follows_the_domain_dictionary(tmp_path):
    from orchestration.lib.text.enrich import enrichment_fingerprint
    from orchestration.lib.text.tokenize import DEFAULT_DOMAIN_TERMS

    extended = tmp_path / "terms.csv"
    extended.write_text(
        DEFAULT_DOMAIN_TERMS.read_text(encoding="utf-8") + '人像模式,zh,"a user\'s term"\n',
        encoding="utf-8",
    )
    assert enrichment_fingerprint() == enrichment_fingerprint(DEFAULT_DOMAIN_TERMS)
    assert enrichment_fingerprint(extended) != enrichment_fingerprint()
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        enrichment_fingerprint(tmp_path / "missing.csv")


def test_warehouse_counts_give_the_rows_of_the_message_frames(con):
    # pain_points_from_warehouse (phrase index + SQL counts) against pain_points_at on
    # the window's messages, for both group kinds, several windows and an empty one.
    from orchestration.lib.text.snapshots import pain_points_at, pain_points_from_warehouse

    con.execute("drop table main.stg_product__contents")
    more = _contents(120).assign(group_id=lambda f: [("g1", None, "g2")[i % 3] for i in f.index])
    con.register("_c", more)
    con.execute("create table main.stg_product__contents as select * from _c")
    con.unregister("_c")
    refresh.enrich_new_messages(con)
    days = [date(2026, 1, 11), date(2026, 1, 18), date(2026, 1, 25), date(2026, 3, 29)]
    _snapshot_tables(con, days, provisional_last=False)
    settings = TextSettings(pain_min_messages=2, pain_min_authors=2, window_days=10)
    index = store.build_phrase_index(
        con,
        date(2026, 1, 2),
        date(2026, 3, 30),
        negative_threshold=settings.negative_threshold,
        max_words=settings.pain_max_words,
        min_messages=settings.pain_min_messages,
    )
    keys = ["group_kind", "community_id", "rank"]
    seen_kinds = set()
    for day in days:
        messages = store.read_snapshot_messages(con, day, settings.window_days)
        expected = pain_points_at(messages, day, settings).sort_values(keys)
        found, counts = pain_points_from_warehouse(con, day, index, settings)
        found = found.sort_values(keys)
        assert len(found) == len(expected)
        for column in expected.columns:
            assert found[column].tolist() == expected[column].tolist(), column
        detected = messages[messages["group_kind"] == "detected"]
        assert counts["count_messages"] == len(detected)
        seen_kinds |= set(found["group_kind"])
    assert seen_kinds == {"declared", "detected"}
    assert found.empty and counts["count_messages"] == 0  # 2026-03-29: no messages
    with pytest.raises(ValueError, match="not inside"):
        pain_points_from_warehouse(con, date(2026, 4, 12), index, settings)


class _FailingOn:
    """A connection whose `execute` fails on the n-th statement starting with `prefix`."""

    def __init__(self, con, prefix: str, n: int):
        self._con, self._prefix, self._n = con, prefix, n

    def execute(self, sql, *args):
        if sql.strip().lower().startswith(self._prefix):
            self._n -= 1
            if self._n == 0:
                raise RuntimeError("killed")
        return self._con.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._con, name)


def test_destructive_writes_are_all_or_nothing(con):
    refresh.enrich_new_messages(con)
    _snapshot_tables(con, [date(2026, 1, 11)], provisional_last=False)
    refresh.refresh_pain_points(con, TextSettings(pain_min_messages=2, pain_min_authors=2))

    def counts():
        return [
            con.execute(f"select count(*) from text.{name}").fetchall()[0][0]
            for name in (*store.CONTENT_TABLES, *store.SNAPSHOT_TABLES)
        ]

    before = counts()
    assert all(before)
    # Dropping the snapshot tables fails after the first one: both keep their rows.
    with pytest.raises(RuntimeError):
        store.ensure_tables(_FailingOn(con, "drop table", 2), recreate_snapshots=True)
    assert counts() == before
    # Removing orphans fails after the first table: no table loses a row.
    con.execute("delete from main.stg_product__contents where content_id < 'c00005'")
    with pytest.raises(RuntimeError):
        store.delete_orphans(_FailingOn(con, "delete from", 2))
    assert counts() == before
    assert store.delete_orphans(con) == 5
    # Deleting gone snapshots fails half-way: both tables keep them.
    after = counts()
    with pytest.raises(RuntimeError):
        store.delete_snapshots(_FailingOn(con, "delete from", 2), [date(2026, 1, 11)])
    assert counts() == after
