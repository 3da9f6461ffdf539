"""Clean message text once, before tokens, language and sentiment are computed.

Real community text carries markup that is not what members talk about: code blocks and
inline code, LaTeX/MathJax (``$\\frac{a}{b}$``, ``\\left\\langle ... \\right\\rangle``),
URLs and @mentions. Left in, they lead the topics (``rangle``, ``frac``, ``https``) and
fool the language detector. `clean_text` removes them and keeps everything else,
emoji and emoticons included (they are sentiment signals). LaTeX command names come
from pylatexenc's default context databases (MIT), so `markup_terms` can also tell the
report which terms are markup. Pure and deterministic.
"""

from __future__ import annotations

import html.entities
import re
from functools import lru_cache

__all__ = ["clean_text", "clean_texts", "is_markup_term", "markup_terms"]

_FENCED_CODE = re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)", re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]{1,300}`")
_DISPLAY_MATH = re.compile(
    r"\$\$.+?\$\$|\\\[.+?\\\]|\\begin\{([a-zA-Z*]+)\}.*?\\end\{\1\}", re.DOTALL
)
# $...$ only when it looks like math: no space just inside the dollars, so prices
# ("$5 and $10") stay text.
_INLINE_MATH = re.compile(r"\\\(.+?\\\)|\$(?=\S)[^$\n]{1,400}?(?<=\S)\$")
_LATEX_COMMAND = re.compile(r"\\[a-zA-Z]+\*?|\\[{}%$&#_,;!|]")
_URL = re.compile(
    r"(?:https?|ftp)://\S+|\bwww\.[^\s/]+\S*|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", re.IGNORECASE
)
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_][\w.\-]{0,38}")
_HTML_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*\b[^<>]{0,200}>")
_HTML_ENTITY = re.compile(r"&#?[a-zA-Z0-9]{1,10};")
_CODE_KEYWORD_LINE = re.compile(
    r"^\s*(?:def|class|import|from\s+\S+\s+import|#include|public|private|return|var|let|"
    r"const|function|SELECT|INSERT|print\(|for\s*\(|while\s*\(|if\s*\()\b.*[(){};=:]"
)
# The words `_CODE_KEYWORD_LINE` can begin with: a stripped line starting with none of
# them cannot match it.
_CODE_KEYWORD_STARTS = (
    "def", "class", "import", "from", "#include", "public", "private", "return", "var",
    "let", "const", "function", "SELECT", "INSERT", "print(", "for", "while", "if",
)  # fmt: skip
_CODE_CHARS = frozenset("{}[]();=<>_\\/|*&^%$#~")
_DROP_CODE_CHARS = dict.fromkeys(map(ord, _CODE_CHARS))
_SPACES = re.compile(r"[ \t]{2,}")


def _is_code_line(line: str) -> bool:
    """A line that reads as program code: code keywords or mostly code symbols."""
    stripped = line.strip()
    if not stripped:
        return False
    if stripped.startswith(_CODE_KEYWORD_STARTS) and _CODE_KEYWORD_LINE.match(stripped):
        return True
    # Characters that are not white space: str.split() splits at exactly the characters
    # for which str.isspace() holds.
    n_chars = sum(map(len, stripped.split()))
    if n_chars < 8:
        return False
    symbols = len(stripped) - len(stripped.translate(_DROP_CODE_CHARS))
    return symbols >= 4 and symbols / n_chars >= 0.2


def clean_text(text: str | None) -> str:
    """Remove code, LaTeX/MathJax, URLs, e-mail addresses, @mentions and stray tags.

    Parameters
    ----------
    text : str or None
        A message body (HTML tags usually already stripped by the importer).

    Returns
    -------
    str
        The text without markup ("" for None); emoji, emoticons and punctuation stay.
        Removed spans become a line break or a space, so the words on either side are
        never glued into one token or one phrase.
    """
    if not text:
        return ""
    # Each pattern runs only when the text has a character every match of it needs.
    if "```" in text or "~~~" in text:
        text = _FENCED_CODE.sub("\n", text)
    if "`" in text:
        text = _INLINE_CODE.sub(" ", text)
    if "://" in text or "@" in text or ("." in text and "www." in text.lower()):
        text = _URL.sub(" ", text)
    if "$" in text or "\\" in text:
        text = _DISPLAY_MATH.sub("\n", text)
        text = _INLINE_MATH.sub(" ", text)
    if "\\" in text:
        text = _LATEX_COMMAND.sub(" ", text)
    if "<" in text:
        text = _HTML_TAG.sub(" ", text)
    if "&" in text:
        text = _HTML_ENTITY.sub(" ", text)
    if "@" in text:
        text = _MENTION.sub(" ", text)
    if "\n" in text or len(text) > 40:
        text = "\n".join(line for line in text.split("\n") if not _is_code_line(line))
    return _SPACES.sub(" ", text).strip()


def clean_texts(texts: list[str | None]) -> list[str]:
    """`clean_text` of every message (same order)."""
    return [clean_text(t) for t in texts]


@lru_cache(maxsize=1)
def markup_terms() -> frozenset[str]:
    """Lowercase names that are markup, not words of a conversation.

    Returns
    -------
    frozenset of str
        Every LaTeX macro and environment name in pylatexenc's default context
        database, every HTML5 entity name of the standard library, common HTML tag
        names and URL parts (``http``, ``https``, ``www``, ``com``, ...).
    """
    from pylatexenc import latex2text, latexwalker
    from pylatexenc.latexencode._uni2latexmap import uni2latex

    names: set[str] = set()
    # The parser's and the text converter's databases (the latter knows \lvert, ...).
    for db in (
        latexwalker.get_default_latex_context_db(),
        latex2text.get_default_latex_context_db(),
    ):
        for category in db.categories():
            for spec in db.iter_macro_specs([category]):
                names.add(spec.macroname.lower())
            for spec in db.iter_environment_specs([category]):
                names.add(spec.environmentname.lower())
    for latex in uni2latex.values():
        names.update(m.lower() for m in re.findall(r"\\([a-zA-Z]+)", latex))
    # Delimiter sizing that pylatexenc's parser handles itself rather than as macros.
    names |= {"left", "right", "big", "bigl", "bigr", "bigg", "biggl", "biggr", "middle"}
    names |= {n.rstrip(";").lower() for n in html.entities.html5}
    names |= {
        "a", "abbr", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3",
        "h4", "hr", "href", "i", "img", "kbd", "li", "ol", "p", "pre", "rel", "span",
        "src", "strong", "sub", "sup", "table", "td", "th", "tr", "ul", "nofollow",
        "noreferrer",
    }  # fmt: skip
    names |= {"http", "https", "ftp", "www", "com", "org", "net", "html", "htm", "php"}
    return frozenset(n for n in names if n.isalpha())


def is_markup_term(term: str) -> bool:
    """Whether any word of a (possibly multi-word) term is a `markup_terms` name."""
    return any(word in markup_terms() for word in term.lower().split())
