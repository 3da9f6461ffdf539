"""Score the text marts against planted truth (demo data): used by the benchmark and
the end-to-end tests, never by the pipeline itself.

Planted communities are matched to detected ones by majority
(`orchestration.lib.evaluation.matching`). A planted pain point is *found* when one of
the detected community's top-k extracted phrases contains the planted phrase or all its
tokens; a planted topic is found when at least ``min_hits`` of the community's top-k
terms belong to the planted topic's vocabulary (`orchestration.lib.demo.text.TOPICS`).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from orchestration.lib.config import dbt_project_var
from orchestration.lib.demo.text import TOPICS
from orchestration.lib.evaluation.matching import map_planted_to_detected, planted_and_detected
from orchestration.lib.text.tokenize import tokenize

__all__ = [
    "evaluate_snapshot",
    "phrase_found",
    "score_pain_points",
    "score_topics",
]


def _norm(text: str) -> str:
    return text.lower().replace(" ", "")


def phrase_found(phrase: str, language: str, extracted: Iterable[str]) -> bool:
    """Whether a planted phrase is among extracted phrases (as a substring or by tokens)."""
    key = set(tokenize(phrase, language))
    for p in extracted:
        if _norm(phrase) in _norm(p) or (key and key <= set(tokenize(p, language))):
            return True
    return False


def score_pain_points(
    extracted: pd.DataFrame, planted: pd.DataFrame, mapping: pd.DataFrame, top_k: int = 3
) -> pd.DataFrame:
    """Flag each planted pain point found in its detected community's top-k phrases.

    Parameters
    ----------
    extracted : DataFrame
        ``community_id, rank, phrase`` (one snapshot, detected communities).
    planted : DataFrame
        ``community_id, language, phrase_zh, phrase_en, rank, n_messages`` (truth).
    mapping : DataFrame
        Output of `map_planted_to_detected`.
    top_k : int, default 3
        Phrases looked at per community.

    Returns
    -------
    DataFrame
        The planted rows of mapped communities with ``detected`` and ``found``.
    """
    rows = planted.merge(mapping, left_on="community_id", right_on="planted")
    top = extracted[extracted["rank"] <= top_k].groupby("community_id")["phrase"].agg(list)
    found = []
    for r in rows.itertuples(index=False):
        phrase = r.phrase_zh if r.language == "zh" else r.phrase_en
        found.append(phrase_found(phrase, r.language, top.get(r.detected, [])))
    return rows.assign(found=found)


def score_topics(
    terms: pd.DataFrame,
    planted_topics: pd.DataFrame,
    vocabulary: dict[str, set[str]],
    mapping: pd.DataFrame,
    top_k: int = 10,
    min_hits: int = 3,
) -> pd.DataFrame:
    """Flag each planted community whose detected community's top-k terms show its topic.

    Parameters
    ----------
    terms : DataFrame
        ``community_id, rank, term`` (one snapshot, detected communities).
    planted_topics : DataFrame
        ``community_id, topic_key`` (truth).
    vocabulary : dict of str to set of str
        Terms of each planted topic (any case and spacing).
    mapping : DataFrame
        Output of `map_planted_to_detected`.
    top_k, min_hits : int
        Terms looked at, and how many must belong to the topic.

    Returns
    -------
    DataFrame
        ``community_id, topic_key, detected, hits, found``.
    """
    vocab = {k: {_norm(t) for t in v} for k, v in vocabulary.items()}
    rows = planted_topics.merge(mapping, left_on="community_id", right_on="planted")
    top = terms[terms["rank"] <= top_k].groupby("community_id")["term"].agg(list)
    hits = [
        sum(_norm(t) in vocab.get(r.topic_key, set()) for t in top.get(r.detected, []))
        for r in rows.itertuples(index=False)
    ]
    out = rows[["community_id", "topic_key", "detected"]].assign(hits=hits)
    return out.assign(found=out["hits"] >= min_hits)


def evaluate_snapshot(con, truth_dir, snapshot_date, window_days: int | None = None) -> dict:
    """Score a built warehouse's text marts at one snapshot against the demo truth.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        The warehouse (read-only is enough).
    truth_dir : Path
        The generator's truth folder (``community_memberships``, ``communities``,
        ``community_pain_points``, ``content_labels`` parquet files).
    snapshot_date : date
        A snapshot present in ``communities.community_snapshot_runs``.
    window_days : int, optional
        The text window; by default the dbt var ``text_window_days``, as the marts use.

    Returns
    -------
    dict
        ``pain_points`` (`score_pain_points` rows plus ``n_window``: labelled complaint
        messages of the planted pain point in the window), ``topics`` (`score_topics`
        rows plus ``n_window`` messages), ``mapping``, and ``sentiment_agreement`` /
        ``language_agreement`` over all messages.
    """
    if window_days is None:
        window_days = int(dbt_project_var("text_window_days"))
    truth = {
        name: f"read_parquet('{truth_dir}/{name}.parquet')"
        for name in (
            "community_memberships",
            "communities",
            "community_pain_points",
            "content_labels",
        )
    }
    q = lambda sql, *p: con.execute(sql, list(p)).df()  # noqa: E731
    pairs = planted_and_detected(con, truth_dir, snapshot_date)
    mapping = map_planted_to_detected(pairs)
    window = f"""
        select labels.*
        from {truth["content_labels"]} as labels
        inner join main.stg_product__contents as contents using (content_id)
        where contents.created_at >= cast(? as date) - {window_days - 1}
          and contents.created_at < cast(? as date) + 1
    """
    support = q(
        f"""
        select community_id, pain_point_key, count(*) as n_window
        from ({window}) where pain_point_key is not null group by all
        """,
        snapshot_date,
        snapshot_date,
    )
    planted_pp = q(f"select * from {truth['community_pain_points']}").merge(
        support, on=["community_id", "pain_point_key"], how="left"
    )
    planted_pp["n_window"] = planted_pp["n_window"].fillna(0).astype(int)
    extracted = q(
        """
        select community_id, pain_point_rank as rank, phrase from fct_community_pain_points
        where snapshot_date = ? and group_kind = 'detected'
        """,
        snapshot_date,
    )
    pain = score_pain_points(extracted, planted_pp, mapping)
    sizes = q(
        f"select community_id, count(*) as n_window from ({window}) group by all",
        snapshot_date,
        snapshot_date,
    )
    planted_topics = q(f"select community_id, topic_key from {truth['communities']}").merge(
        sizes, on="community_id"
    )
    terms = q(
        """
        select community_id, term_rank as rank, term from fct_community_topics
        where snapshot_date = ? and group_kind = 'detected'
        """,
        snapshot_date,
    )
    vocabulary = {t.key: set(t.terms_zh) | set(t.terms_en) for t in TOPICS}
    topics = score_topics(terms, planted_topics, vocabulary, mapping).merge(
        planted_topics[["community_id", "n_window"]], on="community_id"
    )
    agreement = q(
        f"""
        select
            avg((labels.sentiment = enriched.sentiment_label)::int) as sentiment_agreement,
            avg((labels.language = enriched.language)::int) as language_agreement,
            count(*) as n
        from {truth["content_labels"]} as labels
        inner join main.fct_contents_enriched as enriched using (content_id)
        """
    ).iloc[0]
    return {
        "pain_points": pain,
        "topics": topics,
        "mapping": mapping,
        "sentiment_agreement": float(agreement["sentiment_agreement"]),
        "language_agreement": float(agreement["language_agreement"]),
        "count_labelled_messages": int(agreement["n"]),
    }
