"""The persistent cache: incremental equals from-scratch; writes are atomic."""

from __future__ import annotations

import contextlib
import json
import sqlite3

import numpy as np
import pytest

from kg.build import VOLATILE_KEYS
from kg.config import Config
from kg.extract import extract_keyphrases
from kg.extract.cache import KeyphraseStore, fingerprint
from kg.ingest import read_records
from tests.conftest import run_kg


def _same(a, b) -> None:
    assert [pk.paper_key for pk in a] == [pk.paper_key for pk in b]
    for x, y in zip(a, b, strict=True):
        assert x.keyphrases == y.keyphrases, x.paper_key
        assert np.array_equal(x.doc_vector, y.doc_vector), x.paper_key


def test_incremental_extraction_equals_from_scratch(tmp_path, arxiv_slice, embedder):
    papers = read_records([arxiv_slice]).papers[:90]
    first, union = papers[:60], papers
    cache = tmp_path / "cache"
    extract_keyphrases(first, embedder=embedder, progress=False, cache=cache)
    incremental = extract_keyphrases(union, embedder=embedder, progress=False, cache=cache)
    scratch = extract_keyphrases(union, embedder=embedder, progress=False)
    _same(incremental, scratch)
    assert any(pk.keyphrases for pk in scratch)
    rows = (
        sqlite3.connect(cache / "keyphrases.sqlite")
        .execute("SELECT COUNT(*) FROM keyphrases")
        .fetchone()[0]
    )
    assert rows == len({p.text for p in union})
    # A warm cache gives the same again, without processing anything.
    _same(extract_keyphrases(union, embedder=embedder, progress=False, cache=cache), scratch)


def test_options_that_change_results_change_the_key():
    assert fingerprint(Config()) != fingerprint(Config(max_words=3))
    assert fingerprint(Config()) != fingerprint(Config(fast=True))
    assert fingerprint(Config()) == fingerprint(Config(batch_size=8, device="cpu"))
    # ranking options apply to the cached candidates at every build: same rows
    assert fingerprint(Config()) == fingerprint(Config(top_n=5, use_mmr=True))


def test_package_versions_are_part_of_every_key(monkeypatch, tmp_path, embedder):
    """Rows, vectors and exports made under other versions of the packages that make them are
    never read: an upgrade (here onnxruntime, reported a version up) gives new keys."""
    from kg.extract import cache
    from kg.extract.embedders import OnnxEmbedder, model_path

    source = model_path("all-MiniLM-L6-v2")

    def keys() -> tuple[str, str, str]:
        folder = cache.derived_model("probe", source, lambda tmp: None, root=tmp_path)
        assert isinstance(embedder.inner, OnnxEmbedder)  # the default: vectors kept on disk
        return fingerprint(Config()), folder.name, cache.stored(embedder.inner, tmp_path).store.key

    now = keys()
    assert now == keys()
    assert "onnxruntime=" in cache.runtime_versions()
    upgraded = cache.runtime_versions().replace("onnxruntime=", "onnxruntime=99.")
    monkeypatch.setattr(cache, "runtime_versions", lambda: upgraded)
    later = keys()
    assert all(a != b for a, b in zip(now, later, strict=True)), (now, later)


class _Interrupted(dict):
    """Rows whose iteration fails half-way, as a build killed during a write would."""

    def items(self):
        for n, item in enumerate(super().items()):
            if n == 2:
                raise KeyboardInterrupt
            yield item


def test_an_interrupted_write_stores_nothing(tmp_path):
    store = KeyphraseStore(tmp_path, "fp")
    rows = _Interrupted(
        {f"k{i}": ((("phrase", 0.5, 0, 6),), np.ones(3, np.float32)) for i in range(5)}
    )
    with pytest.raises(KeyboardInterrupt):
        store.put(rows)
    assert store.get([f"k{i}" for i in range(5)]) == {}
    store.put({"k0": ((("phrase", 0.5, 0, 6),), np.ones(3, np.float32))})
    store.close()
    again = KeyphraseStore(tmp_path, "fp")
    got = again.get(["k0"])
    assert got["k0"][0] == (("phrase", 0.5, 0, 6),)
    assert got["k0"][1].tolist() == [1.0, 1.0, 1.0]


def _files(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_an_incremental_build_equals_a_build_from_scratch(tmp_path, arxiv_slice):
    """Papers added to a built corpus, built again with the same cache (``kg build``, as a user
    runs it): every output file is the one a build of the union without a cache writes, and
    the concept labels' vectors the first build stored are kept, the union's new ones added."""
    lines = arxiv_slice.read_text(encoding="utf-8").splitlines(keepends=True)
    first, union = tmp_path / "first.jsonl", tmp_path / "papers.jsonl"
    first.write_text("".join(lines[:60]), encoding="utf-8")
    union.write_text("".join(lines[:90]), encoding="utf-8")
    cache = tmp_path / "cache"

    def kg_build(source, out: str, *cache_options: str) -> None:
        run = run_kg("build", str(source), "--out", str(tmp_path / out), "--quiet", *cache_options)
        assert run.returncode == 0, run.stderr
        # quiet, the first build too, which makes the derived models in its new cache folder
        assert run.stderr == ""

    def labels() -> int:
        with contextlib.closing(sqlite3.connect(cache / "vectors.sqlite")) as db:
            return int(db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    kg_build(first, "first", "--cache", str(cache))
    labels_first = labels()
    kg_build(union, "incremental", "--cache", str(cache))
    kg_build(union, "scratch", "--no-cache")

    made, remade = _files(tmp_path / "incremental"), _files(tmp_path / "scratch")
    assert made.keys() == remade.keys()
    assert {"graph.ttl", "concepts.csv", "graph.html", "analytics.json"} <= made.keys()
    for name in made.keys() - {"build.json"}:
        assert made[name] == remade[name], name
    manifests = [json.loads(files["build.json"]) for files in (made, remade)]
    assert manifests[0]["counts"]["papers"] == 90
    for manifest in manifests:
        for key in VOLATILE_KEYS:
            manifest.pop(key)
    assert manifests[0] == manifests[1]
    assert 0 < labels_first < labels()
