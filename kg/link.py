"""Link: keyphrases become concepts, one per idea however the papers spell it.

A phrase's identity (its *key*) ignores case, hyphen/space, plural/singular, and an acronym the
paper defines ("Generative Flow Networks (GFlowNets)": *GFlowNets* and *GFlowNet optimization*
are keyed through the long form). Every spelling is kept as an alternative label, and every
merge of two different spellings is listed with its reason.

>>> concept_key("Zeroth-Order Optimizations")
'zeroth order optimization'
>>> find_acronyms("We train Generative Flow Networks (GFlowNets) on molecules.")
{'gflownet': 'generative flow network'}
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from kg.config import Config
from kg.model import MAX_TEXT_CHARS, Concept, Mention, Paper, PaperKeyphrases

_DASHES = re.compile(r"[-‐‑‒–—_/]+")
_NON_WORD = re.compile(r"[^\w\s.+#]")
_INVARIANT_ENDINGS = ("ss", "us", "is", "ics", "ous", "ness", "sis", "xis")
_ACRONYM_DEF = re.compile(r"\(([^()]{1,24})\)")
# A paper is linked to a corpus concept that it spells out but did not rank in its top n when
# the concept is about as close to the paper as its own keyphrases: at least this share of the
# score of its last keyphrase (a lower share when the title names it, since titles are the
# authors' own summary).
SPELLED_OUT_RATIO = 0.9
TITLE_RATIO = 0.75
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")


@lru_cache(maxsize=100_000)
def singular(word: str) -> str:
    """Singular of a lower-case noun; words that only look plural are left alone."""
    if len(word) < 4 or not word.endswith("s") or word.endswith(_INVARIANT_ENDINGS):
        return word
    from lemminflect import getLemma

    lemmas = getLemma(word, upos="NOUN")
    return lemmas[0] if lemmas else word


@lru_cache(maxsize=500_000)
def concept_key(phrase: str) -> str:
    """Case, hyphens and the plural of the head word folded away."""
    text = unicodedata.normalize("NFKC", phrase).casefold()
    text = _DASHES.sub(" ", text)
    text = _NON_WORD.sub(" ", text)
    words = text.split()
    if not words:
        return ""
    words[-1] = singular(words[-1])
    return " ".join(words)


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
        while j >= 0 and (
            long_text[j] != c or (i == 0 and j > 0 and long_text[j - 1].isalnum())
        ):
            j -= 1
        if j < 0:
            return False
        j -= 1
    return True


def find_acronyms(text: str) -> dict[str, str]:
    """Acronyms defined as "long form (SHORT)" in a text, as {key(short): key(long)}."""
    return {short_key: long_key for _, short_key, long_key in acronym_definitions(text)}


def acronym_definitions(text: str) -> list[tuple[str, str, str]]:
    """Each "long form (SHORT)" definition as (SHORT as written, key(SHORT), key(long form))."""
    found: list[tuple[str, str, str]] = []
    for match in _ACRONYM_DEF.finditer(text):
        short = match.group(1).strip()
        if not (2 <= len(short) <= 12) or " " in short or not any(c.isupper() for c in short):
            continue
        before = re.findall(r"[\w-]+", text[max(0, match.start() - 120) : match.start()])
        n_letters = sum(c.isupper() for c in short) or len(short)
        for size in range(1, min(len(before), n_letters + 3) + 1):
            words = before[-size:]
            if _initials_match(short.rstrip("s") if short.endswith("s") else short, words):
                long_key = concept_key(" ".join(words))
                short_key = concept_key(short)
                if long_key and short_key and long_key != short_key:
                    found.append((short, short_key, long_key))
                break
    return found


def sentence_at(text: str, start: int, end: int) -> str:
    """The sentence holding ``text[start:end]``: the evidence shown with a mention."""
    left = 0
    for m in _SENTENCE_END.finditer(text, 0, start):
        left = m.end()
    m = _SENTENCE_END.search(text, end)
    right = m.start() if m else len(text)
    return text[left:right].strip()


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
        return concept_key(" ".join(acronyms.get(w, w) for w in words))
    return key


def _display(surface: str, position_capital: bool) -> str:
    """A label as a person would write it in running text, singular.

    Capitals that only mark a title or a sentence start are dropped; acronyms and words with
    inner capitals (GFlowNet, MeZO, LLM) keep theirs.

    >>> _display("Generative Flow Networks", True), _display("GFlowNets", False)
    ('generative flow network', 'GFlowNet')
    """
    words = surface.split()

    def pieces(word: str) -> list[str]:
        return [p for p in re.split(r"[-‐‑–]", word) if p]

    def proper(piece: str) -> bool:  # an acronym or a name with inner capitals: keep as is
        return any(c.isupper() for c in piece[1:])

    title_case = len(words) > 1 and all(
        p[:1].isupper() for w in words for p in pieces(w) if p[:1].isalpha()
    )
    out = []
    for w in words:
        parts = re.split(r"([-‐‑–])", w)
        for i, part in enumerate(parts):
            if part[:1].isupper() and not proper(part) and (position_capital or title_case):
                parts[i] = part[:1].lower() + part[1:]
        out.append("".join(parts))
    last = out[-1]
    if last.isupper():  # "DARTS" is a name, not a plural
        return " ".join(out)
    lowered = last.lower()
    stem = singular(lowered)
    if stem != lowered and lowered.startswith(stem):
        out[-1] = last[: len(stem)]  # keep the writer's capitals: "GFlowNets" -> "GFlowNet"
    elif stem != lowered:
        out[-1] = stem
    return " ".join(out)


def _pref_label(counts: Counter[tuple[str, bool]], texts: Sequence[str], key: str) -> str:
    """The spelling used most often in the concept's papers (case-insensitive), spelled-out
    forms winning ties, in the casing of running text where the papers have it."""
    groups: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for surface, capital in counts:
        groups[surface.lower()].append((surface, capital))

    def uses(form: str) -> int:
        return sum(t.lower().count(form) for t in texts)

    best = min(groups, key=lambda f: (-uses(f), concept_key(f) != key, -len(f), f))
    variants = sorted(groups[best], key=lambda v: (v[1], -counts[v], v[0]))
    return _display(*variants[0])


def link_concepts(
    papers: Sequence[Paper],
    keyphrases: Sequence[PaperKeyphrases],
    *,
    config: Config = Config(),
    concept_vectors: dict[str, np.ndarray] | None = None,
    doc_vectors: np.ndarray | None = None,
) -> Linked:
    """Concepts and mentions from each paper's ranked keyphrases.

    When embeddings are given, a paper is also linked to every concept of the corpus that its
    text spells out and whose similarity to the paper is at least that of its own last
    keyphrase: a paper on *federated zeroth-order optimization* is about *zeroth-order
    optimization* too.
    """
    by_paper = {p.key: p for p in papers}
    corpus_acronyms: dict[str, Counter[str]] = defaultdict(Counter)
    paper_acronyms: dict[str, dict[str, str]] = {}
    short_surfaces: dict[str, Counter[str]] = defaultdict(Counter)
    for paper in papers:
        found = acronym_definitions(paper.text[:MAX_TEXT_CHARS])
        paper_acronyms[paper.key] = {short: long for _, short, long in found}
        for written, short, long in found:
            corpus_acronyms[short][long] += 1
            short_surfaces[short][_display(written, False)] += 1
    # An acronym means the same across the corpus when one long form dominates its uses.
    global_acronyms = {
        s: c.most_common(1)[0][0]
        for s, c in corpus_acronyms.items()
        if c.most_common(1)[0][1] * 2 > sum(c.values())
    }

    surfaces: dict[str, Counter[tuple[str, bool]]] = defaultdict(Counter)
    raw_mentions: list[tuple[str, str, float, str, int, int]] = []
    reasons: dict[tuple[str, str], str] = {}
    for pk in keyphrases:
        paper = by_paper[pk.paper_key]
        acronyms = {**global_acronyms, **paper_acronyms[paper.key]}
        text = paper.text
        best: dict[str, tuple[float, str, int, int]] = {}
        for kp in pk.keyphrases:
            plain = concept_key(kp.text)
            key = _expand(plain, acronyms)
            if not key:
                continue
            at_start = kp.start < len(paper.title) or text[: kp.start].rstrip()[-1:] in ("", ".", "!", "?", ":")
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

    if concept_vectors is not None and doc_vectors is not None:
        raw_mentions += _spelled_out(papers, raw_mentions, papers_of, concept_vectors, doc_vectors,
                                     global_acronyms, paper_acronyms)
        papers_of = defaultdict(set)
        for paper_key, key, *_ in raw_mentions:
            papers_of[key].add(paper_key)

    kept = {k for k, ps in papers_of.items() if len(ps) >= config.min_concept_papers}
    acronym_of = {long: short for short, long in global_acronyms.items()}
    concepts: list[Concept] = []
    merges: list[dict[str, str]] = []
    for key in sorted(kept):
        counts = surfaces[key]
        texts = [by_paper[p].text for p in sorted(papers_of[key])]
        pref = _pref_label(counts, texts, key) if counts else key
        labels = sorted({s for (s, _), _ in counts.items()} - {pref})
        concepts.append(Concept(key=key, pref_label=pref, alt_labels=tuple(labels),
                                acronym=_acronym_label(acronym_of.get(key), short_surfaces)))
        for label in labels:
            if concept_key(label) != concept_key(pref):
                merges.append({"concept": key, "pref_label": pref, "merged": label,
                               "reason": reasons.get((key, label), "same key after acronym expansion")})
            elif label != pref:
                merges.append({"concept": key, "pref_label": pref, "merged": label,
                               "reason": "same words up to case, hyphens and plural"})

    mentions = [
        Mention(p, k, s, t, a, b, sentence_at(by_paper[p].text, a, b))
        for p, k, s, t, a, b in sorted(raw_mentions, key=lambda m: (m[0], m[1]))
        if k in kept
    ]
    return Linked(concepts, mentions, merges)


def _acronym_label(short_key: str | None, written: dict[str, Counter[str]]) -> str | None:
    if short_key is None or not written.get(short_key):
        return None
    return min(written[short_key].items(), key=lambda kv: (-kv[1], kv[0]))[0]


def _spelled_out(
    papers: Sequence[Paper],
    mentions: list[tuple[str, str, float, str, int, int]],
    papers_of: dict[str, set[str]],
    concept_vectors: dict[str, np.ndarray],
    doc_vectors: np.ndarray,
    global_acronyms: dict[str, str],
    paper_acronyms: dict[str, dict[str, str]],
) -> list[tuple[str, str, float, str, int, int]]:
    """Mentions of corpus concepts that a paper spells out but did not rank in its top n."""
    longest = max((len(k.split()) for k in papers_of), default=0)
    linked = {(p, k) for p, k, *_ in mentions}
    floor: dict[str, float] = {}
    for p, _k, s, *_ in mentions:
        floor[p] = min(floor.get(p, 1.0), s)
    extra = []
    for index, paper in enumerate(papers):
        acronyms = {**global_acronyms, **paper_acronyms[paper.key]}
        window = paper.text[:MAX_TEXT_CHARS]
        tokens = [(m.start(), m.end(), m.group())
                  for m in re.finditer(r"[\w.+#]+(?:[-‐‑–][\w.+#]+)*", window)]
        seen: set[str] = set()
        for i in range(len(tokens)):
            for n in range(1, longest + 1):
                if i + n > len(tokens):
                    break
                start, end = tokens[i][0], tokens[i + n - 1][1]
                surface = paper.text[start:end]
                key = _expand(concept_key(surface), acronyms)
                if key in seen or key not in papers_of or (paper.key, key) in linked:
                    continue
                seen.add(key)
                vector = concept_vectors.get(key)
                if vector is None:
                    continue
                score = float(doc_vectors[index] @ vector)
                ratio = TITLE_RATIO if end <= len(paper.title) else SPELLED_OUT_RATIO
                if score >= ratio * floor.get(paper.key, 1.0):
                    extra.append((paper.key, key, round(score, 4), surface, start, end))
    return extra
