"""Recurring pain points (complaints, requests, help questions) of each community.

A message is a *need message* when it matches a need pattern from
``data/need_patterns.txt`` (zh: ``希望`` / ``能不能`` / ``怎么`` / ``不好用`` / ``求助`` /
``老是`` ...; en: "I wish" / "please add" / "doesn't work" / "how do I" / "can't" /
"keeps" ...) or, when a sentiment score is given, is clearly negative. Candidate
phrases are the contiguous n-grams (1-4 words) of each message's word runs
(`orchestration.lib.text.tokenize.segments`), never starting or ending with a stop
word or a need-pattern word. Each candidate is scored by class-based TF-IDF where the
classes are every community's need messages and every community's other messages:
a phrase frequent in one community's complaints, rare in its ordinary chatter and
rare in other communities' complaints (``教程``, "guide") scores high. Longer
n-grams absorb their sub-phrases when they cover most of their occurrences
(``电池`` + ``掉电`` + ``快`` -> ``电池掉电快``), overlapping phrases are dropped, and
minimum support (messages and distinct authors) keeps one-off rants out. The output
has counts, shares and example message ids per phrase. Pure pandas, deterministic.
"""

from __future__ import annotations

import re
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

__all__ = ["extract_pain_points", "find_need_messages", "load_need_patterns"]

_PATTERNS_PATH = Path(__file__).resolve().parent / "data" / "need_patterns.txt"
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
    return {k: tuple(p for p, _ in v) for k, v in _read_patterns(path).items()}


