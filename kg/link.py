"""Link: keyphrases become concepts, one per idea however the papers spell it.

A phrase's identity (its *key*) ignores case, hyphen/space, plural/singular, and an acronym the
paper defines ("Generative Flow Networks (GFlowNets)": *GFlowNets* and *GFlowNet optimization*
are keyed through the long form). Every spelling is kept as an alternative label, and every
merge of two different spellings is listed with its reason.

>>> concept_key("Zeroth-Order Optimizations")
'zeroth order optimization'
>>> find_acronyms("We train Generative Flow Networks (GFlowNets) on molecules.")
{'gflownet': 'generative flow network'}

Keys that are one phrase written with or without a space or hyphen ("pre-trained model" /
"pretrained model": the same letters once joined) merge whatever their embeddings say. Other
near-duplicates that keys cannot see ("zeroth-order optimizer" / "zeroth-order optimization")
merge only when two conditions hold: the same word stems, and embeddings at least
``Config.merge_similarity`` alike; the reason, with the cosine, goes into the merges table. A
user vocabulary (``Config.vocab``) forces merges and preferred labels. Concepts are linked to
the Computer Science Ontology and get ``broader`` links from it and from the corpus: a
concept's longest trailing phrase that is a concept too, its head ("sparse MeZO" -> "MeZO"),
through acronyms ("MeZO" -> "zeroth-order optimization": "memory-efficient zeroth-order
(MeZO) optimizer" is an optimizer); never a longer phrase that merely starts with that head.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache, partial, wraps
from typing import Any, NamedTuple

import numpy as np

from kg.config import Config
from kg.extract.fastcandidates import NOUN, lemminflect, lexicon
from kg.model import MAX_TEXT_CHARS, Concept, Keyphrase, Mention, Paper, PaperKeyphrases
from kg.parallel import collector_paused, forked
from kg.vocabulary import Vocabulary, link_vocabulary, load_cso, read_skos

_DASHES = re.compile(r"[-‐‑‒–—_/]+")
_NON_WORD = re.compile(r"[^\w\s.+#]")
_INVARIANT_ENDINGS = ("ss", "us", "is", "ics", "ous", "ness", "sis", "xis")
_ACRONYM_DEF = re.compile(r"\(([^()]{1,24})\)")
_WORD_AFTER = re.compile(r"[ \t\n]+([A-Za-z][\w-]*)")
# A paper is linked to a corpus concept that it spells out but did not rank in its top n when
# the concept is about as close to the paper as its own keyphrases: at least this share of the
# score of its last keyphrase (a lower share when the title names it, since titles are the
# authors' own summary).
SPELLED_OUT_RATIO = 0.9
TITLE_RATIO = 0.75
FORK_PAPERS = 4_000
"""From this many papers, two processes look for the concepts that papers spell out."""
_HYPHEN = re.compile(r"[-‐‑–]")
_HYPHEN_KEPT = re.compile(r"([-‐‑–])")
_TOKEN = re.compile(r"[\w.+#]+(?:[-‐‑–][\w.+#]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")
_BRITISH = (
    (re.compile(r"is(ation|ations|e|es|ed|ing|er|ers)$"), r"iz\1"),
    (re.compile(r"ll(ing|ed|er|ers)$"), r"l\1"),
)
# Trailing words too general to be the broader concept of a longer phrase.
_GENERIC_HEADS = frozenset(
    {
        "model",
        "method",
        "network",
        "system",
        "data",
        "learning",
        "algorithm",
        "approach",
        "framework",
        "problem",
        "task",
        "performance",
        "training",
    }
)


@cache
def singular(word: str) -> str:
    """Singular of a lower-case noun; words that only look plural are left alone."""
    if len(word) < 4 or not word.endswith("s") or word.endswith(_INVARIANT_ENDINGS):
        return word
    lemmas = lemminflect().getLemma(word, upos="NOUN")
    return lemmas[0] if lemmas else word


_ACRONYM_PLURAL = re.compile(r"([A-Z0-9]*[A-Z][A-Z0-9]*)s$")


def written_singular(text: str, last: str) -> str:
    """The singular of ``last``, the last folded word of ``text``: an acronym's plural as
    ``text`` writes it ("KGs", "LMs", "MRIs", "APIs": two or more capitals or digits, then
    "s") drops its "s", which ``singular`` leaves on words under four letters and on those
    ending in "is"; any other word is ``singular``'s.

    >>> written_singular("pretrained LMs", "lms"), written_singular("GPS", "gps")
    ('lm', 'gps')
    """
    end = len(text)
    while end and not text[end - 1].isalnum():  # closing marks: "KGs)."
        end -= 1
    if last[-1:] != "s" or end < 3 or text[end - 1] != "s" or not text[end - 2].isupper():
        return singular(last)
    found = _ACRONYM_PLURAL.search(text, max(0, end - len(last)), end)
    if found and len(found.group(1)) > 1 and last == found.group(1).lower() + "s":
        return last[:-1]
    return singular(last)


@cache
def folded_words(phrase: str) -> tuple[str, ...]:
    """A phrase's words with case, hyphens and end-of-sentence dots folded away (plurals
    kept)."""
    text = unicodedata.normalize("NFKC", phrase).casefold()
    text = _DASHES.sub(" ", text)
    words = (w.strip(".") for w in _NON_WORD.sub(" ", text).split())  # "Models." ends a sentence
    return tuple(w for w in words if w)


@cache
def concept_key(phrase: str) -> str:
    """Case, hyphens and the plural of the head word folded away.

    >>> concept_key("Large Language Models."), concept_key("GPT-3.5"), concept_key("KGs")
    ('large language model', 'gpt 3.5', 'kg')
    """
    words = list(folded_words(phrase))
    if not words:
        return ""
    words[-1] = written_singular(phrase, words[-1])
    return " ".join(words)


@lru_cache(maxsize=1)
def _porter() -> Any:
    from nltk.stem import PorterStemmer

    return PorterStemmer()


@cache
def stem_signature(key: str) -> str:
    """A concept key's words Porter-stemmed (British spellings made American) and joined
    without spaces: what near-duplicates share.

    >>> stem_signature("zeroth order optimizer") == stem_signature("zeroth order optimisation")
    True
    >>> stem_signature("pre training") == stem_signature("pretraining")
    True
    """
    return "".join(map(_stem, key.split()))


@cache
def _stem(word: str) -> str:
    """One word Porter-stemmed, its British spelling made American (keys share most words:
    each is stemmed once)."""
    for pattern, repl in _BRITISH:
        word = pattern.sub(repl, word)
    return _porter().stem(word)


def _initials_match(short: str, long_words: list[str]) -> bool:
    """Schwartz & Hearst (2003): the short form's characters appear, in order, in the long
    form, the first one at the start of a word."""
    letters = [c.lower() for c in short if c.isalnum()]
    if not letters or not letters[0].isalpha():
        return False
    long_text = " ".join(long_words).lower()
    j = len(long_text) - 1
    for i in range(len(letters) - 1, -1, -1):
        c = letters[i]
        while j >= 0 and (long_text[j] != c or (i == 0 and j > 0 and long_text[j - 1].isalnum())):
            j -= 1
        if j < 0:
            return False
        j -= 1
    return True


def _capitals_initial(short: str, words: list[str]) -> bool:
    """Whether the short form's first letter and capitals are, in order, initials of the
    words (or hyphen pieces) of a long form of no more words, the first one the first word's:
    "RRL" is not "Reinforcement Learning" but "Replay-based Reinforcement Learning".

    >>> _capitals_initial("RRL", ["Reinforcement", "Learning"])
    False
    """
    letters = [c.lower() for c in short[:1] + "".join(c for c in short[1:] if c.isupper())]
    if len(words) > len(letters):  # not a name of one word per capital
        return False
    initials = iter(p[0].lower() for w in words for p in _HYPHEN.split(w) if p)
    return next(initials, "") == letters[0] and all(c in initials for c in letters[1:])


class Definition(NamedTuple):
    """An acronym defined in a text: "memory-efficient zeroth-order (MeZO) optimizer"."""

    written: str  # the short form as written: "MeZO"
    short: str  # its key: "mezo"
    long: str  # the key of the long form: "memory efficient zeroth order"
    then: str  # the key of the word right after the definition: "optimizer"
    plural: bool  # whether the long form is written plural, and so the short form: "GFlowNets"


def find_acronyms(text: str) -> dict[str, str]:
    """Acronyms defined as "long form (SHORT)" in a text, as {key(short): key(long)}."""
    return {d.short: d.long for d in acronym_definitions(text)}


def acronym_definitions(text: str) -> list[Definition]:
    """Each "long form (SHORT)" definition. The long form is the shortest run of words before
    the parenthesis that holds the short form's letters (Schwartz & Hearst), or, where that
    run misses some of its capitals, the shortest longer one that has them all as initials
    (``_capitals_initial``): "Retrospective Replay-based Reinforcement Learning (RRL)" is not
    RRL = "reinforcement learning", nor "Proximal Policy Optimization (PPO)" PPO = "policy
    optimization". A short form with a trailing or leading dash ("Low-Rank Adaptation
    Subtraction (LoRA-)") names a variant, not the plain acronym.

    >>> [d.long for d in acronym_definitions("a Proximal Policy Optimization (PPO) method; "
    ...                                      "Low-Rank Adaptation Subtraction (LoRA-) in it")]
    ['proximal policy optimization']
    """
    found: list[Definition] = []
    for match in _ACRONYM_DEF.finditer(text):
        short = match.group(1).strip()
        if not (2 <= len(short) <= 12) or " " in short or not any(c.isupper() for c in short):
            continue
        if _DASHES.fullmatch(short[0]) or _DASHES.fullmatch(short[-1]):
            continue
        before = re.findall(r"[\w-]+", text[max(0, match.start() - 120) : match.start()])
        letters = short[:-1] if short.endswith("s") else short
        n_letters = sum(c.isupper() for c in short) or len(short)
        long_form: list[str] = []
        for size in range(1, min(len(before), n_letters + 3) + 1):
            words = before[-size:]
            if _initials_match(letters, words):
                if _capitals_initial(letters, words):
                    long_form = words
                    break
                long_form = long_form or words
        long_key, short_key = concept_key(" ".join(long_form)), concept_key(short)
        if long_key and short_key and long_key != short_key:
            after = _WORD_AFTER.match(text, match.end())
            then = concept_key(after.group(1)) if after else ""
            plural = folded_words(long_form[-1])[-1:] != tuple(long_key.split()[-1:])
            found.append(Definition(short, short_key, long_key, then, plural))
    return found


# Leading words that praise or date a concept ("state-of-the-art LLMs"), or the verb of a
# title ("Using Large Language Models"), without changing it.
_EVALUATIVE = re.compile(
    r"^(?:state[-‐‑–\s]of[-‐‑–\s]the[-‐‑–\s]art|sota|modern|popular|powerful|"
    r"cutting[-‐‑–\s]edge|contemporary|emerging|widely[-‐‑–\s]used|well[-‐‑–\s]known|"
    r"prominent|using|leveraging|exploiting|enhancing|improving|evaluating|benchmarking|"
    r"exploring|investigating|understanding|rethinking|revisiting|towards?|via)\s+",
    re.IGNORECASE,
)
# A restated acronym at the end of a phrase: "large language models (LLMs)".
_TRAILING_ACRONYM = re.compile(r"\s*\(?\s*([\w-]*[A-Z][\w-]*)\)?$")
# Sizes and dimensions ("3D", "7B", "100k") are modifiers, never concepts on their own.
_MEASURE = re.compile(r"^\d+(?:\.\d+)?[a-z]{0,2}$")
# A phrase cut short where a coordination or a tagging error ended it: the word that completes
# it comes next, or is the head after "and"/"or" ("Large Language and Reasoning Models").
_NEXT_WORDS = re.compile(r"\s+(?:(?:and|or|&)\s+)?([\w-]+)(?:\s+([\w-]+))?(?:\s+([\w-]+))?")
COMPLETION_RATIO = 3
"""A phrase is completed by the next word when the completed phrase is the keyphrase of at
least this many times as many papers (and of at least this many)."""
PLAIN_WORD_USES = 3
"""An acronym written this often as a lower-case word in the corpus ("map", "fine"), and more
often so than with capitals, is a word: it is expanded only in the papers that define it."""


def _tidy_keyphrases(
    keyphrases: Sequence[Keyphrase], acronyms: dict[str, str]
) -> list[tuple[Keyphrase, str]]:
    """Each keyphrase with its concept key, leading praise and a restated acronym cut off
    (the span shrinks with them); measures and praise of a generic noun are left out.

    >>> kps = [Keyphrase("state-of-the-art Large Language Models (LLMs)", 0.5, 0, 45),
    ...        Keyphrase("3D", 0.4, 50, 52), Keyphrase("modern methods", 0.3, 60, 74)]
    >>> [(k.text, key) for k, key in _tidy_keyphrases(kps, {})]
    [('Large Language Models', 'large language model')]
    """
    from kg.extract.candidates import GENERIC

    out = []
    for kp in keyphrases:
        text, start = kp.text, kp.start
        praise = _EVALUATIVE.match(text)
        if praise and praise.end() < len(text):
            text, start = text[praise.end() :], start + praise.end()
        end = start + len(text)
        tail = _TRAILING_ACRONYM.search(text)
        if tail and tail.start() > 0:
            head = text[: tail.start()]
            short = tail.group(1)
            restated = sum(c.isupper() for c in short) >= 2 and len(head.split()) >= 2
            if restated and _initials_match(
                short[:-1] if short.endswith("s") else short, re.findall(r"[\w]+", head)
            ):
                text, end = head, start + len(head)
        key = _expand(concept_key(text), acronyms)
        words = key.split()
        if not words or _MEASURE.match(key) or (praise and all(w in GENERIC for w in words)):
            continue
        out.append((Keyphrase(text, kp.score, start, end) if text != kp.text else kp, key))
    return out


def _completed(
    kp: Keyphrase, key: str, text: str, acronyms: dict[str, str], key_papers: Counter[str]
) -> tuple[Keyphrase, str]:
    """A keyphrase cut short, completed with the word that follows it (or the head noun of a
    coordination) when the completed phrase is a far more common keyphrase of the corpus.

    >>> kp = Keyphrase("Large Language", 0.3, 0, 14)
    >>> _completed(kp, "large language", "Large Language and Reasoning Models.", {},
    ...            Counter({"large language model": 40, "large language": 2}))
    (Keyphrase(text='Large Language Models', score=0.3, start=0, end=35), 'large language model')
    """
    following = _NEXT_WORDS.match(text, kp.end)
    if following is None:
        return kp, key
    coordination = following.group(0).split()[0].lower() in ("and", "or", "&")
    least = max(COMPLETION_RATIO * key_papers.get(key, 0), COMPLETION_RATIO)
    # without a coordination only the very next word can complete the phrase
    for group in (1, 2, 3) if coordination else (1,):
        word = following.group(group)
        if word is None:
            break
        longer = _expand(concept_key(f"{kp.text} {word}"), acronyms)
        if key_papers.get(longer, 0) >= least:
            return Keyphrase(f"{kp.text} {word}", kp.score, kp.start, following.end(group)), longer
    return kp, key


def _without_plain_words(acronyms: dict[str, str], papers: Sequence[Paper]) -> dict[str, str]:
    """Corpus-wide acronyms, less those the corpus writes more often as ordinary lower-case
    words ("map", "fine") than with capitals."""
    lower: Counter[str] = Counter()
    capital: Counter[str] = Counter()
    for paper in papers:
        for w in re.findall(r"\b[A-Za-z]{2,12}\b", paper.text[:MAX_TEXT_CHARS]):
            folded = w.lower()
            if folded in acronyms:
                (lower if w == folded else capital)[folded] += 1
    return {
        s: long
        for s, long in acronyms.items()
        if lower[s] < PLAIN_WORD_USES or lower[s] < capital[s]
    }


def clear_caches() -> None:
    """Empty the memo tables of keys, stems and singulars.

    They are unbounded: the link stage reads each phrase of the corpus in several passes, and
    a bounded table that the corpus outgrows misses on nearly every call (the 45k corpus reads
    about a million distinct phrases; tables of 500,000 made its link stage a fifth slower).
    ``link_concepts`` empties them when it ends (hundreds of MB on a big corpus)."""
    for memo in (singular, folded_words, concept_key, stem_signature, _stem, label_fold):
        memo.cache_clear()


def _layered(corpus: dict[str, str], own: dict[str, str]) -> dict[str, str]:
    """A paper's acronyms: its own definitions over the corpus's. Most papers agree with the
    corpus, and then the corpus's table is used as it is (copying it per paper is quadratic)."""
    if all(corpus.get(short) == long for short, long in own.items()):
        return corpus
    return {**corpus, **own}


