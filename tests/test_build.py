"""End to end on the bundled listing: the concepts a reader expects, checked with SPARQL."""

from __future__ import annotations

import json
import os
from collections import defaultdict

import pytest
from rdflib import Graph

from kg import parallel
from kg.link import concept_key
from tests.conftest import DEMO, ROOT, run_kg

PREFIXES = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX schema: <https://schema.org/>
PREFIX kg: <https://w3id.org/kg-papers/ontology#>
"""


@pytest.fixture(scope="module")
def rdf(demo_build) -> Graph:
    _, out = demo_build
    g = Graph()
    g.parse(out / "graph.ttl")
    return g


def papers_of_label(rdf: Graph, label: str) -> list[set[str]]:
    """For every concept whose preferred or alternative label is ``label`` (any case),
    the titles of its papers."""
    rows = rdf.query(
        PREFIXES
        + """
        SELECT ?c ?title WHERE {
          ?c a skos:Concept ; skos:prefLabel|skos:altLabel ?l .
          FILTER(LCASE(STR(?l)) = LCASE(?label))
          ?p dcterms:subject ?c ; dcterms:title ?title .
        }""",
        initBindings={"label": __import__("rdflib").Literal(label)},
    )
    by_concept: dict[str, set[str]] = defaultdict(set)
    for c, title in rows:
        by_concept[str(c)].add(str(title))
    return list(by_concept.values())


def test_zeroth_order_optimization_is_one_node_with_its_papers(rdf):
    found = papers_of_label(rdf, "zeroth-order optimization")
    assert len(found) == 1, "exactly one concept node"
    titles = found[0]
    for expected in (
        "DeepZero",
        "Zeroth-Order Optimization Meets Human Feedback",
        "Revisiting Zeroth-Order Optimization",
        "Sparse MeZO",
        "Federated Zeroth-Order Optimization",
    ):
        assert any(t.startswith(expected) for t in titles), expected


def test_gflownet_node_links_order_preserving_gflownets(rdf):
    found = papers_of_label(rdf, "GFlowNet")
    assert len(found) == 1
    assert "Order-Preserving GFlowNets" in found[0]


def test_transformer_node_links_the_transformer_papers(rdf):
    found = papers_of_label(rdf, "Transformer")
    assert len(found) == 1
    titles = found[0]
    assert any(t.startswith("Transformers Learn Higher-Order") for t in titles)
    assert any(t.startswith("Enhancing Transformers") for t in titles)


def test_no_two_concepts_differ_only_by_case_plural_or_hyphen(rdf):
    labels = [
        str(label)
        for (label,) in rdf.query(
            PREFIXES + "SELECT ?l WHERE { ?c a skos:Concept ; skos:prefLabel ?l }"
        )
    ]
    keys = [concept_key(label) for label in labels]
    duplicates = {k for k in keys if keys.count(k) > 1}
    assert not duplicates


def test_every_paper_and_record_is_accounted_for(demo_build):
    built, out = demo_build
    manifest = json.loads((out / "build.json").read_text())
    counts = manifest["counts"]
    assert counts["records"] == counts["papers"] + counts["merged"] + counts["rejected"] == 30
    assert set(manifest["outputs"]) >= {
        "graph.ttl",
        "graph.html",
        "graph.graphml",
        "concepts.csv",
        "papers.csv",
        "build.json",
    }
    assert manifest["config"]["top_n"] == built.config.top_n


def test_rdf_describes_papers_and_concepts_with_standard_terms(rdf, demo_build):
    built, _ = demo_build
    rdflib = __import__("rdflib")
    n_papers = len(
        list(
            rdf.subjects(
                predicate=rdflib.RDF.type,
                object=rdflib.URIRef("https://schema.org/ScholarlyArticle"),
            )
        )
    )
    assert n_papers == len(built.papers)
    ask = rdf.query(
        PREFIXES
        + """ASK { ?c a skos:Concept ; skos:inScheme ?s ; kg:pagerank ?pr ;
        kg:cluster ?k . ?s a skos:ConceptScheme . ?k a kg:Cluster ; rdfs:label ?kl .
        ?m a kg:Mention ; kg:paper ?p ; kg:concept ?c ; kg:score ?sc ; kg:evidence ?e . }""",
        initNs={"rdfs": __import__("rdflib").RDFS},
    )
    assert ask.askAnswer


def test_committed_outputs_are_what_the_build_makes(demo_build):
    """The committed build of the bundled listing is reproduced byte for byte
    (build.json: all but its timings)."""
    _, out = demo_build
    committed = ROOT / "outputs"
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(p.name for p in committed.iterdir() if not p.name.startswith("."))
    for name in names:
        if name == "build.json":
            a, b = (json.loads((d / name).read_text()) for d in (out, committed))
            a.pop("timings"), b.pop("timings")
            a.pop("versions"), b.pop("versions")
            assert a == b
        else:
            assert (out / name).read_bytes() == (committed / name).read_bytes(), name


@pytest.mark.parametrize(("edges", "forks"), [(range(1, 10**9), [1]), (range(1, 2), [0])])
def test_exports_written_in_a_forked_process_are_the_same_files(
    demo_build, tmp_path, monkeypatch, edges, forks
):
    """On a big graph the side exports are written in a forked process while the build process
    writes the other exports; on a huge one (a fork would copy too much of it), here, after
    them: the demo graph, made to count as big or as huge, gives the same files."""
    import kg.build
    from kg.build import output_folder, write_exports

    built, out = demo_build
    monkeypatch.setattr(kg.build, "FORK_EXPORT_EDGES", edges)
    sides = []

    def forked(tasks, **kwargs):
        sides.append(len(tasks))
        return parallel.forked(tasks, **kwargs)

    monkeypatch.setattr(kg.build, "forked", forked)
    with output_folder(tmp_path / "out") as folder:
        write_exports(built, folder)
    assert sides == forks
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(p.name for p in (tmp_path / "out").iterdir())
    for name in names:
        a, b = (d / name for d in (out, tmp_path / "out"))
        if name == "build.json":
            x, y = json.loads(a.read_text()), json.loads(b.read_text())
            assert x.pop("timings").keys() == y.pop("timings").keys()
            assert x == y
        else:
            assert a.read_bytes() == b.read_bytes(), name


def test_layout_made_during_the_analysis_is_the_drawings_layout(demo_build, embedder, tmp_path):
    """``make_graph(drawings=True)`` (what ``build`` asks when a drawing is exported) lays the
    graph out while the analysis waits for betweenness: the same layout and graph-file view as
    made from the finished build, the same files; a process lets the layout go once it has
    written its drawings."""
    from kg.build import make_graph, output_folder, write_exports
    from kg.export import graphml, layout

    built, out = demo_build
    again = make_graph([DEMO], embedder=embedder, progress=False, drawings=True)
    made = layout._CACHE.get(again.graph)
    assert made is not None and again.graph in graphml._VIEWS  # made by the analysis
    assert 0 < again.timings["layout"] < again.timings["analyse"]
    assert layout.node_looks(again) is made[1]  # and read by the exports
    assert made[1:] == layout._compute(again)  # what the finished build gives
    assert graphml._VIEWS[again.graph][1] == graphml.file_view(built)
    with output_folder(tmp_path / "out") as folder:
        write_exports(again, folder)
    assert layout._CACHE.get(again.graph) is None  # the drawings written, their layout went
    for name in sorted(p.name for p in out.iterdir()):
        if name != "build.json":
            assert (tmp_path / "out" / name).read_bytes() == (out / name).read_bytes(), name


def test_link_stage_in_a_forked_process_gives_the_same_concepts(demo_build, embedder, monkeypatch):
    """From ``FORK_LINK_PAPERS`` papers the link stage runs in a forked process and its result
    (concepts, mentions, merges, the label vectors it made) comes back pickled."""
    import kg.build

    built, _ = demo_build
    monkeypatch.setattr(kg.build, "FORK_LINK_PAPERS", 1)
    pids = []

    def fork_map(tasks, **kwargs):
        results = parallel.fork_map([*tasks, os.getpid], **kwargs)
        pids.append(results.pop())
        return results

    monkeypatch.setattr(kg.build, "fork_map", fork_map)
    again = kg.build.make_graph([DEMO], embedder=embedder, progress=False)
    assert pids
    if parallel.cores() >= 2:  # CI and this machine have two (with one, nothing is forked)
        assert pids[0] != os.getpid()
    assert again.linked == built.linked
    assert [m.sentence for m in again.linked.mentions] == [
        m.sentence for m in built.linked.mentions
    ]
    assert sorted(again.concept_vectors) == sorted(built.concept_vectors)
    for key in sorted(built.concept_vectors)[:50]:
        assert (again.concept_vectors[key] == built.concept_vectors[key]).all(), key


@pytest.mark.slow
def test_cli_build_and_query_round_trip(tmp_path):
    out = tmp_path / "out"
    run = run_kg("build", str(DEMO), "--out", str(out), "--quiet", "--exports", "rdf,tables")
    assert run.returncode == 0, run.stderr
    assert "30 records: 30 papers, 0 merged, 0 rejected" in run.stdout
    q = run_kg(
        "query",
        str(out / "graph.ttl"),
        PREFIXES + "SELECT (COUNT(?p) AS ?n) WHERE { ?p a schema:ScholarlyArticle }",
        "--format",
        "csv",
    )
    assert q.returncode == 0, q.stderr
    assert q.stdout.splitlines() == ["n", "30"]


@pytest.mark.slow
def test_builds_in_processes_with_other_string_hashes_give_the_same_bytes(tmp_path):
    """Python salts string hashes per process, so any output that followed the order of a set
    of strings would change from run to run. Two builds of the listing under other hash seeds,
    with the thresholds lowered so that the large-graph analysis path runs (clustering and
    betweenness on a sub-network), write the same files (build.json: all but its timings)."""
    config = tmp_path / "large-path.toml"
    config.write_text("[kg]\ncluster_core_above = 10\nbetweenness_exact_max = 10\n", "utf-8")
    outs = []
    for seed in ("1", "2"):
        out = tmp_path / f"hash-seed-{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = run_kg(
            "build",
            str(DEMO),
            "--out",
            str(out),
            "--quiet",
            "--config",
            str(config),
            "--no-cache",
            env=env,
        )
        assert run.returncode == 0, run.stderr
        outs.append(out)
    names = sorted(p.name for p in outs[0].iterdir())
    assert names == sorted(p.name for p in outs[1].iterdir()) and "graph.nt" in names
    for name in names:
        a, b = ((out / name).read_bytes() for out in outs)
        if name == "build.json":
            a, b = ({k: v for k, v in json.loads(x).items() if k != "timings"} for x in (a, b))
            assert "two or more papers" in a["analysis"]["clustering"]
        assert a == b, name
