"""The persistent extraction cache: incremental equals from-scratch; writes are atomic."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from kg.config import Config
from kg.extract import extract_keyphrases
from kg.extract.cache import KeyphraseStore, fingerprint
from kg.ingest import read_records


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
