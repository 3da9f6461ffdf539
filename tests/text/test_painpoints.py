"""Pain-point extraction on a tiny corpus and on a small generated demo data set."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from orchestration.lib.text.painpoints import extract_pain_points, find_need_messages


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
    out = extract_pain_points(_tiny(), min_messages=3, min_authors=2)
    top = out[out["rank"] == 1].set_index("community_id")
    assert top.loc["g1", "phrase"] == "电池掉电快"
    assert top.loc["g1", "count_messages"] == 4
    assert top.loc["g1", "count_authors"] == 4
    assert top.loc["g1", "share_of_messages"] == pytest.approx(4 / 13)
    assert list(top.loc["g1", "example_content_ids"]) == ["c0", "c1", "c2"]
    assert top.loc["g2", "phrase"] == "night shot noise"
    assert out.equals(extract_pain_points(_tiny(), min_messages=3, min_authors=2))


def test_min_support():
    out = extract_pain_points(_tiny(), min_messages=5, min_authors=2)
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
    # ("烂根",) and ("烂", "根") share no word but are the same phrase to a reader.
    rows = []
    for i, runs in enumerate([[["烂根"]]] * 4 + [[["烂", "根"]]] * 3):
        rows.append(
            {
                "community_id": "g1",
                "content_id": f"c{i}",
                "author_user_id": f"u{i}",
                "body": "烂根了怎么办",
                "language": "zh",
                "segments": runs,
                "is_need_message": True,
            }
        )
    found = extract_pain_points(pd.DataFrame(rows), min_messages=3, min_authors=2)
    assert found["phrase"].tolist() == ["烂根"]
    assert found["count_messages"].tolist() == [4]
