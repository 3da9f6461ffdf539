"""Language detection and tokenizing of short user messages in Chinese and English.

Every text-analytics step (class-based TF-IDF topics, trending terms, pain points)
starts here. Chinese is segmented with jieba in precise mode with its HMM on, using a
private ``jieba.Tokenizer`` (the global one is left untouched) that is initialized
once, quietly, and extended with the user-editable domain dictionary
``seeds/text_domain_terms.csv`` (compounds such as ``夜景噪点`` that a product team
wants kept whole). English is lowercased and split by a regular expression that keeps
apostrophes (``doesn't``) and hyphenated words (``wide-angle``); English multi-word
domain terms are joined into one token. Stop words, punctuation and numbers are
dropped from `tokenize`; `segments` keeps stop words and splits only at punctuation,
for phrase building. Everything runs offline (jieba's dictionary ships in its wheel)
and is deterministic.
"""

from __future__ import annotations

import csv
import logging
import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from math import log
from pathlib import Path

import jieba

__all__ = [
    "DEFAULT_DOMAIN_TERMS",
    "LANGID_LANGUAGES",
    "add_terms",
    "detect_language",
    "is_cjk_token",
    "join_tokens",
    "load_domain_terms",
    "phrases",
    "resolve_language",
    "segments",
    "stopwords",
    "tokenize",
    "tokenize_many",
]

_DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_DOMAIN_TERMS = Path(__file__).resolve().parents[3] / "seeds" / "text_domain_terms.csv"
"""The project's domain dictionary seed (``term,language,reason``)."""

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")
_LATIN_RE = re.compile(r"[A-Za-z]")
_DROP_LATIN = dict.fromkeys(range(ord("A"), ord("Z") + 1)) | dict.fromkeys(
    range(ord("a"), ord("z") + 1)
)
_CJK_TOKEN_RE = re.compile(f"[{_CJK}]")
_WORD_CHAR_RE = re.compile(f"[{_CJK}A-Za-z]")
_EN_WORD_RE = re.compile(r"[a-z][a-z0-9]*(?:['\-][a-z0-9]+)*")
_EN_SPLIT_RE = re.compile(r"[^a-z0-9'\-\s]+")
_WORD_SPLIT_RE = re.compile(r"[^\w'\-\s]+")
_ZH_SHARE = 0.2
_MAX_EN_TERM = 4
_NOT_PLURAL = frozenset(
    {"lens", "news", "series", "species", "always", "perhaps", "sometimes", "whereas", "yes"}
)

_lock = threading.Lock()
_state: dict[str, object] = {}


_KANA_RE = re.compile(r"[\u3040-\u30ff]")
_HANGUL_RE = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_LETTER_WORD_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_ASCII_WORD_RE = re.compile(r"[a-z]+(?:'[a-z]+)?")
LANGID_LANGUAGES = (
    "en", "fr", "es", "de", "it", "pt", "nl", "sv", "da", "no", "pl", "cs", "tr", "id",
    "vi", "ro", "hu", "fi", "ru", "uk", "el", "ar", "he", "fa", "hi", "th",
)  # fmt: skip
"""The languages langid may answer for non-CJK text: the likely ones of communities here."""
_MIN_WORDS_FOR_LANGID = 3
_EN_SURE_SHARE = 0.2


@lru_cache(maxsize=1)
def _langid() -> object:
    """langid.py's identifier (model shipped in its PyPI wheel), restricted once."""
    from langid.langid import LanguageIdentifier, model

    identifier = LanguageIdentifier.from_modelstring(model, norm_probs=False)
    identifier.set_languages(list(LANGID_LANGUAGES))
    return identifier


