"""Enrich messages one by one: language, tokens, sentiment and the need-pattern flag.

`enrich_contents` is what the ``text/contents_enriched`` asset runs on every message it
has not seen before; `enrichment_fingerprint` names everything its result depends on
(the code version, the domain dictionary, stop words, need patterns and sentiment
weights), so a changed dictionary or model triggers a recomputation of all messages
instead of mixing old and new results. Pure and deterministic.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from orchestration.lib.text.clean import clean_text
from orchestration.lib.text.painpoints import find_need_messages
from orchestration.lib.text.sentiment import score_sentiment, sentiment_data_files
from orchestration.lib.text.tokenize import (
    DEFAULT_DOMAIN_TERMS,
    is_cjk_token,
    resolve_language,
    tokens_and_segments,
)
from orchestration.lib.text.topics import document_terms

__all__ = [
    "ENRICHED_COLUMNS",
    "ENRICHMENT_VERSION",
    "TERM_COLUMNS",
    "content_terms",
    "default_workers",
    "enrich_and_terms",
    "enrich_contents",
    "enrich_in_batches",
    "enrichment_fingerprint",
    "warm_up",
]

ENRICHMENT_VERSION = "4"
"""Bumped whenever `enrich_contents` changes its results for the same inputs."""

ENRICHED_COLUMNS = [
    "content_id",
    "language",
    "tokens",
    "count_tokens",
    "sentiment_score",
    "sentiment_label",
    "is_need_message",
    "segments",
    "sentiment_missing_reason",
]
SENTIMENT_LANGUAGES = frozenset({"zh", "en"})
"""Languages with a sentiment model; every other message gets a null score and a reason."""
TERM_COLUMNS = ["content_id", "term", "term_count"]

_TEXT_DIR = Path(__file__).resolve().parent


def enrichment_fingerprint(domain_terms: str | Path | None = None) -> str:
    """Hash of the code version and every data file the enrichment reads.

    Parameters
    ----------
    domain_terms : str or Path, optional
        The domain dictionary; defaults to the project seed ``seeds/text_domain_terms.csv``.

    Returns
    -------
    str
        ``"v<version>-<12 hex digits>"``.
    """
    digest = hashlib.sha256(ENRICHMENT_VERSION.encode())
    files = [Path(domain_terms) if domain_terms is not None else DEFAULT_DOMAIN_TERMS]
    files += sorted((_TEXT_DIR / "data").glob("*"))
    files += sentiment_data_files()
    for path in files:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: text enrichment data file is missing")
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f"v{ENRICHMENT_VERSION}-{digest.hexdigest()[:12]}"


def enrich_contents(contents: pd.DataFrame) -> pd.DataFrame:
    """Language, content tokens, sentiment and need flag of each message.

    Parameters
    ----------
    contents : DataFrame
        ``content_id``, ``body`` and ``language`` (declared, may be null: it is then
        detected from the text).

    Returns
    -------
    DataFrame
        `ENRICHED_COLUMNS`, all computed on the text cleaned by
        `orchestration.lib.text.clean.clean_text`: ``language`` an ISO 639-1 code
        (``zh``, ``en``, ``fr``, ``ja`` ...) or ``other`` (no letters); ``tokens`` the
        content tokens (jieba with the domain dictionary for Chinese, a word tokenizer
        with the language's stop words otherwise); ``sentiment_score`` in [-1, 1] and
        ``sentiment_label`` positive / neutral / negative for `SENTIMENT_LANGUAGES`,
        both null elsewhere with ``sentiment_missing_reason`` ``no_model_for_language``
        or ``no_text`` (never an English guess); ``is_need_message``
        whether a need pattern (希望, 能不能, "please add", "doesn't work" ...) occurs;
        ``segments`` the word runs between punctuation, stop words kept (the raw
        material of pain-point phrases).
    """
    missing = {"content_id", "body", "language"} - set(contents.columns)
    if missing:
        raise ValueError(f"contents lack column(s) {sorted(missing)}")
    # Cleaned once: code, LaTeX/MathJax, URLs and @mentions never reach the tokens,
    # the language detector, the scorer or the need patterns; emoji stay.
    bodies = [clean_text(b) if isinstance(b, str) else "" for b in contents["body"]]
    declared = [x if isinstance(x, str) else None for x in contents["language"]]
    langs = [resolve_language(d, b) for d, b in zip(declared, bodies, strict=True)]
    split = [
        tokens_and_segments(b, lang, resolved=True) for b, lang in zip(bodies, langs, strict=True)
    ]
    tokens = [t for t, _ in split]
    scored = [i for i, lang in enumerate(langs) if lang in SENTIMENT_LANGUAGES]
    scores = np.full(len(bodies), np.nan, dtype=float)
    labels = np.full(len(bodies), None, dtype=object)
    reasons = np.array(
        [
            None
            if lang in SENTIMENT_LANGUAGES
            else ("no_text" if lang == "other" else "no_model_for_language")
            for lang in langs
        ],
        dtype=object,
    )
    if scored:
        s, lab = score_sentiment([bodies[i] for i in scored], [langs[i] for i in scored])
        scores[scored] = s
        labels[scored] = lab
    need = find_need_messages(bodies, langs)
    return pd.DataFrame(
        {
            "content_id": contents["content_id"].to_numpy(),
            "language": langs,
            "tokens": tokens,
            "count_tokens": np.fromiter(
                (len(t) for t in tokens), dtype=np.int64, count=len(tokens)
            ),
            "sentiment_score": np.round(scores, 6),
            "sentiment_label": labels,
            "is_need_message": need,
            "segments": [runs for _, runs in split],
            "sentiment_missing_reason": reasons,
        },
        columns=ENRICHED_COLUMNS,
    )


def content_terms(enriched: pd.DataFrame, ngram_max: int = 2) -> pd.DataFrame:
    """The topic terms of each message: its tokens and adjacent-token n-grams, counted.

    Parameters
    ----------
    enriched : DataFrame
        ``content_id`` and ``tokens``, e.g. from `enrich_contents`.
    ngram_max : int, default 2
        Longest n-gram (as in `orchestration.lib.text.topics.document_terms`).

    Returns
    -------
    DataFrame
        `TERM_COLUMNS`: one row per (content, distinct term) with its number of
        occurrences; the input of the SQL c-TF-IDF topic and trending-term models.
    """
    ids, terms, counts = [], [], []
    for cid, toks in zip(enriched["content_id"], enriched["tokens"], strict=True):
        if toks is None:
            continue
        toks = list(toks)
        if ngram_max == 2:
            # document_terms(toks, 2) without its per-bigram join_tokens calls.
            cjk = [is_cjk_token(t) for t in toks]
            items = toks + [
                a + b if ca and cb else a + " " + b
                for a, b, ca, cb in zip(toks, toks[1:], cjk, cjk[1:], strict=False)
            ]
        else:
            items = document_terms(toks, ngram_max)
        # Counter counts in first-seen order, as a dict filled term by term would.
        seen = Counter(items)
        ids.extend([cid] * len(seen))
        terms.extend(seen)
        counts.extend(seen.values())
    return pd.DataFrame(
        {"content_id": ids, "term": terms, "term_count": np.asarray(counts, dtype=np.int64)},
        columns=TERM_COLUMNS,
    )


def enrich_and_terms(contents: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`enrich_contents` and `content_terms` of one batch (what a worker computes).

    Parameters
    ----------
    contents : DataFrame
        ``content_id``, ``body`` and ``language``.

    Returns
    -------
    enriched : DataFrame
        `ENRICHED_COLUMNS`, one row per message in input order.
    terms : DataFrame
        `TERM_COLUMNS` of those messages.
    """
    enriched = enrich_contents(contents)
    return enriched, content_terms(enriched)


def default_workers() -> int:
    """Number of CPU cores this process may run on (``os.sched_getaffinity``).

    Returns
    -------
    int
        At least 1.
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


_WARM_UP = pd.DataFrame(
    {
        "content_id": ["w1", "w2", "w3", "w4"],
        "body": [
            "希望能不能修一下夜景噪点，太差了",
            "Please add dark mode, the app doesn't work :( 👍",
            "Bonjour, je ne suis pas venu avec mes amis pour le dîner",
            "",
        ],
        "language": ["zh", None, "en", None],
    }
)


def warm_up() -> None:
    """Load every model, lexicon and dictionary once (jieba, langid, weights, patterns).

    Run in the parent before the worker processes are forked, so they inherit them
    instead of loading them again each.
    """
    enrich_and_terms(_WARM_UP)


def _start_method() -> str:
    """``fork`` where the platform has it (workers inherit the loaded models), else spawn."""
    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


def enrich_in_batches(
    contents: pd.DataFrame, *, batch_size: int, workers: int = 1
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """`enrich_and_terms` of consecutive batches of messages, in input order.

    With more than one worker and more than one batch, the batches are computed by a
    pool of worker processes (pure computations: nothing is written there); at most
    ``workers + 1`` batches are in flight, so memory stays bounded by a few batches
    whatever the number of messages. Results are yielded in batch order, so they do not
    depend on scheduling and equal those of one worker exactly. One worker (or one
    batch) runs in this process, without a pool.

    Parameters
    ----------
    contents : DataFrame
        ``content_id``, ``body`` and ``language``.
    batch_size : int
        Messages per batch (>= 1).
    workers : int, default 1
        Worker processes.

    Yields
    ------
    (enriched, terms) : tuple of DataFrame
        As `enrich_and_terms`, one pair per batch.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    starts = range(0, len(contents), batch_size)
    batches = (contents.iloc[s : s + batch_size].reset_index(drop=True) for s in starts)
    workers = min(max(1, workers), len(starts))
    if workers <= 1:
        for batch in batches:
            yield enrich_and_terms(batch)
        return
    warm_up()
    context = multiprocessing.get_context(_start_method())
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque = deque()
        for batch in batches:
            pending.append(pool.submit(enrich_and_terms, batch))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
