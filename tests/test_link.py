"""Link: one concept per idea, whatever the spelling; merges are auditable."""

from __future__ import annotations

import pytest

from kg.config import Config
from kg.errors import ConfigError
from kg.link import (
    closed_spellings,
    concept_key,
    find_acronyms,
    label_collisions,
    link_concepts,
)
from kg.model import Keyphrase, Paper, PaperKeyphrases, Source


def test_key_folds_case_hyphen_and_plural():
    variants = [
        "Zeroth-Order Optimization",
        "zeroth order optimizations",
        "ZEROTH-ORDER optimization",
    ]
    assert {concept_key(v) for v in variants} == {"zeroth order optimization"}
    assert concept_key("GFlowNets") == concept_key("GFlowNet") == "gflownet"
    assert concept_key("dynamics") == "dynamics" and concept_key("analysis") == "analysis"


def test_an_acronym_written_plural_is_keyed_singular_whatever_its_length():
    """The plurals of acronyms ("KGs", "LMs", "MRIs", "APIs"), which ``singular`` left alone
    (under four letters, or ending in "is"), are keyed singular: "KG embedding" had stayed
    apart from "knowledge graph embedding" in a paper defining "Knowledge Graphs (KGs)"."""
    assert [concept_key(w) for w in ("KGs", "LMs", "MRIs", "APIs", "3Ds")] == [
        "kg",
        "lm",
        "mri",
        "api",
        "3d",
    ]
    assert [concept_key(w) for w in ("GPS", "gas", "iOS", "As")] == [
        "gps",
        "gas",
        "ios",
        "as",
    ]
    text = "Knowledge Graphs (KGs) store facts. KG embedding methods embed KGs."
    paper = _paper("a", text)
    kps = [PaperKeyphrases("a", (_kp(paper, "KG embedding"), _kp(paper, "KGs")))]
    concepts = {c.key: c for c in link_concepts([paper], kps, config=Config(cso=False)).concepts}
    assert set(concepts) == {"knowledge graph embedding", "knowledge graph"}
    assert concepts["knowledge graph"].acronym == "KG"


def test_a_spelling_of_the_key_itself_is_no_acronym_merge():
    """Where the preferred label is the acronym, the long form's spellings are the key's own
    words, not an acronym expansion (session 27's review: "Large Language Models" was listed
    as merged into "LLM" by acronym)."""
    text = "Large Language Models (LLMs) reason. LLMs plan. Large language models write. LLMs code."
    paper = _paper("a", text)
    kps = [
        PaperKeyphrases(
            "a",
            (
                _kp(paper, "Large Language Models"),
                _kp(paper, "LLMs"),
                _kp(paper, "Large language models"),
            ),
        )
    ]
    linked = link_concepts([paper], kps, config=Config(cso=False))
    reasons = {m["merged"]: m["reason"] for m in linked.merges}
    assert {m["pref_label"] for m in linked.merges} == {"LLM"}
    assert reasons == {
        "LLMs": "acronym 'llm' defined as 'large language model'",
        "Large Language Models": "same words up to case, hyphens and plural",
        "Large language models": "same words up to case, hyphens and plural",
    }


def test_acronyms_defined_in_text():
    text = (
        "Generative Flow Networks (GFlowNets) sample. We study zeroth-order (ZO) methods "
        "and large language models (LLMs)."
    )
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
        PaperKeyphrases(
            "a",
            (
                Keyphrase("Generative Flow Networks", 0.7, 0, 24),
                Keyphrase("GFlowNets", 0.6, 26, 35),
            ),
        ),
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