def _detect(text: str | None) -> tuple[str, bool]:
    """Language code of a text and whether the text was long enough to be sure."""
    if not text:
        return "other", False
    if text.isascii():
        # No ideographs, kana or hangul; the letters counted by deleting them (no list).
        cjk = kana = hangul = 0
        latin = len(text) - len(text.translate(_DROP_LATIN))
    else:
        cjk = len(_CJK_RE.findall(text))
        kana = len(_KANA_RE.findall(text))
        hangul = len(_HANGUL_RE.findall(text))
        latin = len(_LATIN_RE.findall(text))
    if kana and kana + cjk >= 2:
        return "ja", True
    if hangul >= 2:
        return "ko", True
    if cjk and cjk / (cjk + latin) >= _ZH_SHARE:
        return "zh", True
    if text.isascii():
        # `_LETTER_WORD_RE` on ASCII text: words of ASCII letters, found lower-cased.
        words = lowered = _ASCII_WORD_RE.findall(text.lower())
    else:
        words = _LETTER_WORD_RE.findall(text)
        lowered = [w.lower() for w in words]
    if not words:
        return "other", False
    if all(w.isascii() for w in lowered):
        # Function words decide most English messages without the model, which keeps
        # the whole enrichment above 5,000 messages/s on one core; ASCII text without
        # a single function word of another language (keyword lists such as "Day 3
        # log: espresso shot, moka pot") is English too: langid misreads it.
        other_hits = _max_other_hits(lowered)
        if other_hits == 0:
            return "en", False
        en_stop = stopwords("en")
        en_hits = sum(w in en_stop for w in lowered)
        if en_hits / len(lowered) >= _EN_SURE_SHARE and en_hits >= 2 * other_hits:
            return "en", len(lowered) >= _MIN_WORDS_FOR_LANGID
    if len(words) < _MIN_WORDS_FOR_LANGID:
        return ("en" if latin else "other"), False
    code, _ = _langid().classify(text)
    return code, True


def _max_other_hits(words: list[str]) -> int:
    """Most words of `words` that are function words of one language of
    `_other_function_words` (0 when none is)."""
    index = _other_function_word_index()
    hits = [index[w] for w in words if w in index]
    if not hits:
        return 0
    counts = [0] * len(_other_function_words())
    for languages in hits:
        for k in languages:
            counts[k] += 1
    return max(counts)


@lru_cache(maxsize=1)
def _other_function_word_index() -> dict[str, tuple[int, ...]]:
    """Each word of `_other_function_words`: the positions of the languages it belongs to."""
    index: dict[str, list[int]] = {}
    for k, words in enumerate(_other_function_words().values()):
        for w in words:
            index.setdefault(w, []).append(k)
    return {w: tuple(ks) for w, ks in index.items()}


@lru_cache(maxsize=1)
def _other_function_words() -> dict[str, frozenset[str]]:
    """stopwords-iso function words of fr/es/de/it/pt/nl that are not English ones."""
    import stopwordsiso

    en_stop = stopwords("en")
    return {
        code: frozenset(w.lower() for w in stopwordsiso.stopwords(code)) - en_stop
        for code in ("fr", "es", "de", "it", "pt", "nl")
    }


def detect_language(text: str | None) -> str:
    """Identify the language of a message.

    Scripts decide first: kana means ``ja``, hangul ``ko``, CJK ideographs making up at
    least 20% of the letters (so mixed zh/en messages stay Chinese) ``zh``. Other text
    is English when English stop words make up a fifth of its words and at least twice
    as many words as the function words of French, Spanish, German, Italian, Portuguese
    or Dutch (stopwords-iso minus the English list), else
    langid.py (model in its wheel) restricted to `LANGID_LANGUAGES` decides; messages
    of one or two words are too short for a model and count as English.

    Parameters
    ----------
    text : str or None
        The message (cleaned).

    Returns
    -------
    str
        An ISO 639-1 code (``zh``, ``en``, ``fr``, ``ja`` ...), or ``"other"`` when the
        text has no letters.
    """
    return _detect(text)[0]


def resolve_language(language: str | None, text: str | None) -> str:
    """The language of a message: detected from its text, the declared code when unsure.

    A declared code is a site's or app's setting, often wrong for a single message
    (a French community on an English platform), so the text decides whenever it is
    long enough or its script is unambiguous.

    Parameters
    ----------
    language : str or None
        Declared code, e.g. ``"zh"``, ``"zh-Hans"``, ``"EN"``, ``"fr-FR"``, ``None``.
    text : str or None
        The message.

    Returns
    -------
    str
        An ISO 639-1 code, or ``"other"``.
    """
    detected, sure = _detect(text)
    if sure:
        return detected
    if isinstance(language, str):
        code = language.strip().lower()
        if code.startswith("zh") or code in {"cn", "chi", "zho"}:
            return "zh"
        if code.startswith("en") or code == "eng":
            return "en"
        base = code.split("-")[0].split("_")[0]
        if len(base) == 2 and base.isalpha() and detected != "other":
            return base
    return detected


