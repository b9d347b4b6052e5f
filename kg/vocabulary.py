"""Known vocabularies: the Computer Science Ontology, and a user's own SKOS file.

Concepts are matched to a vocabulary's topics by their labels, folded the way concept keys are
(case, hyphens, plural): the concept's own key gives ``skos:exactMatch``; another of its
spellings, or the same word stems ("zeroth-order optimizer" / "zeroth-order optimization"),
gives ``skos:closeMatch``. ``skos:broader`` comes from the vocabulary's hierarchy, to the
nearest ancestors that are concepts of the graph too.

The CSO part that kg uses ships as ``kg/data/cso-topics.tsv.gz`` (CC BY 4.0, see
``kg/data/NOTICE``).

>>> cso = load_cso()
>>> cso.iri(cso.by_key["federated learning"])
'https://cso.kmi.open.ac.uk/topics/federated_learning'
>>> [cso.labels[t] for t in cso.broader[cso.by_key["federated learning"]]]
['machine learning']
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from kg.errors import ConfigError
from kg.model import Concept

CSO_BASE = "https://cso.kmi.open.ac.uk/topics/"
CSO_FILE = Path(__file__).parent / "data" / "cso-topics.tsv.gz"
BROADER_DEPTH = 3
"""How far up a vocabulary's hierarchy to look for a broader concept of the graph."""


@dataclass(frozen=True)
class Vocabulary:
    """Topics with labels and a broader hierarchy. Topic ids are IRIs or local names."""

    name: str
    base: str  # prefix that turns a topic id into its IRI ("" when ids are IRIs)
    labels: dict[str, str]  # topic -> preferred label
    alt_labels: dict[str, tuple[str, ...]]
    broader: dict[str, tuple[str, ...]]
    by_key: dict[str, str] = field(default_factory=dict)  # concept_key(label) -> topic
    by_signature: dict[str, str] = field(default_factory=dict)  # stem signature -> topic

    def iri(self, topic: str) -> str:
        return self.base + topic


def _index(vocab: Vocabulary, folded: dict[str, list[tuple[str, str]]] | None = None) -> Vocabulary:
    """Index topics by label key and stem signature; ``folded`` gives them precomputed as
    {topic: [(key, signature) per label, the preferred label's first]}."""
    from kg.link import concept_key, stem_signature

    if folded is None:
        folded = {}
        for topic, pref in vocab.labels.items():
            keys = [concept_key(label) for label in (pref, *vocab.alt_labels.get(topic, ()))]
            folded[topic] = [(k, stem_signature(k)) for k in keys]
    by_key: dict[str, str] = {}
    by_signature: dict[str, str] = {}
    # Preferred labels first, then alternatives: a preferred label wins a clash.
    for pass_ in ("pref", "alt"):
        for topic in sorted(folded):
            pairs = folded[topic][:1] if pass_ == "pref" else folded[topic][1:]
            for key, signature in pairs:
                if key:
                    by_key.setdefault(key, topic)
                    by_signature.setdefault(signature, topic)
    return replace(vocab, by_key=by_key, by_signature=by_signature)


@lru_cache(maxsize=1)
def load_cso() -> Vocabulary:
    """The Computer Science Ontology topics shipped with kg (read once per process)."""
    labels: dict[str, str] = {}
    alts: dict[str, tuple[str, ...]] = {}
    broader: dict[str, tuple[str, ...]] = {}
    folded: dict[str, list[tuple[str, str]]] = {}
    with gzip.open(CSO_FILE, "rt", encoding="utf-8") as f:
        next(f)
        for line in f:
            topic, names, up, keys, signatures = line.rstrip("\n").split("\t")
            first, *rest = names.split("|")
            labels[topic] = first
            alts[topic] = tuple(rest)
            broader[topic] = tuple(up.split("|")) if up else ()
            folded[topic] = list(zip(keys.split("|"), signatures.split("|"), strict=True))
    vocab = Vocabulary("Computer Science Ontology 3.5", CSO_BASE, labels, alts, broader)
    return _index(vocab, folded)