def test_mentions_in_one_sentence_share_its_text():
    """The evidence sentence is held once per sentence, not once per mention (the 45k
    corpus's mentions hold half as many distinct sentences as mentions)."""
    a = _paper("a", "Graph neural networks meet diffusion models. Nothing else is here.")
    kps = [
        PaperKeyphrases(
            "a",
            (
                Keyphrase("Graph neural networks", 0.7, 0, 21),
                Keyphrase("diffusion models", 0.6, 27, 43),
            ),
        )
    ]
    first, second = link_concepts([a], kps).mentions
    assert first.concept_key != second.concept_key
    assert first.sentence == second.sentence == "Graph neural networks meet diffusion models."
    assert first.sentence is second.sentence


def test_near_duplicates_need_same_stems_and_close_embeddings(embedder):
    from kg.link import near_duplicates

    keys = [
        "zeroth order optimizer",
        "zeroth order optimization",
        "large language model",
        "language model",
        "pre training",
        "pretraining",
    ]
    vectors = dict(zip(keys, embedder.embed(keys), strict=True))
    papers = {k: {"a"} for k in keys} | {
        "zeroth order optimization": {"a", "b"},
        "pretraining": {"a", "b"},
    }
    alias = near_duplicates(keys, vectors, papers, threshold=0.8)
    assert alias["zeroth order optimizer"][0] == "zeroth order optimization"
    assert alias["pre training"][0] == "pretraining"
    assert "embedding cosine" in alias["pre training"][1]
    assert "language model" not in alias and "large language model" not in alias
    assert near_duplicates(keys, vectors, papers, threshold=1.0) == {}


def test_near_duplicate_merge_is_recorded_with_its_reason(embedder):
    a = _paper("a", "Zeroth-order optimizers save memory.")
    b = _paper("b", "Zeroth-order optimization at scale is slow.")
    kps = [
        PaperKeyphrases("a", (Keyphrase("Zeroth-order optimizers", 0.6, 0, 23),)),
        PaperKeyphrases("b", (Keyphrase("Zeroth-order optimization", 0.7, 0, 25),)),
    ]
    keys = ["zeroth order optimizer", "zeroth order optimization"]
    vectors = dict(
        zip(
            keys,
            embedder.embed(["zeroth-order optimizer", "zeroth-order optimization"]),
            strict=True,
        )
    )
    linked = link_concepts(
        [a, b], kps, concept_vectors=vectors, config=Config(merge_similarity=0.8)
    )
    assert len(linked.concepts) == 1
    assert {m.paper_key for m in linked.mentions} == {"a", "b"}
    reasons = {m["merged"]: m["reason"] for m in linked.merges}
    other = (
        "Zeroth-order optimization"
        if linked.concepts[0].key == "zeroth order optimizer"
        else "Zeroth-order optimizers"
    )
    assert "same word stems" in reasons[other] and "cosine" in reasons[other]
    separate = link_concepts(
        [a, b], kps, concept_vectors=vectors, config=Config(merge_similarity=1.0)
    )
    assert len(separate.concepts) == 2


def test_spellings_with_and_without_a_space_or_hyphen_merge_whatever_the_cosine(embedder):
    """Spellings with the same letters ("pre-trained model" / "pretrained model") are one
    concept, even where the embeddings are less alike than ``merge_similarity`` (0.87-0.89
    on real data)."""
    texts = {
        "a": "Pre-trained models transfer. Commonsense reasoning is hard.",
        "b": "Pretrained models are large. We test common sense reasoning.",
    }
    papers = [_paper(k, t) for k, t in texts.items()]
    kps = [
        PaperKeyphrases(
            "a", (_kp(papers[0], "Pre-trained models"), _kp(papers[0], "Commonsense reasoning"))
        ),
        PaperKeyphrases(
            "b", (_kp(papers[1], "Pretrained models"), _kp(papers[1], "common sense reasoning"))
        ),
    ]
    keys = [
        "pre trained model",
        "pretrained model",
        "commonsense reasoning",
        "common sense reasoning",
    ]
    vectors = dict(zip(keys, embedder.embed(keys), strict=True))
    for merged in (
        link_concepts(papers, kps, concept_vectors=vectors, config=Config(merge_similarity=1.0)),
        link_concepts(papers, kps),
    ):
        # one paper each: the shorter key, the closed spelling, is kept
        assert {c.key for c in merged.concepts} == {"pretrained model", "commonsense reasoning"}
        assert {m.paper_key for m in merged.mentions if m.concept_key == "pretrained model"} == {
            "a",
            "b",
        }
        reasons = {m["merged"]: m["reason"] for m in merged.merges}
        assert reasons["Pre-trained models"] == (
            "same letters without spaces or hyphens ('pretrainedmodel')"
        )
        assert "'commonsensereasoning'" in reasons["common sense reasoning"]