@lru_cache(maxsize=64)
def stopwords(language: str) -> frozenset[str]:
    """Return the stop words of a language.

    Chinese and English use the project's lists ``data/stopwords_<language>.txt``;
    every other language the ``stopwords-iso`` list of the ``stopwordsiso`` package
    (MIT) when it covers the language, plus the English list (English words are common
    in every community's text).

    Parameters
    ----------
    language : str
        An ISO 639-1 code.

    Returns
    -------
    frozenset of str
        The stop words (empty when no list covers the language).
    """
    path = _DATA_DIR / f"stopwords_{language}.txt"
    if path.exists():
        return frozenset(_read_list(path))
    import stopwordsiso

    if not stopwordsiso.has_lang(language):
        return frozenset()
    words = {w.lower() for w in stopwordsiso.stopwords(language)}
    return frozenset(words) | stopwords("en")


def _read_list(path: Path) -> list[str]:
    """Read a one-entry-per-line word list, skipping blank lines and ``#`` comments."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def _segmenter() -> jieba.Tokenizer:
    """Return the shared jieba tokenizer, initializing it (and the seed terms) once."""
    seg = _state.get("jieba")
    if seg is None:
        with _lock:
            seg = _state.get("jieba")
            if seg is None:
                jieba.setLogLevel(logging.WARNING)
                logging.getLogger("jieba").setLevel(logging.WARNING)
                seg = jieba.Tokenizer()
                seg.initialize()
                _state["jieba"] = seg
                _state.setdefault("en_terms", {})
                _state.setdefault("zh_blocks", {})
                _state.setdefault("zh_hmm", {})
                if "seed_loaded" not in _state and DEFAULT_DOMAIN_TERMS.exists():
                    _state["seed_loaded"] = True
                    _add_terms(seg, _read_terms(DEFAULT_DOMAIN_TERMS))
    return seg  # type: ignore[return-value]


def _read_terms(path: Path) -> list[tuple[str, str]]:
    """Read ``term,language[,reason]`` rows of a domain dictionary CSV."""
    rows = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for rec in csv.DictReader(fh):
            term = (rec.get("term") or "").strip()
            if term and not term.startswith("#"):
                rows.append((term, resolve_language(rec.get("language"), term)))
    return rows


def _add_terms(seg: jieba.Tokenizer, terms: Iterable[tuple[str, str]]) -> int:
    """Add domain terms: Chinese ones to jieba, English multi-word ones to the joiner."""
    en_terms: dict[tuple[str, ...], str] = _state.setdefault("en_terms", {})  # type: ignore[assignment]
    # Cached tokens were cut with the old dictionary.
    _state.setdefault("zh_blocks", {}).clear()  # type: ignore[union-attr]
    _state.setdefault("zh_hmm", {}).clear()  # type: ignore[union-attr]
    _state.pop("en_term_starts", None)
    _state.setdefault("en_chunks", {}).clear()  # type: ignore[union-attr]
    n = 0
    for term, language in terms:
        if language == "zh":
            seg.add_word(term, freq=max(seg.suggest_freq(term, tune=False), 1000))
            n += 1
        elif language == "en":
            words = tuple(_EN_WORD_RE.findall(term.lower()))
            if 1 < len(words) <= _MAX_EN_TERM:
                en_terms[words] = " ".join(words)
                n += 1
    return n


def load_domain_terms(path: str | Path | None = None) -> int:
    """Load a domain dictionary into the tokenizer (``term,language,reason`` CSV).

    Chinese terms are added to jieba (``add_word`` with a frequency high enough to win
    over the default segmentation), English multi-word terms are joined into one
    token by `tokenize`. The project seed is loaded automatically on first use; call
    this for extra dictionaries.

    Parameters
    ----------
    path : str or Path, optional
        The CSV; defaults to `DEFAULT_DOMAIN_TERMS`.

    Returns
    -------
    int
        Number of terms added.
    """
    seg = _segmenter()
    path = Path(path) if path is not None else DEFAULT_DOMAIN_TERMS
    with _lock:
        if path == DEFAULT_DOMAIN_TERMS:
            _state["seed_loaded"] = True
        return _add_terms(seg, _read_terms(path))


def add_terms(terms: Iterable[str], language: str = "zh") -> int:
    """Add domain terms given directly (same effect as a dictionary row each).

    Parameters
    ----------
    terms : iterable of str
        The terms.
    language : str, default "zh"
        Their language.

    Returns
    -------
    int
        Number of terms added.
    """
    seg = _segmenter()
    with _lock:
        return _add_terms(seg, ((t, language) for t in terms))


# jieba cuts a text block by block (runs of its "han" characters, and the rest), each
# block on its own: the pieces of a block are cached, which gives the same tokens.
_JIEBA_BLOCK_RE = jieba.re_han_default
_JIEBA_SKIP_RE = jieba.re_skip_default
_BLOCK_CACHE_MAX = 500_000


def _cut_han(seg: jieba.Tokenizer, block: str) -> list[str]:
    """``seg.lcut(block, HMM=True)`` of one run of jieba "han" characters, in one pass.

    jieba's precise mode builds a DAG of the dictionary words starting at each
    position, a route of best log-probability from the right, then walks the route,
    sending each run of single characters that is not itself a dictionary word to the
    HMM (`jieba.finalseg.cut`). Here the DAG and the route are computed in the same
    right-to-left loop and the HMM cut of a run is cached; the arithmetic (``log(freq)
    - log(total) + route``, ties to the longer word) and so the words are jieba's.
    """
    freq = seg.FREQ
    get = freq.get
    logtotal = log(seg.total)
    n = len(block)
    route_p = [0.0] * (n + 1)
    route_end = list(range(n + 1))
    for k in range(n - 1, -1, -1):
        best = None
        end = k
        i = k
        frag = block[k]
        while i < n:
            f = get(frag)
            if f is None:
                break
            if f:
                p = log(f) - logtotal + route_p[i + 1]
                # max() over (p, i) pairs: the later end wins a tie.
                if best is None or p >= best:
                    best, end = p, i
            i += 1
            frag = block[k : i + 1]
        # No word starts here: the character alone, frequency 1 (jieba's "or 1").
        route_p[k] = -logtotal + route_p[k + 1] if best is None else best
        route_end[k] = end
    out: list[str] = []
    x = 0
    buf = ""
    while x < n:
        y = route_end[x] + 1
        if y - x == 1:
            buf += block[x]
        else:
            if buf:
                _flush_single(buf, freq, out)
                buf = ""
            out.append(block[x:y])
        x = y
    if buf:
        _flush_single(buf, freq, out)
    return out


def _flush_single(buf: str, freq: dict[str, int], out: list[str]) -> None:
    """A run of single-character route steps, as jieba's ``__cut_DAG`` emits it."""
    if len(buf) == 1:
        out.append(buf)
    elif not freq.get(buf):
        cache: dict[str, tuple[str, ...]] = _state["zh_hmm"]  # type: ignore[assignment]
        words = cache.get(buf)
        if words is None:
            if len(cache) >= _BLOCK_CACHE_MAX:
                cache.clear()
            words = cache[buf] = tuple(jieba.finalseg.cut(buf))
        out.extend(words)
    else:
        out.extend(buf)


