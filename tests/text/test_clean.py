"""Cleaning and language identification on real snippets and mixed, short messages."""

import math

import pandas as pd

from orchestration.lib.text.clean import clean_text, is_markup_term, markup_terms
from orchestration.lib.text.enrich import enrich_contents
from orchestration.lib.text.tokenize import detect_language, resolve_language, tokenize

# Short snippets as the Stack Exchange importer leaves them (HTML tags stripped):
# conlang.meta.stackexchange.com posts 4 and 6, and MathJax as quantum computing posts write it.
SE_LINK = (
    "Aside from a few exceptions (https://es.stackoverflow.com/), all stacks are "
    "enforcing use of the English language."
)
SE_MATHJAX = (
    r"The state $\left| \psi \right\rangle = \frac{1}{\sqrt{2}}(|0\rangle + |1\rangle)$ "
    r"is measured; $$\lvert a \rvert^2$$ gives the probability."
)
SE_CODE = "I tried this:\n```\nfor (int i = 0; i < n; i++) { x[i] = y[i]; }\n```\nbut it fails."


def test_urls_mentions_and_math_leave_the_tokens():
    toks = tokenize(clean_text(SE_LINK))
    assert "https" not in toks and "stackoverflow" not in toks and "exceptions" in toks
    toks = tokenize(clean_text(SE_MATHJAX))
    assert not {"left", "right", "rangle", "frac", "sqrt", "lvert", "psi"} & set(toks)
    assert {"state", "measured", "probability"} <= set(toks)
    assert tokenize(clean_text(SE_CODE)) == tokenize("I tried this: but it fails.")
    assert clean_text("@alice thanks, see `np.dot(a, b)`") == "thanks, see"


def test_emoji_prices_and_plain_text_stay():
    assert clean_text("great stuff 😀 :)") == "great stuff 😀 :)"
    assert clean_text("It costs $5 and $10") == "It costs $5 and $10"
    assert clean_text("拍夜景的时候噪点太多了") == "拍夜景的时候噪点太多了"
    assert clean_text(None) == ""


def test_markup_terms_come_from_pylatexenc_html_and_urls():
    for term in ("frac", "rangle", "lvert", "sqrt", "https", "nbsp", "href", "left right"):
        assert is_markup_term(term), term
    assert not is_markup_term("battery") and "quantum" not in markup_terms()


def test_language_codes_mixed_and_short():
    assert detect_language("Je pense que la réponse est bonne, merci pour votre aide") == "fr"
    assert detect_language("Creo que la respuesta es correcta, gracias por la ayuda") == "es"
    assert detect_language("Ich glaube, die Antwort ist richtig, danke für die Hilfe") == "de"
    assert detect_language("このカメラはとても良いです") == "ja"
    assert detect_language("The shutter speed was too slow for this") == "en"
    assert detect_language("用Lightroom导出太慢了") == "zh"  # mixed zh/en stays zh
    assert detect_language("这个app的battery太差") == "zh"
    assert detect_language("ok") == "en"  # too short for a model
    assert resolve_language("fr", "merci") == "fr"  # short: the declared code decides
    assert resolve_language("en", "Je pense que la réponse est bonne, merci") == "fr"


def test_french_stop_words_and_null_sentiment_with_reason():
    toks = tokenize("Je pense que la réponse de la communauté est bonne", "fr")
    assert not {"je", "que", "la", "de", "est"} & set(toks)
    assert "réponse" in toks and "communauté" in toks
    out = enrich_contents(
        pd.DataFrame(
            {
                "content_id": ["a", "b", "c"],
                "body": ["Je pense que la réponse est très mauvaise", "I love it 😀", "12345"],
                "language": [None, None, None],
            }
        )
    ).set_index("content_id")
    assert out.loc["a", "language"] == "fr"
    assert math.isnan(out.loc["a", "sentiment_score"]) and pd.isna(out.loc["a", "sentiment_label"])
    assert out.loc["a", "sentiment_missing_reason"] == "no_model_for_language"
    assert out.loc["b", "sentiment_label"] == "positive"
    assert pd.isna(out.loc["b", "sentiment_missing_reason"])
    assert out.loc["c", "sentiment_missing_reason"] == "no_text"