def test_words_joined_alike_only_when_no_function_word_is_split_off():
    papers = {"an isotropic gaussian": {"a"}, "anisotropic gaussian": {"b"}}
    assert closed_spellings(list(papers), papers) == {}


def test_broader_from_the_corpus_through_suffixes_and_acronyms():
    a = _paper(
        "a",
        "Zeroth-order optimization saves memory. The memory-efficient zeroth-order "
        "optimization (MeZO) method fine-tunes models.",
    )
    b = _paper("b", "Sparse MeZO improves MeZO by tuning fewer parameters.")
    kps = [
        PaperKeyphrases(
            "a",
            (Keyphrase("Zeroth-order optimization", 0.7, 0, 25), Keyphrase("MeZO", 0.6, 101, 105)),
        ),
        PaperKeyphrases(
            "b", (Keyphrase("Sparse MeZO", 0.8, 0, 11), Keyphrase("MeZO", 0.7, 21, 25))
        ),
    ]
    concepts = {c.pref_label: c for c in link_concepts([a, b], kps).concepts}
    assert set(concepts) == {"zeroth-order optimization", "MeZO", "sparse MeZO"}
    assert concepts["sparse MeZO"].broader == (concepts["MeZO"].key,)
    assert concepts["MeZO"].broader == ("zeroth order optimization",)


def test_broader_is_a_trailing_phrase_not_a_longer_phrase_that_starts_with_one():
    """A concept's broader concept is its head, not any longer concept that begins with
    that head: "large language model" is no "language model agent"."""
    texts = {
        "a": "Large language models (LLMs) are strong. LLMs write code.",
        "b": "Large language models (LLMs) can plan.",
        "c": "Language model agents act in the world.",
        "d": "We avoid costly human annotation.",
        "e": "Human annotation performance varies.",
    }
    surfaces = {
        "a": "Large language models",
        "b": "Large language models",
        "c": "Language model agents",
        "d": "costly human annotation",
        "e": "Human annotation performance",
    }
    concepts = _linked_one_keyphrase_each(texts, surfaces)
    assert set(concepts) == {
        "large language model",
        "language model agent",
        "costly human annotation",
        "human annotation performance",
    }
    assert all(c.broader == () for c in concepts.values())


def _linked_one_keyphrase_each(texts: dict[str, str], surfaces: dict[str, str]) -> dict:
    """Each paper of ``texts`` linked with its one keyphrase ``surfaces[key]``, without CSO:
    its concepts by key."""
    papers = [_paper(k, t) for k, t in texts.items()]
    kps = [PaperKeyphrases(p.key, (_kp(p, surfaces[p.key]),)) for p in papers]
    return {c.key: c for c in link_concepts(papers, kps, config=Config(cso=False)).concepts}


