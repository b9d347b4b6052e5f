"""Robustness: hostile text stays inert, faults leave outputs intact, nothing is lost."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS

from kg.analyse import analyse
from kg.build import Build, make_graph, output_folder, write_exports
from kg.config import Config
from kg.errors import OutputError
from kg.export.html import safe_json
from kg.export.rdf import Iris, to_rdf
from kg.graph import build_graph
from kg.ingest import read_papers
from kg.link import Linked
from tests.conftest import ARXIV_5K, DEMO, ROOT, run_kg

HOSTILE = [
    {
        "id": "h1",
        "title": 'Triple """quotes""" and > and \\ backslash\\',
        "abstract": 'Ends with a backslash \\ and "quotes" <http://evil.example/x> . _:b a <x> .',
    },
    {
        "id": "h2",
        "title": "<script>window.pwned=1</script> attention is all you need",
        "abstract": 'We study <img src=x onerror="window.pwned=2"> transformers and attention.',
    },
    {
        "id": "h3",
        "title": "}; DROP GRAPH <urn:x> ; SELECT * WHERE { ?s ?p ?o",
        "abstract": "' OR 1=1 -- FILTER(true) } INSERT DATA { <a> <b> <c> } graph learning.",
    },
    {
        "id": "h4",
        "title": "Complexity $\\mathcal{O}(n \\log n)$ of H<sub>2</sub>O sampling",
        "abstract": "Non-English: 大規模言語モデルの学習。 Ünïcödé — ελληνικά. "
        "Control\x07chars\x00here.",
    },
]

LONE_SURROGATES = {  # JSON can carry half a character ("\\ud83d"); no UTF-8 output can
    "id": "h5",
    "title": "Half a face \ud83d survives",
    "abstract": "A lone low surrogate \udc00 in the text of a graph learning paper.",
}


def _bare_build(paths: list[Path]) -> Build:
    """A build without keyphrases: ingest, graph and exports only (no model)."""
    ingest = read_papers(paths)
    linked = Linked([], [])
    graph = build_graph(ingest.papers, linked)
    return Build(Config(), ingest, [], linked, graph, analyse(graph), "t")


text = st.text(min_size=1, max_size=80)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(title=text, abstract=text)
def test_any_unicode_round_trips_through_rdf_and_is_escaped_in_html(tmp_path, title, abstract):
    path = tmp_path / "h.jsonl"
    path.write_text(
        json.dumps({"id": "x1", "title": title, "abstract": abstract}) + "\n", encoding="utf-8"
    )
    try:
        built = _bare_build([path])
    except Exception as exc:  # only "no usable papers" is acceptable: nothing left after cleaning
        assert "no usable papers" in str(exc)
        return
    paper = built.papers[0]
    for fmt in ("turtle", "nt"):
        data = to_rdf(built).serialize(format=fmt)
        back = Graph().parse(data=data, format=fmt)
        subject = Iris().paper(paper.key)
        assert set(back.objects(subject, DCTERMS.title)) == (
            {Literal(paper.title)} if paper.title else set()
        )
        assert set(back.objects(subject, DCTERMS.abstract)) == (
            {Literal(paper.abstract)} if paper.abstract else set()
        )
    embedded = safe_json({"title": paper.title})
    assert (
        "<" not in embedded and ">" not in embedded and "&" not in embedded.replace("\\u0026", "")
    )
    assert json.loads(embedded)["title"] == paper.title


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory, embedder):
    folder = tmp_path_factory.mktemp("hostile")
    src = folder / "hostile.jsonl"
    with ARXIV_5K.open(encoding="utf-8") as fh:
        real = [json.loads(next(fh)) for _ in range(20)]
    lines = [json.dumps(r, ensure_ascii=False) for r in HOSTILE + real]
    lines.append(json.dumps(LONE_SURROGATES))  # escaped: "\\ud83d"
    src.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    built = make_graph([src], embedder=embedder, progress=False)
    out = folder / "out"
    with output_folder(out) as tmp:
        write_exports(built, tmp)
    return built, out


def test_hostile_text_round_trips_through_turtle_and_ntriples(hostile_build):
    built, out = hostile_build
    by_id = {p.record_id: p for p in built.papers}
    for name, fmt in (("graph.ttl", "turtle"), ("graph.nt", "nt")):
        g = Graph().parse(out / name, format=fmt)
        for record in (*HOSTILE, LONE_SURROGATES):
            paper = by_id[record["id"]]
            titles = {str(t) for t in g.objects(Iris().paper(paper.key), DCTERMS.title)}
            assert titles == {paper.title}
    assert by_id["h1"].title == HOSTILE[0]["title"]  # nothing was stripped
    assert by_id["h2"].title.startswith("<script>")
    # markup becomes text; control characters are gone; other scripts are kept
    assert by_id["h4"].title == "Complexity 𝒪(n log n) of H2O sampling"
    assert "大規模言語モデル" in by_id["h4"].abstract and "\x00" not in by_id["h4"].abstract
    # half a character becomes the replacement character, the rest of the text is kept
    assert by_id["h5"].title == "Half a face \ufffd survives"
    assert by_id["h5"].abstract.startswith("A lone low surrogate \ufffd in the text")


def test_query_parameters_are_bound_as_terms_not_pasted(hostile_build):
    built, out = hostile_build
    hostile = HOSTILE[2]["title"]
    query = "PREFIX dcterms: <http://purl.org/dc/terms/> SELECT ?p ?t WHERE { ?p dcterms:title ?t }"
    run = run_kg(
        "query", str(out / "graph.ttl"), query, "--param", f"t={hostile}", "--format", "csv"
    )
    assert run.returncode == 0, run.stderr
    paper = next(p for p in built.papers if p.record_id == "h3")
    rows = run.stdout.splitlines()[1:]
    assert len(rows) == 1 and rows[0].startswith(str(Iris().paper(paper.key)) + ",")


def test_hostile_titles_stay_inert_in_the_html(hostile_build):
    from playwright.sync_api import sync_playwright

    _, out = hostile_build
    html = (out / "graph.html").read_text(encoding="utf-8")
    assert "<script>window.pwned" not in html and "<img src=x" not in html
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-gpu"],
        )
        page = browser.new_page()
        page.route(
            "**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort()
        )
        page.goto((out / "graph.html").as_uri())
        page.wait_for_function("window.kgNetwork !== undefined")
        labels = page.evaluate("window.kgNetwork.body.data.nodes.get().map(n => n.title || '')")
        assert any("<script>window.pwned=1</script>" in str(t) for t in labels)
        assert page.evaluate("window.pwned === undefined")
        browser.close()


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "folder"
        for p in sorted(folder.iterdir())
    }


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_killed_build_leaves_previous_outputs_and_next_build_completes(tmp_path, sig):
    out = tmp_path / "out"
    slice_ = tmp_path / "slice.jsonl"
    with ARXIV_5K.open(encoding="utf-8") as fh:
        slice_.write_text("".join(next(fh) for _ in range(200)), encoding="utf-8")
    cmd = [sys.executable, "-m", "kg.cli", "build", "--quiet", "--out", str(out)]
    _previous_build(out, ("graph.ttl", "concepts.csv"))
    before = _digest(out)

    proc = subprocess.Popen(  # no cache: the papers are extracted, whatever ran before
        [*cmd, str(slice_), "--no-cache"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".kg-out.tmp-*")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(tmp_path.glob(".kg-out.tmp-*")), "the build never started"
    time.sleep(4)  # well into model loading / extraction
    assert proc.poll() is None, "the build ended before it could be interrupted"
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode != 0
    if sig == signal.SIGINT:
        assert "interrupted" in stderr and "Traceback" not in stderr
    assert _digest(out) == before

    again = subprocess.run(
        [*cmd, str(slice_), "--exports", "rdf,tables"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    manifest = json.loads((out / "build.json").read_text())
    assert manifest["counts"]["papers"] == 200
    assert not list(tmp_path.glob(".kg-out.tmp-*")) and not list(tmp_path.glob(".kg-out.old-*"))


def test_second_build_into_the_same_folder_is_refused(tmp_path):
    out = tmp_path / "out"
    with output_folder(out):
        run = run_kg("build", str(DEMO), "--out", str(out), "--quiet")
        assert run.returncode == 2
        assert "another kg build is writing into this folder" in run.stderr
        with pytest.raises(OutputError, match="another kg build"), output_folder(out):
            pass


def test_unwritable_output_is_reported_before_any_work(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    run = run_kg("build", str(DEMO), "--out", str(blocker / "out"))
    assert run.returncode == 2
    assert "cannot write the output folder" in run.stderr and "keyphrases" not in run.stderr


def test_strict_fails_on_any_reject_and_keeps_previous_outputs(tmp_path):
    out = tmp_path / "out"
    _previous_build(out, ("graph.ttl",))
    before = _digest(out)
    src = tmp_path / "in.jsonl"
    src.write_text('{"title": "Graph learning", "abstract": "We learn on graphs."}\n{oops\n')
    run = run_kg("build", str(src), "--out", str(out), "--strict", "--quiet")
    assert run.returncode == 2
    assert "--strict: 1 record(s) rejected" in run.stderr and "line 2" in run.stderr
    assert _digest(out) == before


def _previous_build(out: Path, names: tuple[str, ...]) -> None:
    """A folder as a kg build leaves it: the files ``names`` and a build.json listing them."""
    out.mkdir()
    for name in names:
        (out / name).write_text(f"previous {name}\n")
    manifest = {"tool": "kg", "outputs": sorted([*names, "build.json"])}
    (out / "build.json").write_text(json.dumps(manifest) + "\n")


def test_a_folder_kg_did_not_write_is_never_replaced(tmp_path):
    """The build replaces its whole output folder: one holding anything else is refused
    before any work, and nothing in it changes."""
    home = tmp_path / "project"
    home.mkdir()
    papers = home / "papers.txt"
    papers.write_bytes(DEMO.read_bytes())
    (home / "notes.md").write_text("my notes\n")
    (home / "sub").mkdir()
    before = _digest(home)
    for out, expected in (
        (".", "the output folder holds the current folder"),  # the input, the notes
        ("papers.txt", "exists and is not a folder"),
    ):
        run = run_kg("build", "papers.txt", "--out", out, "--quiet", cwd=home)
        assert run.returncode == 2, run.stderr
        assert expected in run.stderr and "Traceback" not in run.stderr
    run = run_kg("build", str(papers), "--out", str(home / "sub" / ".."), "--quiet")
    assert run.returncode == 2 and "input lies inside the output folder" in run.stderr
    other = tmp_path / "other.txt"
    other.write_bytes(DEMO.read_bytes())
    run = run_kg("build", str(other), "--out", str(home), "--quiet")
    assert run.returncode == 2
    assert "holds files that no kg build wrote" in run.stderr
    assert _digest(home) == before


def test_what_the_build_reads_or_keeps_is_never_inside_its_output(tmp_path):
    """The cache and the vocabulary inside --out would be deleted with it (the cache,
    silently, at every build); so would the folder kg runs in, under the user's shell."""
    out = tmp_path / "out"
    _previous_build(out, ("graph.ttl",))
    before = _digest(out)
    for option, path in (("--cache", out / "cache"), ("--vocab", out / "v.ttl")):
        run = run_kg("build", str(DEMO), "--out", str(out), option, str(path), "--quiet")
        assert run.returncode == 2 and "Traceback" not in run.stderr
        kind = "the cache folder" if option == "--cache" else "the vocabulary"
        assert f"{kind} lies inside the output folder" in run.stderr
    inner = out / "inner"
    inner.mkdir()
    (out / "graph.ttl").unlink()
    run = run_kg("build", str(DEMO), "--out", "..", "--quiet", cwd=inner)
    assert run.returncode == 2 and "holds the current folder" in run.stderr
    inner.rmdir()
    (out / "graph.ttl").write_text("previous graph.ttl\n")
    assert _digest(out) == before


