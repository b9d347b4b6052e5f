"""Keyphrase evaluation with the common protocol (Inspec, SemEval-2017).

Lower-case, keep ``[a-z0-9]+`` tokens, Porter-stem each, exact match of stemmed phrases,
duplicates removed from the ranked list before cutting at k; F1@k averaged over documents.
It agrees with the reference scorer ``kpe_eval.py`` of the shared data.

>>> f1_at_k(["neural networks", "Neural network", "graphs"], ["neural network"], 1)
1.0
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from kg.errors import InputError
from kg.model import Paper, Rejected

KS = (5, 10, 15)


@dataclass(frozen=True, slots=True)
class GoldRecord:
    """One record of a gold file: where it is, its id and gold keyphrases, and the paper
    ingest made of its text, or why it could not (a rejected record still counts, as 0)."""

    locator: str
    doc_id: str | None
    keyphrases: tuple[str, ...]
    paper: Paper | Rejected


def read_gold(path: Path) -> list[GoldRecord]:
    """Every record of a gold file (JSON Lines with ``id``, ``title``, ``abstract`` and
    ``keyphrases``, gzip or not; e.g. Inspec), in file order, read by ingest's readers so
    its papers are the ones ``kg build`` would make. A record without an id or a keyphrase
    list, or an id seen before, is an error naming the file and line: predictions are
    matched by id. A record ingest rejects is kept, with its reason.

    >>> import json, tempfile
    >>> gold = Path(tempfile.mkdtemp()) / "gold.jsonl"
    >>> rows = [{"id": 1, "title": "Graph nets", "abstract": "On graphs.", "keyphrases": ["graph"]},
    ...         {"id": 2, "title": "", "abstract": "", "keyphrases": ["nothing"]}]
    >>> _ = gold.write_text("".join(json.dumps(r) + "\\n" for r in rows))
    >>> [(g.locator, g.doc_id, type(g.paper).__name__) for g in read_gold(gold)]
    [('line 1', '1', 'Paper'), ('line 2', '2', 'Rejected')]
    """
    from kg.ingest import iter_raw, no_usable_papers
    from kg.ingest.records import to_paper

    path = Path(path)
    records: list[GoldRecord] = []
    first_line: dict[str, str] = {}
    for item in iter_raw(path):
        if isinstance(item, Rejected):
            records.append(GoldRecord(item.locator, item.record_id, (), item))
            continue
        where = f"{path} {item.source.locator}"
        seen = ", ".join(str(k) for k in item.fields) or "none"
        raw_id = item.fields.get("id")
        if raw_id is None or str(raw_id).strip() == "":
            raise InputError(
                f"{where}: no 'id' (fields seen: {seen}); every gold record needs one, "
                "predictions (kg keyphrases, kpe_eval.py) are matched to gold by id"
            )
        doc_id = str(raw_id)
        if doc_id in first_line:
            raise InputError(
                f"{where}: id {doc_id!r} again (first on {first_line[doc_id]}); gold ids must "
                "be unique: predictions are matched to gold by id"
            )
        first_line[doc_id] = item.source.locator
        phrases = item.fields.get("keyphrases")
        if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
            got = "none" if phrases is None else type(phrases).__name__
            raise InputError(
                f"{where} (id {doc_id!r}): 'keyphrases' must be a list of strings "
                f"(got {got}; fields seen: {seen})"
            )
        records.append(GoldRecord(item.source.locator, doc_id, tuple(phrases), to_paper(item)))
    if not any(isinstance(r.paper, Paper) for r in records):
        raise no_usable_papers(
            path, [r.paper for r in records if isinstance(r.paper, Rejected)], None
        )
    return records


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    from nltk.stem import PorterStemmer

    return PorterStemmer()


@lru_cache(maxsize=200_000)
def stem_phrase(phrase: str) -> str:
    stem = _stemmer().stem
    return " ".join(stem(t) for t in re.findall(r"[a-z0-9]+", phrase.lower()))


def _ranked(predicted: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    ranked: list[str] = []
    for phrase in predicted:
        norm = stem_phrase(phrase)
        if norm and norm not in seen:
            seen.add(norm)
            ranked.append(norm)
    return ranked


def f1_at_k(predicted: Sequence[str], gold: Iterable[str], k: int) -> float:
    gold_set = {stem_phrase(g) for g in gold} - {""}
    top = _ranked(predicted)[:k]
    if not top or not gold_set:
        return 0.0
    tp = len(set(top) & gold_set)
    if tp == 0:
        return 0.0
    precision, recall = tp / len(top), tp / len(gold_set)
    return 2 * precision * recall / (precision + recall)


def score(
    gold: Mapping[str, Sequence[str]],
    predicted: Mapping[str, Sequence[str]],
    ks: Sequence[int] = KS,
) -> dict[str, float]:
    """F1@k in percent (two decimals), over every gold document; a missing prediction scores 0."""
    out: dict[str, float] = {"docs": len(gold)}
    for k in ks:
        total = sum(f1_at_k(predicted.get(doc, ()), phrases, k) for doc, phrases in gold.items())
        out[f"F1@{k}"] = round(100 * total / max(len(gold), 1), 2)
    return out
