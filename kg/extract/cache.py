"""Persistent caches under one folder: derived models (ONNX, static) and per-paper keyphrases.

The folder is ``--cache DIR``, else ``$KG_CACHE_DIR``, else ``$XDG_CACHE_HOME/kg`` (usually
``~/.cache/kg``). Everything in it can be deleted at any time; it is rebuilt on demand.

* ``models/<key>/``: models derived locally from the packaged one (an int8 ONNX export, a
  model2vec distillation). Each is written into a temporary folder and renamed into place, so a
  killed process never leaves a half-written model behind.
* ``keyphrases.sqlite``: the keyphrases and document vector of each paper, keyed by the
  extraction fingerprint (model, the options that change extraction, code version) and a hash of
  the paper's text. Rows are committed in one transaction per chunk: a killed build loses at
  most the chunk it was working on, never leaves a partial row.

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
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

CACHE_VERSION = "2"
"""Bump when extraction changes its results for the same model and options."""

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
    return _digest(json.dumps(fields, sort_keys=True))[:24]


SCORING_CODE = ("candidates.py", "fastcandidates.py", "embedders.py", "score.py")
"""The modules whose code makes a cached row: candidates and their scores (the ranking, redone
every build, is not cached)."""


def _code_digest() -> str:
    """A hash of the scoring code, so that a changed extractor never reads stale rows."""
    here = Path(__file__).parent
    return _digest(*((here / name).read_text(encoding="utf-8") for name in SCORING_CODE))[:16]


def derived_model(
    name: str, source: str, build: Callable[[Path], None], *, root: Path | None = None
) -> Path:
    """The folder of a model derived from ``source`` (made by ``build(tmp_folder)`` once).

    The folder name carries the source's fingerprint, so a changed source makes a new folder.
    """
    folder = cache_dir(root) / "models" / f"{name}-{folder_fingerprint(source)}"
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


@contextlib.contextmanager
def open_store(config: Any, root: str | os.PathLike[str] | None) -> Iterator[KeyphraseStore]:
    store = KeyphraseStore(cache_dir(root), fingerprint(config))
    try:
        yield store
    finally:
        store.close()