def test_broader_is_the_head_before_a_preposition_never_its_complement():
    """A "chain of thought" is no "thought"; "reinforcement learning from human feedback" is
    reinforcement learning, not "human feedback" (the review of session 27 found both). A
    preposition inside a hyphenated modifier is no such preposition."""
    surfaces = {
        "a": "Chain of thought",
        "b": "thought",
        "c": "Reinforcement learning from human feedback",
        "d": "Human feedback",
        "e": "Reinforcement learning",
        "f": "Deep reinforcement learning",
        "g": "explicit visual chain-of-thought",
        "h": "text-to-image diffusion models",
        "i": "Diffusion models",
        "j": "image models",
        "k": "visual in-context learning",
        "l": "in-context learning",
    }
    texts = {k: f"We study {s}. More {s} follow." for k, s in surfaces.items()}
    concepts = _linked_one_keyphrase_each(texts, surfaces)
    assert concepts["chain of thought"].broader == ()
    assert concepts["reinforcement learning from human feedback"].broader == (
        "reinforcement learning",
    )
    assert concepts["deep reinforcement learning"].broader == ("reinforcement learning",)
    assert concepts["explicit visual chain of thought"].broader == ("chain of thought",)
    assert concepts["text to image diffusion model"].broader == ("diffusion model",)
    assert concepts["visual in context learning"].broader == ("in context learning",)


def test_user_vocabulary_forces_merges_and_preferred_labels(tmp_path):
    ttl = tmp_path / "mine.ttl"
    ttl.write_text("""@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        @prefix ex: <https://example.org/vocab/> .
        ex:fm a skos:Concept ; skos:prefLabel "Foundation Model"@en ;
            skos:altLabel "large pretrained model", "base models" .
        """)
    a = _paper("a", "Large pretrained models are everywhere.")
    b = _paper("b", "Base models need alignment.")
    kps = [
        PaperKeyphrases("a", (Keyphrase("Large pretrained models", 0.7, 0, 23),)),
        PaperKeyphrases("b", (Keyphrase("Base models", 0.6, 0, 11),)),
    ]
    linked = link_concepts([a, b], kps, config=Config(vocab=str(ttl)))
    (concept,) = linked.concepts
    assert concept.pref_label == "Foundation Model"
    assert concept.exact_match == ("https://example.org/vocab/fm",)
    assert {m.paper_key for m in linked.mentions} == {"a", "b"}
    assert all("user vocabulary mine.ttl" in m["reason"] for m in linked.merges)


def test_user_vocabulary_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text("this is not turtle <")
    for path, words in ((bad, "not a readable"), (tmp_path / "none.ttl", "not found")):
        with pytest.raises(ConfigError, match=words) as info:
            link_concepts(
                [_paper("a", "x")], [PaperKeyphrases("a", ())], config=Config(vocab=str(path))
            )
        assert path.name in str(info.value)


@pytest.mark.slow
def test_arxiv_slice_has_one_node_per_folded_label(arxiv_slice, embedder):
    """300 real arXiv abstracts: no two concepts whose labels agree after lower-casing,
    singularising and unifying hyphens; merges and CSO links are there and well-formed."""
    from kg.build import make_graph

    built = make_graph([arxiv_slice], embedder=embedder, progress=False)
    concepts = built.linked.concepts
    assert label_collisions(concepts) == {}
    assert len(concepts) > 500
    keys = {c.key for c in concepts}
    assert all(b in keys for c in concepts for b in c.broader)
    cso = [c for c in concepts if c.exact_match]
    assert len(cso) > 50
    assert all(
        i.startswith("https://cso.kmi.open.ac.uk/topics/") for c in cso for i in c.exact_match
    )
    assert any(c.broader for c in cso)
    assert any("same word stems" in m["reason"] for m in built.linked.merges)


def test_broader_completes_an_elliptical_acronym():
    a = _paper("a", "The memory-efficient zeroth-order (MeZO) optimizer fine-tunes models.")
    b = _paper(
        "b",
        "Zeroth-order optimization estimates gradients. Zeroth-order optimization "
        "methods are slow.",
    )
    kps = [
        PaperKeyphrases("a", (Keyphrase("MeZO", 0.7, 36, 40),)),
        PaperKeyphrases(
            "b",
            (
                Keyphrase("Zeroth-order optimization", 0.7, 0, 25),
                Keyphrase("Zeroth-order optimization methods", 0.6, 47, 80),
            ),
        ),
    ]
    concepts = {c.pref_label: c for c in link_concepts([a, b], kps).concepts}
    assert concepts["MeZO"].broader == ("zeroth order optimization",)
    assert concepts["zeroth-order optimization"].broader == ()