def _jieba_cut(seg: jieba.Tokenizer, block: str) -> list[str]:
    """``seg.lcut(block, HMM=True)`` of one block of `_JIEBA_BLOCK_RE.split` (equal)."""
    if _JIEBA_BLOCK_RE.match(block):
        return _cut_han(seg, block)
    out: list[str] = []
    for piece in _JIEBA_SKIP_RE.split(block):
        if _JIEBA_SKIP_RE.match(piece):
            out.append(piece)
        else:
            out.extend(piece)
    return out


def _zh_block(block: str) -> tuple[str | None, ...]:
    """Tokens of one jieba block, ``None`` at each punctuation/space token (uncollapsed)."""
    cache: dict[str, tuple[str | None, ...]] = _state["zh_blocks"]  # type: ignore[assignment]
    hit = cache.get(block)
    if hit is not None:
        return hit
    out: list[str | None] = []
    for tok in _jieba_cut(_segmenter(), block):
        tok = tok.strip()
        if not tok or not _WORD_CHAR_RE.search(tok):
            out.append(None)
        elif _CJK_TOKEN_RE.search(tok):
            out.append(tok)
        else:
            out.extend(_raw_en(tok))
    if len(cache) >= _BLOCK_CACHE_MAX:
        cache.clear()
    hit = cache[block] = tuple(out)
    return hit


def _raw_zh(text: str) -> list[str | None]:
    """jieba tokens of a text; punctuation/space become ``None`` (phrase breaks)."""
    _segmenter()
    out: list[str | None] = []
    append = out.append
    for block in _JIEBA_BLOCK_RE.split(text):
        if not block:
            continue
        for tok in _zh_block(block):
            if tok is None:
                if out and out[-1] is not None:
                    append(None)
            else:
                append(tok)
    return out


