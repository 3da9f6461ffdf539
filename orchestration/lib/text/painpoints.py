"""Recurring pain points (complaints, requests, help questions) of each community.

A pain point is a recurring complaint or request phrase, shared by several authors; a
single frequent word of the domain (``quantum``, ``draw``, ``相机``) is not one.
*Complaint messages* match a need pattern of ``data/need_patterns.txt`` (zh: ``希望`` /
``能不能`` / ``怎么`` / ``无法`` / ``卡顿`` ...; en: "how do I" / "can't" / "doesn't work" /
"error" ...) or score at most `PainPointSettings.negative_threshold`. Candidates are the
phrases of their word runs (`orchestration.lib.text.tokenize.segments`): 2 to
`PainPointSettings.pain_max_words` consecutive words, never starting or ending with a
stop word or a need-pattern word, and single words only when they are complaint words
themselves (`is_complaint_word`: ``卡顿``, "crash", a Chinese compound such as
``夜景噪点`` or a negated predicate such as ``听不懂``). A phrase is kept for a
community when its complaint messages come from at least
`PainPointSettings.pain_min_authors` distinct authors, its *lift* - its rate in the
community's complaints over its rate in the whole corpus (every message of every group
in the window) - reaches `PainPointSettings.pain_min_lift`, so words used everywhere
drop out, and it is more frequent in the community's complaints than in its other
messages (`PainPointSettings.pain_min_group_lift`), so the words of the community's own
subject drop out too; phrases are ranked by ``count_authors x ln(lift)``. Longer phrases
absorb their parts when they cover most of their messages, overlapping phrases are
dropped. Pure pandas, deterministic. The warehouse step counts the same candidates in
DuckDB (`phrase_occurrences` cuts them with array code, `rank_pain_points` is the shared
ranking; see `orchestration.lib.text.snapshots.pain_points_from_warehouse`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from orchestration.lib.text.tokenize import (
    is_cjk_token,
    join_tokens,
    resolve_language,
    segments,
    stopwords,
    tokenize,
)

__all__ = [
    "PainPointSettings",
    "complaint_lexicon",
    "complaint_messages",
    "extract_pain_points",
    "find_need_messages",
    "is_complaint_word",
    "load_need_patterns",
    "phrase_occurrences",
    "rank_pain_points",
    "token_flags",
]


@dataclass(frozen=True)
class PainPointSettings:
    """Settings of the pain-point extraction (the one place their defaults live).

    `orchestration.lib.text.snapshots.TextSettings` extends it with the window and the
    trend, and the launchpad of ``text/community_pain_points`` shows them all.
    """

    top_pain_points: int = 5
    """Pain points kept per group and snapshot."""
    pain_min_messages: int = 3
    """A pain point needs at least this many complaint messages in the window..."""
    pain_min_authors: int = 2
    """...from at least this many distinct authors: one member repeating a phrase is
    not a problem of the group. Each author adds to the ranking (``count_authors x
    ln(lift)``), so phrases of more authors come first."""
    pain_min_lift: float = 2.0
    """Least lift: the phrase's share of the group's complaint messages over its share of
    all messages of the window (every group). A domain word used everywhere has a lift
    near 1; a phrase said mostly when complaining, in this group, well above."""
    pain_min_group_lift: float = 1.0
    """The phrase's share of the group's complaints must exceed this times its share of
    the group's other messages: a word of the group's subject (``热水器`` among water
    heater reviews, ``quantum`` on a quantum site) is as common in its ordinary messages
    and is no complaint, even when it is rare elsewhere."""
    pain_max_words: int = 4
    """Longest phrase in words."""
    pain_absorb_share: float = 0.6
    """A longer phrase replaces a part of it when it occurs in at least this share of
    the part's complaint messages (``电池`` + ``掉电`` + ``快`` -> ``电池掉电快``)."""
    negative_threshold: float = -0.5
    """Messages scoring at most this count as complaints even without a need pattern."""
    n_examples: int = 3
    """Example content ids per phrase (the earliest ids, sorted)."""


