"""Benchmark language identification and the whole enrichment on real labelled text.

Reads the labelled sets of ``bench/bench_sentiment.py`` (``SMALLGROUPS_EVAL_DATA``,
default ``../shared/data``): each set has one known language (SST-2 and AG News
English, ChnSentiCorp and the shopping reviews Chinese). Per set it prints the share
of messages `detect_language` (after `clean_text`) identifies as the set's language,
the most frequent wrong codes, the same for the first two and the first four words of
each message (very short messages), and for mixed messages (a Chinese review with an
English sentence of SST-2 appended, which must stay ``zh``). Then the speed of the
whole enrichment (cleaning, tokenizing, language identification, sentiment, need flag)
in messages per second on one core, over all sets together. Figures only.

Usage: ``python bench/bench_text_language.py``.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sentiment import _eval_root, load_sets  # noqa: E402

from orchestration.lib.text.clean import clean_text  # noqa: E402
from orchestration.lib.text.enrich import enrich_contents  # noqa: E402
from orchestration.lib.text.tokenize import detect_language  # noqa: E402


def _line(name: str, texts: list[str], lang: str) -> str:
    codes = [detect_language(clean_text(t)) for t in texts]
    wrong = Counter(c for c in codes if c != lang).most_common(4)
    acc = np.mean([c == lang for c in codes])
    return f"    {name:22s} n={len(texts):6d} accuracy {acc:.4f}; wrong: {wrong}"


def main() -> None:
    """Print the figures."""
    root = _eval_root()
    if not (root / "text").exists():
        print(f"evaluation data absent under {root}: nothing to benchmark")
        return
    sets = load_sets(root, None)
    english = next(t for title, (lang, t, _) in sets.items() if lang == "en")
    all_texts: list[str] = []
    print("language identification (clean_text, then detect_language)")
    for title, (lang, texts, _) in sets.items():
        print(f"  {title}, expected {lang}")
        print(_line("whole message", texts, lang))
        print(_line("first 4 words", [" ".join(t.split()[:4]) for t in texts], lang))
        print(_line("first 2 words", [" ".join(t.split()[:2]) for t in texts], lang))
        if lang == "zh":
            mixed = [f"{t[:30]} {english[i % len(english)]}" for i, t in enumerate(texts)]
            print(_line("zh + English sentence", mixed, "zh"))
        all_texts.extend(texts)
    frame = pd.DataFrame(
        {
            "content_id": [str(i) for i in range(len(all_texts))],
            "body": all_texts,
            "language": [None] * len(all_texts),
        }
    )
    enrich_contents(frame.head(200))
    t0 = time.perf_counter()
    out = enrich_contents(frame)
    seconds = time.perf_counter() - t0
    print(
        f"enrichment (clean, tokenize, language, sentiment, need flag): {len(frame):,} "
        f"messages in {seconds:.1f} s = {len(frame) / seconds:,.0f} messages/s, one core; "
        f"languages {dict(Counter(out['language']).most_common(6))}"
    )


if __name__ == "__main__":
    main()
