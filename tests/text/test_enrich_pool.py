"""The pooled enrichment (worker processes over batches) gives exactly the rows of the
in-process one, in the same order, whatever the batch size."""

import random

import duckdb
import pandas as pd
import pytest

from orchestration.lib.text import refresh, store
from orchestration.lib.text.enrich import enrich_and_terms, enrich_in_batches

_ZH = ["夜景噪点", "电池", "字幕", "充电器", "地图导航", "相机"]
_EN = ["dark mode", "battery", "night shot", "wide-angle lens", "subtitles", "the app"]
_TEMPLATES = [
    "{a}太严重了，希望能改进一下{b}",
    "为什么{a}这么多？能不能优化{b}",
    "楼主的{a}和{b}经验很过瘾，一点也不失望，很开心，收藏了。",
    "please add {a}, {b} doesn't work at night :(",
    "I love {a} and {b}!!! soooo good 👍",
    "Not worth it. {a} was overpriced, nobody explained {b} properly.",
    "Bonjour, je ne suis pas venu avec {a} pour le dîner",
    "see https://example.com/{a} and `code {b}` @someone $x^2$",
    "{a} 1234 ???",
    "",
]


def _contents(n: int) -> pd.DataFrame:
    rng = random.Random(7)
    rows = []
    for i in range(n):
        template = rng.choice(_TEMPLATES)
        words = _ZH if any("\u4e00" <= c <= "\u9fff" for c in template) else _EN
        body = template.format(a=rng.choice(words), b=rng.choice(words))
        language = rng.choice(["zh", "en", None, "fr-FR"])
        rows.append(
            {"content_id": f"c{i:05d}", "body": body if i % 41 else None, "language": language}
        )
    return pd.DataFrame(rows)


def _concat(pairs):
    pairs = list(pairs)
    enriched = pd.concat([e for e, _ in pairs], ignore_index=True)
    terms = pd.concat([t for _, t in pairs], ignore_index=True)
    return enriched, terms


def test_two_workers_give_the_rows_of_one():
    contents = _contents(400)
    one = _concat(enrich_in_batches(contents, batch_size=37, workers=1))
    two = _concat(enrich_in_batches(contents, batch_size=37, workers=2))
    whole = enrich_and_terms(contents)
    for a, b, c in zip(one, two, whole, strict=True):
        pd.testing.assert_frame_equal(a, b)
        pd.testing.assert_frame_equal(a, c)
    assert one[0]["content_id"].tolist() == contents["content_id"].tolist()
    assert len(one[1]) > len(contents)


def test_batch_size_must_be_positive():
    with pytest.raises(ValueError, match="batch_size"):
        list(enrich_in_batches(_contents(3), batch_size=0))


def _warehouse(contents: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.register("_c", contents)
    con.execute("create table main.stg_product__contents as select * from _c")
    con.unregister("_c")
    return con


def _tables(con) -> tuple[list, list]:
    enriched = con.execute(
        f"select * exclude (enriched_at) from {store.SCHEMA}.contents_enriched order by content_id"
    ).fetchall()
    terms = con.execute(
        f"select * from {store.SCHEMA}.content_terms order by content_id, term"
    ).fetchall()
    return enriched, terms


def test_enrich_new_messages_pooled_equals_in_process(monkeypatch):
    contents = _contents(300)
    monkeypatch.setattr(refresh, "BATCH_SIZE", 50)
    monkeypatch.setattr(refresh, "POOL_MIN_MESSAGES", 100)
    results = {}
    for workers in (1, 2):
        con = _warehouse(contents)
        stats = refresh.enrich_new_messages(con, workers=workers)
        assert stats["workers"] == workers
        assert stats["messages_enriched_this_run"] == len(contents)
        results[workers] = _tables(con)
        con.close()
    assert results[1] == results[2]
    assert len(results[1][0]) == len(contents)


def test_small_inputs_run_in_process(monkeypatch):
    con = _warehouse(_contents(30))
    stats = refresh.enrich_new_messages(con, workers=2)
    assert stats["workers"] == 1
    assert stats["count_messages"] == 30
    con.close()
