"""Extract: ranked keyphrases per paper, KeyBERT at the centre.

Candidates are noun phrases (``candidates.py``); KeyBERT scores them by the cosine between each
candidate's embedding and the document's, and ``ranking.py`` orders them with that cosine plus
position and corpus-rarity signals (and optional MMR diversity). Every unique phrase is embedded
once per run.

>>> from kg.model import Paper, Source
>>> paper = Paper(key="p1", record_id="p1", title="Zeroth-order optimization for LLMs",
...               abstract="We fine-tune large language models without gradients.",
...               source=Source("doc", "record 1"))
>>> result = extract_keyphrases([paper], progress=False)
>>> result[0].keyphrases[0].text
'zeroth-order optimization'
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kg.config import Config
from kg.extract.candidates import Candidate, noun_phrases
from kg.extract.embedders import Embedder, KeyBERTBackend, SentenceTransformerEmbedder
from kg.extract.ranking import document_frequencies, mmr, rank
from kg.model import MAX_TEXT_CHARS, Keyphrase, Paper, PaperKeyphrases

CHUNK = 512


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


def load_embedder(config: Config) -> Embedder:
    return SentenceTransformerEmbedder(
        config.model, device=config.device, batch_size=config.batch_size
    )


def _rank_chunk(
    kb: object,
    texts: list[str],
    candidates: list[list[Candidate]],
    doc_embeddings: np.ndarray,
    config: Config,
    *,
    df: dict[str, int] | None = None,
    n_docs: int = 0,
    embed: object = None,
) -> list[list[tuple[str, float]]]:
    """KeyBERT's cosine for every candidate, then the ranking signals, then the top n."""
    from sklearn.feature_extraction.text import CountVectorizer

    by_text = {text: [c.phrase for c in cands]
               for text, cands in zip(texts, candidates, strict=True)}
    if not any(by_text.values()):
        return [[] for _ in texts]
    vectorizer = CountVectorizer(analyzer=lambda doc: by_text[doc], lowercase=False)
    scored = kb.extract_keywords(  # type: ignore[attr-defined]
        texts,
        vectorizer=vectorizer,
        top_n=max(len(c) for c in candidates),
        doc_embeddings=doc_embeddings,
    )
    if texts and scored and isinstance(scored[0], tuple):  # KeyBERT's shape for one document
        scored = [scored]
    out: list[list[tuple[str, float]]] = []
    for cands, pairs in zip(candidates, scored, strict=True):
        cosine = dict(pairs)
        ranked = rank(cands, [cosine.get(c.phrase, 0.0) for c in cands],
                      position_weight=config.position_weight,
                      corpus_weight=config.corpus_weight, df=df, n_docs=n_docs)
        if config.use_mmr and ranked:
            pool = ranked[: 4 * config.top_n]
            vectors = embed([c.phrase for c, _ in pool])  # type: ignore[operator]
            ranked = mmr(pool, vectors, top_n=config.top_n, diversity=config.diversity)
        out.append([(c.phrase, s) for c, s in ranked[: config.top_n]])
    return out


def extract_keyphrases(
    papers: Sequence[Paper],
    *,
    config: Config = Config(),
    embedder: Embedder | None = None,
    progress: bool = True,
) -> list[PaperKeyphrases]:
    """One ``PaperKeyphrases`` per paper, in input order, best keyphrase first."""
    from keybert import KeyBERT
    from tqdm.auto import tqdm

    cache = PhraseCache(embedder or load_embedder(config))
    kb = KeyBERT(model=KeyBERTBackend(cache))
    results: list[PaperKeyphrases] = []
    bar = tqdm(total=len(papers), desc="keyphrases", unit="paper", disable=not progress or None)
    # Candidates of the whole corpus first: their document frequencies are a ranking signal.
    all_candidates = noun_phrases(
        [p.text[:MAX_TEXT_CHARS] for p in papers], max_words=config.max_words
    )
    df = document_frequencies(all_candidates)
    for offset in range(0, len(papers), CHUNK):
        chunk = papers[offset : offset + CHUNK]
        texts = [p.text[:MAX_TEXT_CHARS] for p in chunk]
        candidates = all_candidates[offset : offset + CHUNK]
        doc_embeddings = cache.inner.embed(texts)
        ranked = _rank_chunk(kb, texts, candidates, doc_embeddings, config, df=df,
                             n_docs=len(papers), embed=cache.embed)
        for paper, cands, pairs, vector in zip(
            chunk, candidates, ranked, doc_embeddings, strict=True
        ):
            spans = {c.phrase: c for c in cands}
            results.append(
                PaperKeyphrases(
                    paper.key,
                    tuple(
                        Keyphrase(spans[p].surface, round(float(s), 4), spans[p].start,
                                  spans[p].end)
                        for p, s in pairs
                    ),
                    vector,
                )
            )
        bar.update(len(chunk))
    bar.close()
    return results
