"""Extract: ranked keyphrases per paper, KeyBERT at the centre.

Candidates are noun phrases (``candidates.py``; ``fastcandidates.py`` in fast mode); KeyBERT
scores each by the cosine between its embedding and the document's, and ``ranking.py`` orders
them with that cosine plus position and corpus-rarity signals (and optional MMR diversity).
Every unique phrase is embedded once per run. With a persistent cache (``cache=DIR``) a paper
whose text, model and options were seen before is not embedded again: the cache holds its scored
candidates, and the (cheap) corpus-level ranking is redone every build, so an incremental build
equals a build from scratch.

>>> from kg.model import Paper, Source
>>> paper = Paper(key="p1", record_id="p1", title="Zeroth-order optimization for LLMs",
...               abstract="We fine-tune large language models without gradients.",
...               source=Source("doc", "record 1"))
>>> result = extract_keyphrases([paper], progress=False)
>>> "Zeroth-order optimization" in [k.text for k in result[0].keyphrases[:2]]
True
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from collections.abc import Callable, Generator, Sequence
from functools import partial

from kg.config import Config
from kg.errors import ConfigError
from kg.extract.candidates import Candidate
from kg.extract.embedders import Embedder
from kg.extract.ranking import mmr, rank
from kg.extract.score import PhraseCache, Row, score_in_processes, score_texts
from kg.model import MAX_TEXT_CHARS, Keyphrase, Paper, PaperKeyphrases
from kg.parallel import collector_paused, cores, forked

CHUNK = 512
"""Papers per chunk scored in this process: the embedding work and its memory stay flat however
long the corpus is."""
POOL_MIN = 256
"""Fewer papers to score than this are scored in this process: starting worker processes
and loading the model in each costs more than it saves."""
POOL_MIN_FAST = 8192
"""The same for fast mode, which scores a few thousand papers a second in one process."""
FORK_RANK_PAPERS = 8_000
"""Papers from which the corpus-level ranking runs in two processes."""


def _gpu_present() -> bool:
    return os.path.exists("/dev/nvidia0") or os.path.exists("/dev/nvidiactl")


def load_embedder(
    config: Config, *, cache: str | os.PathLike[str] | None = None, workers: int | None = None
) -> Embedder:
    """The embedder a config asks for.

    Fast mode: static model2vec vectors. On a GPU (``--device cuda``, or ``auto`` when torch
    sees one): sentence-transformers in fp16. Otherwise: the model exported to int8 ONNX
    (``workers`` threads; default: up to four).
    """
    from kg.extract import embedders

    if config.fast:
        return embedders.StaticEmbedder(config.model, cache=cache)
    device = _device(config)
    if device != "cpu":
        return embedders.SentenceTransformerEmbedder(
            config.model, device=device, batch_size=max(config.batch_size, 256)
        )
    return embedders.OnnxEmbedder(config.model, cache=cache, workers=workers)


def _device(config: Config) -> str:
    from kg.extract import embedders

    if config.device == "auto":
        return embedders.resolve_device("auto") if _gpu_present() else "cpu"
    return usable_device(config.device)


def usable_device(device: str) -> str:
    """``device`` ("cpu", "cuda", "mps") where torch can use it; a GPU asked for by name that
    torch cannot use is a ``ConfigError``, said before any work (not torch's assertion after
    the input was read). (Not in ``embedders``: its code keys the extraction cache.)"""
    if device == "cpu":
        return device
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        why = "it was built without CUDA" if torch.version.cuda is None else "it sees no GPU"
        raise ConfigError(f"--device cuda: torch {torch.__version__} cannot use CUDA ({why})")
    if device == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"--device mps: torch {torch.__version__} cannot use MPS on this machine")
    return device


class _Packed:
    """A scored paper held compactly until it is ranked (a corpus holds millions of candidates):
    the phrases (lower case, single spaces) as one string, surfaces only where they differ,
    numbers as arrays."""

    __slots__ = ("phrases", "surfaces", "numbers", "scores", "vector")

    def __init__(self, row: Row) -> None:
        import numpy as np

        cands, self.vector = row
        self.phrases = "\n".join(c[0] for c in cands)
        self.surfaces = tuple("" if c[1] == c[0] else c[1] for c in cands)
        self.numbers = np.array([c[2:6] for c in cands], dtype=np.int64).reshape(-1, 4)
        self.scores = np.array([np.nan if c[6] is None else c[6] for c in cands], dtype=np.float64)

    def phrase_set(self) -> set[str]:
        return set(self.phrases.split("\n")) if self.phrases else set()

    def candidates(self, keep: Sequence[bool]) -> list[Candidate]:
        """The candidates that ``keep`` marks, in order."""
        if not self.phrases:
            return []
        rows = zip(self.phrases.split("\n"), self.surfaces, self.numbers.tolist(), strict=True)
        return [
            Candidate(phrase, surface or phrase, *numbers)
            for (phrase, surface, numbers), ok in zip(rows, keep, strict=True)
            if ok
        ]


def _select(
    row: _Packed, config: Config, df: Counter[str], n_docs: int, phrases: PhraseCache | None
) -> tuple[Keyphrase, ...]:
    """The top n of one paper: ranking signals over KeyBERT's cosine, then optional MMR.
    Candidates the prescreen left out (no cosine) are not ranked."""
    import numpy as np

    scored = ~np.isnan(row.scores)
    ranked = rank(
        row.candidates(scored.tolist()),
        row.scores[scored].tolist(),
        position_weight=config.position_weight,
        corpus_weight=config.corpus_weight,
        df=df,
        n_docs=n_docs,
    )
    if config.use_mmr and ranked:
        assert phrases is not None
        pool = ranked[: 4 * config.top_n]
        ranked = mmr(
            pool,
            phrases.embed([c.phrase for c, _ in pool]),
            top_n=config.top_n,
            diversity=config.diversity,
        )
    return tuple(
        Keyphrase(c.surface, round(s, 4), c.start, c.end) for c, s in ranked[: config.top_n]
    )


def _nothing() -> Generator[list[Row], None, None]:
    yield from ()


def _score_here(
    texts: list[str],
    config: Config,
    phrases: PhraseCache,
    *,
    cache: str | None,
    done: Callable[[int], None],
) -> Generator[list[Row], None, None]:
    for i in range(0, len(texts), CHUNK):
        rows = score_texts(texts[i : i + CHUNK], config, phrases, cache=cache)
        done(len(rows))
        yield rows


def extract_keyphrases(
    papers: Sequence[Paper],
    *,
    config: Config = Config(),  # noqa: B008 - frozen
    embedder: Embedder | None = None,
    progress: bool = True,
    cache: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    dask: str | None = None,
) -> list[PaperKeyphrases]:
    """One ``PaperKeyphrases`` per paper, in input order, best keyphrase first.

    ``cache``: a folder for the persistent cache (derived models, scored candidates); papers
    found there are not embedded again. Without it, nothing about the papers is stored.
    ``workers``: processes that score papers (default: one per CPU core; each loads the model)
    when no ``embedder`` is given and there are many papers to score.
    ``dask``: a Dask scheduler address (or ``local:N``) whose workers score the papers not
    in the cache, whatever their number (see ``kg.distributed``); the results are the same.
    """
    from tqdm.auto import tqdm

    from kg.extract.cache import KeyphraseStore, cache_dir, fingerprint, text_key

    texts = [p.text[:MAX_TEXT_CHARS] for p in papers]
    keys = [text_key(t) for t in texts]
    store = KeyphraseStore(cache_dir(cache), fingerprint(config)) if cache else None
    scored: dict[str, _Packed] = {}
    bar = tqdm(total=len(papers), desc="keyphrases", unit="paper", disable=not progress or None)
    phrases = embedder if isinstance(embedder, PhraseCache | None) else PhraseCache(embedder)
    try:
        unique = list(dict.fromkeys(keys))
        if store:
            for offset in range(0, len(unique), CHUNK):
                found = store.get(unique[offset : offset + CHUNK])
                scored.update((k, _Packed(row)) for k, row in found.items())
        text_of = dict(zip(keys, texts, strict=True))
        todo = [k for k in unique if k not in scored]
        bar.update(len(keys) - len(todo))
        workers = workers or cores()
        pooled = len(todo) >= (POOL_MIN_FAST if config.fast else POOL_MIN)
        pending = [text_of[k] for k in todo]
        batches: Generator[list[Row], None, None]
        if not todo:  # everything cached: no model to load
            batches = _nothing()
        elif dask:
            from kg.distributed import score_on_dask

            batches = score_on_dask(
                pending,
                config,
                address=dask,
                cache=str(cache) if cache else None,
                done=bar.update,
            )
        elif phrases is None and workers > 1 and pooled and _device(config) == "cpu":
            batches = score_in_processes(
                pending,
                config,
                workers=workers,
                cache=str(cache) if cache else None,
                done=bar.update,
            )
        else:
            phrases = phrases or PhraseCache(load_embedder(config, cache=cache))
            batches = _score_here(
                pending, config, phrases, cache=str(cache) if cache else None, done=bar.update
            )
        offset = 0
        with contextlib.closing(batches):
            for rows in batches:
                new = dict(zip(todo[offset : offset + len(rows)], rows, strict=True))
                offset += len(rows)
                if store:
                    store.put(new)
                scored.update((k, _Packed(row)) for k, row in new.items())
    finally:
        bar.close()
        if store:
            store.close()
    # Corpus statistics come from every paper of this build, cached or not.
    df: Counter[str] = Counter()
    for key in keys:
        df.update(scored[key].phrase_set())
    if config.use_mmr and phrases is None:
        phrases = PhraseCache(load_embedder(config, cache=cache))
    n = len(papers)

    def ranked(part: range) -> list[tuple[Keyphrase, ...]]:
        return [_select(scored[keys[i]], config, df, n, phrases) for i in part]

    # a big corpus is ranked in two halves, the second in a forked process (not with MMR, which
    # embeds, maybe on a GPU, nor beside a Dask client's threads); the results (a million small
    # objects, no cycles) are made without the cyclic collector walking them
    split = n >= FORK_RANK_PAPERS and not config.use_mmr and not dask
    half = (n + 1) // 2 if split else n
    second = [partial(ranked, range(half, n))] if half < n else []
    with collector_paused(), forked(second, workers=1) as rest:
        chosen = ranked(range(half))
        for other in rest:
            chosen += other.result()
    return [
        PaperKeyphrases(paper.key, top, scored[key].vector)
        for paper, key, top in zip(papers, keys, chosen, strict=True)
    ]


__all__ = ["CHUNK", "PhraseCache", "extract_keyphrases", "load_embedder"]