def sentence_at(text: str, start: int, end: int) -> str:
    """The sentence holding ``text[start:end]``: the evidence shown with a mention.

    >>> sentence_at("We use LoRA. It works. Fine.", 13, 15)
    'It works.'
    """
    return Sentences(text).at(start, end)


class Sentences:
    """A text's sentence breaks, found once, for the sentences of many mentions.

    Mentions in the same sentence get the same string, not a copy each: the 45k default
    build's 662,307 mentions hold 318,433 distinct sentences (182 characters on average), so
    its link result pickles to 135 MiB, not 198, and the build holds one copy of each."""

    def __init__(self, text: str) -> None:
        self.text = text
        breaks = [m.span() for m in _SENTENCE_END.finditer(text)]
        self.starts = [a for a, _ in breaks]  # where a break's spaces begin
        self.ends = [b for _, b in breaks]  # and where the next sentence begins
        self._made: dict[tuple[int, int], str] = {}

    def at(self, start: int, end: int) -> str:
        """The sentence holding ``text[start:end]``: from the last sentence begun by
        ``start`` to the first break from ``end``."""
        i = bisect_right(self.ends, start)
        j = bisect_left(self.starts, end)
        left = self.ends[i - 1] if i else 0
        right = self.starts[j] if j < len(self.starts) else len(self.text)
        made = self._made.get((left, right))
        if made is None:
            made = self._made[left, right] = self.text[left:right].strip()
        return made