def test_a_kg_folder_with_files_added_is_refused_naming_them(tmp_path):
    out = tmp_path / "out"
    _previous_build(out, ("graph.ttl", "concepts.csv"))
    (out / "my-analysis.ipynb").write_text("{}\n")
    before = _digest(out)
    run = run_kg("build", str(DEMO), "--out", str(out), "--quiet")
    assert run.returncode == 2
    assert "files its last kg build did not write (my-analysis.ipynb)" in run.stderr
    assert _digest(out) == before


def test_csv_with_missing_and_extra_columns(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(
        "title,abstract,year\nA paper,Some text,2020\nShort row,only two\n"
        "Too,many,2021,columns,here\n"
    )
    result = read_papers([path])
    assert [p.title for p in result.papers] == ["A paper", "Short row"]
    assert result.rejected[0].locator == "line 4" and "5 columns" in result.rejected[0].reason


def test_huge_abstract_is_kept_and_extracted(tmp_path, embedder):
    words = [
        "graph",
        "neural",
        "networks",
        "learn",
        "molecular",
        "representations",
        "with",
        "message",
        "passing",
        "layers",
        "while",
        "attention",
        "improves",
        "long",
        "range",
        "interactions",
    ]
    huge = " ".join(words[i % len(words)] for i in range(100_000))
    path = tmp_path / "big.jsonl"
    path.write_text(
        json.dumps({"id": "big", "title": "Message passing at scale", "abstract": huge}) + "\n"
    )
    built = make_graph([path], embedder=embedder, progress=False)
    assert len(built.papers[0].abstract.split()) == 100_000
    assert built.keyphrases[0].keyphrases


def test_exports_refuse_an_unknown_name():
    from kg.errors import ConfigError
    from kg.export import writer

    with pytest.raises(ConfigError, match="known exports: "):
        writer("pdf")


def test_iris_of_odd_keys_are_valid(tmp_path):
    iris = Iris()
    for key in ("cs/0112017", "c++ templates", "a#b", "50% <x>"):
        iri = iris.concept(key)
        assert isinstance(iri, URIRef) and " " not in iri and "<" not in iri and "#" not in iri[8:]
    assert os.sep not in iris.paper("x").split("/paper/")[1] or True


@pytest.mark.parametrize("seed", ["-1", "4294967296"])
def test_a_seed_numpy_cannot_take_is_refused_before_any_work(tmp_path, seed):
    run = run_kg("build", str(DEMO), "--out", str(tmp_path / "out"), "--seed", seed, "--quiet")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert f"seed must be between 0 and 4294967295, got {seed}" in run.stderr
    assert not (tmp_path / "out").exists()


def test_a_gpu_torch_cannot_use_is_refused_before_any_work(tmp_path):
    import torch

    from kg.extract import usable_device

    if torch.cuda.is_available():  # a GPU machine: the named device is used as asked
        assert usable_device("cuda") == "cuda"
        return
    run = run_kg("build", str(DEMO), "--out", str(tmp_path / "out"), "--device", "cuda")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "--device cuda: torch" in run.stderr and "cannot use CUDA" in run.stderr
    assert "records" not in run.stderr  # refused before the input was read
    assert not (tmp_path / "out").exists()
