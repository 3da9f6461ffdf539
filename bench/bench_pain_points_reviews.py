"""Pain points on real Chinese consumer reviews: each product category is a group.

Reads ``text/zh_online_shopping_10_cats`` of the evaluation data (``SMALLGROUPS_EVAL_DATA``,
defaulting to ``../shared/data``): reviews of 10 product categories, each labelled
positive or negative by its writer. A fixed sample per category (seed 42) is enriched
like any message (cleaning, language, tokens, sentiment, need flag) and each category
is one group; the pain points are extracted with the library's defaults. The labels
are never used to extract anything, only to check: *complaint precision* is the share of
the reviews counted for a pain point that their writer labelled negative. Reviews have
no author ids, so every review counts as its own author here: the author threshold is
not exercised by this set. Prints the figures and the top pain points per category.

    python bench/bench_pain_points_reviews.py [--per-category 1500] [--set pain_min_lift=3]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import zipfile
from pathlib import Path

import pandas as pd

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from orchestration.lib.text.enrich import enrich_contents  # noqa: E402
from orchestration.lib.text.painpoints import PainPointSettings, extract_pain_points  # noqa: E402
from orchestration.lib.text.tokenize import segments  # noqa: E402

EVAL = Path(os.environ.get("SMALLGROUPS_EVAL_DATA", PROJECT_DIR.parent / "shared" / "data"))
ZIP = EVAL / "text" / "zh_online_shopping_10_cats" / "online_shopping_10_cats.zip"


def _reviews(per_category: int, seed: int = 42) -> pd.DataFrame:
    with zipfile.ZipFile(ZIP) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".csv"))
        raw = pd.read_csv(io.BytesIO(zf.read(name)), encoding="utf-8-sig")
    raw = raw.dropna(subset=["review"]).reset_index(drop=True)
    raw["content_id"] = [f"r{i:06d}" for i in range(len(raw))]
    shuffled = raw.sample(frac=1.0, random_state=seed)
    keep = shuffled.groupby("cat").cumcount() < per_category
    return shuffled[keep].sort_values("content_id").reset_index(drop=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-category", type=int, default=1500)
    parser.add_argument(
        "--set", action="append", default=[], help="a PainPointSettings field=value"
    )
    args = parser.parse_args()
    defaults = PainPointSettings()
    overrides = {}
    for item in args.set:
        name, value = item.split("=", 1)
        overrides[name] = type(getattr(defaults, name))(value)
    settings = PainPointSettings(**overrides)
    if not ZIP.exists():
        print(f"{ZIP} not found (set SMALLGROUPS_EVAL_DATA); skipped")
        return 0
    reviews = _reviews(args.per_category)
    enriched = enrich_contents(
        pd.DataFrame(
            {
                "content_id": reviews["content_id"],
                "body": reviews["review"].astype(str),
                "language": "zh",
            }
        )
    )
    messages = reviews[["content_id", "cat", "label"]].merge(
        enriched[["content_id", "language", "sentiment_score", "is_need_message", "segments"]],
        on="content_id",
    )
    messages = messages.assign(
        community_id=messages["cat"],
        author_user_id=messages["content_id"],
        body=reviews.set_index("content_id").loc[messages["content_id"], "review"].to_numpy(),
    )
    messages["segments"] = [
        [list(run) for run in runs] if runs is not None else None for runs in messages["segments"]
    ]
    found = extract_pain_points(messages, settings, with_content_ids=True)
    negative = set(messages.loc[messages["label"] == 0, "content_id"])
    found["precision"] = [
        sum(c in negative for c in ids) / len(ids) for ids in found["content_ids"]
    ]
    found["words"] = [sum(len(r) for r in segments(p, "zh")) for p in found["phrase"]]
    first = found[found["rank"] == 1]
    print(
        f"{', '.join(args.set) or 'defaults'}: "
        f"{len(messages):,} reviews, {messages['cat'].nunique()} categories; "
        f"{found['community_id'].nunique()} with pain points, {len(found)} pain points; "
        f"top pain point of 2+ words {(first['words'] >= 2).mean():.1%} "
        f"(all ranks {(found['words'] >= 2).mean():.1%}); complaint precision "
        f"(reviews of the pain points labelled negative) {found['precision'].mean():.3f} "
        f"(top pain points {first['precision'].mean():.3f}; "
        f"share negative among all sampled reviews {(messages['label'] == 0).mean():.3f})"
    )
    for cat, rows in found.groupby("community_id", sort=True):
        text = "; ".join(
            f"{r.phrase} ({r.count_messages}, {r.precision:.0%} neg)"
            for r in rows.sort_values("rank").itertuples()
        )
        print(f"  {cat}: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
