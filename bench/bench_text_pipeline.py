"""Benchmark of the text marts of a built warehouse against the planted demo truth.

Reads the warehouse the pipeline wrote (default ``data/smallgroups.duckdb``, built by
``make run``) and the generator's truth (``data/ground_truth``) and prints

1. quality at the latest full weekly snapshot and averaged over the snapshots from the
   fifth week on: recall of planted pain points in the matched detected community's
   top-3 phrases (all, rank-1, and those with >= 3 labelled messages in the window),
   recall of planted topics (>= 3 of the top-10 c-TF-IDF terms from the planted
   vocabulary, communities with >= 20 messages in the window), sentiment and language
   agreement with the planted labels, and the zh photography circles' top phrases;
2. whether the SQL c-TF-IDF (``fct_community_topics``) and trending terms
   (``fct_community_trending_terms``) equal the Python reference
   (``orchestration.lib.evaluation.topics_reference``) at the latest full snapshot;
3. speed: enrichment (tokenizing + sentiment + need flag + terms) in messages per
   second on one core, the per-snapshot time of the pain-point step, and a weekly
   refresh on a copy of the warehouse: the last 7 days of messages removed from the
   text tables, then enriched again and their snapshot recomputed.

Figures only: nothing passes or fails. Results also go to
bench/results/text_pipeline.json.

    python bench/bench_text_pipeline.py [--warehouse data/smallgroups.duckdb]
                                        [--truth data/ground_truth]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from orchestration.lib.evaluation.matching import (  # noqa: E402
    map_planted_to_detected,
    planted_and_detected,
)
from orchestration.lib.evaluation.text import evaluate_snapshot  # noqa: E402
from orchestration.lib.evaluation.topics_reference import compare_with_marts  # noqa: E402
from orchestration.lib.text import refresh, store  # noqa: E402
from orchestration.lib.text.enrich import content_terms, enrich_contents  # noqa: E402


def quality(con, truth: Path) -> dict:
    runs = con.execute(
        "select snapshot_date, is_provisional from communities.community_snapshot_runs "
        "order by snapshot_date"
    ).fetchall()
    full = [d for d, provisional in runs if not provisional]
    latest = full[-1]
    out: dict = {"latest_snapshot": str(latest)}
    rows = []
    print("1. quality against the planted truth")
    for day in full[4:]:
        r = evaluate_snapshot(con, truth, day)
        pain, topics = r["pain_points"], r["topics"]
        sup = pain[pain["n_window"] >= 3]
        big = topics[topics["n_window"] >= 20]
        row = {
            "snapshot": str(day),
            "pain_all": float(pain["found"].mean()),
            "pain_rank1": float(pain.loc[pain["rank"] == 1, "found"].mean()),
            "pain_supported": float(sup["found"].mean()),
            "n_pain_supported": len(sup),
            "topics": float(big["found"].mean()),
            "n_topics": len(big),
            "communities_mapped": len(r["mapping"]),
        }
        rows.append(row)
        if day == latest:
            out |= {
                "sentiment_agreement": r["sentiment_agreement"],
                "language_agreement": r["language_agreement"],
                "labelled_messages": r["count_labelled_messages"],
                "latest": row,
            }
            photo = pain[(pain["topic_key"] == "photography") & (pain["language"] == "zh")]
            circles = set(zip(photo["community_id"], photo["detected"], strict=True))
            for cid, detected in sorted(circles):
                top = con.execute(
                    "select list(phrase order by pain_point_rank) from fct_community_pain_points "
                    "where snapshot_date = ? and community_id = ?",
                    [day, detected],
                ).fetchone()[0]
                planted = photo.loc[photo["community_id"] == cid, "phrase_zh"].tolist()
                print(f"  zh photography {cid} -> {detected}: planted {planted}, top {top}")
    for r in rows[-1:]:
        print(
            f"  latest full snapshot {r['snapshot']}: pain points found {r['pain_supported']:.3f}"
            f" of {r['n_pain_supported']} with >= 3 messages in the window"
            f" (all {r['pain_all']:.3f}, rank-1 {r['pain_rank1']:.3f});"
            f" topics {r['topics']:.3f} of {r['n_topics']} communities"
        )
    mean = {
        k: float(np.mean([r[k] for r in rows])) for k in ("pain_supported", "pain_rank1", "topics")
    }
    print(
        f"  mean over {len(rows)} snapshots: pain points {mean['pain_supported']:.3f},"
        f" rank-1 {mean['pain_rank1']:.3f}, topics {mean['topics']:.3f}"
    )
    print(
        f"  sentiment agreement with planted labels {out['sentiment_agreement']:.3f},"
        f" language {out['language_agreement']:.4f} ({out['labelled_messages']:,} messages)"
    )
    out["lookalikes_same_topic"] = lookalike_topics(con, truth)
    out["per_snapshot"] = rows
    out["mean"] = mean
    return out


def lookalike_topics(con, truth: Path) -> dict:
    """Share of detected lookalike pairs whose planted communities share their topic."""
    day = con.execute("select max(snapshot_date) from fct_community_lookalikes").fetchone()[0]
    pairs = planted_and_detected(con, truth, day)
    mapping = map_planted_to_detected(pairs)
    topics = con.execute(
        f"select community_id, topic_key from read_parquet('{truth}/communities.parquet')"
    ).df()
    mapping = mapping.merge(topics, left_on="planted", right_on="community_id")
    topic_of = dict(zip(mapping["detected"], mapping["topic_key"], strict=True))
    look = con.execute(
        "select community_id, lookalike_community_id from fct_community_lookalikes "
        "where group_kind = 'detected' and lookalike_group_kind = 'detected'"
    ).df()
    look = look[look["community_id"].isin(topic_of) & look["lookalike_community_id"].isin(topic_of)]
    same = look["community_id"].map(topic_of) == look["lookalike_community_id"].map(topic_of)
    shares = pd.Series(list(topic_of.values())).value_counts(normalize=True)
    chance = float((shares**2).sum())
    print(
        f"  lookalikes (top 5, detected pairs): {same.mean():.3f} share the planted topic"
        f" ({len(look)} pairs; two random communities: {chance:.3f})"
    )
    return {"share": float(same.mean()), "pairs": len(look), "chance": chance}


def sql_vs_library(con, day) -> dict:
    r = compare_with_marts(con, day)
    topics, trending = r["topics"], r["trending"]
    print(
        f"2. SQL c-TF-IDF vs the reference at {day}: {topics['share_in_both']:.4f} of"
        f" (community, term) rows in both, max score difference"
        f" {topics['max_difference']:.1e} ({topics['rows_reference']:,} rows; reference"
        f" {r['reference_seconds']:.1f} s for {r['count_messages']:,} messages); trending"
        f" terms {trending['share_in_both']:.4f} in both, max rise difference"
        f" {trending['max_difference']:.1e} ({trending['rows_reference']:,} rows)"
    )
    return {
        "share_identical": topics["share_in_both"],
        "max_score_difference": topics["max_difference"],
        "trending_share_identical": trending["share_in_both"],
        "trending_max_rise_difference": trending["max_difference"],
    }


def speed(path: Path) -> dict:
    print("3. speed")
    with duckdb.connect(str(path), read_only=True) as con:
        sample = con.execute(
            "select content_id, body, language from stg_product__contents "
            "order by content_id limit 30000"
        ).df()
        runs = con.execute("select seconds, count_messages from text.pain_point_runs").df()
    enrich_contents(sample.head(100))
    t = time.perf_counter()
    enriched = enrich_contents(sample)
    content_terms(enriched)
    rate = len(sample) / (time.perf_counter() - t)
    print(f"  enrichment (tokens, sentiment, need flag, terms): {rate:,.0f} messages/s, one core")
    print(
        f"  pain points: {runs['seconds'].mean():.1f} s per snapshot on average"
        f" ({runs['count_messages'].mean():,.0f} window messages), {runs['seconds'].sum():.0f} s"
        f" for all {len(runs)} snapshots"
    )
    tmp = Path(tempfile.mkdtemp(prefix="bench_text_"))
    try:
        copy = tmp / "warehouse.duckdb"
        shutil.copy2(path, copy)
        with duckdb.connect(str(copy)) as con:
            con.execute("set TimeZone = 'UTC'")
            last = con.execute(
                "select max(snapshot_date) from communities.community_snapshot_runs"
            ).fetchone()[0]
            week = f"""select content_id from stg_product__contents
                       where created_at >= cast('{last}' as date) - 6"""
            n_week = con.execute(f"select count(*) from ({week})").fetchone()[0]
            for name in store.CONTENT_TABLES:
                con.execute(f"delete from text.{name} where content_id in ({week})")
            con.execute(f"delete from text.pain_point_runs where snapshot_date = '{last}'")
            t = time.perf_counter()
            e = refresh.enrich_new_messages(con)
            t_enrich = time.perf_counter() - t
            t = time.perf_counter()
            p = refresh.refresh_pain_points(con)
            t_pain = time.perf_counter() - t
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"  weekly refresh: {e['messages_enriched_this_run']:,} new messages of"
        f" {e['count_messages']:,} enriched in {t_enrich:.1f} s; {p['snapshots_computed']}"
        f" snapshot(s) of pain points in {t_pain:.1f} s ({n_week:,} messages in the last 7 days)"
    )
    return {
        "enrich_messages_per_second": rate,
        "pain_seconds_per_snapshot": float(runs["seconds"].mean()),
        "weekly_new_messages": int(e["messages_enriched_this_run"]),
        "weekly_enrich_seconds": t_enrich,
        "weekly_pain_snapshots": int(p["snapshots_computed"]),
        "weekly_pain_seconds": t_pain,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--warehouse", type=Path, default=PROJECT_DIR / "data" / "smallgroups.duckdb"
    )
    parser.add_argument("--truth", type=Path, default=PROJECT_DIR / "data" / "ground_truth")
    args = parser.parse_args()
    if not args.warehouse.exists() or not args.truth.exists():
        sys.exit(f"{args.warehouse} or {args.truth} is missing: run `make run` first")
    with duckdb.connect(str(args.warehouse), read_only=True) as con:
        results = {"quality": quality(con, args.truth)}
        results["sql_vs_library"] = sql_vs_library(con, results["quality"]["latest_snapshot"])
    results["speed"] = speed(args.warehouse)
    out = PROJECT_DIR / "bench" / "results" / "text_pipeline.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"results: {out}")


if __name__ == "__main__":
    main()