def _kp(paper: Paper, surface: str, score: float = 0.5) -> Keyphrase:
    start = paper.text.index(surface)
    return Keyphrase(surface, score, start, start + len(surface))


def test_concepts_labelled_alike_merge_in_a_final_recorded_pass():
    """One acronym spelled out two ways by two papers each, and bare in a fifth: three keys,
    one label "EEG"; the final pass merges them into one (most papers, then alphabetical)."""
    texts = {
        "a1": "Electroencephalography (EEG) decoding. EEG signals and EEG noise.",
        "a2": "Electroencephalography (EEG) for sleep. EEG data and EEG sensors.",
        "b1": "Electroencephalogram (EEG) classification. EEG channels and EEG montage.",
        "b2": "Electroencephalogram (EEG) artefacts. EEG amplifiers and EEG caps.",
        "c": "We denoise EEG with transformers.",
    }
    papers = [_paper(k, t) for k, t in texts.items()]
    kps = [PaperKeyphrases(p.key, (_kp(p, "EEG"),)) for p in papers]
    linked = link_concepts(papers, kps)
    assert label_collisions(linked.concepts) == {}
    assert [c.pref_label for c in linked.concepts] == ["EEG"]
    (concept,) = linked.concepts
    assert concept.key == "electroencephalogram"
    assert {m.paper_key for m in linked.mentions} == set(texts)
    label_rows = [m for m in linked.merges if "label merge" in m["reason"]]
    assert {r["concept"] for r in label_rows} == {"electroencephalogram"}
    assert any("'electroencephalography'" in r["reason"] for r in label_rows)
    assert any("'eeg'" in r["reason"] for r in label_rows)
    assert len(label_rows) >= 2  # both merged concepts are in the table


def test_an_acronym_with_two_meanings_is_spelled_out_not_merged():
    texts = {
        "a1": "Optical character recognition (OCR) reads receipts. OCR errors and OCR.",
        "a2": "Optical character recognition (OCR) of scans. OCR models fail on OCR.",
        "b": "Out-of-context reasoning (OCR) in LLMs. OCR emerges. We probe OCR.",
    }
    papers = [_paper(k, t) for k, t in texts.items()]
    kps = [PaperKeyphrases(p.key, (_kp(p, "OCR"),)) for p in papers]
    linked = link_concepts(papers, kps)
    labels = {c.key: c.pref_label for c in linked.concepts}
    assert labels == {
        "optical character recognition": "OCR",
        "out of context reasoning": "out of context reasoning",
    }
    assert label_collisions(linked.concepts) == {}


def test_keyphrases_lose_praise_restated_acronyms_and_truncation():
    texts = {
        "a": "State-of-the-art large language models (LLMs) are strong. Large language models.",
        "b": "We study large language models for code and large language models again.",
        "c": "Large language models help. Large Language and Reasoning Models in 3D scenes.",
        "d": "Large language models plan. More large language models.",
    }
    papers = [_paper(k, t) for k, t in texts.items()]
    kps = [
        PaperKeyphrases("a", (_kp(papers[0], "State-of-the-art large language models (LLMs)"),)),
        PaperKeyphrases("b", (_kp(papers[1], "large language models"),)),
        PaperKeyphrases("c", (_kp(papers[2], "Large Language"), _kp(papers[2], "3D"))),
        PaperKeyphrases("d", (_kp(papers[3], "Large language models"),)),
    ]
    linked = link_concepts(papers, kps)
    assert [c.key for c in linked.concepts] == ["large language model"]
    assert {m.paper_key for m in linked.mentions} == set(texts)
    by_paper = {m.paper_key: m for m in linked.mentions}
    assert by_paper["a"].surface == "large language models"
    assert by_paper["c"].surface == "Large Language Models"
    assert by_paper["c"].sentence == "Large Language and Reasoning Models in 3D scenes."


