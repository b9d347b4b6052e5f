"""Fast-mode candidates: noun-phrase-like chunks found without a tagger.

Text is split into words; stop words, punctuation and words that can only be verbs, adverbs or
function words end a chunk. Word classes come from lemminflect's English lexicon (its lookup
table, read directly: no spaCy). A chunk is trimmed to start on a word that can open a keyphrase
and to end on a word that can be a noun (unknown words - acronyms, coinages - count as nouns),
then cut to its last ``max_words`` words, like the tagger-based candidates of ``candidates.py``.
A closing word that can also be a verb is dropped where its neighbours make it one ("the paper
presents | a method", "recent results show | that", "methods relying | on").

>>> [c.phrase for c in fast_candidates(["We study zeroth-order optimization of LLMs."])[0]]
['zeroth-order optimization', 'llms']
"""

from __future__ import annotations

import csv
import gzip
import re
import sys
import threading
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from types import ModuleType
from typing import Any, cast

from kg.extract.candidates import BAD_FIRST, GENERIC, Candidate

NOUN, ADJ, PART, STOP, VERB = 1, 2, 4, 8, 16
CHUNK = NOUN | ADJ | PART
"""The classes a chunk is made of. ``VERB`` marks a word that can also be a verb."""

STOP_WORDS = frozenset(
    """a about above across after afterwards again against all almost alone along already also
    although always am among amongst an and another any anyhow anyone anything anyway
    anywhere are around as at be became because become becomes becoming been before
    beforehand behind being below beside besides between beyond both but by can cannot could
    did do does doing done down due during each eg either else elsewhere enough etc even
    ever every everyone everything everywhere except few for former formerly from further
    had has have having he hence her here hereafter hereby herein hereupon hers herself him
    himself his how however i ie if in indeed into is it its itself just least less like
    made make makes making many may me meanwhile might mine more moreover most mostly much
    must my myself namely neither never nevertheless next no nobody none noone nor not
    nothing now nowhere of off often on once one only onto or other others otherwise our
    ours ourselves out over own per perhaps please rather re same seem seemed seeming seems
    several she should since so some somehow someone something sometime sometimes somewhere
    still such than that the their theirs them themselves then thence there thereafter
    thereby therefore therein thereupon these they this those though through throughout thru
    thus to together too toward towards under until up upon us use used uses using very via
    was we well were what whatever when whence whenever where whereafter whereas whereby
    wherein whereupon wherever whether which while whither who whoever whole whom whose why
    will with within without would yet you your yours yourself yourselves also able across
    around via versus vs according regarding remains""".split()  # noqa: SIM905
)

