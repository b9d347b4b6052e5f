"""The vocabulary and the SHACL shapes: kg/vocab.py and ontology/kg.ttl agree, every term is
documented, and every export of the demo build satisfies ontology/shapes.ttl."""

from __future__ import annotations

import pyshacl
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH

from kg.vocab import KG, ONTOLOGY_IRI, VOID
from tests.conftest import ROOT

ONTOLOGY = ROOT / "ontology" / "kg.ttl"
SHAPES = ROOT / "ontology" / "shapes.ttl"
NS = ONTOLOGY_IRI + "#"


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ONTOLOGY)


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(SHAPES)


def validate(data: Graph, shapes: Graph) -> tuple[bool, str]:
    conforms, _, text = pyshacl.validate(data, shacl_graph=shapes)
    return bool(conforms), text


def test_vocab_module_and_ontology_define_the_same_terms(ontology):
    in_ttl = {str(s)[len(NS) :] for s in ontology.subjects() if str(s).startswith(NS)}
    in_code = set(KG.__annotations__)
    assert in_ttl == in_code


def test_every_term_is_typed_labelled_commented_and_defined_by_the_ontology(ontology):
    kinds = {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty}
    for name in KG.__annotations__:
        term = URIRef(NS + name)
        assert set(ontology.objects(term, RDF.type)) & kinds, name
        assert ontology.value(term, RDFS.label), name
        assert len(str(ontology.value(term, RDFS.comment) or "")) > 15, name
        assert ontology.value(term, RDFS.isDefinedBy) == URIRef(ONTOLOGY_IRI), name
    assert (URIRef(ONTOLOGY_IRI), RDF.type, OWL.Ontology) in ontology


def test_shapes_only_name_defined_kg_terms(shapes):
    used = {str(o) for o in shapes.objects() if isinstance(o, URIRef) and str(o).startswith(NS)}
    assert used and used <= {NS + name for name in KG.__annotations__}
    assert set(shapes.subjects(RDF.type, SH.NodeShape))


@pytest.mark.parametrize("name", ["graph.ttl", "graph.nt"])
def test_every_rdf_export_of_the_demo_satisfies_the_shapes(demo_build, shapes, name):
    _, out = demo_build
    conforms, report = validate(Graph().parse(out / name), shapes)
    assert conforms, report


def test_the_shapes_catch_a_broken_export(demo_build, shapes):
    _, out = demo_build
    data = Graph().parse(out / "graph.nt")
    concept = sorted(data.subjects(KG.paperCount, None))[0]
    data.set((concept, KG.paperCount, Literal(999)))
    mention = sorted(data.subjects(RDF.type, KG.Mention))[0]
    data.remove((mention, KG.score, None))
    paper = sorted(data.subjects(RDF.type, URIRef("https://schema.org/ScholarlyArticle")))[0]
    data.add((paper, URIRef(NS + "typo"), Literal("x")))
    keyed = sorted(data.subjects(KG.labelKey, None))[-1]
    data.remove((keyed, KG.labelKey, None))
    data.add((keyed, KG.labelKey, Literal("not a label of it")))
    bridge = sorted(data.subjects(KG.clustersReached, None))[1]
    data.remove((bridge, KG.clustersReached, None))
    conforms, report = validate(data, shapes)
    assert not conforms
    assert f"concept {keyed}: its kg:labelKey values" in report
    assert "OrConstraintComponent" in report and str(bridge) in report
    assert "kg:paperCount of " + str(concept) in report
    assert "MinCountConstraintComponent" in report and str(mention) in report
    assert "ClosedConstraintComponent" in report and "typo" in report


def test_void_statistics_describe_the_export(demo_build):
    built, out = demo_build
    data = Graph().parse(out / "graph.nt")
    dataset = next(data.subjects(RDF.type, VOID.Dataset))
    described = (
        {dataset}
        | set(data.objects(dataset, VOID.classPartition))
        | set(data.objects(dataset, VOID.propertyPartition))
    )
    body = [t for t in data if t[0] not in described]
    assert int(data.value(dataset, VOID.triples)) == len(body)
    assert int(data.value(dataset, VOID.distinctSubjects)) == len({s for s, _, _ in body})
    assert int(data.value(dataset, VOID.distinctObjects)) == len({o for _, _, o in body})
    assert int(data.value(dataset, VOID.properties)) == len({p for _, p, _ in body})
    for part in data.objects(dataset, VOID.classPartition):
        cls = data.value(part, VOID["class"])
        assert int(data.value(part, VOID.entities)) == len(set(data.subjects(RDF.type, cls)))
    concepts = URIRef("http://www.w3.org/2004/02/skos/core#Concept")
    assert len(set(data.subjects(RDF.type, concepts))) == built.manifest()["counts"]["concepts"]


def test_the_rdf_written_in_many_parts_is_the_rdf_written_in_few(demo_build, tmp_path, monkeypatch):
    """Big builds write the RDF in parts (a fixed number of concepts or papers each; Turtle made
    from each part in its own process, then joined): cut into many parts, the demo's exports
    are the same bytes. The VoID counts' hashes, each kept once after a part where many were
    added, count the same distinct terms."""
    import kg.export.rdf as rdf

    built, out = demo_build
    monkeypatch.setattr(rdf, "CONCEPTS_PER_PART", 40)
    monkeypatch.setattr(rdf, "PAPERS_PER_PART", 4)
    monkeypatch.setattr(rdf._Statistics, "COMPACT_EVERY", 64)
    compacted = []
    unique = rdf._unique
    monkeypatch.setattr(
        rdf, "_unique", lambda hashes: compacted.append(len(hashes)) or unique(hashes)
    )
    assert len(rdf._parts(built, built.base)) > 10
    rdf.write_turtle(built, tmp_path)
    assert len(compacted) > 10  # subjects and objects, after most parts
    for name in ("graph.nt", "graph.ttl"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.nt", "graph.ttl"]  # no parts


def test_literals_are_written_as_pyoxigraph_writes_them():
    """The exporter writes N-Triples lines itself: each character a literal can hold is escaped
    as pyoxigraph's serializer escapes it, and what it writes reads back as the same text."""
    from pyoxigraph import Literal as Lit
    from pyoxigraph import NamedNode, RdfFormat, Triple, parse, serialize

    from kg.export.rdf import _quoted

    s, p = NamedNode("https://example.org/s"), NamedNode("https://example.org/p")
    texts = [
        "x" + "".join(chr(c) for c in range(block, min(block + 4096, 0x110000)))
        for block in range(0, 0x110000, 4096)
        if not 0xD800 <= block < 0xE000
    ]
    texts = [t.encode("utf-8", "ignore").decode() for t in texts]  # no lone surrogates
    theirs = serialize(
        [Triple(s, p, Lit(t, language=lang)) for t in texts for lang in (None, "en")],
        None,
        RdfFormat.N_TRIPLES,
    )
    ours = "".join(
        f"<{s.value}> <{p.value}> {_quoted(t)}{tag} .\n" for t in texts for tag in ("", "@en")
    ).encode()
    assert ours == theirs
    assert [t.object.value for t in parse(ours, format=RdfFormat.N_TRIPLES)] == [
        t for t in texts for _ in range(2)
    ]
