"""Offline Chinese/English sentiment scoring: rules of short informal text, shape,
determinism, speed, demo.

Each parametrised case is one rule that must hold on the kind of text groups write:
emoticons and emoji, elongated words, slang and shorthand, negation, intensity, and
neutral only without any opinion.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from orchestration.lib.demo.generator import generate
from orchestration.lib.text import sentiment as sm
from orchestration.lib.text.sentiment import NEUTRAL_BAND, label_scores, score_sentiment


def _label(text: str, lang: str) -> str:
    return str(score_sentiment([text], [lang])[1][0])


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        # plain opinions
        ("太棒了，非常满意", "zh", "positive"),
        ("质量很差，太失望了", "zh", "negative"),
        ("This is a wonderful film", "en", "positive"),
        ("terrible, boring and too long", "en", "negative"),
        # emoticons
        ("finally home :)", "en", "positive"),
        ("finally home :(", "en", "negative"),
        ("exam tomorrow :D", "en", "positive"),
        ("my phone died again :'(", "en", "negative"),
        # emoji (Emoji Sentiment Ranking)
        ("new haircut 😍", "en", "positive"),
        ("waiting at the station 😡", "en", "negative"),
        ("收到了😍", "zh", "positive"),
        ("等了一个小时👎", "zh", "negative"),
        ("game night 🥰", "en", "positive"),
        ("stuck in traffic again 🤬", "en", "negative"),
        # elongated words
        ("soooo goooood", "en", "positive"),
        ("this is sooo baaad", "en", "negative"),
        ("yesssss", "en", "positive"),
        # English slang and shorthand
        ("lol that was fun", "en", "positive"),
        ("yay weekend", "en", "positive"),
        ("meh", "en", "negative"),
        ("ugh monday again", "en", "negative"),
        ("smh at this update", "en", "negative"),
        ("fml, missed the bus", "en", "negative"),
        ("the new version sucks", "en", "negative"),
        # Chinese shorthand
        ("好评", "zh", "positive"),
        ("差评", "zh", "negative"),
        ("垃圾", "zh", "negative"),
        ("绝了", "zh", "positive"),
        ("给力", "zh", "positive"),
        ("yyds", "zh", "positive"),
        ("真香", "zh", "positive"),
        ("又被坑了", "zh", "negative"),
        ("踩雷了", "zh", "negative"),
        ("无语", "zh", "negative"),
        ("物流快，好评！", "zh", "positive"),
        ("卡顿严重，还闪退", "zh", "negative"),
        # negation
        ("not bad at all", "en", "positive"),
        ("not good", "en", "negative"),
        ("I'm not happy with it", "en", "negative"),
        ("doesn't work and isn't worth the money", "en", "negative"),
        ("不好", "zh", "negative"),
        ("不太满意", "zh", "negative"),
        ("一点也不失望", "zh", "positive"),
        ("不推荐", "zh", "negative"),
        ("并不失望", "zh", "positive"),
        # boosters written with a negation character are no negation
        ("太棒了，非常满意", "zh", "positive"),
        ("服务特别好", "zh", "positive"),
        # contrast: the clause after "but" weighs more
        ("The plot is thin but the acting is great", "en", "positive"),
        ("The screen is nice but the battery is terrible", "en", "negative"),
        ("Although the plot is thin, the acting is great", "en", "positive"),
        ("The acting is great, though the plot is a mess", "en", "positive"),
        ("The screen is nice. However, the battery is terrible", "en", "negative"),
        # intensity does not flip a sign
        ("GREAT!!!", "en", "positive"),
        ("very very bad", "en", "negative"),
        ("太太太好用了！！！", "zh", "positive"),
    ],
)
def test_rules_of_short_informal_text(text, lang, expected):
    scores, labels = score_sentiment([text], [lang])
    assert labels[0] == expected, (text, scores[0])


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        # politeness and question formulae are no opinion
        ("Thanks in advance.", "en"),
        ("Any pointers appreciated.", "en"),
        ("Quick question: which is better for beginners, A or B?", "en"),
        ("Hi all, how often do you practice?", "en"),
        ("Please add a tutorial about lenses.", "en"),
        ("请问这个怎么设置？", "zh"),
        ("谢谢", "zh"),
        ("先谢过", "zh"),
        # plain statements
        ("The meeting is at 3pm on Tuesday.", "en"),
        ("Day 4 log: scales, chords, arpeggios.", "en"),
        ("下周的线上分享主题是构图和用光。", "zh"),
        ("", "en"),
    ],
)
def test_no_opinion_is_neutral(text, lang):
    scores, labels = score_sentiment([text], [lang])
    assert labels[0] == "neutral", (text, scores[0])
    assert abs(scores[0]) < NEUTRAL_BAND


def test_evidence_commits_out_of_the_band():
    texts = ["good", "bad", "好", "差", "ok :)", "😡"]
    scores, labels = score_sentiment(texts, ["en", "en", "zh", "zh", "en", "en"])
    committed = labels != "neutral"
    assert np.all(np.abs(scores[committed]) >= NEUTRAL_BAND)
    assert list(labels[[0, 1, 3, 4, 5]]) == [
        "positive",
        "negative",
        "negative",
        "positive",
        "negative",
    ]


@pytest.mark.parametrize(
    ("weaker", "stronger"),
    [
        ("good", "very good"),
        ("good", "good!!!"),
        ("this is good", "this is GOOD"),
        ("good", "goooood"),
        ("bad", "extremely bad"),
    ],
)
def test_intensity_raises_the_lexicon_score(weaker, stronger):
    weak = sm._en_analyse(weaker)[1]
    strong = sm._en_analyse(stronger)[1]
    assert abs(strong) > abs(weak) and strong * weak > 0


def test_damping_words_lower_the_lexicon_score():
    assert abs(sm._en_analyse("kinda good")[1]) < abs(sm._en_analyse("good")[1])
    assert abs(sm._zh_lexicon_score("很满意")[0]) > abs(sm._zh_lexicon_score("满意")[0])


def test_vectorised_shape_range_and_missing():
    texts = ["很好", None, "", "great", "一般般吧", "okay I guess"] * 5
    langs = ["zh", "en", None, "en", None, "EN"] * 5
    scores, labels = score_sentiment(texts, langs)
    assert scores.shape == labels.shape == (30,)
    assert np.all((scores >= -1) & (scores <= 1))
    assert scores[1] == scores[2] == 0.0 and labels[1] == "neutral"
    assert set(labels) <= {"positive", "neutral", "negative"}
    # one language for all, and guessing from the script
    s_all, _ = score_sentiment(["great", "awful"], "en")
    s_guess, _ = score_sentiment(["great", "awful"])
    assert np.array_equal(s_all, s_guess)
    with pytest.raises(ValueError):
        score_sentiment(["a", "b"], ["en"])


def test_label_band():
    labels = label_scores(np.array([0.5, NEUTRAL_BAND / 2, -NEUTRAL_BAND / 2, -0.5]))
    assert list(labels) == ["positive", "neutral", "neutral", "negative"]


def test_deterministic():
    texts = ["服务很好但是房间有点小", "The plot is thin but the acting is great 😍"]
    a = score_sentiment(texts, ["zh", "en"])
    b = score_sentiment(texts, ["zh", "en"])
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_data_files_exist_and_are_small():
    files = sm.sentiment_data_files()
    assert all(f.is_file() for f in files)
    assert sum(f.stat().st_size for f in files) < 3_000_000


def test_speed_sanity():
    texts = [
        "这家店的咖啡很好喝，服务也很热情，下次还来",
        "The battery life is poor and it keeps crashing",
    ]
    texts = texts * 1000
    langs = ["zh", "en"] * 1000
    score_sentiment(texts[:2], langs[:2])  # load weights
    t0 = time.perf_counter()
    score_sentiment(texts, langs)
    rate = len(texts) / (time.perf_counter() - t0)
    print(f"sentiment speed: {rate:,.0f} messages/s")
    assert rate > 1_000


def test_demo_planted_sentiment_agreement(tmp_path):
    generate(tmp_path / "raw", tmp_path / "truth", n_users=1500, n_days=40, seed=42)
    contents = pd.read_parquet(tmp_path / "raw" / "contents.parquet")
    truth = pd.read_parquet(tmp_path / "truth" / "content_labels.parquet")
    df = contents.merge(truth[["content_id", "sentiment"]], on="content_id")
    _, labels = score_sentiment(df["body"].tolist(), df["language"].tolist())
    agreement = float((labels == df["sentiment"].to_numpy()).mean())
    print(f"demo planted-sentiment agreement: {agreement:.3f} on {len(df)} messages")
    assert agreement > 0.8


def test_the_character_model_leaves_negated_and_latin_words_to_the_lexicon():
    assert sm._zh_lexicon_read("一点也不失望")[2] == ["不失望"]
    assert sm._zh_lexicon_read("yyds")[2] == ["yyds"]
    assert sm._zh_lexicon_read("非常满意，特别好")[2] == []


@pytest.mark.parametrize(
    ("text", "register"),
    [
        ("LONDON (Reuters) - Oil prices fell on Monday after the storm, traders said.", "report"),
        ("Storm kills 12 in Texas, officials said on Tuesday", "report"),
        ("The company announced record losses of $2 billion", "report"),
        ("Microsoft Unveils New Xbox To Rival Sony, According to analysts", "report"),
        # names, numbers and dates without a reporting verb are also the matter of reviews
        ("The best American movie about troubled teens since 1998's Whatever.", ""),
        # the writer speaks: a post, even with numbers and a reporting verb
        ("I told you the 2 new lenses were awful", "personal"),
        ("ugh, my flight got cancelled!", "personal"),
        ("@anna congrats on the new job", "personal"),
        ("a charming and often affecting journey", ""),
    ],
)
def test_register_of_english_messages(text, register):
    assert sm.en_register(text) == register


@pytest.mark.parametrize(
    "text",
    [
        "Storm kills 12 in Texas, officials said on Tuesday",
        "BAGHDAD (Reuters) - A car bomb killed 20 people near a police station.",
        "Shares of Apple rose 5% to a record high after the company reported strong sales.",
        "Yankees beat Red Sox 10-3 on Sunday, officials said.",
    ],
)
def test_news_reports_are_neutral(text):
    scores, labels = score_sentiment([text], ["en"])
    assert labels[0] == "neutral", (text, scores[0])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a post with sentiment words commits without the opinion model's consent
        ("@mike that storm was scary", "negative"),
        ("you guys are awesome", "positive"),
        ("my sister won the lottery!", "positive"),
        ("we lost again", "negative"),
        # a report with an informal cue is a post after all
        ("Storm kills 12 in Texas, officials said on Tuesday :(", "negative"),
    ],
)
def test_personal_posts_commit(text, expected):
    scores, labels = score_sentiment([text], ["en"])
    assert labels[0] == expected, (text, scores[0])


def test_the_conceded_part_weighs_less():
    # the same clauses; only which one is conceded changes the sign of the lexicon score
    lead_good = sm._en_analyse("although the food was awful, the view was wonderful")
    lead_bad = sm._en_analyse("the food was awful, although the view was wonderful")
    assert lead_good[1] > 0 > lead_bad[1]
    assert lead_good[5] is True and lead_bad[5] is False
