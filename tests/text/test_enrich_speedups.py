"""The fast paths of enrichment equal the straightforward code they replace.

Chinese cutting is checked against jieba itself (`jieba.Tokenizer.lcut` with the HMM
on, the project's private tokenizer with its domain terms); every other rewritten
function against the code it replaced, kept here as the reference, on seeded
random texts that mix Chinese, English, digits, punctuation, white space and emoji.
"""

from __future__ import annotations

import importlib
import math
import random
import re

import pandas as pd
import pytest

from orchestration.lib.text import clean
from orchestration.lib.text.enrich import content_terms

tk = importlib.import_module("orchestration.lib.text.tokenize")
sentiment = importlib.import_module("orchestration.lib.text.sentiment")

# Terms of this test only (no other test's text contains them), mixed scripts included.
EXTRA_TERMS = ["测速专用词", "k线图表", "夜拍噪点控制", "三脚架云台"]

HAND_WRITTEN = [
    "分享一下最近的疫苗心得：宝宝和辅食搭配起来很优秀，很开心。",
    "用Lightroom导出太慢了，iPhone15拍的夜景噪点很多😭",
    "A股今天涨了3.5%，k线图表看着不错！！",
    "夜景噪点太明显了，怎么解决？ 求大佬指点 @小明",
    "三脚架云台和测速专用词都是测试用的　全角空格　和\t制表符\n换行",
    "价格￥1,299.00，型号RX100-M7，C++和C#都行 a_b 100%",
    "㐀㐁 豈更 龥 鿋 〇 々 ・ 〜 ー",
    "",
    "   ",
    "！！！？？？。。。",
    "no chinese at all, just English words and 42 numbers",
]


def _random_texts(n: int, seed: int) -> list[str]:
    """Seeded texts from jieba's dictionary words, rare ideographs, Latin, digits ..."""
    rng = random.Random(seed)
    seg = tk._segmenter()
    words = sorted(w for w, f in seg.FREQ.items() if f and len(w) <= 6)
    pieces = [
        lambda: rng.choice(words),
        lambda: rng.choice(words) + rng.choice(words),
        lambda: "".join(chr(rng.randint(0x4E00, 0x9FD5)) for _ in range(rng.randint(1, 6))),
        lambda: chr(rng.choice([0x3400, 0x4DB5, 0x9FD6, 0x9FFF, 0xF900, 0xFA2D])),
        lambda: rng.choice(["iPhone", "wide-angle", "don't", "APP", "k线", "5G", "x86_64"]),
        lambda: rng.choice(["3.5%", "100", "2026", "1,299.00", "#3", "a&b", "C++"]),
        lambda: rng.choice(list("，。！？、；：,.!?;:（）()《》「」…—-~")),
        lambda: rng.choice([" ", "  ", "\t", "\n", "\u3000", "\xa0", "\r\n"]),
        lambda: rng.choice(["😭", "👍", "🎉", "❤️", ":)", "😂😂"]),
        lambda: rng.choice(EXTRA_TERMS + ["夜景噪点", "battery life"]),
    ]
    weights = [30, 10, 8, 2, 6, 5, 12, 6, 3, 4]
    return [
        "".join(f() for f in rng.choices(pieces, weights, k=rng.randint(1, 25))) for _ in range(n)
    ]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    tk.add_terms(EXTRA_TERMS)
    return HAND_WRITTEN + _random_texts(3000, seed=15)


def test_fast_cut_equals_jieba_lcut_with_hmm(texts):
    seg = tk._segmenter()
    blocks = 0
    for text in texts:
        fast = []
        for block in tk._JIEBA_BLOCK_RE.split(text):
            if block:
                fast.extend(tk._jieba_cut(seg, block))
                blocks += 1
        assert fast == seg.lcut(text, HMM=True), text
    assert blocks > 15_000


def test_fast_cut_sees_terms_added_later():
    seg = tk._segmenter()
    text = "这个快门帘幕异响问题"
    assert "快门帘幕异响" not in tk._raw_zh(text)
    tk.add_terms(["快门帘幕异响"])
    assert "快门帘幕异响" in tk._raw_zh(text)
    assert [w for b in tk._JIEBA_BLOCK_RE.split(text) if b for w in tk._jieba_cut(seg, b)] == (
        seg.lcut(text, HMM=True)
    )


