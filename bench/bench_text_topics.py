"""Benchmark of the text analytics (tokenizing, c-TF-IDF topics, pain points).

Prints

1. tokenizing speed in messages per second (one core) on the demo messages, overall
   and per language;
2. on the demo data (generated here unless ``--raw``/``--truth`` are given), grouped
   by the planted community: the share of communities (>= 20 messages) whose top-10
   c-TF-IDF terms contain at least 3 of the planted topic's terms, and the recall of
   planted pain points (a community's top-3 extracted phrases contain the planted
   phrase or all its key tokens), for every planted pain point and for the rank-1
   ones, with the zh photography community's top phrases;
3. topic purity on real labelled text when ``$SMALLGROUPS_EVAL_DATA`` (default
   ``../shared/data``) is present: AG News (4 topics) and the 10 product categories
   of the Chinese online-shopping reviews. Each label is a class; c-TF-IDF top terms
   per class are learned on one half of the documents and every document of the
   other half is assigned to the class whose top terms it contains most (ties broken
   by score); accuracy is reported.

Figures only: nothing passes or fails.

    python bench/bench_text_topics.py [--raw DIR --truth DIR] [--per-class 1500]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from _truth import demo_command  # noqa: E402

from orchestration.lib.demo.text import TOPICS  # noqa: E402  (truth side only)
from orchestration.lib.evaluation.topics_reference import community_terms  # noqa: E402
from orchestration.lib.text.painpoints import extract_pain_points  # noqa: E402
from orchestration.lib.text.tokenize import tokenize, tokenize_many  # noqa: E402
from orchestration.lib.text.topics import document_terms  # noqa: E402


def _norm(term: str) -> str:
    return term.lower().replace(" ", "")


def _demo(raw: Path | None, truth: Path | None) -> tuple[Path, Path]:
    if raw and truth:
        return raw, truth
    root = Path(tempfile.mkdtemp(prefix="bench_text_"))
    cmd = demo_command(root / "raw", root / "truth", users=3000, days=60, seed=42)
    subprocess.run(cmd, check=True, capture_output=True, cwd=PROJECT_DIR)
    return root / "raw", root / "truth"


def bench_speed(msgs: pd.DataFrame) -> None:
    tokenize("预热 warm up")
    for name, sub in [
        ("all", msgs),
        ("zh", msgs[msgs["language"] == "zh"]),
        ("en", msgs[msgs["language"] == "en"]),
    ]:
        t = time.perf_counter()
        tokenize_many(sub["body"], sub["language"])
        dt = time.perf_counter() - t
        chars = sub["body"].fillna("").str.len().mean()
        print(
            f"  tokenize {name:>3}: {len(sub) / dt:8,.0f} msg/s"
            f"  ({len(sub):,} msgs, {chars:.0f} chars avg)"
        )


def bench_demo(raw: Path, truth: Path) -> None:
    contents = pd.read_parquet(raw / "contents.parquet")
    labels = pd.read_parquet(truth / "content_labels.parquet")
    comms = pd.read_parquet(truth / "communities.parquet")
    planted = pd.read_parquet(truth / "community_pain_points.parquet")
    msgs = contents.merge(labels[["content_id", "community_id"]], on="content_id")
    print("1. tokenizing speed (one core)")
    bench_speed(msgs)
    msgs["tokens"] = tokenize_many(msgs["body"], msgs["language"])
    big = comms[comms["n_contents"] >= 20]

    print("2a. planted topics: top-10 c-TF-IDF terms containing >= 3 planted terms")
    terms = community_terms(msgs[["community_id", "tokens"]], top_n=10, min_df=3)
    vocab = {t.key: {_norm(x) for x in t.terms_zh + t.terms_en} for t in TOPICS}
    hits = []
    for _, c in big.iterrows():
        top = terms.loc[terms["community_id"] == c["community_id"], "term"].map(_norm)
        hits.append(sum(t in vocab[c["topic_key"]] for t in top) >= 3)
    print(f"  recall {np.mean(hits):.3f} ({sum(hits)}/{len(hits)} communities)")

    print("2b. planted pain points: in the community's top-3 extracted phrases")
    t = time.perf_counter()
    pp = extract_pain_points(msgs)
    print(f"  extraction: {time.perf_counter() - t:.1f} s for {len(msgs):,} messages")
    rows = planted.merge(big[["community_id"]], on="community_id")
    found = []
    for _, r in rows.iterrows():
        phrase = r["phrase_zh"] if r["language"] == "zh" else r["phrase_en"]
        key = set(tokenize(phrase, r["language"]))
        top = pp.loc[(pp["community_id"] == r["community_id"]) & (pp["rank"] <= 3), "phrase"]
        found.append(
            any(
                phrase.lower() in p or (key and key <= set(tokenize(p, r["language"]))) for p in top
            )
        )
    rows = rows.assign(found=found)
    print(
        f"  recall, all planted      {rows['found'].mean():.3f} ({rows['found'].sum()}/{len(rows)})"
    )
    r1 = rows[rows["rank"] == 1]
    print(f"  recall, rank-1 planted   {r1['found'].mean():.3f} ({r1['found'].sum()}/{len(r1)})")
    sup = rows[rows["n_messages"] >= 3]
    print(f"  recall, >= 3 messages    {sup['found'].mean():.3f} ({sup['found'].sum()}/{len(sup)})")
    photo = planted[(planted["topic_key"] == "photography") & (planted["language"] == "zh")]
    for cid in sorted(photo["community_id"].unique()):
        plant = photo[photo["community_id"] == cid].sort_values("rank")["phrase_zh"].tolist()
        top = pp[pp["community_id"] == cid].sort_values("rank")["phrase"].head(3).tolist()
        print(f"  zh photography {cid}: planted {plant} -> extracted {top}")


def _purity(name: str, texts: pd.Series, labels: pd.Series, language: str, top_n: int) -> None:
    t = time.perf_counter()
    toks = tokenize_many(texts, [language] * len(texts))
    speed = len(texts) / (time.perf_counter() - t)
    df = pd.DataFrame({"community_id": labels.to_numpy(), "tokens": toks})
    train = df.iloc[::2]
    test = df.iloc[1::2]
    terms = community_terms(train, top_n=top_n, min_df=3)
    weights = {
        cls: dict(zip(g["term"], g["score"], strict=True))
        for cls, g in terms.groupby("community_id")
    }
    classes = sorted(weights)
    correct = covered = 0
    for tokens, label in zip(test["tokens"], test["community_id"], strict=True):
        doc = set(document_terms(tokens))
        hits = [
            (sum(t in doc for t in weights[c]), sum(w for t, w in weights[c].items() if t in doc))
            for c in classes
        ]
        best = max(range(len(classes)), key=lambda i: (hits[i], -i))
        if hits[best][0] > 0:
            covered += 1
            correct += classes[best] == label
    n = len(test)
    print(
        f"  {name}: accuracy {correct / n:.3f} (docs with any top term: {covered / n:.3f}), "
        f"{len(classes)} classes, top {top_n} terms/class, {n:,} held-out docs, "
        f"tokenize {speed:,.0f} docs/s"
    )
    for cls in classes[:10]:
        print(f"    {cls}: {', '.join(list(weights[cls])[:8])}")


def bench_real(per_class: int) -> None:
    base = Path(os.environ.get("SMALLGROUPS_EVAL_DATA", PROJECT_DIR.parent / "shared" / "data"))
    text = base / "text"
    print(f"3. topic purity on real labelled text ({text})")
    if not text.exists():
        print("  evaluation data folder is ABSENT: skipped")
        return
    ag = text / "en_agnews" / "test.tsv"
    if ag.exists():
        df = pd.read_csv(ag, sep="\t", header=None, names=["text", "label"], quoting=3)
        _purity("AG News", df["text"], df["label"], "en", top_n=50)
    else:
        print("  en_agnews absent: skipped")
    zips = sorted((text / "zh_online_shopping_10_cats").glob("*.zip"))
    if zips:
        df = pd.read_csv(zips[0], compression="zip", encoding="utf-8-sig")
        df = df.dropna(subset=["review"])
        df = df.sample(frac=1.0, random_state=0).groupby("cat").head(per_class)
        _purity("online shopping 10 cats", df["review"], df["cat"], "zh", top_n=50)
    else:
        print("  zh_online_shopping_10_cats absent: skipped")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path)
    parser.add_argument("--truth", type=Path)
    parser.add_argument("--per-class", type=int, default=1500, help="shopping reviews per category")
    args = parser.parse_args()
    raw, truth = _demo(args.raw, args.truth)
    bench_demo(raw, truth)
    bench_real(args.per_class)


if __name__ == "__main__":
    main()