_PATTERNS_PATH = Path(__file__).resolve().parent / "data" / "need_patterns.txt"
# A three-character Chinese word with a negation in the middle is a negated predicate:
# 听不懂, 看不清, 用不了, 找不到, 睡不着.
_NEGATORS_INSIDE = frozenset("不没")
_NEGATIONS = frozenset({"不", "没", "没有", "无", "不能", "no", "not", "never", "cannot"})
_OUT_COLS = [
    "community_id",
    "rank",
    "phrase",
    "language",
    "count_messages",
    "count_authors",
    "example_content_ids",
    "share_of_messages",
    "share_of_need_messages",
    "score",
]


@lru_cache(maxsize=4)
def load_need_patterns(path: str | Path | None = None) -> dict[str, tuple[str, ...]]:
    """Read need patterns (``language<TAB>pattern[<TAB>keep]`` lines).

    Parameters
    ----------
    path : str or Path, optional
        Pattern file; defaults to the packaged ``data/need_patterns.txt``.

    Returns
    -------
    dict of str to tuple of str
        Patterns per language (``"zh"``, ``"en"``), lowercased.
    """
    path = Path(path) if path is not None else _PATTERNS_PATH
    return {k: tuple(p for p, _, _ in v) for k, v in _read_patterns(path).items()}