def _old_zh_block(block):
    out = []
    for tok in tk._segmenter().lcut(block, HMM=True):
        tok = tok.strip()
        if not tok or not tk._WORD_CHAR_RE.search(tok):
            out.append(None)
        elif tk._CJK_TOKEN_RE.search(tok):
            out.append(tok)
        else:
            out.extend(tk._raw_en(tok))
    return tuple(out)


def test_block_tokens_equal_those_of_jieba_lcut(texts):
    for text in texts:
        for block in tk._JIEBA_BLOCK_RE.split(text):
            if block:
                assert tk._zh_block(block) == _old_zh_block(block), block


def _old_tokens_and_segments(text, lang):
    stop = tk.stopwords(lang) or tk.stopwords("en")
    tokens, runs = [], [[]]
    for tok in tk._raw_tokens(text, lang):
        if tok is None:
            if runs[-1]:
                runs.append([])
            continue
        if tk._keep(tok, lang, stop):
            tokens.append(tok)
        if not tk._CJK_TOKEN_RE.search(tok) and len(tok) < 2:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append(tok)
    return tokens, [r for r in runs if r]


def test_tokens_and_segments_equal_the_per_token_search(texts):
    extra = ["Je suis très content du café 咖啡", "Привет мир 你好", "日本語のテキスト 漢字"]
    for text in texts + extra:
        for lang in ("zh", "en", "fr", "ru", "ja", "other"):
            got = tk.tokens_and_segments(text, lang, resolved=True)
            assert got == _old_tokens_and_segments(text, lang), (text, lang)


def test_is_cjk_token_equals_the_search(texts):
    for text in texts:
        for tok in text.split() + list(text):
            assert tk.is_cjk_token(tok) == bool(tk._CJK_TOKEN_RE.search(tok))


def _old_join(words, en_terms):
    # The longest term (4 words down to 2) that starts at each position, else the word.
    out, i = [], 0
    while i < len(words):
        lengths = range(tk._MAX_EN_TERM, 1, -1)
        n = next(
            (n for n in lengths if i + n <= len(words) and tuple(words[i : i + n]) in en_terms), 1
        )
        out.append(en_terms[tuple(words[i : i + n])] if n > 1 else words[i])
        i += n
    return out


def test_english_term_joins_equal_the_greedy_loop():
    tk._segmenter()
    tk.add_terms(["shutter count check", "battery", "dark mode toggle switch"], "en")
    en_terms = tk._state["en_terms"]
    rng = random.Random(3)
    vocab = [w for key in en_terms for w in key] + ["the", "is", "bad", "mode", "life"]
    for _ in range(3000):
        words = rng.choices(vocab, k=rng.randint(0, 12))
        assert tk._join_en_terms(list(words)) == _old_join(words, en_terms), words


def _old_is_code_line(line):
    stripped = line.strip()
    if not stripped:
        return False
    if clean._CODE_KEYWORD_LINE.match(stripped):
        return True
    chars = [c for c in stripped if not c.isspace()]
    if len(chars) < 8:
        return False
    symbols = sum(c in clean._CODE_CHARS for c in chars)
    return symbols >= 4 and symbols / len(chars) >= 0.2


CODE_LINES = [
    "def f(x): return x",
    "  import os; os.path",
    "from x import y = 1",
    "fromage = cheese",
    "for (i = 0; i < n; i++) {",
    "for the record: yes",
    "if (a) {",
    "print(x)",
    "SELECT * FROM t;",
    "select * from t;",
    "\u3000\u3000return (a);",
    "x[i] = y[i]; z = {a: b}",
    "a\u3000{\xa0}\x1c[\x1f]()",
    "{}[]()",
    "<<>>__//",
    "价格=100；数量=(3)",
    "#include <stdio.h>",
    "I love this camera!",
]


def test_is_code_line_equals_the_character_loop(texts):
    for line in CODE_LINES + [ln for t in texts for ln in t.split("\n")]:
        assert clean._is_code_line(line) == _old_is_code_line(line), line


def _old_clean_text(text):
    if not text:
        return ""
    text = clean._FENCED_CODE.sub("\n", text)
    text = clean._INLINE_CODE.sub(" ", text)
    text = clean._URL.sub(" ", text)
    text = clean._DISPLAY_MATH.sub("\n", text)
    text = clean._INLINE_MATH.sub(" ", text)
    text = clean._LATEX_COMMAND.sub(" ", text)
    text = clean._HTML_TAG.sub(" ", text)
    text = clean._HTML_ENTITY.sub(" ", text)
    text = clean._MENTION.sub(" ", text)
    if "\n" in text or len(text) > 40:
        text = "\n".join(line for line in text.split("\n") if not _old_is_code_line(line))
    return clean._SPACES.sub(" ", text).strip()


