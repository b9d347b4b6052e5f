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
from functools import lru_cache
from typing import Any

KS = (5, 10, 15)


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