@dataclass
class Linked:
    """The link stage's output: concepts, mentions and the audit trail of merges."""

    concepts: list[Concept]
    mentions: list[Mention]
    merges: list[dict[str, str]] = field(default_factory=list)


def _expand(key: str, acronyms: dict[str, str]) -> str:
    """Replace defined acronyms inside a key: "zo optimization" -> "zeroth order optimization"."""
    if key in acronyms:
        return acronyms[key]
    words = key.split()
    if len(words) > 1 and any(w in acronyms for w in words):
        return concept_key(" ".join(_spliced(words, acronyms)))
    return key


def _spliced(words: Sequence[str], acronyms: Mapping[str, str]) -> list[str]:
    """Words with the defined acronyms spelled out, the words of a long form that the phrase
    already has beside the acronym written once: "LoRA subtraction" with LoRA = "low rank
    adaptation subtraction" is not "... subtraction subtraction", nor "large LLM" "large
    large language model".

    >>> " ".join(_spliced("large llm model".split(), {"llm": "large language model"}))
    'large language model'
    """
    out: list[str] = []
    i = 0
    while i < len(words):
        long = acronyms.get(words[i])
        i += 1
        if long is None:
            out.append(words[i - 1])
            continue
        spelled = long.split()
        del out[len(out) - _overlap(out, spelled) :]
        out += spelled
        i += _overlap(spelled, words[i:])
    return out


def _overlap(before: Sequence[str], after: Sequence[str]) -> int:
    """How many last words of ``before`` are the first words of ``after``."""
    for n in range(min(len(before), len(after)), 0, -1):
        if list(before[-n:]) == list(after[:n]):
            return n
    return 0


def _display(
    surface: str, position_capital: bool, attested: Callable[[str], bool] | bool = False
) -> str:
    """A label as a person would write it in running text, singular where the singular is
    a spelling the papers use.

    Capitals that only mark a title or a sentence start are dropped; acronyms and words with
    inner capitals (GFlowNet, MeZO, LLM) keep theirs. Such a name's plural-looking end is
    kept unless ``attested`` (given the singular, lower-cased) says that the singular is a
    spelling of the papers, or that the name is the acronym of a plural: "PVLens", "RayFronts"
    and "CrowdES" are names, not plurals (an acronym's "LLMs" and "ViTs" are). Nor is "of
    Experts" in "Mixture-of-Experts" a plural to drop.

    >>> _display("Generative Flow Networks", True), _display("RayFronts", False)
    ('generative flow network', 'RayFronts')
    >>> _display("GFlowNets", False, attested={"gflownet"}.__contains__)
    'GFlowNet'
    """
    words = surface.split()

    def proper(piece: str) -> bool:  # an acronym or a name with inner capitals: keep as is
        return any(c.isupper() for c in piece[1:])

    lower_first = position_capital or (
        len(words) > 1
        and all(p[:1].isupper() for w in words for p in _HYPHEN.split(w) if p[:1].isalpha())
    )
    out = []
    for w in words:
        parts = _HYPHEN_KEPT.split(w)
        for i, part in enumerate(parts):
            if lower_first and part[:1].isupper() and not proper(part):
                parts[i] = part[:1].lower() + part[1:]
        out.append("".join(parts))
    last = out[-1]
    if last.isupper():  # "DARTS" is a name, not a plural
        return " ".join(out)
    # The plural is that of the last hyphen piece, as in ``concept_key`` ("Atlas-S" stays).
    head, sep, piece = last.rpartition("-")
    before = _HYPHEN.split(head)[-1] if sep else (out[-2] if len(out) > 1 else "")
    lowered = piece.lower()
    stem = written_singular(piece, lowered)
    if stem == lowered or not piece.endswith("s") or before.lower() == "of":
        return " ".join(out)
    name = proper(piece) and not piece[-2:-1].isupper()  # not an acronym's "LLMs", "ViTs"
    if name and not (attested if isinstance(attested, bool) else attested(stem)):
        return " ".join(out)
    # keep the writer's capitals: "GFlowNets" -> "GFlowNet"
    out[-1] = head + sep + (piece[: len(stem)] if lowered.startswith(stem) else stem)
    return " ".join(out)


def _singular_acronym(form: str, acronyms: Mapping[str, Counter[str]] | None) -> bool:
    """Whether ``form`` (lower-cased) is an acronym of the corpus written singular: its most
    used display (``_display`` of its definitions) is ``form``: "GFlowNet" of "Generative
    Flow Networks (GFlowNets)", not "PVLens" of "Panoramic Vision Lens (PVLens)"."""
    shown = acronyms.get(form) if acronyms is not None else None
    if not shown:
        return False
    return min(shown.items(), key=lambda kv: (-kv[1], kv[0]))[0].lower() == form


def _written(form: str, texts: Sequence[str]) -> bool:
    """Whether a lower-cased word is written as a word of its own in lower-cased ``texts``
    ("gflownet" in "a gflownet-based sampler", not in "gflownets")."""
    pattern = re.compile(rf"(?<!\w){re.escape(form)}(?!\w)")
    return any(pattern.search(t) for t in texts)


