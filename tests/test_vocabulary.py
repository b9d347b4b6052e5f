"""The Computer Science Ontology as shipped: attributed, agreeing with concept keys, linked."""

from __future__ import annotations

import gzip

from kg.link import concept_key, stem_signature
from kg.model import Concept
from kg.vocabulary import CSO_BASE, CSO_FILE, link_vocabulary, load_cso


def test_shipped_table_is_attributed_and_its_keys_are_current():
    notice = (CSO_FILE.parent / "NOTICE").read_text()
    assert "CC BY 4.0" in notice and "Computer Science Ontology" in notice
    with gzip.open(CSO_FILE, "rt", encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    assert len(rows) > 10_000
    for _, labels, _, keys, signatures in rows[::97]:  # a spread sample
        expected = [concept_key(label) for label in labels.split("|")]
        assert keys.split("|") == expected, "rerun scripts/make_cso_table.py"
        assert signatures.split("|") == [stem_signature(k) for k in expected]


def test_exact_close_and_broader_matches():
    concepts = [
        Concept("reinforcement learning", "reinforcement learning"),
        Concept("machine learning", "machine learning"),
        Concept("data visualisation", "data visualisation"),
        Concept("gflownet", "GFlowNet"),
    ]
    out = {c.key: c for c in link_vocabulary(concepts, load_cso())}
    rl = out["reinforcement learning"]
    assert rl.exact_match == (CSO_BASE + "reinforcement_learning",)
    assert rl.broader == ("machine learning",)
    assert out["machine learning"].broader == ()  # its CSO parents are not in this graph
    close = out["data visualisation"]
    assert close.exact_match == ()
    assert close.close_match == (CSO_BASE + "data_visualization",)  # same stems
    assert out["gflownet"].exact_match == out["gflownet"].close_match == ()