def _raw_en(text: str) -> list[str | None]:
    """English word tokens; punctuation becomes ``None`` (phrase breaks)."""
    text = text.lower().replace("\u2019", "'")
    out: list[str | None] = []
    cache: dict[str, tuple[str, ...]] = _state.setdefault("en_chunks", {})  # type: ignore[assignment]
    for chunk in _EN_SPLIT_RE.split(text):
        words = cache.get(chunk)
        if words is None:
            # Chunks (text between punctuation) repeat across messages: cached.
            if len(cache) >= _BLOCK_CACHE_MAX:
                cache.clear()
            words = cache[chunk] = tuple(_join_en_terms(_EN_WORD_RE.findall(chunk)))
        if not words:
            continue
        if out:
            out.append(None)
        out.extend(words)
    return out


def _raw_words(text: str) -> list[str | None]:
    """Lowercased word tokens of any alphabetic script; punctuation becomes ``None``."""
    text = text.lower().replace("\u2019", "'")
    out: list[str | None] = []
    for chunk in _WORD_SPLIT_RE.split(text):
        words = _LETTER_WORD_RE.findall(chunk)
        if not words:
            continue
        if out:
            out.append(None)
        out.extend(words)
    return out


def _join_en_terms(words: list[str]) -> list[str]:
    """Greedily join English multi-word domain terms into single tokens (longest first)."""
    en_terms: dict[tuple[str, ...], str] = _state.get("en_terms") or {}  # type: ignore[assignment]
    if not en_terms:
        return words
    starts = _en_term_starts(en_terms)
    if starts.keys().isdisjoint(words):
        return words
    out, i = [], 0
    while i < len(words):
        # Only a word that begins a term can begin a join: most words are looked up once.
        for n in starts.get(words[i], ()):
            key = tuple(words[i : i + n])
            if len(key) == n and key in en_terms:
                out.append(en_terms[key])
                i += n
                break
        else:
            out.append(words[i])
            i += 1
    return out


def _en_term_starts(en_terms: dict[tuple[str, ...], str]) -> dict[str, tuple[int, ...]]:
    """First word of each English term: the term lengths it begins, longest first."""
    starts = _state.get("en_term_starts")
    if starts is None:
        lengths: dict[str, set[int]] = {}
        for words in en_terms:
            lengths.setdefault(words[0], set()).add(len(words))
        starts = {w: tuple(sorted(ns, reverse=True)) for w, ns in lengths.items()}
        _state["en_term_starts"] = starts
    return starts  # type: ignore[return-value]


def _raw_tokens(text: str, language: str) -> list[str | None]:
    """Word tokens with ``None`` at punctuation, for a resolved language."""
    if language == "zh":
        return _raw_zh(text)
    if language != "en":
        return _raw_words(text)
    _segmenter()  # seed terms (English ones too) are loaded with the segmenter
    return _raw_en(text)


def _singular(word: str) -> str:
    """Very simple English plural stripping (``lenses`` -> ``lens``, ``runs`` -> ``run``)."""
    if (
        len(word) <= 3
        or word in _NOT_PLURAL
        or word.endswith(("ss", "us", "is", "'s", "ics"))
        or not word.endswith("s")
    ):
        return word
    if word.endswith("nses"):
        return word[:-2]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    return word[:-1]


def _keep(tok: str, language: str, stop: frozenset[str]) -> bool:
    """Whether a raw token is a content token (not a stop word, number or stray char)."""
    if tok in stop:
        return False
    if is_cjk_token(tok):
        return True
    return len(tok) >= 2 and tok not in stopwords("en")


def tokenize(
    text: str | None, language: str | None = None, *, normalize_plurals: bool = False
) -> list[str]:
    """Split a message into content tokens.

    Parameters
    ----------
    text : str or None
        The message.
    language : str, optional
        Declared language (``"zh"``, ``"zh-Hans"``, ``"en"``, ...); detected from the
        text when missing or unusable.
    normalize_plurals : bool, default False
        Strip simple English plural endings.

    Returns
    -------
    list of str
        Lowercased English words / jieba words, in order, without stop words,
        punctuation and numbers. Latin words inside Chinese text are kept as English.
    """
    if not text:
        return []
    lang = resolve_language(language, text)
    stop = stopwords(lang) or stopwords("en")
    out = []
    for tok in _raw_tokens(text, lang):
        if tok is None or not _keep(tok, lang, stop):
            continue
        if normalize_plurals and not _CJK_TOKEN_RE.search(tok):
            tok = _singular(tok)
        out.append(tok)
    return out