def _pref_label(
    counts: Counter[tuple[str, bool]],
    texts: Callable[[], Sequence[str]],
    key: str,
    acronyms: Mapping[str, Counter[str]] | None = None,
) -> str:
    """The spelling used most often in the concept's papers (``texts()``, lower-cased;
    case-insensitive), spelled-out forms winning ties, in the casing of running text where the
    papers have it, singular where they write it so (``_display``), or where the name is an
    acronym the corpus writes singular (``acronyms``: key -> its displays; "order-preserving
    GFlowNets" ends with the acronym "GFlowNet"), or where it is the acronym of a plural long
    form that the papers do not write before a noun ("MLOps platforms" keeps "MLOps":
    ``_modifier``). The papers are read only where there are two spellings to choose from or a
    name's singular to look for."""
    groups: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for surface, capital in counts:
        groups[surface.lower()].append((surface, capital))
    read = cache(texts)
    if len(groups) == 1:
        (best,) = groups
    else:

        def uses(form: str) -> int:  # the texts are lower-cased already
            return sum(t.count(form) for t in read())

        best = min(groups, key=lambda f: (-uses(f), concept_key(f) != key, -len(f), f))
    variants = sorted(groups[best], key=lambda v: (v[1], -counts[v], v[0].isupper(), v[0]))
    surface, capital = variants[0]
    # "GFlowNets" for "Generative Flow Networks": the acronym of a plural
    of_plural = concept_key(surface) != key and any(
        concept_key(s) == key and folded_words(s)[-1:] != tuple(key.split()[-1:]) for s, _ in counts
    )
    return _display(
        surface,
        capital,
        attested=lambda form: (
            (
                (of_plural or _singular_acronym(form, acronyms))
                and not _modifier(surface.lower().rsplit(maxsplit=1)[-1], read())
            )
            or _written(form, read())
        ),
    )


def _modifier(form: str, texts: Sequence[str]) -> bool:
    """Whether a lower-cased plural-looking name is written before a word that can only be a
    noun, as a name is and a plural seldom is: "MLOps platforms" (Machine Learning Operations)
    against "GFlowNets can" (Generative Flow Networks)."""
    lex = lexicon()
    pattern = re.compile(rf"(?<!\w){re.escape(form)}\s+([a-z][a-z-]*)")
    return any(lex.get(m[1], NOUN) == NOUN for t in texts for m in pattern.finditer(t))


def _texts(lower_of: Mapping[str, str], papers: set[str]) -> list[str]:
    return [lower_of[p] for p in sorted(papers)]


def _stage(link: Callable[..., Linked]) -> Callable[..., Linked]:
    """The link stage without collections of cycles (it makes none), its memo tables
    emptied when it ends."""

    @wraps(link)
    def run(*args: Any, **kwargs: Any) -> Linked:
        try:
            with collector_paused():
                return link(*args, **kwargs)
        finally:
            clear_caches()

    return run


@_stage
def link_concepts(
    papers: Sequence[Paper],
    keyphrases: Sequence[PaperKeyphrases],
    *,
    config: Config = Config(),
    concept_vectors: Mapping[str, np.ndarray] | None = None,
    label_vectors: Callable[[dict[str, str]], Mapping[str, np.ndarray]] | None = None,
    doc_vectors: np.ndarray | None = None,
) -> Linked:
    """Concepts and mentions from each paper's ranked keyphrases.

    Embeddings of the concepts come as ``concept_vectors`` (concept key -> unit vector), or
    from ``label_vectors``, called once with each concept key's label to embed (its first
    spelling in the papers, lower-cased). With them, near-duplicate keys merge, and, given the
    papers' ``doc_vectors`` too, a paper is also linked to every concept of the corpus that
    its text spells out and whose similarity to the paper is at least that of its own last
    keyphrase: a paper on *federated zeroth-order optimization* is about *zeroth-order
    optimization* too.
    """
    by_paper = {p.key: p for p in papers}
    corpus_acronyms: dict[str, Counter[str]] = defaultdict(Counter)
    paper_acronyms: dict[str, dict[str, str]] = {}
    short_surfaces: dict[str, Counter[str]] = defaultdict(Counter)
    plural_name: dict[str, str] = {}  # an acronym's singular display -> its plural as written
    followed: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for paper in papers:
        found = acronym_definitions(paper.text[:MAX_TEXT_CHARS])
        paper_acronyms[paper.key] = {d.short: d.long for d in found}
        for d in found:
            corpus_acronyms[d.short][d.long] += 1
            shown = _display(d.written, False, attested=d.plural)
            short_surfaces[d.short][shown] += 1
            if shown != _display(d.written, False):  # a name made singular, not "LLMs"
                plural_name[shown] = d.written  # "MLOp" of "Machine Learning Operations (MLOps)"
            followed[d.short, d.long][d.then] += 1
    # An acronym means the same across the corpus when one long form dominates its uses.
    global_acronyms = {
        s: c.most_common(1)[0][0]
        for s, c in corpus_acronyms.items()
        if c.most_common(1)[0][1] * 2 > sum(c.values())
    }
    global_acronyms = _without_plain_words(global_acronyms, papers)

    surfaces: dict[str, Counter[tuple[str, bool]]] = defaultdict(Counter)
    raw_mentions: list[tuple[str, str, float, str, int, int]] = []
    reasons: dict[tuple[str, str], str] = {}
    tidied: list[list[tuple[Keyphrase, str]]] = []
    key_papers: Counter[str] = Counter()
    for pk in keyphrases:
        acronyms = _layered(global_acronyms, paper_acronyms[pk.paper_key])
        tidied.append(_tidy_keyphrases(pk.keyphrases, acronyms))
        key_papers.update({key for _, key in tidied[-1]})
    for pk, tidy in zip(keyphrases, tidied, strict=True):
        paper = by_paper[pk.paper_key]
        acronyms = _layered(global_acronyms, paper_acronyms[paper.key])
        text = paper.text
        best: dict[str, tuple[float, str, int, int]] = {}
        for kp, key in tidy:
            kp, key = _completed(kp, key, text, acronyms, key_papers)
            plain = concept_key(kp.text)
            at_start = kp.start < len(paper.title) or text[: kp.start].rstrip()[-1:] in (
                "",
                ".",
                "!",
                "?",
                ":",
            )
            surfaces[key][(kp.text, at_start)] += 1
            if plain != key:
                reasons[(key, kp.text)] = f"acronym {plain!r} defined as {key!r}"
            if key not in best or kp.score > best[key][0]:
                best[key] = (kp.score, kp.text, kp.start, kp.end)
        for key, (score, text, start, end) in best.items():
            raw_mentions.append((paper.key, key, score, text, start, end))

    papers_of: dict[str, set[str]] = defaultdict(set)
    for paper_key, key, *_ in raw_mentions:
        papers_of[key].add(paper_key)
    if label_vectors is not None:
        labels: dict[str, str] = {}
        for _, key, _, text, *_ in sorted(raw_mentions, key=lambda m: (m[0], m[1])):
            labels.setdefault(key, text.lower())
        concept_vectors = label_vectors(labels)

    if concept_vectors is not None and doc_vectors is not None:
        raw_mentions += _spelled_out(
            papers,
            raw_mentions,
            papers_of,
            concept_vectors,
            doc_vectors,
            global_acronyms,
            paper_acronyms,
        )
        papers_of = defaultdict(set)
        for paper_key, key, *_ in raw_mentions:
            papers_of[key].add(paper_key)

    user_vocab = read_skos(config.vocab) if config.vocab else None
    alias = _forced_merges(papers_of, user_vocab)
    alias = _compose(
        alias,
        closed_spellings(
            {alias.get(k, (k, ""))[0] for k in papers_of},
            papers_of,
            keep=user_vocab.by_key if user_vocab else (),
        ),
    )
    if concept_vectors is not None:
        alias = _compose(
            alias,
            near_duplicates(
                {alias.get(k, (k, ""))[0] for k in papers_of},
                concept_vectors,
                papers_of,
                threshold=config.merge_similarity,
            ),
        )
    if alias:
        raw_mentions, surfaces = _apply_aliases(raw_mentions, surfaces, reasons, alias)
        papers_of = defaultdict(set)
        for paper_key, key, *_ in raw_mentions:
            papers_of[key].add(paper_key)

    acronym_of: dict[str, str] = {}  # long form -> the acronym most papers define for it
    for short, long in sorted(
        global_acronyms.items(), key=lambda sl: (-corpus_acronyms[sl[0]][sl[1]], sl[0])
    ):
        acronym_of.setdefault(long, short)
    forced_pref = (
        {concept_key(label): label for label in user_vocab.labels.values()} if user_vocab else {}
    )

    lower_of = {p.key: p.text.lower() for p in papers}
    senses: dict[str, str] = {}
    made: dict[str, tuple[Concept, list[dict[str, str]]]] = {}
    order: list[str] = []  # the keys the last ``make`` kept, sorted
    before: set[str] = set()  # and as a set

    def make(dirty: set[str] | None = None) -> tuple[set[str], list[Concept]]:
        """The kept keys and their concepts, in key order; only the ``dirty`` keys (those a
        merge round or an acronym sense changed) and new ones are made again. (The key order
        is the last one's less the keys dropped, the new ones merged in: a full sort of the 45k
        corpus's 349,000 keys took half a second, in each of the label rounds.)"""
        nonlocal order, before
        kept = {k for k, ps in papers_of.items() if len(ps) >= config.min_concept_papers}
        acronyms = dict(acronym_of)
        for source, (target, _) in sorted(alias.items()):
            if source in acronyms:
                acronyms.setdefault(target, acronyms[source])
        forced = forced_pref | senses
        for key in kept if dirty is None else (kept & dirty) | kept.difference(made):
            counts = surfaces[key]
            texts = partial(_texts, lower_of, papers_of[key])
            pref = forced.get(key) or (
                _pref_label(counts, texts, key, short_surfaces) if counts else key
            )
            acronym = None if key in senses else _acronym_label(acronyms.get(key), short_surfaces)
            if (
                acronym in plural_name
                and _modifier(plural_name[acronym].lower(), texts())
                and not _written(acronym.lower(), texts())
            ):
                acronym = plural_name[acronym]  # "MLOps platforms": a name, not a plural
            made[key] = _concept_of(key, pref, counts, reasons, acronym)
        new = kept - before
        order = [k for k in order if k in kept] if len(before) > len(kept) - len(new) else order
        order = sorted([*order, *new]) if new else order  # a sorted run, then the new keys
        before = kept
        return kept, [made[k][0] for k in order]

    kept, concepts = make()
    # The final, auditable pass: concepts whose labels still fold alike become one.
    label_merged: list[dict[str, str]] = []
    for _ in range(MAX_LABEL_ROUNDS):
        n_papers = {k: len(papers_of[k]) for k in kept}
        split = acronym_senses(concepts, n_papers)
        if split:  # an acronym with two unrelated meanings: spell out the lesser ones
            senses |= split
            kept, concepts = make(set(split))
        more = label_merges(concepts, n_papers)
        if not more:
            break
        label_merged += _label_merge_rows(concepts, more)
        alias = _compose(alias, more)
        raw_mentions, surfaces = _apply_aliases(raw_mentions, surfaces, reasons, more)
        papers_of = defaultdict(set)
        for paper_key, key, *_ in raw_mentions:
            papers_of[key].add(paper_key)
        kept, concepts = make({target for target, _ in more.values()})
    merges = [row for k in order for row in made[k][1]]
    merges = _with_concept_merges(merges, label_merged, concepts, alias)

    concepts = _with_corpus_broader(
        concepts,
        alias,
        global_acronyms,
        {k: len(v) for k, v in papers_of.items()},
        _elliptical(global_acronyms, corpus_acronyms, followed),
    )
    if config.cso:
        concepts = link_vocabulary(concepts, load_cso())
    if user_vocab is not None:
        concepts = link_vocabulary(concepts, user_vocab)
    concepts = _without_broader_cycles(concepts)

    mentions = []
    sentences, of = Sentences(""), None  # a paper's sentence breaks, for its mentions
    for p, k, s, t, a, b in sorted(raw_mentions, key=lambda m: (m[0], m[1])):
        if k in kept:
            if p != of:
                sentences, of = Sentences(by_paper[p].text), p
            mentions.append(Mention(p, k, s, t, a, b, sentences.at(a, b)))
    return Linked(concepts, mentions, merges)


