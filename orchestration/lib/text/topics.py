"""The terms of a message: its content tokens and their adjacent-token n-grams.

`document_terms` is what the enrichment step stores per message
(``text.content_terms``); the dbt models count those terms into each community's topics
and trending terms (``int_community_terms_weekly``, ``fct_community_topics``,
``fct_community_trending_terms``), so the c-TF-IDF and the trend scores are computed
there, once. A Python version of those definitions is kept only to check the SQL, apart
from the product: `orchestration.lib.evaluation.topics_reference`.
"""

from __future__ import annotations

from orchestration.lib.text.tokenize import join_tokens

__all__ = ["document_terms"]


def document_terms(tokens: list[str] | None, ngram_max: int = 2) -> list[str]:
    """Return the unigram and n-gram terms of one tokenized message, in order.

    Parameters
    ----------
    tokens : list of str or None
        Content tokens, e.g. from `orchestration.lib.text.tokenize.tokenize`.
    ngram_max : int, default 2
        Longest n-gram (1 = unigrams only).

    Returns
    -------
    list of str
        Unigrams, then bigrams, ... (joined with ``join_tokens``).
    """
    if tokens is None:
        return []
    toks = list(tokens)
    out = list(toks)
    for n in range(2, ngram_max + 1):
        out.extend(join_tokens(toks[i : i + n]) for i in range(len(toks) - n + 1))
    return out