@lru_cache(maxsize=4)
def _read_patterns(path: Path) -> dict[str, list[tuple[str, bool, bool]]]:
    """Patterns per language with their ``keep`` and ``problem`` flags (``problem``
    implies ``keep``)."""
    out: dict[str, list[tuple[str, bool, bool]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [x.strip() for x in line.split("\t")]
        if len(parts) >= 2 and parts[1]:
            flag = parts[2].lower() if len(parts) >= 3 else ""
            keep = flag in ("keep", "problem")
            out.setdefault(parts[0], []).append((parts[1].lower(), keep, flag == "problem"))
    return out


@lru_cache(maxsize=4)
def _compiled(path: str | Path | None = None) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Compiled zh (substring) and en (word-bounded) need-pattern regexes."""
    pats = load_need_patterns(path)
    zh = sorted(pats.get("zh", ()), key=len, reverse=True)
    en = sorted(pats.get("en", ()), key=len, reverse=True)
    zh_re = re.compile("|".join(re.escape(p) for p in zh) or r"(?!)")
    en_re = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in en) + r")\b" if en else r"(?!)")
    return zh_re, en_re


@lru_cache(maxsize=4)
def _need_words(path: str | Path | None = None) -> frozenset[str]:
    """Tokens of the need patterns not marked ``keep``: never a phrase's first/last word."""
    pats = _read_patterns(Path(path) if path is not None else _PATTERNS_PATH)
    words: set[str] = set()
    for lang, items in pats.items():
        for p, keep, _ in items:
            if keep:
                continue
            words.update(tokenize(p, lang))
            words.update(w for run in segments(p, lang) for w in run)
    return frozenset(words)


def find_need_messages(
    bodies: pd.Series | list[str | None],
    languages: pd.Series | list[str | None] | None = None,
    *,
    patterns_path: str | Path | None = None,
) -> np.ndarray:
    """Flag messages that contain a need pattern.

    Parameters
    ----------
    bodies : Series or list of str
        Message texts.
    languages : Series or list of str, optional
        Declared languages (detected when missing). Chinese messages are checked
        against the zh patterns, all others against the en patterns.
    patterns_path : str or Path, optional
        Alternative pattern file.

    Returns
    -------
    ndarray of bool
        True where a pattern matches.
    """
    zh_re, en_re = _compiled(patterns_path)
    bodies = list(bodies)
    langs = list(languages) if languages is not None else [None] * len(bodies)
    out = np.zeros(len(bodies), dtype=bool)
    for i, (body, lang) in enumerate(zip(bodies, langs, strict=True)):
        if not isinstance(body, str) or not body:
            continue
        # An already resolved code is trusted (no second language detection).
        is_zh = lang.lower().startswith("zh") if lang else resolve_language(None, body) == "zh"
        if is_zh:
            out[i] = bool(zh_re.search(body))
        else:
            out[i] = bool(en_re.search(body.lower().replace("\u2019", "'")))
    return out


@lru_cache(maxsize=4)
def _banned_words(patterns_path: str | Path | None = None) -> frozenset[str]:
    """Words no phrase ends with (nor starts with, unless a negation): the need-pattern
    words and the stop words."""
    return _need_words(patterns_path) | stopwords("zh") | stopwords("en")


def token_flags(
    tokens: list[str], *, patterns_path: str | Path | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each token may stand in a candidate phrase (the rules of `_run_candidates`).

    Parameters
    ----------
    tokens : list of str
        A vocabulary (the distinct tokens of some word runs).
    patterns_path : str or Path, optional
        Alternative need-pattern file.

    Returns
    -------
    tuple of ndarray of bool
        ``(may_start, may_end, may_stand_alone)``, aligned with `tokens`: whether it
        may be the first word of a phrase, the last word of a phrase of two or more
        words, and a phrase of one word.
    """
    banned = _banned_words(patterns_path)
    singles = complaint_lexicon(patterns_path)
    may_start = np.fromiter(
        (t not in banned or t in _NEGATIONS for t in tokens), dtype=bool, count=len(tokens)
    )
    may_end = np.fromiter(
        (t not in banned or _is_negated_predicate(t) for t in tokens),
        dtype=bool,
        count=len(tokens),
    )
    alone = np.fromiter(
        (t not in banned and is_complaint_word(t, singles) for t in tokens),
        dtype=bool,
        count=len(tokens),
    )
    return may_start, may_end, alone


def phrase_occurrences(
    run_ids: np.ndarray,
    token_ids: np.ndarray,
    flags: tuple[np.ndarray, np.ndarray, np.ndarray],
    max_n: int,
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray] | None]:
    """Every candidate phrase occurrence of a set of word runs, vectorised.

    The same phrases as `_run_candidates` (a phrase of 2 to `max_n` consecutive words
    of one run, or one word that may stand alone; see `token_flags`), each named by an
    integer id: the token ids as the digits of a number in base ``n_tokens + 1``
    (digits 1 to ``n_tokens``, so phrases of different lengths never share an id), or,
    when such numbers would not fit in 63 bits, dense ids per length.

    Parameters
    ----------
    run_ids : ndarray of int
        One entry per token position: the run it belongs to. The positions of a run are
        contiguous and in reading order.
    token_ids : ndarray of int
        The token at each position, an index into the arrays of `flags`.
    flags : tuple of ndarray of bool
        `token_flags` of the vocabulary.
    max_n : int
        Longest phrase in words.

    Returns
    -------
    positions : ndarray of int64
        The position of each occurrence's first word.
    phrase_ids : ndarray of int64
        Each occurrence's phrase id, the same for the same token sequence.
    levels : list of ndarray of int64, or None
        None for base-``n_tokens + 1`` ids; else the decoding table of the dense ids:
        ``levels[n - 1]`` holds ``prefix_id * n_tokens + last_token`` of each phrase of
        ``n`` words. See `decode_phrase`.
    """
    may_start, may_end, alone = flags
    n_tokens = max(len(may_start), 1)
    packed = (n_tokens + 1) ** max_n < 2**62
    tok = np.asarray(token_ids, dtype=np.int64)
    run = np.asarray(run_ids, dtype=np.int64)
    size = len(tok)
    positions: list[np.ndarray] = []
    ids: list[np.ndarray] = []
    levels: list[np.ndarray] = [np.arange(n_tokens, dtype=np.int64)]
    offset = n_tokens
    # Phrases of one word.
    one = np.flatnonzero(may_start[tok] & alone[tok])
    positions.append(one)
    ids.append(tok[one] + 1 if packed else tok[one])
    idx = np.arange(size, dtype=np.int64)
    prefix = tok + 1 if packed else tok
    for n in range(2, max_n + 1):
        # Positions whose n-word phrase stays inside their run.
        keep = idx + n - 1 < size
        idx = idx[keep]
        prefix = prefix[keep]
        same = run[idx + n - 1] == run[idx]
        idx = idx[same]
        prefix = prefix[same]
        last = tok[idx + n - 1]
        if packed:
            prefix = prefix * (n_tokens + 1) + last + 1
            gram = prefix
        else:
            table, inverse = np.unique(prefix * n_tokens + last, return_inverse=True)
            levels.append(table)
            prefix = inverse.astype(np.int64).reshape(-1)
            gram = prefix + offset
            offset += len(table)
        ok = np.flatnonzero(may_start[tok[idx]] & may_end[last])
        positions.append(idx[ok])
        ids.append(gram[ok])
    return np.concatenate(positions), np.concatenate(ids), None if packed else levels


def decode_phrase(
    phrase_id: int, n_tokens: int, levels: list[np.ndarray] | None = None
) -> tuple[int, ...]:
    """The token ids of a phrase id of `phrase_occurrences`.

    Parameters
    ----------
    phrase_id : int
        The id.
    n_tokens : int
        Size of the vocabulary (``len(flags[0])``).
    levels : list of ndarray, optional
        The decoding table `phrase_occurrences` returned (None: base-``n_tokens + 1``
        ids).

    Returns
    -------
    tuple of int
    """
    n_tokens = max(n_tokens, 1)
    out: list[int] = []
    if levels is None:
        rest = int(phrase_id)
        while rest:
            rest, digit = divmod(rest, n_tokens + 1)
            out.append(digit - 1)
        return tuple(reversed(out))
    n, local = 1, int(phrase_id)
    while n < len(levels) and local >= len(levels[n - 1]):
        local -= len(levels[n - 1])
        n += 1
    while n > 1:
        code = int(levels[n - 1][local])
        out.append(code % n_tokens)
        local = code // n_tokens
        n -= 1
    out.append(local)
    return tuple(reversed(out))


def _candidates(
    body: str, lang: str, max_n: int, banned: frozenset[str], singles: frozenset[str]
) -> frozenset[tuple]:
    """Candidate phrases (token tuples) of one message (see `_run_candidates`)."""
    return _run_candidates(tuple(tuple(r) for r in segments(body, lang)), max_n, banned, singles)


@lru_cache(maxsize=1 << 18)
def _run_candidates(
    runs: tuple[tuple[str, ...], ...],
    max_n: int,
    banned: frozenset[str],
    singles: frozenset[str],
) -> frozenset[tuple]:
    """Candidate phrases (token tuples) of one message's word runs.

    Phrases of 2 to `max_n` words, and single words only when `is_complaint_word`
    says so (`singles` is the lexicon it reads). No phrase ends with a banned word;
    none starts with one unless it is a negation (``没有自行车道``, "no signal").
    Cached: a message is looked at by every weekly snapshot whose window holds it.
    """
    out: set[tuple] = set()
    for run in runs:
        for i, first in enumerate(run):
            if first in banned and first not in _NEGATIONS:
                continue
            for n in range(1, max_n + 1):
                gram = tuple(run[i : i + n])
                if len(gram) < n:
                    break
                if gram[-1] in banned and not (n > 1 and _is_negated_predicate(gram[-1])):
                    continue
                if n == 1 and not is_complaint_word(first, singles):
                    continue
                out.add(gram)
    return frozenset(out)


def _is_negated_predicate(token: str) -> bool:
    """A Chinese word that negates (``不会``, ``不了``, ``没有``): it may end a phrase
    (``证明题不会``, ``网络没有``) although it is a stop word."""
    return len(token) >= 2 and token[0] in "不没无" and is_cjk_token(token)


def is_complaint_word(token: str, lexicon: frozenset[str] | None = None) -> bool:
    """Whether one token may be a pain point on its own.

    A single frequent word of a domain (``quantum``, ``draw``, ``相机``) names what people
    talk about, not what goes wrong. A token may stand alone when it is in the
    complaint lexicon (`complaint_lexicon`: ``卡顿``, "crash"), when it is a phrase kept
    whole (an English multi-word domain term such as ``battery life``, a Chinese token
    of four or more characters such as ``夜景噪点``: two words the domain dictionary or
    jieba keep together), or a three-character Chinese word with a negation inside
    (``听不懂``, ``用不了``: a negated predicate). Other Chinese words of two or three
    characters are mostly plain nouns (``相机``, ``热水器``, ``洗发水``) and, like
    English words outside the lexicon, need a second word.

    Parameters
    ----------
    token : str
        One token of `orchestration.lib.text.tokenize.segments`.
    lexicon : frozenset of str, optional
        Defaults to `complaint_lexicon()`.

    Returns
    -------
    bool
    """
    lexicon = complaint_lexicon() if lexicon is None else lexicon
    if token in lexicon or " " in token:
        return True
    if is_cjk_token(token):
        return len(token) >= 4 or (len(token) == 3 and token[1] in _NEGATORS_INSIDE)
    return False


@lru_cache(maxsize=4)
def complaint_lexicon(patterns_path: str | Path | None = None) -> frozenset[str]:
    """Single words that name a problem: the need patterns marked ``problem``.

    ``卡顿``, ``闪退``, ``报错``, "crash", "error", "bug" ... Complaint predicates
    (``不好用``, ``无法``, "can't", "broken") end phrases but say nothing alone, and
    words that only say how the writer feels (``垃圾``, ``烦死``, "annoying") are
    sentiment, not a problem one could fix: neither is in it.

    Parameters
    ----------
    patterns_path : str or Path, optional
        Alternative need-pattern file.

    Returns
    -------
    frozenset of str
    """
    pats = _read_patterns(Path(patterns_path) if patterns_path is not None else _PATTERNS_PATH)
    return frozenset(
        p for items in pats.values() for p, _, problem in items if problem and " " not in p
    )


def _contains(big: tuple, small: tuple) -> bool:
    """Whether token tuple `small` is a contiguous part of `big`."""
    n = len(small)
    return any(big[i : i + n] == small for i in range(len(big) - n + 1))


def _select(cand: list[dict], top_n: int, absorb: float, stop: frozenset[str]) -> list[dict]:
    """Absorb sub-phrases into longer ones and greedily pick non-overlapping phrases.

    `cand` holds one community's candidates (``gram, key, score, count_messages``...)
    in their (community, gram) order; ties of score, count and phrase keep it.
    """
    rows = sorted(cand, key=lambda r: (-r["score"], -r["count_messages"], r["key"]))
    counts = {r["gram"]: r["count_messages"] for r in rows}
    absorbed: set[tuple] = set()
    for r in rows:
        g = r["gram"]
        if len(g) < 2:
            continue
        for n in range(1, len(g)):
            for i in range(len(g) - n + 1):
                sub = g[i : i + n]
                if sub in counts and counts[g] >= absorb * counts[sub]:
                    absorbed.add(sub)
    picked: list[dict] = []
    picked_words: set[str] = set()
    picked_phrases: set[str] = set()
    for row in rows:
        g = row["gram"]
        if g in absorbed:
            continue
        words = {w for w in g if w not in stop}
        # Two segmentations of the same text (("烂根",) and ("烂", "根")) share no word
        # but read as one phrase: only the better-scored one is a pain point.
        if words & picked_words or row["key"] in picked_phrases:
            continue
        picked.append(row)
        picked_words |= words
        picked_phrases.add(row["key"])
        if len(picked) >= top_n:
            break
    return picked


def extract_pain_points(
    messages: pd.DataFrame,
    settings: PainPointSettings | None = None,
    *,
    patterns_path: str | Path | None = None,
    with_content_ids: bool = False,
) -> pd.DataFrame:
    """Extract each community's recurring pain-point phrases.

    Parameters
    ----------
    messages : DataFrame
        ``community_id, content_id, author_user_id, body, language`` and optionally
        ``sentiment_score`` (in [-1, 1]; negative = unhappy) and ``segments`` (the
        message's word runs from `orchestration.lib.text.tokenize.segments`, stop
        words kept so phrases such as ``字幕不同步`` survive; rebuilt from ``body``
        when absent) and ``is_need_message`` (the stored need-pattern flag, used
        instead of matching the patterns again unless `patterns_path` is given).
        Every row is part of the corpus the lift compares with; rows with a null
        ``community_id`` only serve as that background.
    settings : PainPointSettings, optional
        Thresholds and sizes; defaults to `PainPointSettings()`.
    patterns_path : str or Path, optional
        Alternative need-pattern file.
    with_content_ids : bool, default False
        Add a ``content_ids`` column: every complaint message counted for the phrase
        (sorted), e.g. to follow its trend or average its sentiment.

    Returns
    -------
    DataFrame
        ``[community_id, rank, phrase, language, count_messages, count_authors,
        example_content_ids, share_of_messages, share_of_need_messages, score]``
        (plus ``content_ids`` when asked); ``count_*`` over the community's complaint
        messages containing the phrase, ``share_of_messages`` = ``count_messages`` /
        all messages of the community, ``score`` = ``count_authors`` x ln(lift).
    """
    s = settings or PainPointSettings()
    m = messages.reset_index(drop=True)
    out_cols = _OUT_COLS + (["content_ids"] if with_content_ids else [])
    if m.empty:
        return pd.DataFrame(columns=out_cols)
    # Languages are needed only to match the patterns or to cut the bodies into word runs.
    needs_langs = (
        patterns_path is not None
        or "is_need_message" not in m.columns
        or "segments" not in m.columns
    )
    langs = (
        [resolve_language(lang, b) for lang, b in zip(m["language"], m["body"], strict=True)]
        if needs_langs
        else None
    )
    need = complaint_messages(m, s.negative_threshold, langs=langs, patterns_path=patterns_path)
    comm = m["community_id"].astype(object).where(m["community_id"].notna(), "__none__")
    banned = _banned_words(patterns_path)
    singles = complaint_lexicon(patterns_path)
    max_n = s.pain_max_words
    if "segments" in m.columns:
        grams = [
            _run_candidates(tuple(map(tuple, runs)), max_n, banned, singles)
            if runs is not None
            else frozenset()
            for runs in m["segments"]
        ]
    else:
        grams = [
            _candidates(b, lang, max_n, banned, singles) if isinstance(b, str) else frozenset()
            for b, lang in zip(m["body"], langs, strict=True)
        ]
    in_group = comm.to_numpy() != "__none__"
    complaint_grams = {g for i, gs in enumerate(grams) if need[i] and in_group[i] for g in gs}
    if not complaint_grams:
        return pd.DataFrame(columns=out_cols)
    # Corpus frequency: messages of the whole frame (every group, complaint or not)
    # holding the phrase, counted once per message.
    first = ~m["content_id"].duplicated().to_numpy()
    corpus_counts: dict[tuple, int] = {}
    # And the group's other (not complaint) messages holding it.
    other_counts: dict[tuple[str, tuple], int] = {}
    comm_ids = comm.to_numpy()
    for i, gs in enumerate(grams):
        hits = gs & complaint_grams
        if first[i]:
            for g in hits:
                corpus_counts[g] = corpus_counts.get(g, 0) + 1
        if in_group[i] and not need[i]:
            for g in hits:
                key = (comm_ids[i], g)
                other_counts[key] = other_counts.get(key, 0) + 1
    n_corpus = int(first.sum())
    rows_idx = [i for i in range(len(m)) if need[i] and in_group[i]]
    lengths = np.fromiter((len(grams[i]) for i in rows_idx), dtype=np.int64, count=len(rows_idx))
    nx = pd.DataFrame(
        {
            "row": np.repeat(np.asarray(rows_idx, dtype=np.int64), lengths),
            "gram": [g for i in rows_idx for g in sorted(grams[i])],
        }
    )
    nx["community_id"] = comm.to_numpy()[nx["row"]]
    nx["author"] = m["author_user_id"].to_numpy()[nx["row"]]
    nx["content_id"] = m["content_id"].to_numpy()[nx["row"]]
    keys = ["community_id", "gram"]
    agg = (
        nx.groupby(keys, sort=True)
        .agg(count_messages=("row", "size"), count_authors=("author", "nunique"))
        .reset_index()
    )
    agg = agg[
        (agg["count_messages"] >= s.pain_min_messages)
        & (agg["count_authors"] >= s.pain_min_authors)
    ].reset_index(drop=True)
    if agg.empty:
        return pd.DataFrame(columns=out_cols)
    agg["count_corpus"] = np.fromiter(
        (corpus_counts[g] for g in agg["gram"]), dtype=np.int64, count=len(agg)
    )
    agg["count_other"] = np.fromiter(
        (
            other_counts.get((c, g), 0)
            for c, g in zip(agg["community_id"], agg["gram"], strict=True)
        ),
        dtype=np.int64,
        count=len(agg),
    )

    def content_ids(kept_keys: pd.DataFrame) -> list[list]:
        # Message ids only for the phrases with enough support (most candidates have not).
        kept = nx.merge(kept_keys, on=keys).sort_values(keys + ["content_id"], kind="mergesort")
        ids = kept.groupby(keys, sort=True)["content_id"].agg(list)
        return ids.reindex(pd.MultiIndex.from_frame(kept_keys)).to_list()

    return rank_pain_points(
        agg,
        comm.value_counts(),
        comm[need].value_counts(),
        n_corpus,
        s,
        content_ids,
        with_content_ids=with_content_ids,
    )


def rank_pain_points(
    candidates: pd.DataFrame,
    n_all: pd.Series,
    n_need: pd.Series,
    n_corpus: int,
    settings: PainPointSettings,
    content_ids: Callable[[pd.DataFrame], list[list]],
    *,
    with_content_ids: bool = False,
) -> pd.DataFrame:
    """Score the counted candidate phrases and pick each community's pain points.

    The part of `extract_pain_points` after the counting, shared with the warehouse
    path (`orchestration.lib.text.snapshots.pain_points_from_warehouse`), which counts
    in DuckDB: both give the same rows for the same counts.

    Parameters
    ----------
    candidates : DataFrame
        One row per (community, phrase) with enough support (``count_messages >=
        pain_min_messages``, ``count_authors >= pain_min_authors``), sorted by
        ``community_id`` then ``gram``: ``community_id``, ``gram`` (token tuple),
        ``count_messages`` and ``count_authors`` (the community's complaint messages
        holding the phrase and their distinct authors), ``count_corpus`` (messages of
        the whole corpus holding it) and ``count_other`` (the community's other,
        not complaint, messages holding it).
    n_all, n_need : Series
        Messages and complaint messages per community id (int).
    n_corpus : int
        Distinct messages of the corpus.
    settings : PainPointSettings
        Thresholds and sizes.
    content_ids : callable
        Given a frame of kept ``community_id, gram`` rows, returns for each row the
        content ids of its complaint messages holding the phrase, sorted.
    with_content_ids : bool, default False
        Add the ``content_ids`` column.

    Returns
    -------
    DataFrame
        As `extract_pain_points`.
    """
    s = settings
    out_cols = _OUT_COLS + (["content_ids"] if with_content_ids else [])
    keys = ["community_id", "gram"]
    agg = candidates.reset_index(drop=True)
    if agg.empty:
        return pd.DataFrame(columns=out_cols)
    rate_in_complaints = agg["count_messages"].to_numpy() / n_need.reindex(
        agg["community_id"]
    ).to_numpy(dtype=float)
    rate_in_corpus = agg["count_corpus"].to_numpy(dtype=float) / max(n_corpus, 1)
    n_other = (n_all - n_need.reindex(n_all.index).fillna(0)).reindex(agg["community_id"])
    rate_in_others = agg["count_other"].to_numpy(dtype=float) / np.maximum(
        n_other.to_numpy(dtype=float), 1
    )
    agg["lift"] = rate_in_complaints / rate_in_corpus
    agg = agg[
        (agg["lift"] >= s.pain_min_lift)
        & (rate_in_complaints > s.pain_min_group_lift * rate_in_others)
    ].reset_index(drop=True)
    if agg.empty:
        return pd.DataFrame(columns=out_cols)
    agg["score"] = agg["count_authors"].to_numpy() * np.log(agg["lift"].to_numpy())
    agg["content_ids"] = content_ids(agg[keys])
    agg["examples"] = [ids[: s.n_examples] for ids in agg["content_ids"]]
    agg["key"] = [join_tokens(g) for g in agg["gram"]]
    stop = stopwords("zh") | stopwords("en")
    # Plain lists from here: a few thousand small groups, where pandas costs per call.
    cols = ["community_id", "gram", "key", "score", "count_messages", "count_authors"]
    cols += ["examples", "content_ids"]
    by_community: dict[object, list[dict]] = {}
    for values in zip(*(agg[c].tolist() for c in cols), strict=True):
        rec = dict(zip(cols, values, strict=True))
        by_community.setdefault(rec["community_id"], []).append(rec)
    rows = []
    for cid in sorted(by_community):
        picked = _select(by_community[cid], s.top_pain_points, s.pain_absorb_share, stop)
        for rank, row in enumerate(picked, start=1):
            rows.append(
                {
                    "community_id": cid,
                    "rank": rank,
                    "phrase": row["key"],
                    "language": "zh" if any(is_cjk_token(w) for w in row["gram"]) else "en",
                    "count_messages": int(row["count_messages"]),
                    "count_authors": int(row["count_authors"]),
                    "example_content_ids": list(row["examples"]),
                    "share_of_messages": row["count_messages"] / n_all[cid],
                    "share_of_need_messages": row["count_messages"] / n_need[cid],
                    "score": float(row["score"]),
                    "content_ids": list(row["content_ids"]),
                }
            )
    return pd.DataFrame(rows, columns=out_cols)


def complaint_messages(
    messages: pd.DataFrame,
    negative_threshold: float | None,
    *,
    langs: list[str] | None = None,
    patterns_path: str | Path | None = None,
) -> np.ndarray:
    """Flag the complaint messages: a need pattern, or a clearly negative score.

    Parameters
    ----------
    messages : DataFrame
        ``body``, ``language`` and optionally ``is_need_message`` (the stored flag,
        used unless `patterns_path` is given) and ``sentiment_score``.
    negative_threshold : float or None
        Messages scoring at most this are complaints too (None: patterns only).
    langs : list of str, optional
        Resolved languages of the rows (resolved here when missing).
    patterns_path : str or Path, optional
        Alternative need-pattern file.

    Returns
    -------
    ndarray of bool
    """
    if "is_need_message" in messages.columns and patterns_path is None:
        need = messages["is_need_message"].fillna(False).to_numpy(dtype=bool, copy=True)
    else:
        if langs is None:
            langs = [
                resolve_language(lang, b)
                for lang, b in zip(messages["language"], messages["body"], strict=True)
            ]
        need = find_need_messages(messages["body"], langs, patterns_path=patterns_path)
    if negative_threshold is not None and "sentiment_score" in messages.columns:
        score = pd.to_numeric(messages["sentiment_score"], errors="coerce").to_numpy(dtype=float)
        need |= np.nan_to_num(score, nan=np.inf) <= negative_threshold
    return need