def test_spelled_out_search_in_two_processes_finds_the_same(arxiv_slice, embedder, monkeypatch):
    """A big corpus is searched for spelled-out concepts by this process and a forked one, in
    two halves: the same concepts, mentions and merges as one process reading every paper."""
    import kg.link
    from kg.build import _doc_matrix
    from kg.extract import extract_keyphrases
    from kg.extract.score import LabelVectors
    from kg.ingest import read_papers

    papers = read_papers([arxiv_slice]).papers
    keyphrases = extract_keyphrases(papers, embedder=embedder, progress=False)

    def linked() -> tuple:
        made = link_concepts(
            papers,
            keyphrases,
            label_vectors=lambda labels: LabelVectors(embedder, labels),
            doc_vectors=_doc_matrix(keyphrases),
        )
        return made.concepts, made.mentions, made.merges

    alone = linked()
    monkeypatch.setattr(kg.link, "FORK_PAPERS", 2)
    assert linked() == alone
    assert len(alone[1]) > len(papers)


def test_acronym_long_forms_hold_every_capital_and_no_dashed_variant():
    assert find_acronyms("Retrospective Replay-based Reinforcement Learning (RRL) explores.") == {
        "rrl": "replay based reinforcement learning"
    }
    assert find_acronyms("We use Proximal Policy Optimization (PPO).") == {
        "ppo": "proximal policy optimization"
    }
    # "LoRA-" names a variant of LoRA: no definition of LoRA
    assert find_acronyms("Low-Rank Adaptation Subtraction (LoRA-) is proposed.") == {}


def test_an_acronym_beside_words_of_its_long_form_does_not_repeat_them():
    """An acronym spelled out beside its long form's words writes them once: "ADS
    system-level testing", ADS = "autonomous driving system", is not keyed "autonomous
    driving system system level testing", nor "large LLM" "large large language model"."""
    texts = {
        "a": "Autonomous driving systems (ADS) need ADS system-level testing.",
        "b": "Large language models (LLMs) teach. A large LLM-based distillation helps.",
    }
    papers = [_paper(k, t) for k, t in texts.items()]
    kps = [
        PaperKeyphrases("a", (_kp(papers[0], "ADS system-level testing"),)),
        PaperKeyphrases("b", (_kp(papers[1], "large LLM-based distillation"),)),
    ]
    keys = {c.key for c in link_concepts(papers, kps).concepts}
    assert keys == {
        "autonomous driving system level testing",
        "large language model based distillation",
    }


def test_preferred_labels_keep_names_that_only_look_plural():
    texts = {
        "a": "PVLens reads panels. RayFronts maps rooms. CrowdES simulates crowds.",
        "b": "Sparse Mixture-of-Experts route tokens. GFlowNets sample; a GFlowNet is fast.",
    }
    papers = [_paper(k, t) for k, t in texts.items()]
    names = {"a": ("PVLens", "RayFronts", "CrowdES"), "b": ("Mixture-of-Experts", "GFlowNets")}
    kps = [PaperKeyphrases(p.key, tuple(_kp(p, n) for n in names[p.key])) for p in papers]
    labels = {c.pref_label for c in link_concepts(papers, kps).concepts}
    assert labels == {"PVLens", "RayFronts", "CrowdES", "Mixture-of-Experts", "GFlowNet"}


def test_a_name_ending_in_a_corpus_acronym_takes_its_singular():
    """ "Order-Preserving GFlowNets": its last word is the corpus's acronym GFlowNet, so the
    label is singular though no paper writes "order-preserving GFlowNet"."""
    texts = {
        "a": "Generative Flow Networks (GFlowNets) sample objects in proportion to a reward.",
        "b": "Order-Preserving GFlowNets sample candidates in the order of their rewards.",
    }
    papers = [_paper(k, t) for k, t in texts.items()]
    names = {"a": ("Generative Flow Networks",), "b": ("Order-Preserving GFlowNets",)}
    kps = [PaperKeyphrases(p.key, tuple(_kp(p, n) for n in names[p.key])) for p in papers]
    labels = {c.pref_label for c in link_concepts(papers, kps).concepts}
    assert "order-preserving GFlowNet" in labels