Alias = dict[str, tuple[str, str]]
"""concept key -> (the key it merges into, why)."""


def _forced_merges(papers_of: dict[str, set[str]], vocab: Vocabulary | None) -> Alias:
    """Keys that a user vocabulary lists as another spelling of one of its concepts."""
    if vocab is None:
        return {}
    alias: Alias = {}
    for key in sorted(papers_of):
        topic = vocab.by_key.get(key)
        if topic is None:
            continue
        target = concept_key(vocab.labels[topic])
        if target != key:
            alias[key] = (
                target,
                f"user vocabulary {vocab.name}: a label of {vocab.labels[topic]!r} <{topic}>",
            )
    return alias


_PREPOSITIONS = frozenset(
    {"about", "across", "against", "among", "as", "at", "between", "beyond", "by", "for"}
    | {"from", "in", "into", "of", "on", "over", "through", "to", "toward", "towards", "under"}
    | {"versus", "via", "vs", "with", "within", "without"}
)
"""Words after which a concept key's words complement its head ("chain of thought")."""

# Words that a closed compound does not hide: "an isotropic" is not "anisotropic".
_FUNCTION_WORDS = frozenset(
    {"a", "an", "and", "as", "at", "be", "by", "for", "in", "is", "it", "no", "not", "of"}
    | {"on", "or", "the", "to", "up", "with"}
)


def closed_spellings(
    keys: set[str] | Sequence[str],
    papers_of: dict[str, set[str]],
    keep: Container[str] = (),
) -> Alias:
    """Concept keys that are one phrase written with or without a space or hyphen ("pre
    trained model" / "pretrained model", "common sense reasoning" / "commonsense reasoning"):
    their words joined are the same letters. They merge whatever their embeddings say (a
    model reads the spellings as different tokens), into a key of ``keep`` (a user
    vocabulary's), else the key with the most papers (then the shortest, then alphabetical).

    >>> closed_spellings(["pre trained model", "pretrained model"],
    ...                  {"pre trained model": {"a", "b"}, "pretrained model": {"c"}})
    {'pretrained model': ('pre trained model', "same letters without spaces or hyphens \
('pretrainedmodel')")}
    """
    groups: dict[str, list[str]] = defaultdict(list)
    for key in sorted(keys):
        words = key.split()
        if _FUNCTION_WORDS.intersection(words) or any(
            a[-1:].isdigit() and b[:1].isdigit() for a, b in zip(words, words[1:], strict=False)
        ):  # "llama 3 8b" is no "llama 38b"
            continue
        groups["".join(words)].append(key)
    alias: Alias = {}
    for joined, members in sorted(kv for kv in groups.items() if len(kv[1]) > 1):
        members.sort(key=lambda k: (k not in keep, -len(papers_of.get(k, ())), len(k), k))
        for other in members[1:]:
            alias[other] = (members[0], f"same letters without spaces or hyphens ({joined!r})")
    return alias


def near_duplicates(
    keys: set[str] | Sequence[str],
    vectors: Mapping[str, np.ndarray],
    papers_of: dict[str, set[str]],
    *,
    threshold: float,
) -> Alias:
    """Concept keys that merge into a near-duplicate: same word stems (``stem_signature``) and
    embedding cosine at least ``threshold``. Each group merges into its key with the most
    papers (then the shortest, then alphabetical); only merges into that key are made, so
    a merge never chains.

    >>> v = {"zeroth order optimizer": np.array([1.0, 0.0]),
    ...      "zeroth order optimization": np.array([0.96, 0.28])}
    >>> p = {"zeroth order optimizer": {"a"}, "zeroth order optimization": {"a", "b"}}
    >>> near_duplicates(list(v), v, p, threshold=0.9)["zeroth order optimizer"][0]
    'zeroth order optimization'
    """
    if threshold >= 1.0:
        return {}
    groups: dict[str, list[str]] = defaultdict(list)
    for key in sorted(keys):
        if key in vectors:
            groups[stem_signature(key)].append(key)
    from kg.extract.score import prefetch

    prefetch(vectors, (k for members in groups.values() if len(members) > 1 for k in members))
    alias: Alias = {}
    for signature, members in sorted(kv for kv in groups.items() if len(kv[1]) > 1):
        members.sort(key=lambda k: (-len(papers_of.get(k, ())), len(k), k))
        head = members[0]
        for other in members[1:]:
            cosine = float(vectors[head] @ vectors[other])
            if cosine >= threshold:
                alias[other] = (
                    head,
                    f"same word stems ({signature}) and embedding cosine "
                    f"{cosine:.3f} >= {threshold}",
                )
    return alias