MARKUP = [
    "see https://example.com/a?b=1 and WWW.Example.org/x or Www.foo.cn",
    "mail me: a.b+c@mail.example.com, @alice_01 said hi, email@x",
    "```\ncode here\n``` and ~~~ unterminated",
    "inline `x = 1` code and a lone ` backtick",
    r"$x^2$ costs $5 and $10; $$\int f$$ \[a\] \(b\) \begin{align}x\end{align}",
    r"\frac{a}{b} \alpha\, \{ \% done",
    "<b>bold</b> <a href='x'>link</a> 1 < 2 > 0 &amp; &#39; &nbsp; AT&T;",
    "for (int i = 0; i < n; i++) { x[i] = y[i]; }\nplain words here that are long enough",
    "多行\n  def f(x): return x\n中文评论，很好用",
]


def test_clean_text_equals_every_pattern_run(texts):
    for text in MARKUP + texts:
        assert clean.clean_text(text) == _old_clean_text(text), text


def _old_en_chunk(chunk):
    words, emoticons = sentiment._en_lexicon()
    em = emoticons.get(chunk) or emoticons.get(chunk.lower())
    if em is None and len(chunk) > 2 and chunk[-1] in ".,!?":
        em = emoticons.get(chunk[:-1])
    if em is not None:
        return (em, chunk.lower(), ())
    emoji = sentiment._emoji()
    found = []
    for ch in chunk:
        v = emoji.get(ch)
        if v is not None:
            found.append((ch, v))
    items = []
    for w in sentiment._EN_WORD.findall(chunk.lower().replace("n't", " n't")):
        if w in sentiment._PUNCT:
            items.append((w, sentiment._MARK, None, False, False, False, False))
            continue
        w, elongated = sentiment._collapse(w, words)
        kinds = [
            (w in sentiment._NEGATORS or w.endswith("n't"), sentiment._NEGATOR),
            (w in sentiment._CONTRAST, sentiment._CONTRAST_WORD),
            (w in sentiment._CONCESSIVE, sentiment._CONCESSIVE_WORD),
            (True, sentiment._WORD),
        ]
        kind = next(k for hit, k in kinds if hit)
        v = words.get(w)
        feature = v != 0.0 and w not in sentiment._EN_FUNCTION_WORDS
        slang = w in sentiment._slang("en")
        items.append((w, kind, v, feature, slang, elongated, len(w) > 1 and w.upper() in chunk))
    return (None, tuple(items), tuple(found))


EN_TEXTS = [
    "I LOVE this phone!!! soooo goooood :) but the battery isn't great.",
    "Although the plot is thin, the acting is GREAT. Doesn't work? :( 👍👎",
    "LONDON (Reuters) - Oil prices rose 3% on Monday, traders said.",
    "meh... kinda ok, not bad, NOT_bad, can't complain 😂 <3 :-D",
]


def test_english_chunks_equal_the_direct_reading(texts):
    for text in EN_TEXTS + texts:
        for chunk in text.split():
            assert sentiment._en_chunk(chunk) == _old_en_chunk(chunk), chunk


def test_english_scores_do_not_depend_on_the_chunk_cache(texts):
    sample = EN_TEXTS + texts[:500]
    warm, _ = sentiment.score_sentiment(sample, "en")
    sentiment._en_chunks.clear()
    cold, _ = sentiment.score_sentiment(sample, "en")
    assert [x.hex() for x in warm] == [x.hex() for x in cold]


def test_model_logit_equals_the_filtered_sum(texts):
    weights, meta = sentiment._model("zh_lr")
    for text in texts[:1000]:
        feats = sentiment.zh_features(text)
        vals = [v for v in map(weights.get, set(feats)) if v is not None]
        got = sentiment._model_logit(feats, weights, meta["bias"])
        if not vals:
            assert got == (0.0, 0)
            continue
        n = len(vals)
        want = (meta["bias"] + math.fsum(vals) / math.sqrt(n)) * n / (n + sentiment._SHRINK)
        assert got == (want, n)


def test_zh_features_equal_the_slices(texts):
    for text in texts:
        feats = sentiment.zh_features(text)
        t = sentiment._SPACE.sub("", text.lower())
        for formula in sentiment._zh_formulae():
            t = t.replace(formula, "")
        assert feats == list(t) + [t[i : i + 2] for i in range(len(t) - 1)]


