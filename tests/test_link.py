"""Link: one concept per idea, whatever the spelling; merges are auditable."""

from __future__ import annotations

from kg.link import concept_key, find_acronyms, link_concepts
from kg.model import Keyphrase, Paper, PaperKeyphrases, Source


def test_key_folds_case_hyphen_and_plural():
    variants = ["Zeroth-Order Optimization", "zeroth order optimizations", "ZEROTH-ORDER optimization"]
    assert {concept_key(v) for v in variants} == {"zeroth order optimization"}
    assert concept_key("GFlowNets") == concept_key("GFlowNet") == "gflownet"
    assert concept_key("dynamics") == "dynamics" and concept_key("analysis") == "analysis"


def test_acronyms_defined_in_text():
    text = ("Generative Flow Networks (GFlowNets) sample. We study zeroth-order (ZO) methods "
            "and large language models (LLMs).")
    assert find_acronyms(text) == {
        "gflownet": "generative flow network",
        "zo": "zeroth order",
        "llm": "large language model",
    }
    assert find_acronyms("results (see Table 2) and (p < 0.05)") == {}


def _paper(key: str, text: str) -> Paper:
    return Paper(key, key, "", text, Source("mem", f"record {key}"))


def test_acronym_and_long_form_become_one_concept_with_alt_labels():
    a = _paper("a", "Generative Flow Networks (GFlowNets) sample. GFlowNets are samplers.")
    b = _paper("b", "We train GFlowNets on molecules.")
    kps = [
        PaperKeyphrases("a", (Keyphrase("Generative Flow Networks", 0.7, 0, 24),
                              Keyphrase("GFlowNets", 0.6, 26, 35))),
        PaperKeyphrases("b", (Keyphrase("GFlowNets", 0.8, 9, 18),)),
    ]
    linked = link_concepts([a, b], kps)
    assert len(linked.concepts) == 1
    concept = linked.concepts[0]
    assert concept.key == "generative flow network"
    assert concept.pref_label == "GFlowNet"
    assert set(concept.alt_labels) == {"Generative Flow Networks", "GFlowNets"}
    assert {m.paper_key for m in linked.mentions} == {"a", "b"}
    assert any("acronym" in m["reason"] for m in linked.merges)
    mention_a = next(m for m in linked.mentions if m.paper_key == "a")
    assert mention_a.sentence == "Generative Flow Networks (GFlowNets) sample."
