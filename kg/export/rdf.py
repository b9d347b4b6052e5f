"""RDF: papers (schema.org + Dublin Core terms), SKOS concepts, reified mentions (PROV-O).

No blank nodes: every resource has an IRI under the build's base, so outputs are byte-stable.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS, XSD
from rdflib.term import Node

from kg.graph import CONCEPT, PAPER, concept_node, paper_node
from kg.vocab import DEFAULT_BASE, KG, ONTOLOGY_IRI, SCHEMA, VOID

if TYPE_CHECKING:
    from kg.build import Build


def _slug(text: str) -> str:
    return quote(text.replace(" ", "-"), safe="-._~")


class Iris:
    """IRIs of a build's resources under one base."""

    def __init__(self, base: str = DEFAULT_BASE) -> None:
        self.base = base if base.endswith(("/", "#")) else base + "/"

    def paper(self, key: str) -> URIRef:
        return URIRef(f"{self.base}paper/{_slug(key)}")

    def concept(self, key: str) -> URIRef:
        return URIRef(f"{self.base}concept/{_slug(key)}")

    def mention(self, paper_key: str, concept_key: str) -> URIRef:
        return URIRef(f"{self.base}mention/{_slug(paper_key)}/{_slug(concept_key)}")

    def cluster(self, cid: int) -> URIRef:
        return URIRef(f"{self.base}cluster/{cid}")

    def person(self, name: str) -> URIRef:
        folded = " ".join(name.lower().split())
        return URIRef(f"{self.base}person/{_slug(folded)}")

    @property
    def scheme(self) -> URIRef:
        return URIRef(f"{self.base}scheme")

    @property
    def dataset(self) -> URIRef:
        return URIRef(f"{self.base}dataset")

    def partition(self, kind: str, name: str) -> URIRef:
        """A VoID class or property partition of the dataset, named by the term's CURIE."""
        return URIRef(f"{self.base}dataset/{kind}/{_slug(name.replace(':', '-'))}")

    @property
    def activity(self) -> URIRef:
        return URIRef(f"{self.base}build")


def _date(value: str) -> Literal:
    datatype = {4: XSD.gYear, 7: XSD.gYearMonth}.get(len(value), XSD.date)
    return Literal(value, datatype=datatype)


def _double(value: float) -> Literal:
    return Literal(round(float(value), 6), datatype=XSD.double)


