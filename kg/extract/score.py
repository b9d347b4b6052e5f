"""Score: KeyBERT's cosine for each candidate of each paper, the costly part of extraction.

A paper's scores depend on its text alone (each phrase is embedded on its own), so papers can
be scored in any grouping, in any process, in any order, and cached: the results are the same.
``score_texts`` is that unit of work; ``score_in_processes`` spreads it over local processes,
each loading the model once. (``kg.distributed`` spreads the same function over a Dask cluster.)
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from kg.config import Config
from kg.extract.candidates import Candidate
from kg.extract.embedders import Embedder, KeyBERTBackend
from kg.extract.ranking import common_word

FAST_WORD_BONUS = 0.15
"""Fast mode adds this per extra word (up to two) to a candidate's cosine: static vectors of
single words sit too close to a document's mean vector (Inspec validation F1@10: 31.0 -> 33.8)."""
TASK = 64
"""Papers per task sent to a worker process."""

Row = tuple[tuple[tuple[Any, ...], ...], np.ndarray | None]
"""A scored paper: its candidates as ``(phrase, surface, start, end, count, position, cosine)``
tuples (cosine None: left out by the prescreen), and its document embedding."""


class PhraseCache:
    """Wraps an embedder so each distinct text is embedded once (kept in float16).

    At most ``limit`` vectors are kept; when full, it starts again empty. Every text is
    embedded on its own, so what is cached changes the speed, never the vectors.
    """

    def __init__(self, inner: Embedder, *, limit: int = 200_000) -> None:
        self.inner = inner
        self.name = inner.name
        self.limit = limit
        self._vectors: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        missing = sorted({t for t in texts if t not in self._vectors})
        if len(self._vectors) + len(missing) > self.limit:
            self._vectors = {t: self._vectors[t] for t in set(texts) & self._vectors.keys()}
        if missing:
            for text, vector in zip(missing, self.inner.embed(missing), strict=True):
                self._vectors[text] = vector.astype(np.float16)
        if not texts:
            return np.zeros((0, 0), np.float32)
        return np.stack([self._vectors[t] for t in texts]).astype(np.float32)


