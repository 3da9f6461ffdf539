"""Offline Chinese/English sentiment scoring: examples, shape, determinism, speed, demo."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from orchestration.lib.demo.generator import generate
from orchestration.lib.text.sentiment import NEUTRAL_BAND, label_scores, score_sentiment


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("太棒了，非常满意", "zh", "positive"),
        ("质量很差，太失望了", "zh", "negative"),
        ("This is a wonderful film", "en", "positive"),
        ("terrible, boring and too long", "en", "negative"),
    ],
)
def test_obvious_examples(text, lang, expected):
    scores, labels = score_sentiment([text], [lang])
    assert labels[0] == expected, (text, scores[0])


def test_negation_not_negative():
    scores, labels = score_sentiment(["not bad at all"], ["en"])
    assert labels[0] != "negative", scores[0]


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
    texts = ["服务很好但是房间有点小", "The plot is thin but the acting is great"]
    a = score_sentiment(texts, ["zh", "en"])
    b = score_sentiment(texts, ["zh", "en"])
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


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
    assert agreement > 0.7
