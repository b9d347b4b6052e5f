"""Extraction's parts on real text: lexicon candidates, the prescreen, the int8 model."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from kg.config import Config
from kg.extract import extract_keyphrases
from kg.extract.fastcandidates import fast_candidates
from kg.extract.score import candidates, score_texts
from kg.ingest import read_records
from tests.conftest import ARXIV_5K


@pytest.mark.parametrize(
    ("sentence", "found", "not_found"),
    [
        # an -ing word ends a phrase after a modifier, or alone after a preposition
        (
            "Advances in data mining and case-based reasoning.",
            ["data mining", "case-based reasoning"],
            [],
        ),
        ("A language for scheduling of jobs.", ["scheduling", "jobs"], []),
        # ... but one that opens a chunk after "for" or an adverb is a verb
        ("A method for finding complex zeros.", ["complex zeros"], ["finding complex zeros"]),
        ("Tools for interactively proving temporal properties.", ["temporal properties"], []),
        # a participle between nouns is the verb of a clause
        (
            "A fluid undergoing large elastic deformation.",
            ["fluid", "large elastic deformation"],
            [],
        ),
        # numbers do not open a phrase; a possessive ends one
        ("We enrolled 162 patients and seven nurses.", ["patients", "nurses"], ["162 patients"]),
        ("Molecular biology's advent changed software.", ["molecular biology"], []),
        # after "to" a plural noun stays a noun ("to address" is a verb)
        (
            "Guides to instructors are needed to address gaps.",
            ["instructors", "gaps"],
            ["address gaps"],
        ),
        # phrases of generic words only are not candidates
        ("Our results show the performance of the method.", [], ["results", "performance"]),
        # a closing word that can be a noun or a verb is a verb before an object, after a
        # plural noun before "that"/"with", or as an -ing word after a plural noun
        ("Lung cancer remains a major cause of death.", ["lung cancer"], ["lung cancer remains"]),
        (
            "Sparse-angle tomography plays a significant role in imaging.",
            ["sparse-angle tomography"],
            ["sparse-angle tomography plays"],
        ),
        (
            "Recent language models struggle with long contexts.",
            ["language models", "long contexts"],
            ["language models struggle"],
        ),
        (
            "Experimental findings show that quantum annealing helps.",
            ["experimental findings"],
            ["experimental findings show"],
        ),
        (
            "Graph kernels relying on sparse codes are fast.",
            ["graph kernels", "sparse codes"],
            ["graph kernels relying"],
        ),
        (
            "Object detectors aim to find small objects.",
            ["object detectors", "small objects"],
            ["object detectors aim"],
        ),
        # ... but not where the noun reading is the one: "time series", "dynamics" are singular
        (
            "We study system dynamics modeling and time series forecasting.",
            ["system dynamics modeling", "time series forecasting"],
            [],
        ),
    ],
)
def test_lexicon_candidates_read_like_a_tagger(sentence, found, not_found):
    phrases = [c.phrase for c in fast_candidates([sentence])[0]]
    for phrase in found:
        assert phrase in phrases, (sentence, phrases)
    for phrase in not_found:
        assert phrase not in phrases, (sentence, phrases)


def test_candidate_spans_are_the_text_they_name():
    texts = [p.text for p in read_records([ARXIV_5K]).papers[:50]]
    for text, found in zip(texts, fast_candidates(texts), strict=True):
        assert found
        for c in found:
            assert " ".join(text[c.start : c.end].lower().split()) == c.phrase


@pytest.fixture(scope="module")
def texts() -> list[str]:
    with ARXIV_5K.open(encoding="utf-8") as f:
        records = [json.loads(next(f)) for _ in range(12)]
    return [f"{r['title']}. {r['summary']}" for r in records]


def test_prescreen_scores_each_papers_best_candidates_only(texts, embedder):
    keep = 8
    full = score_texts(texts, Config(prescreen=0), embedder)
    screened = score_texts(texts, Config(prescreen=keep), embedder)
    cands = candidates(texts, Config())
    assert sum(len(c) > keep for c in cands) >= 10  # the slice tests the cut
    for (all_rows, vector), (rows, vector2), found in zip(full, screened, cands, strict=True):
        assert [r[0] for r in rows] == [c.phrase for c in found]  # every candidate kept, in order
        assert np.array_equal(vector, vector2)
        cosines = {r[0]: r[6] for r in rows}
        scored = [p for p, cos in cosines.items() if cos is not None]
        assert len(scored) == min(keep, len(found))
        assert all(cos is not None for _, *_, cos in all_rows)
        # a phrase's cosine does not depend on which other phrases were scored with it
        for phrase, *_, cos in all_rows:
            if cosines[phrase] is not None:
                assert cosines[phrase] == cos


def test_prescreened_keyphrases_are_scored_candidates(texts, embedder):
    from kg.model import Paper, Source

    papers = [
        Paper(key=f"p{i}", record_id=str(i), title=t[:80], abstract=t, source=Source("t", str(i)))
        for i, t in enumerate(texts)
    ]
    config = Config(prescreen=5, top_n=10)
    result = extract_keyphrases(papers, config=config, embedder=embedder, progress=False)
    for pk in result:
        assert 1 <= len(pk.keyphrases) <= 5
        assert all(k.score is not None and not np.isnan(k.score) for k in pk.keyphrases)


def test_static_vectors_are_model2vecs_bit_for_bit(texts):
    """Fast mode averages a float32 copy of model2vec's float16 table and rounds each mean as
    model2vec does: the vectors are those of model2vec's own ``encode``, bit for bit."""
    from model2vec import StaticModel

    from kg.config import PACKAGED_MODEL
    from kg.extract.embedders import StaticEmbedder, _normalise

    embedder = StaticEmbedder()
    folder = StaticEmbedder.folder(PACKAGED_MODEL)
    reference = StaticModel.from_pretrained(str(folder))
    assert reference.embedding.dtype == np.float16 and embedder.model.embedding.dtype == np.float32
    words = sorted({w for t in texts for w in t.split()})
    batch = [*texts, "", "x", "GFlowNets", " ".join(words), *words[:200], texts[0] * 40]
    ours = embedder.embed(batch)
    theirs = _normalise(reference.encode(batch, show_progress_bar=False, use_multiprocessing=False))
    assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)