def to_rdf(build: Build, *, base: str = DEFAULT_BASE) -> Graph:
    """The build as an rdflib graph."""
    iris = Iris(base)
    g = Graph()
    for prefix, ns in (
        ("kg", KG),
        ("skos", SKOS),
        ("dcterms", DCTERMS),
        ("schema", SCHEMA),
        ("prov", PROV),
        ("foaf", FOAF),
        ("void", VOID),
        ("xsd", XSD),
        ("owl", OWL),
    ):
        g.bind(prefix, ns._NS if ns is KG else ns)
    g.bind("id", base)
    analysis = build.analysis
    nodes = build.graph.nodes

    scheme = iris.scheme
    g.add((scheme, RDF.type, SKOS.ConceptScheme))
    g.add((scheme, DCTERMS.title, Literal(build.title, lang="en")))
    g.add((scheme, PROV.wasGeneratedBy, iris.activity))
    g.add((iris.activity, RDF.type, PROV.Activity))
    g.add((iris.activity, RDFS.label, Literal(f"kg build ({build.config.describe()})")))

    for cid, label in sorted(analysis.cluster_labels.items()):
        c = iris.cluster(cid)
        g.add((c, RDF.type, KG.Cluster))
        g.add((c, RDFS.label, Literal(label, lang="en")))
        g.add((c, KG.clusterNumber, Literal(cid, datatype=XSD.integer)))
        size = sum(
            1 for n, k in analysis.cluster_of.items() if k == cid and n.startswith("concept:")
        )
        g.add((c, KG.clusterSize, Literal(size, datatype=XSD.integer)))

    papers_of: dict[str, int] = {}
    for m in build.linked.mentions:
        papers_of[m.concept_key] = papers_of.get(m.concept_key, 0) + 1

    for concept in build.linked.concepts:
        node = concept_node(concept.key)
        if node not in nodes or nodes[node]["kind"] != CONCEPT:
            continue
        c = iris.concept(concept.key)
        g.add((c, RDF.type, SKOS.Concept))
        g.add((c, SKOS.inScheme, scheme))
        g.add((c, SKOS.prefLabel, Literal(concept.pref_label, lang="en")))
        for alt in concept.alt_labels:
            g.add((c, SKOS.altLabel, Literal(alt, lang="en")))
        if concept.acronym:
            g.add((c, KG.acronym, Literal(concept.acronym, lang="en")))
        for broader in concept.broader:
            g.add((c, SKOS.broader, iris.concept(broader)))
        for iri in concept.exact_match:
            g.add((c, SKOS.exactMatch, URIRef(iri)))
        for iri in concept.close_match:
            g.add((c, SKOS.closeMatch, URIRef(iri)))
        g.add((c, KG.paperCount, Literal(papers_of.get(concept.key, 0), datatype=XSD.integer)))
        g.add((c, KG.degree, Literal(analysis.degree.get(node, 0), datatype=XSD.integer)))
        g.add((c, KG.pagerank, _double(analysis.pagerank.get(node, 0.0))))
        g.add((c, KG.betweenness, _double(analysis.betweenness.get(node, 0.0))))
        if node in analysis.cluster_of:
            g.add((c, KG.cluster, iris.cluster(analysis.cluster_of[node])))

    for paper in build.papers:
        node = paper_node(paper.key)
        if node not in nodes or nodes[node]["kind"] != PAPER:
            continue
        p = iris.paper(paper.key)
        g.add((p, RDF.type, SCHEMA.ScholarlyArticle))
        g.add((p, DCTERMS.identifier, Literal(paper.record_id)))
        if paper.arxiv_id and paper.arxiv_id != paper.record_id:
            g.add((p, DCTERMS.identifier, Literal(f"arXiv:{paper.arxiv_id}")))
        if paper.title:
            g.add((p, DCTERMS.title, Literal(paper.title)))
        if paper.abstract:
            g.add((p, DCTERMS.abstract, Literal(paper.abstract)))
        for name in paper.authors:
            person = iris.person(name)
            g.add((p, DCTERMS.creator, person))
            g.add((person, RDF.type, FOAF.Person))
            g.add((person, FOAF.name, Literal(name)))
        if paper.date:
            g.add((p, DCTERMS.date, _date(paper.date)))
        if paper.url:
            url = URIRef(paper.url) if _safe_iri(paper.url) else Literal(paper.url)
            g.add((p, SCHEMA.url, url))
        for category in paper.categories:
            g.add((p, KG.arxivCategory, Literal(category)))
        g.add((p, KG.sourceRecord, Literal(str(paper.source))))
        if node in analysis.cluster_of:
            g.add((p, KG.cluster, iris.cluster(analysis.cluster_of[node])))

    for m in build.linked.mentions:
        p, c = iris.paper(m.paper_key), iris.concept(m.concept_key)
        g.add((p, DCTERMS.subject, c))
        mention = iris.mention(m.paper_key, m.concept_key)
        g.add((mention, RDF.type, KG.Mention))
        g.add((mention, KG.paper, p))
        g.add((mention, KG.concept, c))
        g.add((mention, KG.score, _double(m.score)))
        g.add((mention, KG.surfaceForm, Literal(m.surface)))
        if m.sentence:
            g.add((mention, KG.evidence, Literal(m.sentence)))
        g.add((mention, KG.start, Literal(m.start, datatype=XSD.integer)))
        g.add((mention, KG.end, Literal(m.end, datatype=XSD.integer)))
        g.add((mention, PROV.wasGeneratedBy, iris.activity))
    for triple in query_facts(build, iris):
        g.add(triple)
    _describe_dataset(g, iris, build.title)
    return g


# --- precomputed facts for the query library ----------------------------------------------------
# Facts a library query could compute from the rest of the graph, but only slowly on a big build:
# a concept's clusters reached needs a join over every pair of concepts of every paper, and
# finding a concept by a label in any case means lower-casing every label. Computed once here.


def query_facts(build: Build, iris: Iris) -> list[tuple[URIRef, URIRef, Literal]]:
    """The triples that the library queries rely on besides the build's own data."""
    return label_keys(build, iris) + bridging_facts(build, iris)


