"""Offline text analytics for community messages in Chinese and English.

`tokenize` detects the language and splits messages into tokens (jieba for Chinese,
with the project's domain dictionary; a regular expression for English), `sentiment`
scores them, `topics` turns tokens into the terms from which dbt computes each
community's topics and trending terms, and `painpoints` extracts the recurring
complaints and requests of each community. The pipeline's steps build on them: `enrich`
(one message at a time: language, tokens, sentiment, need flag, terms), `snapshots`
(pain points of one weekly snapshot), `store` (the ``text`` schema) and `refresh` (what
the Dagster assets run). Scoring against the demo's planted truth, and the Python
reference of the SQL topics, live apart in `orchestration.lib.evaluation`. No network
access, no models to download, deterministic results.
"""

from __future__ import annotations

from orchestration.lib.text.painpoints import extract_pain_points, find_need_messages
from orchestration.lib.text.tokenize import (
    detect_language,
    load_domain_terms,
    phrases,
    segments,
    tokenize,
    tokenize_many,
)

__all__ = [
    "detect_language",
    "extract_pain_points",
    "find_need_messages",
    "load_domain_terms",
    "phrases",
    "segments",
    "tokenize",
    "tokenize_many",
]