def _old_detect(text):
    if not text:
        return "other", False
    cjk = len(tk._CJK_RE.findall(text))
    kana = len(tk._KANA_RE.findall(text))
    hangul = len(tk._HANGUL_RE.findall(text))
    words = tk._LETTER_WORD_RE.findall(text)
    latin = len(tk._LATIN_RE.findall(text))
    if kana and kana + cjk >= 2:
        return "ja", True
    if hangul >= 2:
        return "ko", True
    if cjk and cjk / (cjk + latin) >= tk._ZH_SHARE:
        return "zh", True
    if not words:
        return "other", False
    lowered = [w.lower() for w in words]
    if all(w.isascii() for w in lowered):
        other_hits = tk._max_other_hits(lowered)
        if other_hits == 0:
            return "en", False
        en_stop = tk.stopwords("en")
        en_hits = sum(w in en_stop for w in lowered)
        if en_hits / len(lowered) >= tk._EN_SURE_SHARE and en_hits >= 2 * other_hits:
            return "en", len(lowered) >= tk._MIN_WORDS_FOR_LANGID
    if len(words) < tk._MIN_WORDS_FOR_LANGID:
        return ("en" if latin else "other"), False
    code, _ = tk._langid().classify(text)
    return code, True


OTHER_LANGUAGES = [
    "これは日本語の文章です",
    "한국어 문장입니다",
    "Bonjour, je ne suis pas venu avec mes amis pour le dîner",
    "Das ist nicht gut, aber die Kamera ist schön",
    "Привет, как дела у тебя сегодня",
    "el perro y la casa de mi amigo",
]


def _ascii_texts(n: int, seed: int) -> list[str]:
    """Seeded ASCII texts: English, French and Spanish words, apostrophes, digits, marks."""
    rng = random.Random(seed)
    return [" ".join(rng.choices(ASCII_VOCABULARY, k=rng.randint(0, 14))) for _ in range(n)]


ASCII_VOCABULARY = [
    "the", "a", "is", "not", "I", "I'm", "don't", "we", "you", "camera", "lens", "battery",
    "great", "bad", "le", "la", "les", "est", "pas", "je", "ne", "et", "de", "el", "los",
    "que", "por", "y", "con", "du", "und", "die", "der", "ist", "nicht", "x_y", "a1", "3",
    "2026", "l'eau", "O'Neil", "C3PO", "ok", "LOL", ",", ".", "!", "?", ":", ";", "-", "(",
    ")", "'quoted'", "it's",
]  # fmt: skip


def test_language_detection_equals_the_full_scan(texts):
    ascii_texts = _ascii_texts(1500, seed=4)
    assert all(t.isascii() for t in ascii_texts)
    for text in ascii_texts + EN_TEXTS + WIRE_TEXTS + OTHER_LANGUAGES + texts[:1000]:
        assert tk._detect(text) == _old_detect(text), text


def test_content_terms_count_in_first_seen_order():
    enriched = pd.DataFrame(
        {"content_id": ["a", "b", "c"], "tokens": [["夜景", "噪点", "夜景", "噪点"], ["x"], []]}
    )
    terms = content_terms(enriched)
    assert terms.values.tolist() == [
        ["a", "夜景", 2],
        ["a", "噪点", 2],
        ["a", "夜景噪点", 2],
        ["a", "噪点夜景", 1],
        ["b", "x", 1],
    ]


def test_random_texts_are_seeded():
    assert _random_texts(5, seed=1) == _random_texts(5, seed=1)
    assert re.search("[\u4e00-\u9fff]", "".join(_random_texts(50, seed=2)))


WIRE_TEXTS = [
    "LONDON (Reuters) - Oil prices rose",
    "NEW YORK, NY - Stocks fell",
    "WASHINGTON -- officials said",
    "AP - a storm hit",
    "The BBC and CNN said so",
    "xinhua reported, Xinhua reported",
    "ABC",
    "AB (x",
    "ÜBER - test",
    "abcDEF - no",
    "According to PRNewswire and Business Wire",
]


def test_wire_prefilter_never_hides_a_match(texts):
    for text in WIRE_TEXTS + EN_TEXTS + texts:
        if sentiment._WIRE.search(text) is not None:
            assert sentiment._may_name_wire(text), text
    assert sentiment.en_register(WIRE_TEXTS[0]) == "report"
    assert not sentiment._may_name_wire("i love this phone, it is great")