@lru_cache(maxsize=4)
def _read_patterns(path: Path) -> dict[str, list[tuple[str, bool]]]:
    """Patterns per language with their ``keep`` flag."""
    out: dict[str, list[tuple[str, bool]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [x.strip() for x in line.split("\t")]
        if len(parts) >= 2 and parts[1]:
            keep = len(parts) >= 3 and parts[2].lower() == "keep"
            out.setdefault(parts[0], []).append((parts[1].lower(), keep))
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
        for p, keep in items:
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


def _candidates(body: str, lang: str, max_n: int, banned: frozenset[str]) -> frozenset[tuple]:
    """Candidate phrases (token tuples) of one message (see `_run_candidates`)."""
    return _run_candidates(tuple(tuple(r) for r in segments(body, lang)), max_n, banned)


@lru_cache(maxsize=1 << 18)
def _run_candidates(
    runs: tuple[tuple[str, ...], ...], max_n: int, banned: frozenset[str]
) -> frozenset[tuple]:
    """Candidate phrases (token tuples) of one message's word runs.

    No phrase ends with a banned word; none starts with one unless it is a negation
    (``没有自行车道``, "no signal"). Cached: a message is looked at by every weekly
    snapshot whose window holds it.
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
                last = gram[-1]
                if last in banned:
                    continue
                if n == 1 and is_cjk_token(first) and len(first) < 2:
                    continue
                out.add(gram)
    return frozenset(out)


def _contains(big: tuple, small: tuple) -> bool:
    """Whether token tuple `small` is a contiguous part of `big`."""
    n = len(small)
    return any(big[i : i + n] == small for i in range(len(big) - n + 1))


def _select(cand: pd.DataFrame, top_n: int, absorb: float, stop: frozenset[str]) -> list[dict]:
    """Absorb sub-phrases into longer ones and greedily pick non-overlapping phrases."""
    rows = cand.sort_values(["score", "key"], ascending=[False, True], kind="mergesort")
    grams = list(rows["gram"])
    counts = dict(zip(rows["gram"], rows["count_messages"], strict=True))
    absorbed: set[tuple] = set()
    for g in grams:
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
    for row in rows.to_dict("records"):
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
    *,
    top_n: int = 5,
    min_messages: int = 3,
    min_authors: int = 2,
    max_n: int = 4,
    absorb: float = 0.6,
    negative_threshold: float | None = -0.5,
    n_examples: int = 3,
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
        Rows with a null ``community_id`` only serve as background.
    top_n : int, default 5
        Phrases kept per community.
    min_messages : int, default 3
        Minimum need messages containing a phrase.
    min_authors : int, default 2
        Minimum distinct authors of those messages.
    max_n : int, default 4
        Longest phrase in words.
    absorb : float, default 0.6
        A longer phrase replaces a sub-phrase when it occurs in at least this share
        of the sub-phrase's need messages.
    negative_threshold : float or None, default -0.5
        Messages with ``sentiment_score <= negative_threshold`` count as need messages
        too (ignored when None or when the column is absent).
    n_examples : int, default 3
        Example content ids per phrase (the earliest ids, sorted).
    patterns_path : str or Path, optional
        Alternative need-pattern file.
    with_content_ids : bool, default False
        Add a ``content_ids`` column: every need message counted for the phrase
        (sorted), e.g. to follow its trend or average its sentiment.

    Returns
    -------
    DataFrame
        ``[community_id, rank, phrase, language, count_messages, count_authors,
        example_content_ids, share_of_messages, share_of_need_messages, score]``
        (plus ``content_ids`` when asked);
        ``count_*`` over the community's need messages containing the phrase,
        ``share_of_messages`` = ``count_messages`` / all messages of the community.
    """
    m = messages.reset_index(drop=True)
    out_cols = _OUT_COLS + (["content_ids"] if with_content_ids else [])
    if m.empty:
        return pd.DataFrame(columns=out_cols)
    langs = [resolve_language(lang, b) for lang, b in zip(m["language"], m["body"], strict=True)]
    if "is_need_message" in m.columns and patterns_path is None:
        need = m["is_need_message"].fillna(False).to_numpy(dtype=bool, copy=True)
    else:
        need = find_need_messages(m["body"], langs, patterns_path=patterns_path)
    if negative_threshold is not None and "sentiment_score" in m.columns:
        score = pd.to_numeric(m["sentiment_score"], errors="coerce").to_numpy(dtype=float)
        need |= np.nan_to_num(score, nan=np.inf) <= negative_threshold
    comm = m["community_id"].astype(object).where(m["community_id"].notna(), "__none__")
    banned = _need_words(patterns_path) | stopwords("zh") | stopwords("en")
    if "segments" in m.columns:
        grams = [
            _run_candidates(tuple(map(tuple, runs)), max_n, banned)
            if runs is not None
            else frozenset()
            for runs in m["segments"]
        ]
    else:
        grams = [
            _candidates(b, lang, max_n, banned) if isinstance(b, str) else frozenset()
            for b, lang in zip(m["body"], langs, strict=True)
        ]
    need_grams = {g for i, gs in enumerate(grams) if need[i] for g in gs}
    lengths = np.fromiter(
        (len(gs & need_grams) if not need[i] else len(gs) for i, gs in enumerate(grams)),
        dtype=np.int64,
        count=len(grams),
    )
    ex = pd.DataFrame(
        {
            "row": np.repeat(np.arange(len(m)), lengths),
            "gram": [
                g for i, gs in enumerate(grams) for g in sorted(gs if need[i] else gs & need_grams)
            ],
        }
    )
    if ex.empty:
        return pd.DataFrame(columns=out_cols)
    ex["cls"] = comm.to_numpy()[ex["row"]] + np.where(need[ex["row"]], "|need", "|other")
    class_total = ex.groupby("cls").size()
    avg_class = float(class_total.mean())
    term_total = ex.groupby("gram").size()
    nx = ex[need[ex["row"]] & (comm.to_numpy()[ex["row"]] != "__none__")].copy()
    if nx.empty:
        return pd.DataFrame(columns=out_cols)
    nx["community_id"] = comm.to_numpy()[nx["row"]]
    nx["author"] = m["author_user_id"].to_numpy()[nx["row"]]
    nx["content_id"] = m["content_id"].to_numpy()[nx["row"]]
    keys = ["community_id", "gram", "cls"]
    agg = (
        nx.groupby(keys, sort=True)
        .agg(count_messages=("row", "size"), count_authors=("author", "nunique"))
        .reset_index()
    )
    agg = agg[(agg["count_messages"] >= min_messages) & (agg["count_authors"] >= min_authors)]
    if agg.empty:
        return pd.DataFrame(columns=out_cols)
    # Message ids only for the phrases with enough support (most candidates have not).
    kept = nx.merge(agg[keys], on=keys).sort_values(keys[:2] + ["content_id"], kind="mergesort")
    ids = kept.groupby(keys, sort=True)["content_id"].agg(list)
    agg = agg.reset_index(drop=True)
    agg["content_ids"] = ids.reindex(pd.MultiIndex.from_frame(agg[keys])).to_list()
    agg["examples"] = [ids[:n_examples] for ids in agg["content_ids"]]
    agg["score"] = (
        agg["count_messages"].to_numpy() / class_total.reindex(agg["cls"]).to_numpy()
    ) * np.log1p(avg_class / term_total.reindex(agg["gram"]).to_numpy())
    agg["key"] = [join_tokens(g) for g in agg["gram"]]
    n_all = comm.value_counts()
    n_need = comm[need].value_counts()
    stop = stopwords("zh") | stopwords("en")
    rows = []
    for cid, cand in agg.groupby("community_id", sort=True):
        for rank, row in enumerate(_select(cand, top_n, absorb, stop), start=1):
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