def test_the_shipped_static_model_is_the_distillation_of_the_packaged_model(tmp_path):
    """Fast mode loads the distillation kg ships for the packaged model, and makes nothing in
    the cache; model files of another fingerprint (here a copy of the packaged ones, in a
    folder of another name) are distilled into the cache, and give the shipped vectors."""
    import shutil

    from model2vec import StaticModel

    from kg.config import PACKAGED_MODEL
    from kg.extract.embedders import SHIPPED_STATIC, StaticEmbedder, _shipped_for, model_path

    cache = tmp_path / "cache"
    assert StaticEmbedder.folder(PACKAGED_MODEL, cache=cache) == SHIPPED_STATIC
    assert not cache.exists()
    copy = tmp_path / "copy-of-the-packaged-model"
    shutil.copytree(model_path(PACKAGED_MODEL), copy)
    made = StaticEmbedder.folder(str(copy), cache=cache)
    assert made.parent == cache / "models" and (made / "DONE").exists()
    shipped, fresh = (StaticModel.from_pretrained(str(f)) for f in (SHIPPED_STATIC, made))
    assert shipped.tokenizer.get_vocab() == fresh.tokenizer.get_vocab()
    assert shipped.config == {**fresh.config, "tokenizer_name": shipped.config["tokenizer_name"]}
    a, b = (m.embedding.astype(np.float32) for m in (shipped, fresh))
    assert a.shape == b.shape == (shipped.tokenizer.get_vocab_size(), 256)
    # the same vectors (bit for bit where the CPU computes as this one did)
    cosine = (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cosine.min() > 0.999, cosine.min()
    # other dimensions, or model files of another fingerprint, are not the shipped model's
    assert _shipped_for(model_path(PACKAGED_MODEL), 256)
    assert not _shipped_for(model_path(PACKAGED_MODEL), 64) and not _shipped_for(str(copy), 256)


def test_a_corpus_ranked_in_two_processes_ranks_as_in_one(monkeypatch):
    """A big corpus is ranked in two halves, the second in a forked process: the keyphrases
    (and their order, scores and spans) are those of a ranking in one process."""
    import kg.extract
    from kg.extract import PhraseCache, load_embedder

    papers = read_records([ARXIV_5K]).papers[:120]
    fast = Config(fast=True)
    phrases = PhraseCache(load_embedder(fast))
    here = extract_keyphrases(papers, config=fast, embedder=phrases, progress=False)
    monkeypatch.setattr(kg.extract, "FORK_RANK_PAPERS", 2)
    forked = extract_keyphrases(papers, config=fast, embedder=phrases, progress=False)
    assert [pk.paper_key for pk in forked] == [p.key for p in papers]
    assert [pk.keyphrases for pk in forked] == [pk.keyphrases for pk in here]
    assert all(
        np.array_equal(a.doc_vector, b.doc_vector) for a, b in zip(forked, here, strict=True)
    )
    assert sum(len(pk.keyphrases) for pk in here) >= 5 * len(papers)


def test_int8_model_is_fused_and_close_to_the_packaged_model():
    import onnx

    from kg.extract.embedders import OnnxEmbedder, SentenceTransformerEmbedder

    folder = OnnxEmbedder.folder(Config().model)
    ops = [node.op_type for node in onnx.load(str(folder / "model.int8.onnx")).graph.node]
    assert ops.count("QAttention") == 6  # one fused, quantised attention per layer
    assert "SkipLayerNormalization" not in ops
    texts = ["zeroth-order optimization", "GFlowNets sample molecules in proportion to reward."]
    fast = OnnxEmbedder(Config().model, workers=1).embed(texts)
    exact = SentenceTransformerEmbedder(Config().model, device="cpu").embed(texts)
    assert np.all((fast * exact).sum(axis=1) > 0.98)


def test_an_embedder_used_before_a_fork_embeds_in_the_forked_process():
    """A forked process (the link stage and the side exports of a big build) makes its own
    thread pool: the threads of the parent's are not in it, and work queued for them would
    wait forever. Run in a separate interpreter, so that a hang fails the test."""
    script = """
import numpy as np
from kg.config import Config
from kg.extract.embedders import OnnxEmbedder
from kg.parallel import fork_map
onnx = OnnxEmbedder(Config().model, workers=2)
texts = [f"phrase number {i} of the test" for i in range(40)]
here = onnx.embed(texts)  # its thread pool is made in this process
(there,) = fork_map([lambda: onnx.embed(texts)], workers=1)
print("same" if np.allclose(here, there, atol=1e-6) else "different")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["same"]


def test_keyberts_cosine_is_scikit_learns_bit_for_bit():
    """KeyBERT scores by ``exact_cosine`` (scikit-learn's argument checks cost more than the
    product for an abstract): the same numbers and dtype as ``cosine_similarity``, near-zero
    rows and mixed dtypes included; KeyBERT's own function is back after the block."""
    import keybert._model
    from sklearn.metrics.pairwise import cosine_similarity

    from kg.extract.score import _plain_cosine, exact_cosine

    rng = np.random.default_rng(7)
    for trial in range(300):
        dtypes = [(np.float32, np.float32), (np.float64, np.float32), (np.float16, np.float16)]
        dx, dy = dtypes[trial % 3]
        x = rng.standard_normal((1 + trial % 2, 384)).astype(dx) * rng.choice([1e-9, 1.0, 1e3])
        y = rng.standard_normal((1 + trial % 40, 384)).astype(dy)
        y[0] = 0.0 if trial % 5 == 0 else y[0]
        ours, theirs = exact_cosine(x, y), cosine_similarity(x, y)
        assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs), trial
    assert exact_cosine([[1.0, 0.0]], [[0.0, 1.0]]).tolist() == [[0.0]]  # lists: scikit-learn's
    with pytest.raises(ValueError):  # no candidate: scikit-learn's error, which KeyBERT catches
        exact_cosine(x, y[:0])
    plain = keybert._model.cosine_similarity
    with _plain_cosine():
        assert keybert._model.cosine_similarity is exact_cosine
    assert keybert._model.cosine_similarity is plain


def test_candidates_keep_words_of_every_script_whole():
    """A word with letters outside ASCII stays whole: the candidate is "Fréchet Inception
    Distance", not "échet inception distance" (the review of session 27 found it)."""
    wanted = {"2504.03821": "fréchet inception distance", "2504.19779": "hölder regularity"}
    papers = [p for p in read_records([ARXIV_5K]).papers[:1500] if p.record_id in wanted]
    assert len(papers) == 2
    for paper, found in zip(papers, fast_candidates([p.text for p in papers]), strict=True):
        phrases = {c.phrase for c in found}
        assert wanted[paper.record_id] in phrases
        assert not any(p.startswith(("échet", "lder")) for p in phrases)