def tokenize_many(
    texts: Iterable[str | None],
    languages: Iterable[str | None] | None = None,
    *,
    normalize_plurals: bool = False,
) -> list[list[str]]:
    """Tokenize many messages (see `tokenize`).

    Parameters
    ----------
    texts : iterable of str or None
        The messages.
    languages : iterable of str or None, optional
        Declared language per message.
    normalize_plurals : bool, default False
        As in `tokenize`.

    Returns
    -------
    list of list of str
        Tokens per message.
    """
    texts = list(texts)
    langs = list(languages) if languages is not None else [None] * len(texts)
    return [
        tokenize(t, lang, normalize_plurals=normalize_plurals)
        for t, lang in zip(texts, langs, strict=True)
    ]


def segments(text: str | None, language: str | None = None) -> list[list[str]]:
    """Split a message into runs of word tokens between punctuation marks.

    Stop words are kept (phrases such as ``字幕不同步`` or ``food sticking to pan``
    contain them); numbers and punctuation end a run.

    Parameters
    ----------
    text : str or None
        The message.
    language : str, optional
        Declared language; detected when missing.

    Returns
    -------
    list of list of str
        The runs, in order.
    """
    return tokens_and_segments(text, language)[1]


def tokens_and_segments(
    text: str | None, language: str | None = None, *, resolved: bool = False
) -> tuple[list[str], list[list[str]]]:
    """`tokenize` and `segments` of one message from a single segmentation pass.

    Parameters
    ----------
    text : str or None
        The message.
    language : str, optional
        Declared language; detected when missing.
    resolved : bool, default False
        `language` is already the output of `resolve_language` (no second detection).

    Returns
    -------
    tokens : list of str
        As `tokenize(text, language)`.
    runs : list of list of str
        As `segments(text, language)`.
    """
    if not text:
        return [], []
    lang = language if resolved and language else resolve_language(language, text)
    en_stop = stopwords("en")
    stop = stopwords(lang) or en_stop
    # Which tokens are Chinese, decided once per text rather than by a search per token:
    # English tokens are ASCII words; a Chinese text's tokens are jieba's (with an
    # ideograph, so not ASCII) or English ones; other tokens can only be Chinese when
    # the text has an ideograph.
    if lang == "zh":
        cjk_of = _not_ascii
    elif lang != "en" and _CJK_TOKEN_RE.search(text):
        cjk_of = is_cjk_token
    else:
        cjk_of = None
    tokens: list[str] = []
    runs: list[list[str]] = []
    run: list[str] = []
    for tok in _raw_tokens(text, lang):
        if tok is None:
            if run:
                runs.append(run)
                run = []
        elif cjk_of is not None and cjk_of(tok):
            # A Chinese token is kept unless a stop word, and always extends the run.
            if tok not in stop:
                tokens.append(tok)
            run.append(tok)
        elif len(tok) < 2:
            # A stray character or digit: never a token, and it ends the run.
            if run:
                runs.append(run)
                run = []
        else:
            if tok not in stop and tok not in en_stop:
                tokens.append(tok)
            run.append(tok)
    if run:
        runs.append(run)
    return tokens, runs


def _not_ascii(token: str) -> bool:
    """Whether a token of a Chinese text is a Chinese one (see `tokens_and_segments`)."""
    return not token.isascii()


def is_cjk_token(token: str) -> bool:
    """Whether a token contains a CJK ideograph.

    Parameters
    ----------
    token : str
        The token.

    Returns
    -------
    bool
        True for Chinese tokens.
    """
    return not token.isascii() and _CJK_TOKEN_RE.search(token) is not None


def join_tokens(tokens: Iterable[str]) -> str:
    """Join tokens into a phrase: no space between Chinese tokens, one space otherwise.

    Parameters
    ----------
    tokens : iterable of str
        The tokens.

    Returns
    -------
    str
        The phrase, e.g. ``"夜景噪点"`` or ``"night shot noise"``.
    """
    out = ""
    prev_cjk = False
    for i, tok in enumerate(tokens):
        cjk = is_cjk_token(tok)
        if i and not (cjk and prev_cjk):
            out += " "
        out += tok
        prev_cjk = cjk
    return out


def phrases(tokens: list[str], n: int = 2) -> list[str]:
    """Return the contiguous n-gram phrases of a token list.

    Parameters
    ----------
    tokens : list of str
        Tokens, e.g. from `tokenize`.
    n : int, default 2
        Phrase length in tokens.

    Returns
    -------
    list of str
        The n-grams joined with `join_tokens`, in order (``tokens[i:i+n]``).
    """
    if n < 1:
        raise ValueError("n must be >= 1")
    return [join_tokens(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
