"""Pain-point extraction on a tiny corpus and on a small generated demo data set."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from orchestration.lib.text.painpoints import (
    PainPointSettings,
    extract_pain_points,
    find_need_messages,
    is_complaint_word,
)

LOOSE = PainPointSettings(pain_min_messages=3, pain_min_authors=2)


def test_need_patterns():
    flags = find_need_messages(
        [
            "希望能修一下",
            "今天天气不错",
            "How do I fix this?",
            "Great session today",
            "It can't sync",
        ],
        ["zh", "zh", "en", "en", None],
    )
    assert flags.tolist() == [True, False, True, False, True]
    more = find_need_messages(
        ["登录以后一直卡顿", "页面无法打开", "I get an error on import", "Works great"],
        ["zh", "zh", "en", "en"],
    )
    assert more.tolist() == [True, True, True, False]


def _tiny() -> pd.DataFrame:
    rows = []
    complaints = [
        "求助：最近拍照老是电池掉电快，烦死了",
        "电池掉电快的问题总是出现，希望官方看看",
        "能不能解决一下电池掉电快？每次用都这样",
        "为什么电池掉电快，试了很多办法都没用",
    ]
    for i, body in enumerate(complaints):
        rows.append(("g1", f"c{i}", f"u{i}", body, "zh", -0.8))
    chatter = ["今天去拍了风光，构图很满意", "分享一下三脚架的使用心得", "周末一起扫街吧"]
    for i, body in enumerate(chatter * 3):
        rows.append(("g1", f"d{i}", f"v{i}", body, "zh", 0.5))
    en = [
        "Please add a fix for night shot noise, so frustrating",
        "How do I fix night shot noise with my tripod?",
        "The night shot noise keeps coming back",
    ]
    for i, body in enumerate(en):
        rows.append(("g2", f"e{i}", f"w{i}", body, "en", None))
    for i in range(6):
        rows.append(("g2", f"f{i}", f"w{i}", "Lovely landscape shot at sunrise today", "en", 0.9))
    cols = ["community_id", "content_id", "author_user_id", "body", "language", "sentiment_score"]
    return pd.DataFrame(rows, columns=cols)


def test_tiny_corpus():
    out = extract_pain_points(_tiny(), LOOSE)
    top = out[out["rank"] == 1].set_index("community_id")
    assert top.loc["g1", "phrase"] == "电池掉电快"
    assert top.loc["g1", "count_messages"] == 4
    assert top.loc["g1", "count_authors"] == 4
    assert top.loc["g1", "share_of_messages"] == pytest.approx(4 / 13)
    assert list(top.loc["g1", "example_content_ids"]) == ["c0", "c1", "c2"]
    assert top.loc["g2", "phrase"] == "night shot noise"
    assert out.equals(extract_pain_points(_tiny(), LOOSE))


def test_min_support():
    out = extract_pain_points(_tiny(), PainPointSettings(pain_min_messages=5))
    assert out.empty or "电池掉电快" not in set(out["phrase"])


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("text_demo")
    cmd = [sys.executable, "-m", "orchestration.lib.demo.cli", "--users", "1500", "--days", "40"]
    cmd += ["--seed", "42", "--out", str(root / "raw"), "--truth", str(root / "truth")]
    subprocess.run(cmd, check=True, capture_output=True)
    return root / "raw", root / "truth"


def test_demo_photography_pain_point(demo):
    raw, truth = demo
    contents = pd.read_parquet(raw / "contents.parquet")
    labels = pd.read_parquet(truth / "content_labels.parquet")
    planted = pd.read_parquet(truth / "community_pain_points.parquet")
    msgs = contents.merge(labels[["content_id", "community_id"]], on="content_id")
    out = extract_pain_points(msgs)
    target = planted[
        (planted["topic_key"] == "photography")
        & (planted["language"] == "zh")
        & (planted["rank"] == 1)
    ]
    assert not target.empty
    for _, row in target.iterrows():
        top = out[out["community_id"] == row["community_id"]].sort_values("rank")
        assert row["phrase_zh"] in top["phrase"].iloc[0]
    night = target[target["pain_point_key"] == "night_noise"]
    if not night.empty:
        top = out[out["community_id"] == night["community_id"].iloc[0]]
        assert top.sort_values("rank")["phrase"].iloc[0] == "夜景噪点"


def test_two_segmentations_of_one_phrase_give_one_pain_point():
    # jieba may cut the same text as one word or as two, depending on its context:
    # ("听不懂",) and ("听", "不懂") share no word but are the same phrase to a reader.
    rows = []
    for i, runs in enumerate([[["听不懂"]]] * 4 + [[["听", "不懂"]]] * 3):
        rows.append(
            {
                "community_id": "g1",
                "content_id": f"c{i}",
                "author_user_id": f"u{i}",
                "body": "听不懂怎么办",
                "language": "zh",
                "segments": runs,
                "is_need_message": True,
            }
        )
    # Background messages (no group) give the lift a corpus to compare with.
    for i in range(20):
        rows.append(
            {
                "community_id": None,
                "content_id": f"b{i}",
                "author_user_id": f"v{i}",
                "body": "今天天气不错",
                "language": "zh",
                "segments": [["今天", "天气", "不错"]],
                "is_need_message": False,
            }
        )
    found = extract_pain_points(pd.DataFrame(rows), LOOSE)
    assert found["phrase"].tolist() == ["听不懂"]
    assert found["count_messages"].tolist() == [4]


def test_complaint_words():
    assert is_complaint_word("crash") and is_complaint_word("卡顿") and is_complaint_word("闪退")
    # Chinese compounds and multi-word domain terms are phrases kept whole.
    assert is_complaint_word("听不懂") and is_complaint_word("夜景噪点")
    assert is_complaint_word("battery life")
    # A single word of the domain is not a complaint.
    assert not is_complaint_word("quantum") and not is_complaint_word("tripod")
    assert not is_complaint_word("相机") and not is_complaint_word("热水器")


_COLS = ["community_id", "content_id", "author_user_id", "body", "language", "sentiment_score"]


def _site() -> pd.DataFrame:
    """A small site where every message talks about its domain (quantum / 相机)."""
    rows = []
    chatter = [
        "Nice quantum circuit diagram in the new post",
        "Reading about quantum circuit depth and quantum gate fidelity",
        "Our quantum circuit course starts next week",
        "Great talk on quantum circuit design yesterday",
    ]
    for i, body in enumerate(chatter * 3):
        rows.append(("g1", f"a{i}", f"ua{i % 6}", body, "en", 0.6))
    complaints = [
        "How do I fix the simulator memory leak in my quantum circuit?",
        "The simulator memory leak keeps killing my quantum circuit jobs",
        "Is there a way around the simulator memory leak? quantum circuit runs die",
    ]
    for i, body in enumerate(complaints):
        rows.append(("g1", f"b{i}", f"ub{i}", body, "en", -0.6))
    # One member, four times: a broken link of theirs is not the group's problem.
    for i in range(4):
        rows.append(
            ("g1", f"r{i}", "solo", "How do I fix the dead tutorial link? quantum", "en", -0.7)
        )
    zh_chatter = [
        "今天用相机拍了日落",
        "分享一下相机的构图心得",
        "周末带相机去扫街",
        "新买的相机很好看",
    ]
    for i, body in enumerate(zh_chatter * 3):
        rows.append(("g2", f"c{i}", f"uc{i % 6}", body, "zh", 0.6))
    zh_complaints = [
        "相机的夜景模式总是闪退，怎么办",
        "求助：相机夜景模式闪退，重启也没用",
        "希望修一下相机夜景模式闪退的问题",
    ]
    for i, body in enumerate(zh_complaints):
        rows.append(("g2", f"d{i}", f"ud{i}", body, "zh", -0.6))
    for i in range(4):
        rows.append(("g2", f"s{i}", "solo_zh", "能不能把相机说明书寄给我", "zh", -0.2))
    return pd.DataFrame(rows, columns=_COLS)


def test_domain_word_used_everywhere_is_no_pain_point():
    found = extract_pain_points(_site(), PainPointSettings(pain_min_authors=3))
    phrases = set(found["phrase"])
    # In every message, complaints or not: never a pain point alone or as a phrase.
    assert {"quantum", "quantum circuit", "相机"}.isdisjoint(phrases)
    assert not any(p.split() == ["quantum"] for p in phrases)


def test_phrase_shared_by_three_authors_is_a_pain_point():
    found = extract_pain_points(_site(), PainPointSettings(pain_min_authors=3))
    top = found[found["rank"] == 1].set_index("community_id")
    assert top.loc["g1", "phrase"] == "simulator memory leak"
    assert top.loc["g1", "count_authors"] == 3
    assert top.loc["g1", "language"] == "en"
    assert "闪退" in top.loc["g2", "phrase"] or "夜景模式" in top.loc["g2", "phrase"]
    assert top.loc["g2", "count_authors"] == 3
    assert top.loc["g2", "language"] == "zh"
    # Ranked by authors x ln(lift), lift = share in the group's complaints over the
    # share in all messages: 3 of 7 complaints against 3 of 38 messages.
    assert top.loc["g1", "score"] == pytest.approx(3 * np.log((3 / 7) / (3 / 38)))


def test_one_author_repeating_a_phrase_is_no_pain_point():
    found = extract_pain_points(_site(), PainPointSettings(pain_min_authors=2))
    phrases = " | ".join(found["phrase"])
    assert "tutorial link" not in phrases and "说明书" not in phrases


def test_phrase_as_common_outside_complaints_is_no_pain_point():
    site = _site()
    # The memory leak is also everyday talk of the group: said as often outside
    # complaints, it is the group's subject, not its problem.
    extra = [
        (
            "g1",
            f"x{i}",
            f"ux{i}",
            "A simulator memory leak demo, quantum circuit edition",
            "en",
            0.5,
        )
        for i in range(20)
    ]
    site = pd.concat([site, pd.DataFrame(extra, columns=_COLS)], ignore_index=True)

    def phrases(**kw):
        return set(extract_pain_points(site, PainPointSettings(pain_min_authors=3, **kw))["phrase"])

    assert "simulator memory leak" not in phrases()
    # Both rules hold it back: the lift over the whole window (3 of 7 complaints
    # against 23 of 58 messages: 1.08) and the share of the group's other messages.
    assert "simulator memory leak" not in phrases(pain_min_group_lift=0.0)
    assert "simulator memory leak" not in phrases(pain_min_lift=0.5)
    assert "simulator memory leak" in phrases(pain_min_lift=0.5, pain_min_group_lift=0.0)


@pytest.mark.parametrize("max_n", [4, 20])
def test_vectorised_candidates_are_the_message_candidates(max_n):
    # phrase_occurrences (array code, over every message at once) must find exactly the
    # phrases _run_candidates finds message by message: base-(V+1) ids for max_n=4,
    # dense ids per length when those would overflow (max_n=20).
    from orchestration.lib.text.painpoints import (
        _banned_words,
        _run_candidates,
        complaint_lexicon,
        decode_phrase,
        phrase_occurrences,
        token_flags,
    )
    from orchestration.lib.text.tokenize import segments

    bodies = list(_tiny()["body"]) + list(_site()["body"])
    bodies += ["没有自行车道，证明题不会", "no signal at all, can't sync", "听不懂 听 不懂 卡顿"]
    runs_of = [
        [tuple(r) for r in segments(b, "zh" if any("\u4e00" <= c <= "\u9fff" for c in b) else "en")]
        for b in bodies
    ]
    runs_of[0] = runs_of[0] + [(), runs_of[0][0]]  # an empty run, a repeated run
    tokens = sorted({w for runs in runs_of for r in runs for w in r})
    tok_id = {t: i for i, t in enumerate(tokens)}
    flat_runs = [r for runs in runs_of for r in runs]
    owner = np.repeat(np.arange(len(runs_of)), [len(runs) for runs in runs_of])
    words_per_run = np.array([len(r) for r in flat_runs])
    run_ids = np.repeat(np.arange(len(flat_runs)), words_per_run)
    token_ids = np.array([tok_id[w] for r in flat_runs for w in r], dtype=np.int64)
    starts, ids, levels = phrase_occurrences(run_ids, token_ids, token_flags(tokens), max_n)
    assert (levels is None) == (max_n == 4)
    msg_of_pos = np.repeat(owner, words_per_run)
    found: list[set] = [set() for _ in runs_of]
    for pos, pid in zip(starts, ids, strict=True):
        gram = tuple(tokens[t] for t in decode_phrase(pid, len(tokens), levels))
        assert gram == tuple(tokens[t] for t in token_ids[pos : pos + len(gram)])
        found[msg_of_pos[pos]].add(gram)
    banned, singles = _banned_words(None), complaint_lexicon(None)
    expected = [set(_run_candidates(tuple(runs), max_n, banned, singles)) for runs in runs_of]
    assert found == expected
    assert any(len(g) == 1 for g in set().union(*expected))
    assert any(len(g) >= 3 for g in set().union(*expected))