def test_an_acronym_written_plural_as_a_name_keeps_its_s():
    """ "Panoramic Vision Lens (PVLens)": the acronym of a singular, so PVLens is a name."""
    text = "We present Panoramic Vision Lens (PVLens). PVLens reads panels of comics."
    paper = _paper("a", text)
    kps = [PaperKeyphrases("a", (_kp(paper, "PVLens"),))]
    concepts = link_concepts([paper], kps).concepts
    assert [(c.pref_label, c.acronym) for c in concepts] == [("PVLens", "PVLens")]


def test_the_acronym_of_a_plural_written_before_a_noun_is_a_name():
    """ "Machine Learning Operations (MLOps)": the long form is plural, but the papers write
    "MLOps platforms", as one writes a name and seldom a plural, so the label stays "MLOps"
    ("Generative Flow Networks (GFlowNets)", written "GFlowNets can", is a GFlowNet)."""
    texts = {
        "a": "We survey Machine Learning Operations (MLOps). MLOps platforms deploy models.",
        "b": "Generative Flow Networks (GFlowNets) sample. GFlowNets can only use rewards.",
        "c": "Large Language Models (LLMs) write. LLMs agents plan.",  # an acronym's plural
        # written singular too: GFlowNet, though one paper writes "GFlowNets framework"
        "d": "The GFlowNets framework. A GFlowNet samples.",
    }
    papers = [_paper(k, t) for k, t in texts.items()]
    names = {
        "a": ("Machine Learning Operations", "MLOps"),
        "b": ("GFlowNets",),
        "c": ("LLMs",),
        "d": ("GFlowNets",),
    }
    kps = [PaperKeyphrases(p.key, tuple(_kp(p, n) for n in names[p.key])) for p in papers]
    labels = {(c.pref_label, c.acronym) for c in link_concepts(papers, kps).concepts}
    assert labels == {("MLOps", "MLOps"), ("GFlowNet", "GFlowNet"), ("LLM", "LLM")}


def test_a_user_vocabularys_spelling_wins_over_a_closed_one(tmp_path):
    """The vocabulary says "pre-trained model": the corpus's more common "pretrained model"
    merges into it, and keeps the vocabulary's label."""
    ttl = tmp_path / "mine.ttl"
    ttl.write_text("""@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        @prefix ex: <https://example.org/vocab/> .
        ex:ptm a skos:Concept ; skos:prefLabel "pre-trained model"@en .
        """)
    texts = {
        "a": "A pretrained model helps.",
        "b": "Every pretrained model.",
        "c": "A pre-trained model.",
    }
    papers = [_paper(k, t) for k, t in texts.items()]
    surfaces = {"a": "pretrained model", "b": "pretrained model", "c": "pre-trained model"}
    kps = [PaperKeyphrases(p.key, (_kp(p, surfaces[p.key]),)) for p in papers]
    (concept,) = link_concepts(papers, kps, config=Config(vocab=str(ttl))).concepts
    assert concept.pref_label == "pre-trained model"
    assert concept.exact_match == ("https://example.org/vocab/ptm",)


def test_model_sizes_are_not_closed_spellings():
    """Digits either side of a space are two numbers: "llama 3 8b" is no "llama 38b"."""
    papers_of = {"llama 3 8b": {"a"}, "llama 38b": {"b"}, "pre trained model": {"c"}}
    assert closed_spellings({*papers_of, "pretrained model"}, papers_of) == {
        "pretrained model": (
            "pre trained model",
            "same letters without spaces or hyphens ('pretrainedmodel')",
        )
    }
