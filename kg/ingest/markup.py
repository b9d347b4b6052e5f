"""LaTeX and HTML markup in titles and abstracts, turned into the text a reader sees.

arXiv titles carry ``$\\mathcal{O}(n)$``, scraped listings carry ``H<sub>2</sub>O``. Only math
spans, a few text commands and formatting tags are converted: anything else (a ``<script>``
tag, a stray backslash, a percent sign) is kept as written, and exporters escape it.

>>> plain_text(r"Bounds of $\\mathcal{O}(n)$ for H<sub>2</sub>O &amp; \\emph{friends}")
'Bounds of 𝒪(n) for H2O & friends'
>>> plain_text(r"Fr\\'{e}chet distance of {\\em backdoor} e\\textbf{\\underline{F}}ficient models")
'Fréchet distance of backdoor eFficient models'
>>> plain_text("large language models~(LLMs) cost ~2% more")
'large language models (LLMs) cost ~2% more'
>>> plain_text("<script>alert(1)</script> improves by 5% over 50$")
'<script>alert(1)</script> improves by 5% over 50$'
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any

_FORMAT_TAGS = re.compile(
    r"</?(?:sub|sup|i|b|em|strong|span|tt|u|small|mi|mo|mn|mrow|math|inf)(?:\s[^<>]{0,200})?/?>",
    re.IGNORECASE,
)
_BREAK_TAGS = re.compile(r"<(?:br|p|/p)\s*/?>", re.IGNORECASE)
_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{1,6}|#x[0-9a-fA-F]{1,6});")
_MATH = re.compile(r"(?<![\\$])\$([^$\n]{1,300}?)\$(?!\$)|\\\((.{1,300}?)\\\)")
_TEXT_COMMAND = re.compile(
    r"\\(?:emph|textbf|textit|texttt|textrm|textsc|mathrm|mathbf|mathit|text|underline|url)\{([^{}]*)\}"
)
_FONT_SWITCH = re.compile(
    r"\{\\(?:em|it|bf|sl|sc|tt|rm|sf|itshape|bfseries|scshape|ttfamily)\s+([^{}]*)\}"
)
"""An old-style font switch around its words: "{\\em backdoor attacks}"."""
_LINK_OR_COLOR = re.compile(
    r"\\(?:href|hyperlink|textcolor)\{[^{}]*\}\{([^{}]*)\}|\\color\{[\w!.-]*\}\s*"
)
"""A link's target or a colour, dropped: "\\href{url}{this https URL}",
"\\textbf{\\color{ddt}D}ecoupled"."""
_ACCENT = re.compile(r"\{?\\['\"`^~=.][a-zA-Z]\}?|\\['\"`^~=.cuvHk]\{[a-zA-Z]\}")
NESTING = 4
"""Levels of text commands unwrapped, from the inside: "e\\textbf{\\underline{F}}ficient"."""


@lru_cache(maxsize=1)
def _latex() -> tuple[Any, Any]:
    """The converter, and the macro database that pylatexenc would otherwise make again for
    every span it parses (it only reads it)."""
    from pylatexenc.latex2text import LatexNodes2Text
    from pylatexenc.latexwalker import get_default_latex_context_db

    return LatexNodes2Text(math_mode="text"), get_default_latex_context_db()


_TIE = re.compile(r"(?<=\w)~(?=[\w(\\])")
"""LaTeX's tie (a non-breaking space) between words: "models~(LLMs)", "at~\\url"; a "~" that
means "about" ("~2%") follows a space and is kept."""
_MACRO_SPACE = re.compile(r"(\\[a-zA-Z]+)\s")


@lru_cache(maxsize=16_384)  # papers repeat their spans ("$k$", "$\\mathcal{O}(n)$")
def _latex_to_text(source: str) -> str:
    # LaTeX swallows the space after a macro ("\log n" -> "logn"); a reader expects it kept.
    source = _MACRO_SPACE.sub(r"\1{} ", source)
    converter, macros = _latex()
    try:
        return str(converter.latex_to_text(source, latex_context=macros).strip())
    except Exception:  # pylatexenc rejects some malformed input: keep the source then
        return source


def plain_text(text: str) -> str:
    if "<" in text:
        text = _BREAK_TAGS.sub(" ", text)
        text = _FORMAT_TAGS.sub("", text)
    if "&" in text and _ENTITY.search(text):
        text = html.unescape(text)
    if "\\" in text or "$" in text:
        text = _ACCENT.sub(lambda m: _latex_to_text(m.group(0)), text)  # "Fr\\'{e}chet"
        for _ in range(NESTING):
            unwrapped = _LINK_OR_COLOR.sub(lambda m: m.group(1) or "", text)
            unwrapped = _FONT_SWITCH.sub(r"\1", _TEXT_COMMAND.sub(r"\1", unwrapped))
            if unwrapped == text:
                break
            text = unwrapped
        text = _MATH.sub(lambda m: _latex_to_text(m.group(1) or m.group(2)), text)
    if "~" in text:
        text = _TIE.sub(" ", text)
    return text