def label_keys(build: Build, iris: Iris) -> list[tuple[URIRef, URIRef, Literal]]:
    """``kg:labelKey``: each label of a concept (preferred, alternative, acronym) in lower case.

    Library queries that take a concept compare the parameter, lower-cased once, with these
    keys: one property to read instead of three, and no label lower-cased at query time.
    """
    nodes = build.graph.nodes
    triples = []
    for concept in build.linked.concepts:
        node = concept_node(concept.key)
        if node not in nodes or nodes[node]["kind"] != CONCEPT:
            continue
        c = iris.concept(concept.key)
        labels = (concept.pref_label, *concept.alt_labels, concept.acronym or "")
        for key in sorted({label.lower() for label in labels if label}):
            triples.append((c, KG.labelKey, Literal(key)))
    return triples


def bridging_facts(build: Build, iris: Iris) -> list[tuple[URIRef, URIRef, Literal]]:
    """``kg:clustersReached`` and ``kg:crossClusterLinks`` of every concept in a cluster.

    A concept reaches the clusters (other than its own) of the concepts it shares a paper with;
    its cross-cluster links are those concepts. ``ontology/queries/bridging-concepts.rq`` ranks
    concepts by them.
    """
    graph, cluster_of = build.graph, build.analysis.cluster_of
    triples = []
    for node, data in sorted(graph.nodes(data=True)):
        if data["kind"] != CONCEPT or node not in cluster_of:
            continue
        own = cluster_of[node]
        others = [
            nb
            for nb, edge in graph[node].items()
            if edge["kind"] == "cooccurs" and cluster_of.get(nb, own) != own
        ]
        c = iris.concept(node.split(":", 1)[1])
        reached = len({cluster_of[nb] for nb in others})
        triples.append((c, KG.clustersReached, Literal(reached, datatype=XSD.integer)))
        triples.append((c, KG.crossClusterLinks, Literal(len(others), datatype=XSD.integer)))
    return triples


def _describe_dataset(g: Graph, iris: Iris, title: str) -> None:
    """Add the VoID description, with statistics of the triples already in ``g``.

    The statistics count the data, not the description itself (which would count itself).
    """
    classes: Counter[Node] = Counter()
    properties: Counter[Node] = Counter()
    subjects: set[Node] = set()
    objects: set[Node] = set()
    for s, p, o in g:
        subjects.add(s)
        objects.add(o)
        properties[p] += 1
        if p == RDF.type:
            classes[o] += 1
    d = iris.dataset
    triples = len(g)
    g.add((d, RDF.type, VOID.Dataset))
    g.add((d, DCTERMS.title, Literal(title, lang="en")))
    g.add((d, VOID.vocabulary, URIRef(ONTOLOGY_IRI)))
    for ns in (SKOS, DCTERMS, SCHEMA, PROV, FOAF):
        g.add((d, VOID.vocabulary, URIRef(str(ns))))
    g.add((d, VOID.rootResource, iris.scheme))
    g.add((d, VOID.uriSpace, Literal(iris.base)))
    g.add((d, PROV.wasGeneratedBy, iris.activity))
    for prop, value in (
        (VOID.triples, triples),
        (VOID.entities, len(subjects)),
        (VOID.distinctSubjects, len(subjects)),
        (VOID.distinctObjects, len(objects)),
        (VOID.properties, len(properties)),
        (VOID.classes, len(classes)),
    ):
        g.add((d, prop, Literal(value, datatype=XSD.integer)))
    for cls, count in classes.items():
        part = iris.partition("class", g.namespace_manager.normalizeUri(str(cls)))
        g.add((d, VOID.classPartition, part))
        g.add((part, VOID["class"], cls))
        g.add((part, VOID.entities, Literal(count, datatype=XSD.integer)))
    for predicate, count in properties.items():
        part = iris.partition("property", g.namespace_manager.normalizeUri(str(predicate)))
        g.add((d, VOID.propertyPartition, part))
        g.add((part, VOID.property, predicate))
        g.add((part, VOID.triples, Literal(count, datatype=XSD.integer)))


_IRI_OK = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")


def _safe_iri(value: str) -> bool:
    return bool(_IRI_OK.match(value))


def write_turtle(build: Build, out: Path) -> list[Path]:
    g = to_rdf(build, base=build.base)
    path = out / "graph.ttl"
    g.serialize(destination=path, format="turtle", encoding="utf-8")
    nt = out / "graph.nt"
    lines = sorted(set(g.serialize(format="nt", encoding="utf-8").decode("utf-8").splitlines()))
    nt.write_text("\n".join(line for line in lines if line) + "\n", encoding="utf-8")
    return [path, nt]
