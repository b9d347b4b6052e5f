"""The records that flow between the pipeline stages: small, frozen, and hashable.

``Paper`` leaves ingest, ``Keyphrase`` leaves extraction, ``Concept`` and ``Mention`` leave linking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import PurePath
from typing import Any

import numpy as np

MAX_TEXT_CHARS = 50_000
"""Keyphrases and acronyms come from the first 50,000 characters of a paper: an abstract of
100,000 words would otherwise hold the tagger for minutes, and the embedding model reads far
less anyway. The paper itself is kept whole."""


@dataclass(frozen=True, slots=True)
class Source:
    """Where a record came from: the file and its 1-based line or record number."""

    file: str
    locator: str  # "line 17" or "record 3"

    def __str__(self) -> str:
        return f"{self.file} {self.locator}"

    @property
    def record(self) -> str:
        """The record as the outputs name it: the file's name (not its folder, so that they do
        not depend on how the input's path was typed, and publish no local paths) and locator.

        >>> Source("/home/me/data/papers.jsonl", "line 17").record
        'papers.jsonl line 17'
        """
        return f"{PurePath(self.file).name} {self.locator}"


@dataclass(frozen=True, slots=True)
class Paper:
    """One paper listing: the unit of the graph.

    ``key`` is the stable identifier used in IRIs and node names: the arXiv id where there is one,
    else derived from the normalised title (or the text when there is no title).
    ``record_id`` is the id as the input spelled it (or ``key`` when it had none).
    """

    key: str
    record_id: str
    title: str
    abstract: str
    source: Source
    authors: tuple[str, ...] = ()
    date: str | None = None  # ISO 8601: YYYY, YYYY-MM or YYYY-MM-DD
    url: str | None = None
    arxiv_id: str | None = None
    categories: tuple[str, ...] = ()
    text: str = field(init=False, repr=False, compare=False)
    """Title and abstract as one document, the way the extractor sees it (made once: the
    linking stage reads it millions of times on a big corpus)."""

    def __post_init__(self) -> None:
        if self.title and self.abstract:
            sep = " " if self.title.rstrip()[-1:] in ".?!" else ". "
            text = self.title.rstrip() + sep + self.abstract
        else:
            text = self.title or self.abstract
        object.__setattr__(self, "text", text)


@dataclass(frozen=True, slots=True)
class Rejected:
    """An input record left out of the graph, and why."""

    file: str
    locator: str
    reason: str
    record_id: str | None = None


@dataclass(frozen=True, slots=True)
class Merged:
    """An input record folded into another paper with the same identity."""

    file: str
    locator: str
    into: str  # key of the paper it was merged into
    reason: str
    record_id: str | None = None


@dataclass(frozen=True, slots=True)
class Keyphrase:
    """A ranked keyphrase of one paper, with the evidence: its first span in ``Paper.text``."""

    text: str
    score: float
    start: int
    end: int

    def __reduce__(self) -> tuple[Any, ...]:
        return _by_fields(self)


@dataclass(frozen=True, slots=True)
class PaperKeyphrases:
    paper_key: str
    keyphrases: tuple[Keyphrase, ...]
    doc_vector: np.ndarray | None = field(default=None, compare=False, repr=False)
    """The document embedding the keyphrases were ranked against (unit length)."""


@dataclass(frozen=True, slots=True)
class Concept:
    """A concept node: one per idea however the papers spell it."""

    key: str  # normalised form, the identity of the concept
    pref_label: str
    alt_labels: tuple[str, ...] = ()
    acronym: str | None = None
    broader: tuple[str, ...] = ()  # keys of broader concepts
    exact_match: tuple[str, ...] = ()  # IRIs in external vocabularies
    close_match: tuple[str, ...] = ()

    def __reduce__(self) -> tuple[Any, ...]:
        return _by_fields(self)


@dataclass(frozen=True, slots=True)
class Mention:
    """A paper is about a concept: the KeyBERT score and the span it came from."""

    paper_key: str
    concept_key: str
    score: float
    surface: str
    start: int
    end: int
    sentence: str = field(default="", compare=False)

    def __reduce__(self) -> tuple[Any, ...]:
        return _by_fields(self)


def _by_fields(record: Any) -> tuple[Any, ...]:
    """Pickled as its class and field values (the link stage's result crosses processes):
    half the time of the slots' default, a state dict per record (15.7 -> 7.5 s for
    the 45k link result, pickled and unpickled); the values read by one ``attrgetter`` per
    class, in C."""
    kind = type(record)
    fields = _FIELDS.get(kind)
    if fields is None:
        fields = _FIELDS[kind] = attrgetter(*kind.__slots__)
    return (kind, fields(record))


_FIELDS: dict[type, Any] = {}
"""Record class -> the ``attrgetter`` of its fields (every record class has two or more, so it
gives a tuple)."""
