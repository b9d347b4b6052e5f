"""The query library on the real demo build, checked against the networkx graph the build made,
on both stores; parameters, output formats and the command line."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter, defaultdict
from pathlib import Path
from xml.etree import ElementTree

import pytest
from rdflib import Graph, Literal, URIRef, Variable
from rdflib.namespace import DCTERMS, SKOS

from kg.errors import QueryError
from kg.export.rdf import Iris, to_rdf, triples
from kg.export.tables import papers_table
from kg.graph import CONCEPT, PAPER
from kg.model import Source
from kg.query import format_result, library, run_query
from kg.store import STORES, open_store
from tests.conftest import run_kg

SKOS_BROADER = "<http://www.w3.org/2004/02/skos/core#broader>"
DCT_DATE = "<http://purl.org/dc/terms/date>"


@pytest.fixture(scope="module")
def demo(demo_build):
    built, out = demo_build
    return built, out, Iris(built.base)


@pytest.fixture(scope="module", params=sorted(STORES))
def store(request, demo):
    return open_store(demo[1], store=request.param)


def column(result, name: str) -> list:
    return [row.get(Variable(name)) for row in result.bindings]


def concepts(built) -> list[str]:
    return sorted(n for n, d in built.graph.nodes(data=True) if d["kind"] == CONCEPT)


def papers_of(built, node: str) -> set[str]:
    g = built.graph
    return {n for n in g[node] if g.nodes[n]["kind"] == PAPER}


def papers_with_narrower(built, node: str, extra: dict[str, set[str]] | None = None) -> set[str]:
    """Papers of a concept and of every concept below it (skos:broader, transitively)."""
    narrower: dict[str, set[str]] = defaultdict(set)
    for c in built.linked.concepts:
        for b in c.broader:
            narrower[f"concept:{b}"].add(f"concept:{c.key}")
    for parent, children in (extra or {}).items():
        narrower[parent] |= children
    seen, todo = {node}, [node]
    while todo:
        for child in narrower[todo.pop()] - seen:
            seen.add(child)
            todo.append(child)
    return set().union(*(papers_of(built, n) for n in seen if n in built.graph))


def _keys_below(built, nodes: set[str]) -> set[str]:
    """Keys of the given concepts and of every concept narrower than one of them."""
    keys = {n.split(":", 1)[1] for n in nodes}
    changed = True
    while changed:
        changed = False
        for c in built.linked.concepts:
            if c.key not in keys and keys.intersection(c.broader):
                keys.add(c.key)
                changed = True
    return keys


def cooccurring(built, node: str) -> dict[str, int]:
    g = built.graph
    return {n: g.edges[node, n]["weight"] for n in g[node] if g.nodes[n]["kind"] == CONCEPT}


def iri(iris: Iris, node: str) -> URIRef:
    kind, key = node.split(":", 1)
    return iris.paper(key) if kind == PAPER else iris.concept(key)


def sample_concepts(built, n: int = 12) -> list[str]:
    """The concepts with the most papers, and a few with one paper."""
    nodes = concepts(built)
    by_papers = sorted(nodes, key=lambda c: (-len(papers_of(built, c)), c))
    return by_papers[:n] + by_papers[-3:]


def with_extra(demo, tmp_path, lines: list[str], kind: str):
    """A store of the demo graph plus some N-Triples lines (to exercise what the demo lacks)."""
    path = tmp_path / "graph.nt"
    path.write_text(
        (demo[1] / "graph.nt").read_text(encoding="utf-8") + "\n".join(lines) + "\n",
        encoding="utf-8",
    )
    return open_store(path, store=kind)


def test_every_library_query_says_what_it_answers_and_names_its_parameters():
    queries = library()
    assert len(queries) >= 8
    for name, q in queries.items():
        assert len(q.summary) > 20, name
        for param in q.params:
            assert f"?{param}" in q.text, (name, param)
    assert set(queries["papers-about-concept"].params) == {"concept"}
    assert set(queries["related-papers"].params) == {"paper"}


def test_papers_about_a_concept_are_its_papers_in_networkx(store, demo):
    built, _, iris = demo
    for node in sample_concepts(built):
        result = run_query(store, "papers-about-concept", {"concept": f"<{iri(iris, node)}>"})
        expected = papers_with_narrower(built, node)
        assert set(column(result, "paper")) == {iri(iris, p) for p in expected}


def vias(built, iris: Iris, nodes: set[str]) -> dict[URIRef, str]:
    """Each paper of the given concepts or of a narrower one, with the preferred labels of
    those of its concepts, in the order the query lists them."""
    below = _keys_below(built, nodes)
    labels: dict[URIRef, set[str]] = defaultdict(set)
    for m in built.linked.mentions:
        node = f"concept:{m.concept_key}"
        if m.concept_key in below and node in built.graph:
            labels[iris.paper(m.paper_key)].add(built.graph.nodes[node]["label"])
    return {
        paper: " | ".join(sorted(found, key=lambda label: (label.lower(), label)))
        for paper, found in labels.items()
    }


def test_papers_about_a_concept_list_each_paper_once_with_the_concepts_that_link_it(store, demo):
    built, _, iris = demo
    # ZOO (zeroth-order optimization) has narrower concepts in the demo: papers reach it by
    # several of them
    by_label = [f"concept:{c.key}" for c in built.linked.concepts if c.acronym == "ZOO"]
    assert len(by_label) == 1 and len(_keys_below(built, set(by_label))) > 2
    for node in [*sample_concepts(built), *by_label]:
        result = run_query(store, "papers-about-concept", {"concept": f"<{iri(iris, node)}>"})
        papers = column(result, "paper")
        assert len(papers) == len(set(papers)), node
        got = dict(zip(papers, map(str, column(result, "via")), strict=True))
        assert got == vias(built, iris, {node}), node
    result = run_query(store, "papers-about-concept", {"concept": "zoo"})
    assert any(" | " in str(v) for v in column(result, "via"))


def test_papers_about_a_concept_by_label_match_every_concept_with_that_label(store, demo):
    built, _, iris = demo
    names = defaultdict(set)
    for c in built.linked.concepts:
        for label in (c.pref_label, *c.alt_labels, c.acronym or ""):
            if label:
                names[label.lower()].add(f"concept:{c.key}")
    for label in ["GFlowNet", "zeroth-order optimization", "TRANSFORMER"]:
        expected = set().union(*(papers_with_narrower(built, n) for n in names[label.lower()]))
        assert expected, label
        result = run_query(store, "papers-about-concept", {"concept": label})
        assert set(column(result, "paper")) == {iri(iris, p) for p in expected}, label


def test_papers_about_a_concept_include_those_of_its_narrower_concepts(demo, tmp_path):
    built, _, iris = demo
    a, b, c = sample_concepts(built)[:3]
    # c narrower than b narrower than a: a's papers are the union of all three
    lines = [
        f"<{iri(iris, c)}> {SKOS_BROADER} <{iri(iris, b)}> .",
        f"<{iri(iris, b)}> {SKOS_BROADER} <{iri(iris, a)}> .",
    ]
    for kind in STORES:
        s = with_extra(demo, tmp_path, lines, kind)
        result = run_query(s, "papers-about-concept", {"concept": f"<{iri(iris, a)}>"})
        expected = papers_with_narrower(built, a, {a: {b}, b: {c}})
        assert set(column(result, "paper")) == {iri(iris, p) for p in expected}
        papers = column(result, "paper")
        assert len(papers) == len(set(papers)), kind
        assert set(map(str, column(result, "via"))) <= set(vias(built, iris, {a, b, c}).values())


def test_central_concepts_are_the_top_pagerank_concepts_of_networkx(store, demo):
    built, _, iris = demo
    an = built.analysis
    result = run_query(store, "central-concepts")
    rows = result.bindings
    assert len(rows) == 20
    expected_top = sorted((round(an.pagerank[n], 6) for n in concepts(built)), reverse=True)[:20]
    assert [float(r[Variable("pagerank")]) for r in rows] == expected_top
    by_iri = {iri(iris, n): n for n in concepts(built)}
    for r in rows:
        node = by_iri[r[Variable("concept")]]
        assert float(r[Variable("pagerank")]) == round(an.pagerank[node], 6)
        assert int(r[Variable("degree")]) == an.degree[node]
        assert int(r[Variable("papers")]) == len(papers_of(built, node))
        assert int(r[Variable("cluster")]) == an.cluster_of[node]


def test_concepts_of_a_cluster_are_its_members_in_networkx(store, demo):
    built, _, iris = demo
    members = defaultdict(set)
    for node in concepts(built):
        members[built.analysis.cluster_of[node]].add(iri(iris, node))
    assert len(members) > 3
    for cid, expected in sorted(members.items()):
        result = run_query(store, "cluster-concepts", {"cluster": str(cid)})
        assert set(column(result, "concept")) == expected, cid
        pageranks = [float(v) for v in column(result, "pagerank")]
        assert pageranks == sorted(pageranks, reverse=True)


def test_bridging_concepts_reach_the_clusters_networkx_says(store, demo):
    built, _, iris = demo
    an = built.analysis
    expected = []
    for node in concepts(built):
        others = [n for n in cooccurring(built, node) if an.cluster_of[n] != an.cluster_of[node]]
        reached = {an.cluster_of[n] for n in others}
        if reached:
            expected.append(
                (-len(reached), -round(an.betweenness[node], 6), str(iri(iris, node)), len(others))
            )
    expected.sort()
    result = run_query(store, "bridging-concepts")
    got = [
        (
            -int(r[Variable("clustersReached")]),
            -float(r[Variable("betweenness")]),
            str(r[Variable("concept")]),
            int(r[Variable("crossConcepts")]),
        )
        for r in result.bindings
    ]
    assert got == expected[:20]
    assert got[0][0] <= -2  # the demo has concepts that reach two other clusters


def test_co_occurring_concepts_are_the_networkx_neighbours_with_their_weights(store, demo):
    built, _, iris = demo
    for node in sample_concepts(built):
        result = run_query(store, "co-occurring-concepts", {"concept": f"<{iri(iris, node)}>"})
        got = {r[Variable("other")]: int(r[Variable("papers")]) for r in result.bindings}
        assert got == {iri(iris, n): w for n, w in cooccurring(built, node).items()}, node


def test_related_papers_share_the_most_concepts(store, demo):
    built, _, iris = demo
    g = built.graph
    of = {n: set(g[n]) for n, d in g.nodes(data=True) if d["kind"] == PAPER}
    for paper in built.papers[:6]:
        node = f"paper:{paper.key}"
        shared = {q: len(of[node] & cs) for q, cs in of.items() if q != node and of[node] & cs}
        expected = sorted((-n, str(iri(iris, q))) for q, n in shared.items())[:20]
        for value in (paper.record_id, paper.title.upper(), f"<{iris.paper(paper.key)}>"):
            result = run_query(store, "related-papers", {"paper": value})
            got = [
                (-int(r[Variable("shared")]), str(r[Variable("related")])) for r in result.bindings
            ]
            assert got == expected, value


def test_a_paper_is_found_by_an_arxiv_id_that_reads_as_a_number(demo, tmp_path):
    # "2503.21800" parses as a decimal; bound as one, a store would write it back as 2503.218
    built, _, iris = demo
    paper = max(built.papers, key=lambda p: (built.graph.degree(f"paper:{p.key}"), p.key))
    ident = '"2503.21800"'
    lines = [f"<{iris.paper(paper.key)}> <http://purl.org/dc/terms/identifier> {ident} ."]
    for kind in STORES:
        s = with_extra(demo, tmp_path, lines, kind)
        by_id = run_query(s, "related-papers", {"paper": "2503.21800"})
        by_key = run_query(s, "related-papers", {"paper": paper.record_id})
        assert by_id.bindings and column(by_id, "related") == column(by_key, "related"), kind


def with_papers(built, change):
    """The build with each paper changed by ``change(index, paper)``: what the demo lacks."""
    papers = [change(i, p) for i, p in enumerate(built.papers)]
    return dataclasses.replace(built, ingest=dataclasses.replace(built.ingest, papers=papers))


@pytest.mark.parametrize("kind", sorted(STORES))
def test_every_arxiv_paper_is_found_by_arxiv_id(demo, tmp_path, kind):
    # as an arXiv listing has them: the record's id is the bare arXiv id, which the RDF
    # writes as it is and as arXiv:ID (the form related-papers documents)
    built, _, iris = demo

    def arxiv(i, paper):
        return dataclasses.replace(paper, record_id=f"2503.{i:05d}", arxiv_id=f"2503.{i:05d}")

    g = to_rdf(with_papers(built, arxiv), base=built.base)
    g.serialize(tmp_path / "graph.nt", format="nt", encoding="utf-8")
    s = open_store(tmp_path / "graph.nt", store=kind)
    found = 0
    for i, paper in enumerate(built.papers):
        subject = iris.paper(paper.key)
        assert set(map(str, g.objects(subject, DCTERMS.identifier))) == {
            f"2503.{i:05d}",
            f"arXiv:2503.{i:05d}",
        }
        by_iri = column(run_query(s, "related-papers", {"paper": f"<{subject}>"}), "related")
        for name in (f"arXiv:2503.{i:05d}", f"ARXIV:2503.{i:05d}", f"2503.{i:05d}"):
            got = column(run_query(s, "related-papers", {"paper": name}), "related")
            assert got == by_iri, (kind, name)
        found += bool(by_iri)
    assert found > len(built.papers) // 2
    # an input that spelled the id arXiv:ID already gets it once
    same = with_papers(
        built,
        lambda i, p: dataclasses.replace(p, record_id="arXiv:2503.00001", arxiv_id="2503.00001"),
    )
    paper = str(iris.paper(built.papers[0].key))
    written = [  # the triples as written, before a graph folds repeated ones
        t.object.value
        for t in triples(same, base=built.base)
        if t.subject.value == paper and t.predicate.value == str(DCTERMS.identifier)
    ]
    assert written == ["arXiv:2503.00001"]


def test_the_source_record_is_the_input_files_name_however_its_path_was_typed(demo):
    built, _, iris = demo

    def spelled_as(how):
        def change(i, paper):
            return dataclasses.replace(
                paper, source=Source(how(paper.source.file), paper.source.locator)
            )

        return change

    def spelled(how):
        return to_rdf(with_papers(built, spelled_as(how)), base=built.base)

    relative = spelled(lambda f: f)
    absolute = spelled(lambda f: str(Path(f).resolve()))
    dotted = spelled(lambda f: f"./{f}")
    assert set(relative) == set(absolute) == set(dotted)
    # papers.csv names each paper's record as the RDF does
    for how in (lambda f: f, lambda f: str(Path(f).resolve())):
        sources = list(papers_table(with_papers(built, spelled_as(how)))["source"])
        assert sources == [p.source.record for p in sorted(built.papers, key=lambda p: p.key)]
        assert not any("/" in s for s in sources)
    kg_source = URIRef("https://w3id.org/kg-papers/ontology#sourceRecord")
    for paper in built.papers:
        records = list(absolute.objects(iris.paper(paper.key), kg_source))
        assert records == [Literal(f"{Path(paper.source.file).name} {paper.source.locator}")]
    assert not any(str(Path.cwd()) in str(o) for o in absolute.objects())


def test_a_concepts_papers_over_time_count_the_papers_per_year(demo, tmp_path):
    built, _, iris = demo
    # The demo listing has no dates: give each paper one, as an arXiv listing would.
    years = {p.key: 2019 + i % 4 for i, p in enumerate(sorted(built.papers, key=lambda p: p.key))}
    lines = [
        f'<{iris.paper(k)}> {DCT_DATE} "{y}-0{1 + y % 9}-15"'
        f"^^<http://www.w3.org/2001/XMLSchema#date> ."
        for k, y in years.items()
    ]
    for kind in STORES:
        s = with_extra(demo, tmp_path, lines, kind)
        assert not run_query(
            open_store(demo[1], store=kind), "concept-over-time", {"concept": "GFlowNet"}
        ).bindings  # no dates, no rows
        for node in sample_concepts(built, 6):
            result = run_query(s, "concept-over-time", {"concept": f"<{iri(iris, node)}>"})
            got = {str(r[Variable("year")]): int(r[Variable("papers")]) for r in result.bindings}
            expected = Counter(
                str(years[p.split(":", 1)[1]]) for p in papers_with_narrower(built, node)
            )
            assert got == dict(expected), node
            assert list(got) == sorted(got)


def test_cluster_graph_constructs_the_cluster_with_its_related_concepts(store, demo):
    built, _, iris = demo
    an = built.analysis
    cid = 0
    members = {n for n in concepts(built) if an.cluster_of[n] == cid}
    assert len(members) <= 300  # the demo's clusters are whole in the answer
    g = run_query(store, "cluster-graph", {"cluster": str(cid)}).graph
    assert set(g.subjects(SKOS.prefLabel, None)) == {iri(iris, n) for n in members}
    assert related_pairs(g) == within(built, iris, members) != set()


def test_cluster_graph_of_a_big_cluster_keeps_its_most_central_concepts(store, demo):
    built, _, iris = demo
    an = built.analysis
    cid = 0
    ranked = sorted(
        (n for n in concepts(built) if an.cluster_of[n] == cid), key=lambda n: -an.pagerank[n]
    )
    # a cut of at least 8 concepts with no tie at it (ties are ordered by IRI in the query)
    n = next(
        i for i in range(8, len(ranked)) if an.pagerank[ranked[i - 1]] > an.pagerank[ranked[i]]
    )
    text = library()["cluster-graph"].text
    assert text.count("LIMIT 300") == 2
    g = run_query(store, text.replace("LIMIT 300", f"LIMIT {n}"), {"cluster": str(cid)}).graph
    top = set(ranked[:n])
    assert set(g.subjects(SKOS.prefLabel, None)) == {iri(iris, c) for c in top}
    assert related_pairs(g) == within(built, iris, top) != set()


def related_pairs(g: Graph) -> set[tuple]:
    return set(g.subject_objects(SKOS.related))


def within(built, iris: Iris, members: set[str]) -> set[tuple]:
    """The co-occurrence links among ``members``, each way, as IRIs."""
    return {
        (iri(iris, a), iri(iris, b)) for a in members for b in cooccurring(built, a) if b in members
    }


@pytest.mark.parametrize("fmt", ["csv", "json", "xml", "table"])
def test_both_stores_give_the_same_bytes_for_every_library_query(demo, fmt):
    built, out, iris = demo
    params = {
        "concept": "zeroth-order optimization",
        "cluster": "2",
        "paper": built.papers[0].record_id,
    }
    stores = [open_store(out, store=kind) for kind in sorted(STORES)]
    for name, q in library().items():
        chosen = {p: params[p] for p in q.params}
        outputs = []
        for s in stores:
            result = run_query(s, name, chosen)
            kind_fmt = fmt if result.type == "SELECT" else "nt"
            outputs.append(format_result(result, kind_fmt, base=built.base))
        assert outputs[0] == outputs[1], name
        assert outputs[0].strip(), name


def test_output_formats_follow_the_sparql_results_formats(store, demo):
    result = run_query(store, "cluster-concepts", {"cluster": "1"})
    doc = json.loads(format_result(result, "json"))
    assert doc["head"]["vars"] == ["cluster", "concept", "label", "papers", "pagerank"]
    assert doc["results"]["bindings"][0]["concept"]["type"] == "uri"
    xml = ElementTree.fromstring(format_result(result, "xml"))
    ns = "{http://www.w3.org/2005/sparql-results#}"
    assert len(xml.findall(f"{ns}results/{ns}result")) == len(doc["results"]["bindings"])
    csv_lines = format_result(result, "csv").splitlines()
    assert csv_lines[0] == "cluster,concept,label,papers,pagerank"
    assert len(csv_lines) == 1 + len(doc["results"]["bindings"])
    table = format_result(result, "table", base=demo[0].base)
    assert f"({len(csv_lines) - 1} rows)" in table and "id:concept/" in table
    ask = store.query("ASK { ?c a <http://www.w3.org/2004/02/skos/core#Concept> }")
    assert json.loads(format_result(ask, "json")) == {"head": {}, "boolean": True}
    graph = run_query(store, "cluster-graph", {"cluster": "1"})
    assert len(Graph().parse(data=format_result(graph, "turtle"), format="turtle")) > 0
    with pytest.raises(QueryError, match="returns RDF"):
        format_result(graph, "csv")


def test_parameters_are_bound_as_terms_never_pasted_into_the_query(store):
    # A value that would widen the query if it were pasted into its text matches nothing.
    for evil in ['x") || true || ("', "x' || true || '", "} ?s ?p ?o {"]:
        assert not run_query(store, "papers-about-concept", {"concept": evil}).bindings
    with pytest.raises(QueryError, match=r"needs --param concept=\.\.\."):
        run_query(store, "papers-about-concept", {})
    with pytest.raises(QueryError, match=r"has no variable \?concpet"):
        run_query(store, "papers-about-concept", {"concept": "GAN", "concpet": "x"})
    with pytest.raises(QueryError, match="neither SPARQL nor a library query"):
        run_query(store, "papers-about-concep")
    with pytest.raises(QueryError):
        run_query(store, "SELECT ?x WHERE { ?x ?y }")


def test_an_integer_parameter_is_typed(store):
    rows = run_query(store, "cluster-concepts", {"cluster": "0"}).bindings
    assert rows and all(r[Variable("cluster")] == Literal(0) for r in rows)


def test_cli_runs_a_library_query_by_name(demo):
    built, out, _ = demo
    run = run_kg(
        "query", str(out), "papers-about-concept", "--param", "concept=GFlowNet", "--format", "csv"
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "concept,paper,title,date,via"
    assert any("Order-Preserving GFlowNets" in line for line in lines[1:])
    bad = run_kg("query", str(out), "related-papers")
    assert bad.returncode == 2
    assert bad.stderr.startswith("kg: error: library query related-papers needs --param paper=")
    listed = run_kg("query", "--list")
    assert sorted(library()) == sorted(
        line.split()[0] for line in listed.stdout.splitlines() if line and not line.startswith(" ")
    )
