"""Extract: ranked keyphrases per paper, KeyBERT's method at the centre.

Candidates are noun phrases (``candidates.py``; ``fastcandidates.py`` in fast mode); each is
ranked by the cosine between its embedding and the document's, as KeyBERT does (and with
KeyBERT's maximal marginal relevance when ``use_mmr``). Every unique phrase is embedded once
per run; with a persistent cache (``cache=DIR``) a paper whose text, model and options were
seen before is not processed again, and gets exactly the keyphrases it got then.

>>> from kg.model import Paper, Source
>>> paper = Paper(key="p1", record_id="p1", title="Zeroth-order optimization for LLMs",
...               abstract="We fine-tune large language models without gradients.",
...               source=Source("doc", "record 1"))
>>> result = extract_keyphrases([paper], progress=False)
>>> "zeroth-order optimization" in [k.text.lower() for k in result[0].keyphrases[:2]]
True
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from kg.config import Config
from kg.extract.candidates import Candidate
from kg.extract.embedders import Embedder
from kg.model import Keyphrase, Paper, PaperKeyphrases

CHUNK = 512
"""Papers per chunk: memory stays flat however long the corpus is."""
FAST_WORD_BONUS = 0.15
"""Fast mode adds this per extra word (up to two) to a candidate's cosine: static vectors of
single words sit too close to a document's mean vector (Inspec validation F1@10: 31.0 -> 33.8)."""