def _apply_aliases(
    mentions: list[tuple[str, str, float, str, int, int]],
    surfaces: dict[str, Counter[tuple[str, bool]]],
    reasons: dict[tuple[str, str], str],
    alias: Alias,
) -> tuple[list[tuple[str, str, float, str, int, int]], dict[str, Counter[tuple[str, bool]]]]:
    """Mentions and spellings moved to the keys they merge into; reasons recorded."""
    merged: dict[str, Counter[tuple[str, bool]]] = defaultdict(Counter)
    for key, counts in surfaces.items():
        target, why = alias.get(key, (key, ""))
        merged[target].update(counts)
        if target != key:
            for surface, _ in counts:
                earlier = reasons.get((key, surface))
                reasons[(target, surface)] = f"{earlier}; {why}" if earlier else why
    best: dict[tuple[str, str], tuple[str, str, float, str, int, int]] = {}
    for m in mentions:
        target = alias.get(m[1], (m[1], ""))[0]
        moved = (m[0], target, m[2], m[3], m[4], m[5])
        if (m[0], target) not in best or m[2] > best[(m[0], target)][2]:
            best[(m[0], target)] = moved
    return sorted(best.values()), merged


MAX_LABEL_ROUNDS = 4
"""Label merges are repeated until no labels collide (a merged concept's new label can fold
like a third concept's); in practice one or two rounds."""


@cache
def label_fold(label: str) -> str:
    """What two labels share when a reader would take them for the same concept: lower case,
    hyphens and spaces unified, every word singular.

    >>> label_fold("State-of-the-Art VLMs") == label_fold("state of the art VLM")
    True
    >>> label_fold("Models merging")
    'model merging'
    """
    return " ".join(singular(w) for w in concept_key(label).split())


def _folds(concept: Concept, *, acronyms: bool = True) -> set[str]:
    labels = [concept.pref_label] + ([concept.acronym] if acronyms and concept.acronym else [])
    return {f for f in map(label_fold, labels) if f}


def label_collisions(concepts: Sequence[Concept], *, acronyms: bool = True) -> dict[str, list[str]]:
    """Labels that would name two concept nodes: ``label_fold`` of a prefLabel (and of an
    acronym label) -> the keys of the concepts it names, for each shared by two or more.
    A linked corpus has none (``link_concepts`` merges them); this is the check.

    >>> a = Concept("eeg", "EEG")
    >>> b = Concept("electroencephalography", "electroencephalography", acronym="EEG")
    >>> label_collisions([a, b])
    {'eeg': ['eeg', 'electroencephalography']}
    >>> label_collisions([a, b], acronyms=False)
    {}
    """
    named: dict[str, set[str]] = defaultdict(set)
    for c in concepts:
        for f in _folds(c, acronyms=acronyms):
            named[f].add(c.key)
    shared = sorted((f, keys) for f, keys in named.items() if len(keys) > 1)
    return {f: sorted(keys) for f, keys in shared}


def acronym_senses(concepts: Sequence[Concept], n_papers: dict[str, int]) -> dict[str, str]:
    """Concepts labelled by an acronym (as prefLabel or acronym label) that another concept
    with an unrelated spelled-out form (``_same_sense``) is also labelled by: all senses but
    the one with the most papers get a spelled-out label, and no acronym, instead of merging
    (key -> new label).

    >>> a = Concept("optical character recognition", "OCR")
    >>> b = Concept("out of context reasoning", "OCR", ("out-of-context reasoning",))
    >>> acronym_senses([a, b], {a.key: 9, b.key: 2})
    {'out of context reasoning': 'out-of-context reasoning'}
    """
    by_label: dict[str, list[Concept]] = defaultdict(list)
    for c in concepts:
        fold = label_fold(c.pref_label)
        if " " not in fold and len(c.key.split()) > 1:
            by_label[fold].append(c)
        elif c.acronym and label_fold(c.acronym) != fold:
            by_label[label_fold(c.acronym)].append(c)
    out: dict[str, str] = {}
    for group in by_label.values():
        group.sort(key=lambda c: (-n_papers.get(c.key, 0), -len(c.key.split()), c.key))
        senses: list[Concept] = []
        for c in group:
            if not any(_same_sense(c.key, s.key) for s in senses):
                if senses:
                    out[c.key] = _spelled_label(c)
                senses.append(c)
    return out


def _same_sense(a: str, b: str) -> bool:
    """Two spelled-out forms of one acronym mean the same when one's words hold the other's
    or the words that differ are spelling variants, sharing their first three letters.

    >>> _same_sense("vision language model", "visual language model")
    True
    >>> _same_sense("self supervised learning", "semi supervised learning")
    False
    >>> _same_sense("computer aided design", "computer aided diagnosis")
    False
    """
    from difflib import SequenceMatcher

    wa, wb = a.split(), b.split()
    if set(wa) <= set(wb) or set(wb) <= set(wa):
        return True
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, wa, wb, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if tag != "replace" or i2 - i1 != j2 - j1:
            return False
        if any(x[:3] != y[:3] for x, y in zip(wa[i1:i2], wb[j1:j2], strict=True)):
            return False
    return True


def _spelled_label(c: Concept) -> str:
    spelled = sorted(a for a in c.alt_labels if concept_key(a) == c.key)
    return _display(min(spelled, key=lambda a: (a[:1].isupper(), a)), False) if spelled else c.key


