"""Ranking signals on top of KeyBERT's cosine: position, corpus rarity, MMR diversity.

KeyBERT scores every candidate by its cosine to the document; that cosine stays the score a
keyphrase carries (and the one linking compares). The order adds two signals, tuned on Inspec
train/validation only:

* position: phrases of the title and first sentences are what a paper is about, so
  ``position_weight * exp(-first_word / 50)`` is added;
* single common words ("optimization", "benchmark") are rarely what an expert lists: they lose
  ``SINGLE_WORD_PENALTY`` unless written like a name (GFlowNet, MeZO, SGD);
* corpus rarity: when many papers are built together (at least ``MIN_CORPUS``), a phrase that
  many of them use is less specific to any one ("language model", "training data"):
  ``corpus_weight * (idf / log(N) - 1)`` is added, ``idf = log(N / document frequency)``.

>>> from kg.extract.candidates import Candidate
>>> cands = [Candidate("zeroth-order optimizer", "zeroth-order optimizer", 0, 22, 1, 0),
...          Candidate("training cost", "training cost", 700, 713, 1, 120)]
>>> [(c.phrase, s) for c, s in rank(cands, [0.40, 0.42], single_word_penalty=0)]
[('training cost', 0.42), ('zeroth-order optimizer', 0.4)]
>>> [(c.phrase, s) for c, s in rank(cands, [0.40, 0.42], position_weight=0.15,
...                                  single_word_penalty=0)]
[('zeroth-order optimizer', 0.4), ('training cost', 0.42)]
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from kg.extract.candidates import Candidate

POSITION_SCALE = 50.0
"""Words over which the position bonus decays by a factor e."""
SINGLE_WORD_PENALTY = 0.1
MIN_CORPUS = 50
"""Fewer papers than this give no usable document frequencies: the rarity signal is off."""


def document_frequencies(candidates: Sequence[Sequence[Candidate]]) -> Counter[str]:
    """In how many documents each candidate phrase occurs.

    >>> c = Candidate("graph", "graph", 0, 5, 1, 0)
    >>> document_frequencies([[c], [c], []])["graph"]
    2
    """
    df: Counter[str] = Counter()
    for cands in candidates:
        df.update({c.phrase for c in cands})
    return df


def rank(
    candidates: Sequence[Candidate],
    similarities: Sequence[float],
    *,
    position_weight: float = 0.0,
    corpus_weight: float = 0.0,
    df: Mapping[str, int] | None = None,
    n_docs: int = 0,
    single_word_penalty: float = SINGLE_WORD_PENALTY,
) -> list[tuple[Candidate, float]]:
    """Candidates best first, each with its cosine to the document (KeyBERT's score).

    Ties keep the candidates' order (first occurrence), so the ranking is deterministic.
    """
    if not candidates:
        return []
    cos = np.asarray(similarities, dtype=np.float64)
    score = cos.copy()
    if position_weight:
        pos = np.array([c.position for c in candidates], dtype=np.float64)
        score += position_weight * np.exp(-pos / POSITION_SCALE)
    if single_word_penalty:
        score -= single_word_penalty * np.array([common_word(c) for c in candidates])
    if corpus_weight and df is not None and n_docs >= MIN_CORPUS:
        log_n = math.log(n_docs)
        idf = np.array([math.log(n_docs / max(df.get(c.phrase, 1), 1)) for c in candidates])
        score += corpus_weight * (idf / log_n - 1.0)
    order = np.argsort(-score, kind="stable")
    return [(candidates[i], float(cos[i])) for i in order]


def common_word(c: Candidate) -> bool:
    return " " not in c.phrase and not any(ch.isupper() for ch in c.surface[1:])


def mmr(
    ranked: Sequence[tuple[Candidate, float]],
    vectors: np.ndarray,
    *,
    top_n: int,
    diversity: float,
) -> list[tuple[Candidate, float]]:
    """Maximal marginal relevance over a ranking: each next pick trades its rank-relevance for
    distance to the picks so far (``diversity`` 0 keeps the ranking, 1 wants only novelty).

    Relevance is the candidate's place in ``ranked`` scaled to [0, 1], so MMR respects every
    ranking signal, not only the cosine. ``vectors`` are the candidates' unit embeddings.

    >>> a, b, c = (Candidate(p, p, 0, 1, 1, i) for i, p in enumerate(["gflownet", "gflownets",
    ...            "molecule"]))
    >>> v = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> [x.phrase for x, _ in mmr([(a, .9), (b, .8), (c, .5)], v, top_n=2, diversity=0.5)]
    ['gflownet', 'molecule']
    """
    n = len(ranked)
    if n == 0:
        return []
    relevance = 1.0 - np.arange(n, dtype=np.float64) / max(n - 1, 1)
    sims = vectors @ vectors.T
    picked = [0]
    left = list(range(1, n))
    while left and len(picked) < top_n:
        redundancy = sims[np.ix_(left, picked)].max(axis=1)
        gain = (1 - diversity) * relevance[left] - diversity * redundancy
        best = left[int(np.argmax(gain))]
        picked.append(best)
        left.remove(best)
    return [ranked[i] for i in picked]