class LabelVectors(Mapping[str, np.ndarray]):
    """Unit embeddings of concept labels by concept key, made when first asked for (a big build
    compares only a few of its concepts by embedding); ``prefetch`` embeds many at once.
    """

    def __init__(self, phrases: PhraseCache | None, labels: Mapping[str, str]) -> None:
        self._phrases = phrases
        self._labels = dict(labels)
        self._vectors: dict[str, np.ndarray] = {}

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (sent back by a forked process) without its embedder: the labels and the
        vectors made so far. ``bind`` gives it an embedder again."""
        return {"labels": self._labels, "vectors": self._vectors}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._phrases, self._labels, self._vectors = None, state["labels"], state["vectors"]

    def bind(self, phrases: PhraseCache) -> LabelVectors:
        """The same labels and vectors, the missing ones made by ``phrases``."""
        view = LabelVectors(phrases, self._labels)
        view._vectors = self._vectors
        return view

    def prefetch(self, keys: Iterable[str]) -> None:
        missing = sorted({k for k in keys if k in self._labels and k not in self._vectors})
        if missing:
            if self._phrases is None:
                raise RuntimeError("label vectors without an embedder: bind(phrases) first")
            vectors = self._phrases.embed([self._labels[k] for k in missing])
            self._vectors.update(zip(missing, vectors, strict=True))

    def restricted(self, keys: Iterable[str]) -> LabelVectors:
        """The same vectors (made or not yet) for ``keys`` only."""
        view = LabelVectors(self._phrases, {k: self._labels[k] for k in keys if k in self._labels})
        view._vectors = self._vectors
        return view

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._vectors:
            if key not in self._labels:
                raise KeyError(key)
            self.prefetch([key])
        return self._vectors[key]

    def __contains__(self, key: object) -> bool:
        return key in self._labels

    def __iter__(self) -> Iterator[str]:
        return iter(self._labels)

    def __len__(self) -> int:
        return len(self._labels)


def prefetch(vectors: Mapping[str, np.ndarray], keys: Iterable[str]) -> None:
    """Embed ``keys`` in one go where ``vectors`` is lazy (``LabelVectors``)."""
    if isinstance(vectors, LabelVectors):
        vectors.prefetch(keys)


def candidates(texts: list[str], config: Config) -> list[list[Candidate]]:
    if config.candidates == "lexicon":
        from kg.extract.fastcandidates import fast_candidates

        return fast_candidates(texts, max_words=config.max_words)
    from kg.extract.candidates import noun_phrases

    return noun_phrases(texts, max_words=config.max_words)


@lru_cache(maxsize=1)
def _screen_model(model: str, cache: str | None) -> Embedder:
    """The static model that prescreens candidates (default mode), loaded once per process."""
    from kg.extract.embedders import StaticEmbedder

    return StaticEmbedder(model, cache=cache)


def prescreen(
    texts: list[str], cands: list[list[Candidate]], keep: int, static: Embedder
) -> list[set[str]]:
    """The phrases of each text worth the model's time: its ``keep`` best candidates by static
    cosine to the text, with fast mode's bonus for longer phrases and the ranking's position
    bonus (ties: first occurrence). The others are not embedded; on Inspec validation,
    keeping 20 loses 0.3 F1@10 points of scoring them all and saves a third of the model runs."""
    from kg.extract.ranking import POSITION_SCALE

    screened = [{c.phrase for c in found} for found in cands]
    long = [i for i, found in enumerate(cands) if len(found) > keep]
    if not long:
        return screened
    unique = sorted({c.phrase for i in long for c in cands[i]})
    row_of = {phrase: k for k, phrase in enumerate(unique)}
    vectors = static.embed(unique)
    docs = static.embed([texts[i] for i in long])
    for doc, i in zip(docs, long, strict=True):
        found = cands[i]
        score = vectors[[row_of[c.phrase] for c in found]] @ doc
        score += np.array([_screen_bonus(c) for c in found])
        score += 0.15 * np.exp(-np.array([c.position for c in found]) / POSITION_SCALE)
        best = np.argsort(-score, kind="stable")[:keep]
        screened[i] = {found[k].phrase for k in best.tolist()}
    return screened


def score_texts(
    texts: list[str], config: Config, phrases: PhraseCache, *, cache: str | None = None
) -> list[Row]:
    """KeyBERT's cosine for every candidate of every text, and each text's embedding.

    In the default mode, candidates that ``prescreen`` leaves out keep their place (they count
    for corpus statistics) with no cosine (None). ``cache``: where the prescreening model is.
    """
    from sklearn import config_context
    from sklearn.feature_extraction.text import CountVectorizer

    from kg.extract.embedders import import_keybert

    KeyBERT = import_keybert()  # noqa: N806 - the class

    cands = candidates(texts, config)
    if config.prescreen and not config.fast:
        kept = prescreen(texts, cands, config.prescreen, _screen_model(config.model, cache))
    else:
        kept = [{c.phrase for c in found} for found in cands]
    doc_vectors = phrases.inner.embed(texts)
    by_text = {
        text: [c.phrase for c in found if c.phrase in keep]
        for text, found, keep in zip(texts, cands, kept, strict=True)
    }
    cosines: list[dict[str, float]] = [{} for _ in texts]
    if any(by_text.values()):
        kb = KeyBERT(model=KeyBERTBackend(phrases))
        vectorizer = CountVectorizer(analyzer=lambda doc: by_text[doc], lowercase=False)
        # KeyBERT calls scikit-learn's cosine_similarity once per text; its argument checks
        # (types, finiteness, data frames) cost more than the product itself for an abstract.
        with config_context(assume_finite=True, skip_parameter_validation=True), _plain_cosine():
            scored = kb.extract_keywords(
                texts,
                vectorizer=vectorizer,
                top_n=max(len(c) for c in by_text.values()),
                doc_embeddings=doc_vectors,
            )
        if texts and scored and isinstance(scored[0], tuple):  # KeyBERT's shape for one text
            scored = [scored]
        cosines = [dict(pairs) for pairs in scored]
    rows: list[Row] = []
    for found, keep, cos, vector in zip(cands, kept, cosines, doc_vectors, strict=True):
        rows.append(
            (
                tuple(
                    (
                        c.phrase,
                        c.surface,
                        c.start,
                        c.end,
                        c.count,
                        c.position,
                        _cosine(cos, c.phrase, keep, config),
                    )
                    for c in found
                ),
                np.asarray(vector, np.float32),
            )
        )
    return rows


def exact_cosine(x: Any, y: Any = None, dense_output: bool = True) -> Any:
    """scikit-learn's ``cosine_similarity`` for two non-empty dense 2-D float arrays, the same
    numbers bit for bit (the same dtype rule, row norms, near-zero norms and product), without
    its argument checks, which cost some 200 µs a call (finiteness is not checked either: as
    under scikit-learn's ``assume_finite``); any other input goes to scikit-learn."""
    from sklearn.metrics.pairwise import cosine_similarity

    if not (
        isinstance(x, np.ndarray)
        and isinstance(y, np.ndarray)
        and x.ndim == y.ndim == 2
        and x.size
        and y.size
        and x.shape[1] == y.shape[1]
        and x.dtype.kind == y.dtype.kind == "f"
        and dense_output
    ):
        return cosine_similarity(x, y, dense_output=dense_output)
    dtype = np.float32 if x.dtype == y.dtype == np.float32 else np.float64
    x, y = np.array(x, dtype=dtype), np.array(y, dtype=dtype)  # copies, normalised in place
    for rows in (x, y):
        norms = np.sqrt(np.einsum("ij,ij->i", rows, rows))
        norms[norms < 10 * np.finfo(dtype).eps] = 1.0
        rows /= norms[:, None]
    return x @ y.T


class _PlainCosine:
    """KeyBERT's cosine by ``exact_cosine`` while any block of it runs in this process (threads
    of one process share KeyBERT's module: the first block in puts it there, the last one out
    puts scikit-learn's back)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._plain: Any = None

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        import keybert._model as keybert_model

        if getattr(keybert_model, "cosine_similarity", None) is None:
            yield  # another layout of KeyBERT: scikit-learn's own, checks and all
            return
        with self._lock:
            if not self._inside:
                self._plain = keybert_model.cosine_similarity
                keybert_model.cosine_similarity = exact_cosine
            self._inside += 1
        try:
            yield
        finally:
            with self._lock:
                self._inside -= 1
                if not self._inside:
                    keybert_model.cosine_similarity = self._plain


_plain_cosine = _PlainCosine()


def _screen_bonus(c: Candidate) -> float:
    """Fast mode's bonus for longer phrases, where a single word written like a name
    (GFlowNets, MeZO, SGD) counts as long (static vectors of rare words sit far from any
    text's), and the same again for a phrase the text repeats ("Transformers", 7 times)."""
    if " " not in c.phrase and not common_word(c):
        bonus = 2 * FAST_WORD_BONUS
    else:
        bonus = _bonus(c.phrase, fast=True)
    return bonus + FAST_WORD_BONUS * min(c.count - 1, 2)


def _cosine(cos: dict[str, float], phrase: str, keep: set[str], config: Config) -> float | None:
    if phrase not in keep:
        return None
    return round(float(cos.get(phrase, 0.0)) + _bonus(phrase, fast=config.fast), 4)


def _bonus(phrase: str, *, fast: bool) -> float:
    return FAST_WORD_BONUS * (min(len(phrase.split()), 3) - 1) if fast else 0.0


@lru_cache(maxsize=1)
def _worker_phrases(config: Config, cache: str | None) -> PhraseCache:
    """The model of this worker process, loaded by its first task."""
    from kg.extract import load_embedder

    return PhraseCache(load_embedder(config, cache=cache, workers=1))


def score_task(texts: list[str], config: Config, cache: str | None) -> list[Row]:
    """One task in a worker process (a Dask worker, or a local process)."""
    return score_texts(texts, config, _worker_phrases(config, cache), cache=cache)


def score_in_processes(
    texts: Sequence[str],
    config: Config,
    *,
    workers: int,
    cache: str | None,
    done: Callable[[int], None] = lambda n: None,
) -> Generator[list[Row], None, None]:
    """Score ``texts`` in ``workers`` local processes; rows come back in input order, one list
    per ``TASK`` texts. ``done(n)`` is called as each task finishes."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork shares the imported libraries with the workers (each still loads its own model);
    # where fork is not the default (macOS, Windows) the safe default is kept.
    method = "fork" if multiprocessing.get_start_method(allow_none=True) in (None, "fork") else None
    context = multiprocessing.get_context(method)
    from kg.extract.embedders import import_keybert

    import_keybert()  # imported once here, before the fork, not in each worker

    derive_models(config, cache)  # once here, not in every worker at the same time
    tasks = [list(texts[i : i + TASK]) for i in range(0, len(texts), TASK)]
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        pending = []
        for task in tasks:
            pending.append(pool.submit(score_task, task, config, cache))
            if len(pending) >= 4 * workers:
                rows = pending.pop(0).result()
                done(len(rows))
                yield rows
        for future in pending:
            rows = future.result()
            done(len(rows))
            yield rows


def derive_models(config: Config, cache: str | None) -> None:
    """Make the models derived from ``config.model`` (int8 export, distillation) that scoring
    loads, where they are missing from the cache."""
    from kg.extract import _device
    from kg.extract.embedders import OnnxEmbedder, StaticEmbedder

    if config.fast or config.prescreen:
        StaticEmbedder.folder(config.model, cache=cache)
    if not config.fast and _device(config) == "cpu":  # a GPU embeds with the model itself
        OnnxEmbedder.folder(config.model, cache=cache)