def label_merges(concepts: Sequence[Concept], n_papers: dict[str, int]) -> Alias:
    """Concepts that a label names together (``label_collisions``, acronyms included) merge
    into the one with the most papers (then the one with the longer key, the spelled-out
    form, then alphabetical); the reason names the shared label.

    >>> a = Concept("eeg", "EEG")
    >>> b = Concept("electroencephalography", "electroencephalography", acronym="EEG")
    >>> label_merges([a, b], {"eeg": 3, "electroencephalography": 5})["eeg"][0]
    'electroencephalography'
    """
    by_key = {c.key: c for c in concepts}
    parent = {c.key: c.key for c in concepts}

    def root(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    collisions = label_collisions(concepts)
    read: dict[str, list[str]] = defaultdict(list)  # key -> the labels it shares, in order
    for fold, keys in collisions.items():
        for key in keys:
            read[key].append(fold)
        for other in keys[1:]:
            a, b = root(keys[0]), root(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[str, list[str]] = defaultdict(list)
    for key in sorted(parent):
        groups[root(key)].append(key)
    alias: Alias = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        head = min(members, key=lambda k: (-n_papers.get(k, 0), -len(k.split()), k))
        target = by_key[head]
        for key in members:
            if key == head:
                continue
            c = by_key[key]
            alias[key] = (
                head,
                f"label merge: {key!r} labelled {c.pref_label!r} ({n_papers.get(key, 0)} "
                f"papers) into {head!r} labelled {target.pref_label!r} "
                f"({n_papers.get(head, 0)} papers), both read "
                + " / ".join(repr(f) for f in read[key]),
            )
    return alias


def _compose(alias: Alias, more: Alias) -> Alias:
    """``alias`` followed by ``more``: every key ends at its final target."""
    out = {
        k: (more[t][0], f"{why}; {more[t][1]}") if t in more else (t, why)
        for k, (t, why) in alias.items()
    }
    for k, v in more.items():
        out.setdefault(k, v)
    return out


def _label_merge_rows(concepts: Sequence[Concept], more: Alias) -> list[dict[str, str]]:
    by_key = {c.key: c for c in concepts}
    return [
        {"concept": target, "pref_label": "", "merged": by_key[key].pref_label, "reason": why}
        for key, (target, why) in sorted(more.items())
    ]


def _with_concept_merges(
    merges: list[dict[str, str]],
    rows: list[dict[str, str]],
    concepts: Sequence[Concept],
    alias: Alias,
) -> list[dict[str, str]]:
    """The merges table with one row per concept merged by label, even when its label is
    also the label of the concept it merged into (so no merge goes unrecorded)."""
    pref = {c.key: c.pref_label for c in concepts}
    reasons = defaultdict(list)
    for m in merges:
        reasons[(m["concept"], m["merged"])].append(m["reason"])
    out = list(merges)
    for row in rows:
        target = alias.get(row["concept"], (row["concept"], ""))[0]
        said = reasons[(target, row["merged"])]
        if target in pref and not any(row["reason"] in r for r in said):
            said.append(row["reason"])
            out.append({**row, "concept": target, "pref_label": pref[target]})
    return sorted(out, key=lambda m: (m["concept"], m["merged"], m["reason"]))


def _concept_of(
    key: str,
    pref: str,
    counts: Counter[tuple[str, bool]],
    reasons: dict[tuple[str, str], str],
    acronym: str | None,
) -> tuple[Concept, list[dict[str, str]]]:
    """A kept key's concept (preferred label, spellings as alternative labels, acronym) and
    a merges row per spelling that is not the preferred label."""
    labels = sorted({s for (s, _), _ in counts.items()} - {pref})
    rows = []
    for label in labels:
        if (key, label) in reasons:
            reason = reasons[(key, label)]
        elif concept_key(label) in (key, concept_key(pref)):  # not "LLM" for its long form
            reason = "same words up to case, hyphens and plural"
        else:
            reason = "same key after acronym expansion"
        rows.append({"concept": key, "pref_label": pref, "merged": label, "reason": reason})
    return Concept(key=key, pref_label=pref, alt_labels=tuple(labels), acronym=acronym), rows


def _elliptical(
    acronyms: dict[str, str],
    definitions: Mapping[str, Counter[str]],
    followed: Mapping[tuple[str, str], Counter[str]],
) -> dict[str, str]:
    """Long forms that are modifiers, not names: {key(long form): the word that completes
    it}. An acronym whose definitions are mostly followed by one word, not a generic head,
    stands for a phrase that ends with that word: "memory-efficient zeroth-order (MeZO)
    optimizer". Definitions followed by whatever the sentence goes on with ("large language
    models (LLMs) are") complete nothing.

    >>> _elliptical({"mezo": "memory efficient zeroth order"},
    ...             {"mezo": Counter({"memory efficient zeroth order": 1})},
    ...             {("mezo", "memory efficient zeroth order"): Counter({"optimizer": 1})})
    {'memory efficient zeroth order': 'optimizer'}
    """
    out = {}
    for short, long in acronyms.items():
        then = followed.get((short, long))
        if then:
            word, n = then.most_common(1)[0]
            closes = word and word not in _GENERIC_HEADS and word not in _FUNCTION_WORDS
            if closes and n * 2 > definitions[short][long]:
                out[long] = word
    return out


def _with_corpus_broader(
    concepts: list[Concept],
    alias: Alias,
    acronyms: dict[str, str],
    n_papers: dict[str, int],
    elliptical: Mapping[str, str],
) -> list[Concept]:
    """``broader`` from the corpus: the longest trailing phrase of a concept that is a
    concept too, read through merges and acronyms ("sparse mezo" -> "mezo"): its head is
    more general than it.

    Where a preposition follows the head, a trailing phrase must hold it: "explicit visual
    chain of thought" is a chain of thought, "visual in-context learning" in-context
    learning, and "chain of thought" no "thought". Where a spelling writes the preposition as
    a word, the phrase before it (or that phrase's trailing phrases of two words or more)
    comes next: "reinforcement learning from human feedback" is reinforcement learning, no
    "human feedback". A preposition inside an earlier word is no such preposition
    (``_preposition_roles``): a "text-to-image diffusion model" is a diffusion model.

    A longer phrase that merely starts with that trailing phrase is not ("large language
    model" is no "language model agent"), except for an acronym whose long form is a modifier
    (``_elliptical``): it is read with the word that completes it, and the trailing phrases
    of at least three words that end with that word come first (a concept of the same word
    stems will do): MeZO, "memory-efficient zeroth-order" (optimizer), -> "zeroth-order
    optimization"."""
    keys = {c.key for c in concepts}
    completes = {alias.get(k, (k, ""))[0]: w for k, w in elliptical.items()}
    by_stems: dict[str, str] = {}
    if completes:
        for key in sorted(keys, key=lambda k: (-n_papers.get(k, 0), k)):
            by_stems.setdefault(stem_signature(key), key)

    def resolve(phrase: str) -> str:
        for candidate in (phrase, _expand(phrase, acronyms)):
            target = alias.get(candidate, (candidate, ""))[0]
            if target in keys:
                return target
        return ""

    def tails(c: Concept) -> list[tuple[str, bool]]:
        """The trailing phrases to try, longest first, each with whether it was completed."""
        key, words = c.key, c.key.split()
        roles = {} if _PREPOSITIONS.isdisjoint(words[1:]) else _preposition_roles(c, acronyms)
        cut = next(
            (
                i
                for i, w in enumerate(words)
                if i and w in _PREPOSITIONS and roles.get(w, INNER) != MODIFIER
            ),
            0,
        )
        if cut:  # those that hold the preposition, then the head before a written one
            n_words = range(len(words) - 1, len(words) - cut - 1, -1)  # "in context learning"
            own = [(" ".join(words[-n:]), False) for n in n_words]
            if roles.get(words[cut], INNER) == WORD:
                head = [*words[: cut - 1], singular(words[cut - 1])]
                own += [(" ".join(head[-n:]), False) for n in range(len(head), 1, -1)]
        else:
            own = [(" ".join(words[-n:]), False) for n in range(len(words) - 1, 0, -1)]
        if key not in completes:
            return own
        whole = [*words, completes[key]]
        return [(" ".join(whole[-n:]), True) for n in range(len(words), 2, -1)] + own

    out = []
    for c in concepts:
        found = ""
        for tail, completed in tails(c):
            if not completed and " " not in tail and tail in _GENERIC_HEADS:
                break
            found = resolve(tail) or (by_stems.get(stem_signature(tail), "") if completed else "")
            if found and found != c.key and not found.startswith(c.key + " "):
                break
            found = ""
        out.append(dataclasses.replace(c, broader=(found,)) if found else c)
    return out


WORD, INNER, MODIFIER = 0, 1, 2
"""How a spelling writes a preposition of its concept's key (``_preposition_roles``)."""


def _preposition_roles(c: Concept, acronyms: Mapping[str, str]) -> dict[str, int]:
    """How the spellings of ``c`` write each preposition of its key: as a ``WORD`` of its own
    ("reinforcement learning from human feedback"), ``INNER`` to its last word
    ("chain-of-thought", "attention IoU"), or inside a ``MODIFIER``, an earlier word
    ("text-to-image diffusion model", "CoT-VLA"); the first of these that any spelling
    gives."""
    roles: dict[str, int] = {}
    for label in (c.pref_label, *c.alt_labels):
        tokens = label.split()
        for t, token in enumerate(tokens):
            pieces = folded_words(token)
            for p, piece in enumerate(pieces):
                for word in acronyms.get(piece, piece).split():
                    if word not in _PREPOSITIONS:
                        continue
                    if pieces == (word,):
                        role = WORD
                    elif t == len(tokens) - 1 and (piece == word or p == len(pieces) - 1):
                        role = INNER  # a piece of the last word, or in its last acronym
                    else:
                        role = MODIFIER
                    roles[word] = min(role, roles.get(word, MODIFIER))
    return roles


def _without_broader_cycles(concepts: list[Concept]) -> list[Concept]:
    """Drop broader links that would close a cycle (vocabularies are not always trees):
    links are added in key order, each only if its target cannot reach its source."""
    up: dict[str, set[str]] = defaultdict(set)

    def reaches(start: str, goal: str) -> bool:
        stack, seen = [start], set()
        while stack:
            node = stack.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                stack.extend(up[node])
        return False

    keep: dict[str, list[str]] = {}
    for c in sorted(concepts, key=lambda c: c.key):
        keep[c.key] = []
        for b in c.broader:
            if b != c.key and not reaches(b, c.key):
                up[c.key].add(b)
                keep[c.key].append(b)
    return [
        dataclasses.replace(c, broader=tuple(sorted(keep[c.key])))
        if tuple(sorted(keep[c.key])) != c.broader
        else c
        for c in concepts
    ]


def _acronym_label(short_key: str | None, written: dict[str, Counter[str]]) -> str | None:
    if short_key is None or not written.get(short_key):
        return None
    return min(written[short_key].items(), key=lambda kv: (-kv[1], kv[0]))[0]


def _spelled_out(
    papers: Sequence[Paper],
    mentions: list[tuple[str, str, float, str, int, int]],
    papers_of: dict[str, set[str]],
    concept_vectors: Mapping[str, np.ndarray],
    doc_vectors: np.ndarray,
    global_acronyms: dict[str, str],
    paper_acronyms: dict[str, dict[str, str]],
) -> list[tuple[str, str, float, str, int, int]]:
    """Mentions of corpus concepts that a paper spells out but did not rank in its top n."""
    longest = max((len(k.split()) for k in papers_of), default=0)
    # Every leading run of words of a concept key (or of an acronym): an n-gram whose first
    # tokens, acronyms spelled out, are not one of these cannot grow into a concept.
    prefixes: set[str] = set()
    for key in (*papers_of, *global_acronyms):
        words = key.split()
        prefixes.update(" ".join(words[:j]) for j in range(1, len(words)))
    linked = {(p, k) for p, k, *_ in mentions}
    floor: dict[str, float] = {}
    for p, _k, s, *_ in mentions:
        floor[p] = min(floor.get(p, 1.0), s)
    # Each paper is read on its own: the papers are shared between this process and a forked
    # one (``kg.parallel``), in two halves, and the results joined in the papers' order.
    find = partial(
        _spelled_in,
        papers,
        papers_of=papers_of,
        prefixes=prefixes,
        linked=linked,
        longest=longest,
        global_acronyms=global_acronyms,
        paper_acronyms=paper_acronyms,
    )
    n = len(papers)
    half = (n + 1) // 2 if n >= FORK_PAPERS else n
    with forked([partial(find, range(half, n))] if half < n else [], workers=1) as rest:
        spelled = find(range(half))
    for other in rest:
        spelled += other.result()
    from kg.extract.score import prefetch

    prefetch(concept_vectors, (key for _, _, key, *_ in spelled))
    extra = []
    for index, paper_key, key, surface, start, end, ratio in spelled:
        vector = concept_vectors.get(key)
        if vector is None:
            continue
        score = float(doc_vectors[index] @ vector)
        if score >= ratio * floor.get(paper_key, 1.0):
            extra.append((paper_key, key, round(score, 4), surface, start, end))
    return extra


class _Token(NamedTuple):
    """What the spelled-out search reads of a token, once."""

    words: tuple[str, ...]  # folded (``folded_words``)
    inner_capital: bool
    acronyms: int  # how many of its words are defined acronyms
    spelled: str  # its words, acronyms spelled out
    starts: bool  # whether an n-gram that could be a concept key may start with it
    last: str  # its last word singular (``singular``), or "" without words


def _spelled_in(  # noqa: PLR0913 - the corpus-wide tables _spelled_out made
    papers: Sequence[Paper],
    indices: range,
    *,
    papers_of: Mapping[str, set[str]],
    prefixes: set[str],
    linked: set[tuple[str, str]],
    longest: int,
    global_acronyms: dict[str, str],
    paper_acronyms: dict[str, dict[str, str]],
) -> list[tuple[int, str, str, str, int, int, float]]:
    """The concepts that the papers at ``indices`` spell out and did not rank, as (index,
    paper key, concept key, surface, start, end, the share of the paper's last score needed)."""
    spelled = []
    # What each distinct token reads with the corpus's acronyms. A paper that defines an
    # acronym otherwise reads the tokens holding it again.
    shared: dict[str, _Token] = {}

    def read(token: str, acronyms: dict[str, str]) -> _Token:
        words = folded_words(token)
        inner_capital = any(ch.isupper() for ch in token[1:])
        spelled = " ".join(acronyms.get(w, w) for w in words)
        # a one-token n-gram is keyed only with an inner capital; a longer one grows from a
        # token whose spelling begins a concept key
        return _Token(
            words,
            inner_capital,
            sum(w in acronyms for w in words),
            spelled,
            inner_capital or spelled in prefixes,
            written_singular(token, words[-1]) if words else "",
        )

    for index in indices:
        paper = papers[index]
        acronyms = _layered(global_acronyms, paper_acronyms[paper.key])
        window = paper.text[:MAX_TEXT_CHARS]
        tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(window)]
        # Each token is read once; an n-gram's key is its tokens' folded words, the last one
        # singular (``concept_key`` of its text), unless a gap between its tokens folds to a
        # word of its own ("A™ B"), when the text itself is keyed.
        table = [
            shared.get(t) or shared.setdefault(t, read(t, global_acronyms)) for *_, t in tokens
        ]
        if acronyms is not global_acronyms:  # its own acronyms: the tokens with one, again
            own = {
                s for s, long in paper_acronyms[paper.key].items() if global_acronyms.get(s) != long
            }
            table = [
                e if own.isdisjoint(e.words) else read(tokens[k][2], acronyms)
                for k, e in enumerate(table)
            ]
        found: list[tuple[int, int, int, int, str]] = []  # (-n, i, start, end, key)
        for i in range(len(tokens)):
            if not table[i].starts:  # nothing can start here
                continue
            head = last = ""
            words: list[str] = []
            in_acronyms = 0  # how many of ``words`` are acronyms defined for this paper
            clean = True
            start, capital = tokens[i][0], table[i].inner_capital
            for n in range(1, min(longest, len(tokens) - i) + 1):
                j = i + n - 1
                end = tokens[j][1]
                folds, _, defined, more, _, singular_last = table[j]
                if folds:
                    words += folds
                    last = singular_last  # singular(words[-1])
                in_acronyms += defined
                if clean and n > 1:
                    gap = window[tokens[j - 1][1] : tokens[j][0]]
                    clean = not gap or gap.isspace() or not folded_words(gap)
                # a single common word is never linked by spelling alone (see below)
                if n > 1 or capital:
                    if clean and words:  # ``_expand`` of the key, with the counts made above
                        plain = " ".join((*words[:-1], last))
                        if plain in acronyms:
                            key = acronyms[plain]
                        elif len(words) > 1 and (
                            in_acronyms - (words[-1] in acronyms) or last in acronyms
                        ):
                            key = concept_key(" ".join(_spliced(plain.split(), acronyms)))
                        else:
                            key = plain
                    else:
                        key = _expand(
                            concept_key(paper.text[start:end]) if not clean else "", acronyms
                        )
                    if key in papers_of:
                        found.append((-n, i, start, end, key))
                head = (f"{head} {more}" if more else head) if head else more
                if head not in prefixes:
                    break
        seen: set[str] = set()
        # the last token of a concept found so far that covers each token (longest first)
        covered_to = [-1] * len(tokens)
        for neg_n, i, start, end, key in sorted(found):  # longest first, as they read
            j = i - neg_n - 1
            surface = paper.text[start:end]
            # "zeroth-order optimization" does not make a paper about "optimization"
            inside = covered_to[i] >= j
            for t in range(i, j + 1):
                covered_to[t] = max(covered_to[t], j)
            if inside or key in seen or (paper.key, key) in linked:
                continue
            # a single common word is too vague to link by spelling alone
            if neg_n == -1 and not any(ch.isupper() for ch in surface[1:]):
                continue
            seen.add(key)
            ratio = TITLE_RATIO if end <= len(paper.title) else SPELLED_OUT_RATIO
            spelled.append((index, paper.key, key, surface, start, end, ratio))
    return spelled