SUBJECTS = frozenset(["we", "i", "you", "they", "to"])
"""After these a noun-or-verb word is a verb: "we study ...", "to address ..."."""

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’]*(?:[-–][A-Za-z0-9][A-Za-z0-9'’]*)*|\S")
"""A word ("zeroth-order", "authors’") or a single other character, in ASCII text."""
_LETTERS = r"[^\W_]+(?:['’]+[^\W_]*)*"  # letters and digits of any script, apostrophes within
_ANY_WORD = re.compile(rf"{_LETTERS}(?:[-–]{_LETTERS})*|\S")
"""The same in any text ("Fréchet"); a fifth slower, so only where a text is not ASCII."""


@lru_cache(maxsize=1)
def lexicon() -> dict[str, int]:
    """Lower-cased word -> bit set of the classes it can have (NOUN, ADJ, PART, STOP).

    Derived from lemminflect's table once, then read from the cache folder (a JSON file).
    """
    import json
    import os
    import tempfile
    from importlib import metadata

    from kg.extract.cache import cache_dir

    path = cache_dir() / f"lexicon-lemminflect-{metadata.version('lemminflect')}-v2.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    table = _derive_lexicon()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".lexicon-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(table, f, sort_keys=True)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache only costs speed
    return table


class _Hidden:
    """An import finder by which ``import spacy`` fails while it is on ``sys.meta_path``."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.partition(".")[0] == "spacy":
            raise ModuleNotFoundError("spacy is not imported with lemminflect", name=name)


_IMPORTING = threading.Lock()


@lru_cache(maxsize=1)
def lemminflect() -> ModuleType:
    """lemminflect, imported without the spaCy hook that its package runs where spaCy is
    installed.

    Its ``__init__`` imports spaCy to register token extensions (``token._.lemma``) that kg
    never reads, and spaCy imports thinc, which imports PyTorch: 1.9 s of the 5.5 s that the
    demo's build took. While lemminflect is imported, ``import spacy`` fails (``_Hidden``, an
    import finder put first), which lemminflect takes as spaCy missing. Where spaCy is already
    imported (the tagger's candidates), it is imported as it is."""
    with _IMPORTING:
        if "lemminflect" in sys.modules or "spacy" in sys.modules:
            import lemminflect

            return lemminflect
        hidden = _Hidden()
        sys.meta_path.insert(0, hidden)
        try:
            import lemminflect
        finally:
            sys.meta_path.remove(hidden)
    return lemminflect


def _derive_lexicon() -> dict[str, int]:
    classes: dict[str, int] = {}
    source = resources.files(lemminflect()) / "resources" / "lemma_lu.csv.gz"
    with source.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as text:
        for word, upos, _ in csv.reader(text):
            word = word.lower()
            bits = classes.get(word, 0) | (VERB if upos in ("verb", "aux") else 0)
            if upos in ("noun", "propn"):
                bits |= NOUN
            elif upos == "adj":
                bits |= ADJ
            elif upos == "verb" and word.endswith(("ed", "ing", "en", "wn", "lt")):
                bits |= PART
            elif upos in ("verb", "aux", "adv"):
                bits |= STOP if not bits & ~VERB else 0
            classes[word] = bits
    for word in STOP_WORDS:
        classes[word] = STOP
    # Verbs-only and adverb-only words end a chunk; words that are also nouns/adjectives stay.
    table = {
        w: (STOP if b & STOP and not b & (NOUN | ADJ) else b & ~STOP) for w, b in classes.items()
    }
    return {w: b for w, b in table.items() if b != NOUN}  # unknown words count as nouns


def _word_class(word: str, lex: dict[str, int]) -> int:
    lower = word.lower()
    if lower in lex:
        return lex[lower]
    if "-" in lower or "–" in lower:
        last = re.split("[-–]", lower)[-1]
        bits = lex.get(last, NOUN)
        return bits if bits & (NOUN | ADJ) else ADJ  # "transformer-based", "fine-tuned"
    if lower.endswith("ly"):
        return STOP
    return NOUN  # unknown: acronyms, names, coinages


GERUND_AFTER = frozenset(
    ["the", "a", "an", "of", "for", "in", "on", "and", "or", "with", "by", "to", "from"]
)
"""After these an -ing word alone is a noun: "of reasoning", "the positioning"."""
VERB_AFTER = frozenset(["for", "by", "while", "when", "after", "before", "without"])
"""After these (and -ly adverbs) an -ing word that opens a longer chunk is a verb: "for finding
complex zeros", "interactively proving temporal properties" (but "for scheduling of jobs")."""
NUMBERS = frozenset(
    [
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "hundreds",
        "thousands",
    ]
)


def _verb_like(word: str) -> bool:
    """After "we" or "to", a noun-or-verb word is a verb, unless it is a plural noun."""
    lower = word.lower()
    return not (lower.endswith("s") and not lower.endswith(("ss", "us", "is")))


OBJECT_OPENERS = frozenset(
    """a an the this these those its their our his her my your them it us several each
    every""".split()  # noqa: SIM905
)
"""After a word that can be a noun or a verb, these make it a verb: "the paper presents | a"."""
AFTER_VERB = frozenset(["that", "with", "to", "on", "as", "from"])
"""After a plural noun, a noun-or-verb word before these is a verb: "methods aim | to"."""
SINGULAR_S = frozenset(["series", "species", "means", "news", "lens", "bias", "gas", "atlas"])


def _plural(word: str) -> bool:
    """Whether a lower-cased word looks like a plural noun ("models", not "dynamics")."""
    return (
        word.endswith("s")
        and not word.endswith(("ss", "us", "is", "ics"))
        and word not in SINGULAR_S
    )


def _verb_closes(words: list[str], classes: list[int], first: int, last: int) -> bool:
    """Whether the closing word of ``first..last``, which can also be a verb, is one here: before
    an object ("the paper presents | a method", "by training | the model"), after a plural noun
    before one of ``AFTER_VERB`` ("recent results show | that", "methods aim | to"), or as an
    -ing word after a plural noun ("methods relying | on")."""
    if not classes[last] & VERB:
        return False
    word = words[last].lower()
    after = words[last + 1].lower() if last + 1 < len(words) else ""
    plural_before = last > first and _plural(words[last - 1].lower())
    bare = not (_plural(word) or word.endswith("ing"))
    if after in OBJECT_OPENERS:
        return not bare or last == first or plural_before  # not "the first time | a"
    if not plural_before:
        return False
    return word.endswith("ing") or (bare and after in AFTER_VERB)


def _opens(words: list[str], classes: list[int], k: int, start: int, end: int) -> bool:
    """Whether word ``k`` of the chunk ``start:end`` can open a keyphrase."""
    word = words[k]
    gerund = bool(classes[k] & PART) and word.lower().endswith("ing")
    if word.lower() in BAD_FIRST or not (classes[k] & (NOUN | ADJ) or gerund and end == k + 1):
        return False  # a participle opens only alone, as a gerund ("for scheduling of jobs")
    if word.isdigit() or word.lower() in NUMBERS:  # "162 patients", "seven patients"
        return False
    if k == start and k > 0:
        before = words[k - 1].lower()
        if before in SUBJECTS and _verb_like(word):
            return False
        if gerund and end > k + 1:
            return not (before in VERB_AFTER or before.endswith("ly"))
    return True


def _closes(words: list[str], classes: list[int], first: int, last: int, start: int) -> bool:
    """Whether word ``last`` can end a keyphrase that opens at ``first``: a noun, or an -ing
    word after a modifier ("data mining", "case-based reasoning") or, alone, after a determiner
    or preposition ("for scheduling")."""
    if classes[last] & NOUN:
        return True
    if not words[last].lower().endswith("ing"):
        return False
    return last > first or (
        first == start and start > 0 and words[start - 1].lower() in GERUND_AFTER
    )


def _chunk_end(classes: list[int], i: int, n: int) -> int:
    """The end of the chunk from ``i``: nouns, adjectives and participles, split before a
    participle that follows a noun and is followed by more of the chunk ("fluid | undergoing
    large deformation", "model | trained ..."); at the chunk's end it is a gerund ("data
    mining")."""
    j = i
    while j < n and classes[j] & CHUNK:
        if (
            j > i
            and classes[j] & ~VERB == PART
            and classes[j - 1] & NOUN
            and j + 1 < n
            and classes[j + 1] & (NOUN | ADJ | PART)
        ):
            break
        j += 1
    return j


def _tokens(text: str) -> list[tuple[int, int, str]]:
    """Words and punctuation as (start, end, text); a possessive "'s" is a token of its own,
    which ends a chunk ("molecular biology's advent")."""
    words = _WORD if text.isascii() else _ANY_WORD
    tokens = [(m.start(), m.end(), m.group()) for m in words.finditer(text)]
    if "'" not in text and "’" not in text:  # most abstracts: no possessive to split
        return tokens
    split = []
    for start, end, word in tokens:
        if len(word) > 3 and word[-2] in "'’" and word[-1] in "sS":
            split.append((start, end - 2, word[:-2]))
            split.append((end - 2, end, word[-2:]))
        else:
            split.append((start, end, word))
    return split


def fast_candidates(texts: Sequence[str], *, max_words: int = 4) -> list[list[Candidate]]:
    """One list of candidates per text, in order of first occurrence (no tagger)."""
    lex = lexicon()
    known: dict[str, int] = {}  # word -> its class, 0 for punctuation: looked up once per word
    out: list[list[Candidate]] = []
    for text in texts:
        tokens = _tokens(text)
        words = [t[2] for t in tokens]
        looked = list(map(known.get, words))
        if None in looked:  # words met for the first time
            for k, bits in enumerate(looked):
                if bits is None:
                    word = words[k]
                    bits = known.get(word)
                    if bits is None:
                        bits = known[word] = _word_class(word, lex) if word[0].isalnum() else 0
                    looked[k] = bits
        classes = cast("list[int]", looked)  # every None filled in above
        seen: dict[str, list[Any]] = {}
        i, n = 0, len(tokens)
        while i < n:
            if not classes[i] & CHUNK:  # no chunk starts here
                i += 1
                continue
            j = _chunk_end(classes, i, n)
            if j == i:
                i += 1
                continue
            first, last = i, j - 1
            while first <= last and not _opens(words, classes, first, i, j):
                first += 1
            while last >= first and not _closes(words, classes, first, last, i):
                last -= 1
            while last >= first and _verb_closes(words, classes, first, last):
                last -= 1
                while last >= first and not _closes(words, classes, first, last, i):
                    last -= 1
            if first <= last:
                first = max(first, last - max_words + 1)
                start, end = tokens[first][0], tokens[last][1]
                surface = text[start:end]
                key = " ".join(surface.lower().split())
                if (
                    len(key) >= 2
                    and any(ch.isalpha() for ch in key)
                    and not all(w in GENERIC for w in key.split())
                ):
                    if key in seen:
                        seen[key][4] += 1
                    else:
                        seen[key] = [key, surface, start, end, 1, first]
            i = j
        out.append([Candidate(*row) for row in seen.values()])
    return out