def read_skos(path: str | Path) -> Vocabulary:
    """A user's SKOS vocabulary (Turtle, or any RDF syntax rdflib guesses from the name).

    Each ``skos:Concept`` (or any subject with a ``skos:prefLabel``) is a topic; its
    ``skos:altLabel``/``skos:hiddenLabel`` spellings merge into it; ``skos:broader`` links
    are kept.
    """
    from rdflib import Graph, URIRef
    from rdflib.namespace import RDF, SKOS
    from rdflib.util import guess_format

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: vocabulary file not found")
    g = Graph()
    try:
        g.parse(path, format=guess_format(str(path)) or "turtle")
    except Exception as exc:  # rdflib raises many types for a malformed file
        raise ConfigError(f"{path}: not a readable RDF/SKOS file: {exc}") from exc
    topics = sorted(
        {s for s in g.subjects(RDF.type, SKOS.Concept) if isinstance(s, URIRef)}
        | {s for s in g.subjects(SKOS.prefLabel, None) if isinstance(s, URIRef)}
    )
    labels: dict[str, str] = {}
    alts: dict[str, tuple[str, ...]] = {}
    broader: dict[str, tuple[str, ...]] = {}
    for topic in topics:
        prefs = sorted(
            str(o)
            for o in g.objects(topic, SKOS.prefLabel)
            if getattr(o, "language", None) in (None, "en")
        )
        if not prefs:
            raise ConfigError(
                f"{path}: concept <{topic}> has no skos:prefLabel (in English "
                f"or without a language tag)"
            )
        labels[str(topic)] = prefs[0]
        alts[str(topic)] = tuple(
            sorted(
                {str(o) for p in (SKOS.altLabel, SKOS.hiddenLabel) for o in g.objects(topic, p)}
                | set(prefs[1:])
            )
        )
        broader[str(topic)] = tuple(sorted(str(o) for o in g.objects(topic, SKOS.broader)))
    if not labels:
        raise ConfigError(f"{path}: no skos:Concept with a skos:prefLabel found")
    return _index(Vocabulary(path.name, "", labels, alts, broader))


def _matches(concept: Concept, vocab: Vocabulary) -> tuple[str | None, list[str]]:
    """The topic the concept's key names (exact), and topics its other spellings name."""
    from kg.link import concept_key, stem_signature

    exact = vocab.by_key.get(concept.key)
    close: set[str] = set()
    for label in (concept.pref_label, *concept.alt_labels):
        topic = vocab.by_key.get(concept_key(label))
        if topic is not None and len(concept_key(label)) > 3:  # not a bare short acronym
            close.add(topic)
    topic = vocab.by_signature.get(stem_signature(concept.key))
    if topic is not None:
        close.add(topic)
    if exact is not None:
        close.discard(exact)
    return exact, sorted(close)


def link_vocabulary(concepts: Sequence[Concept], vocab: Vocabulary) -> list[Concept]:
    """Concepts with ``exact_match``/``close_match`` to the vocabulary's IRIs and ``broader``
    links to other concepts that the vocabulary places above them.

    >>> from kg.model import Concept
    >>> linked = link_vocabulary([Concept("federated learning", "federated learning"),
    ...                           Concept("machine learning", "machine learning")], load_cso())
    >>> linked[0].exact_match, linked[0].broader
    (('https://cso.kmi.open.ac.uk/topics/federated_learning',), ('machine learning',))
    """
    found = {c.key: _matches(c, vocab) for c in concepts}
    concept_of: dict[str, str] = {}
    for key in sorted(found):  # the concept whose own key names the topic owns it
        exact = found[key][0]
        if exact is not None:
            concept_of.setdefault(exact, key)
    out = []
    for c in concepts:
        exact, close = found[c.key]
        if not exact and not close and _normal(c):  # most concepts: nothing to add
            out.append(c)
            continue
        topics = [exact] if exact else close
        up: set[str] = set()
        for topic in topics:
            up |= _nearest_ancestors(topic, vocab, concept_of, c.key)
        out.append(
            replace(
                c,
                exact_match=tuple(sorted({*c.exact_match, *([vocab.iri(exact)] if exact else [])})),
                close_match=tuple(sorted({*c.close_match, *(vocab.iri(t) for t in close)})),
                broader=tuple(sorted({*c.broader, *up})),
            )
        )
    return out


def _normal(c: Concept) -> bool:
    """Whether the concept's links are sorted and unique already, as ``link_vocabulary``
    leaves them."""
    return all(
        list(links) == sorted(set(links)) for links in (c.exact_match, c.close_match, c.broader)
    )


def _nearest_ancestors(
    topic: str, vocab: Vocabulary, concept_of: dict[str, str], own: str
) -> set[str]:
    level, seen = {topic}, {topic}
    for _ in range(BROADER_DEPTH):
        level = {b for t in level for b in vocab.broader.get(t, ()) if b not in seen}
        seen |= level
        hits = {concept_of[t] for t in level if t in concept_of and concept_of[t] != own}
        if hits:
            return hits
    return set()