class PhraseCache:
    """Wraps an embedder so each distinct text is embedded once per run (kept in float16)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self._vectors: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        missing = sorted({t for t in texts if t not in self._vectors})
        if missing:
            for text, vector in zip(missing, self.inner.embed(missing), strict=True):
                self._vectors[text] = vector.astype(np.float16)
        if not texts:
            return np.zeros((0, 0), np.float32)
        return np.stack([self._vectors[t] for t in texts]).astype(np.float32)


def _gpu_present() -> bool:
    return os.path.exists("/dev/nvidia0") or os.path.exists("/dev/nvidiactl")


def load_embedder(config: Config, *, cache: str | os.PathLike[str] | None = None) -> Embedder:
    """The embedder a config asks for.

    Fast mode: static model2vec vectors. On a GPU (``--device cuda``, or ``auto`` when torch
    sees one): sentence-transformers in fp16. Otherwise: the model exported to int8 ONNX.
    """
    from kg.extract import embedders

    if config.fast:
        return embedders.StaticEmbedder(config.model, cache=cache)
    device = config.device
    if device == "auto":
        device = embedders.resolve_device("auto") if _gpu_present() else "cpu"
    if device != "cpu":
        return embedders.SentenceTransformerEmbedder(
            config.model, device=device, batch_size=max(config.batch_size, 256)
        )
    return embedders.OnnxEmbedder(config.model, cache=cache)


def _candidates(texts: list[str], config: Config) -> list[list[Candidate]]:
    if config.fast:
        from kg.extract.fastcandidates import fast_candidates

        return fast_candidates(texts, max_words=config.max_words)
    from kg.extract.candidates import noun_phrases

    return noun_phrases(texts, max_words=config.max_words)


def _mmr(doc: np.ndarray, cands: np.ndarray, top_n: int, diversity: float) -> list[int]:
    """Maximal marginal relevance, as in KeyBERT: indices of the chosen candidates, in order."""
    relevance = cands @ doc
    among = cands @ cands.T
    chosen = [int(np.argmax(relevance))]
    rest = [i for i in range(len(cands)) if i != chosen[0]]
    while rest and len(chosen) < top_n:
        redundancy = among[np.ix_(rest, chosen)].max(axis=1)
        value = (1 - diversity) * relevance[rest] - diversity * redundancy
        pick = rest[int(np.argmax(value))]
        chosen.append(pick)
        rest.remove(pick)
    return chosen


def rank(
    doc: np.ndarray, phrases: list[str], vectors: np.ndarray, config: Config,
    *, bonus: np.ndarray | None = None,
) -> list[tuple[str, float]]:
    """KeyBERT's ranking of one document's candidates: cosine to the document, best first
    (ties by phrase), or maximal marginal relevance with ``config.use_mmr``.

    >>> v = np.eye(3, dtype=np.float32)
    >>> rank(v[0], ["b", "a", "c"], np.stack([v[0], v[1], v[0] * .5 + v[1] * .5]), Config(top_n=2))
    [('b', 1.0), ('c', 0.5)]
    """
    if not phrases:
        return []
    if config.use_mmr:
        picked = _mmr(doc, vectors, config.top_n, config.diversity)
        return [(phrases[i], round(float(vectors[i] @ doc), 4)) for i in picked]
    raw = vectors @ doc if bonus is None else vectors @ doc + bonus
    scores = [round(float(s), 4) for s in raw]
    order = sorted(range(len(phrases)), key=lambda i: (-scores[i], phrases[i]))
    return [(phrases[i], scores[i]) for i in order[: config.top_n]]


def _extract_chunk(
    texts: list[str], config: Config, phrases: PhraseCache
) -> list[tuple[tuple[tuple[str, float, int, int], ...], np.ndarray]]:
    candidates = _candidates(texts, config)
    doc_vectors = phrases.inner.embed(texts)
    vocab = sorted({c.phrase for cands in candidates for c in cands})
    index = {p: i for i, p in enumerate(vocab)}
    matrix = phrases.embed(vocab) if vocab else np.zeros((0, doc_vectors.shape[1]), np.float32)
    rows = []
    for cands, doc in zip(candidates, doc_vectors, strict=True):
        names = [c.phrase for c in cands]
        vectors = matrix[[index[p] for p in names]]
        if config.fast:
            bonus = np.array([FAST_WORD_BONUS * (min(len(p.split()), 3) - 1) for p in names])
            ranked = rank(doc, names, vectors, config, bonus=bonus)
        else:
            ranked = rank(doc, names, vectors, config)
        spans = {c.phrase: c for c in cands}
        rows.append((
            tuple((spans[p].surface, s, spans[p].start, spans[p].end) for p, s in ranked),
            doc.astype(np.float32),
        ))
    return rows


def extract_keyphrases(
    papers: Sequence[Paper],
    *,
    config: Config = Config(),
    embedder: Embedder | None = None,
    progress: bool = True,
    cache: str | os.PathLike[str] | None = None,
) -> list[PaperKeyphrases]:
    """One ``PaperKeyphrases`` per paper, in input order, best keyphrase first.

    ``cache``: a folder for the persistent cache of results (and derived models); papers found
    there are not processed again. Without it, nothing about the papers is stored.
    """
    from tqdm.auto import tqdm

    from kg.extract.cache import KeyphraseStore, cache_dir, fingerprint, text_key

    if embedder is None:
        embedder = load_embedder(config, cache=cache)
    phrases = embedder if isinstance(embedder, PhraseCache) else PhraseCache(embedder)
    store = KeyphraseStore(cache_dir(cache), fingerprint(config)) if cache else None
    results: list[PaperKeyphrases] = []
    bar = tqdm(total=len(papers), desc="keyphrases", unit="paper", disable=not progress or None)
    try:
        for offset in range(0, len(papers), CHUNK):
            chunk = papers[offset : offset + CHUNK]
            keys = [text_key(p.text) for p in chunk]
            found = store.get(keys) if store else {}
            todo = sorted({k: p.text for k, p in zip(keys, chunk, strict=True)
                           if k not in found}.items())
            if todo:
                made = _extract_chunk([t for _, t in todo], config, phrases)
                new = {k: row for (k, _), row in zip(todo, made, strict=True)}
                if store:
                    store.put(new)
                found.update(new)
            for paper, key in zip(chunk, keys, strict=True):
                ranked, vector = found[key]
                results.append(PaperKeyphrases(
                    paper.key,
                    tuple(Keyphrase(s, round(float(sc), 4), a, b) for s, sc, a, b in ranked),
                    vector,
                ))
            bar.update(len(chunk))
    finally:
        bar.close()
        if store:
            store.close()
    return results


__all__ = ["CHUNK", "PhraseCache", "extract_keyphrases", "load_embedder", "rank"]
