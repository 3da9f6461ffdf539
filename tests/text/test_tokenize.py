"""Tokenizing and language detection of Chinese and English messages."""

from __future__ import annotations

from orchestration.lib.text.tokenize import (
    add_terms,
    detect_language,
    join_tokens,
    phrases,
    resolve_language,
    segments,
    tokenize,
)


def test_detect_language():
    assert detect_language("拍夜景的时候噪点太多了") == "zh"
    assert detect_language("The shutter speed was too slow") == "en"
    assert detect_language("用Lightroom导出太慢了") == "zh"
    assert detect_language("12345 !!!") == "other"
    assert detect_language(None) == "other"


def test_resolve_language_normalises_codes():
    assert resolve_language("zh-Hans", "x") == "zh"
    assert resolve_language("EN", "中文") == "zh"  # the script decides
    assert resolve_language(None, "中文消息") == "zh"


def test_chinese_tokens_and_stopwords():
    toks = tokenize("拍夜景的时候噪点太多了")
    assert "夜景" in toks and "噪点" in toks
    assert "的" not in toks and "了" not in toks
    assert tokenize("拍夜景的时候噪点太多了") == toks  # deterministic


def test_domain_term_stays_one_token():
    # 夜景噪点 is in seeds/text_domain_terms.csv
    assert "夜景噪点" in tokenize("夜景噪点太明显了，怎么解决？", "zh")
    assert "光圈优先模式" not in tokenize("光圈优先模式很好用", "zh")
    add_terms(["光圈优先模式"])
    assert "光圈优先模式" in tokenize("光圈优先模式很好用", "zh")


def test_english_tokens():
    toks = tokenize("The wide-angle lens DOESN'T work, I've tried 3 times!", "en")
    assert toks == ["wide-angle", "lens", "doesn't", "work", "tried", "times"]
    assert tokenize("Two lenses and batteries", "en", normalize_plurals=True) == [
        "two",
        "lens",
        "battery",
    ]


def test_english_domain_phrase_joined():
    # "battery life" is an English multi-word term of the seed
    assert "battery life" in tokenize("My battery life is awful", "en")


def test_segments_keep_stopwords_and_split_at_punctuation():
    runs = segments("最近字幕不同步，烦死了", "zh")
    assert runs[0][-3:] == ["字幕", "不", "同步"]
    assert segments("food sticking to pan. again", "en") == [
        ["food", "sticking", "to", "pan"],
        ["again"],
    ]


def test_phrases_and_join():
    assert phrases(["night", "shot", "noise"]) == ["night shot", "shot noise"]
    assert phrases(["夜景", "噪点"]) == ["夜景噪点"]
    assert join_tokens(["用", "lightroom", "导出"]) == "用 lightroom 导出"
