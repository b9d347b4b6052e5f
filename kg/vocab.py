"""The project's RDF terms as code: a typo in a term name fails at import, not in a query.

``KG`` mirrors ``ontology/kg.ttl`` (a test checks that the two agree).
"""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DefinedNamespace

ONTOLOGY_IRI = "https://w3id.org/kg-papers/ontology"
DEFAULT_BASE = "https://w3id.org/kg-papers/id/"

SCHEMA = Namespace("https://schema.org/")
FABIO = Namespace("http://purl.org/spar/fabio/")
VOID = Namespace("http://rdfs.org/ns/void#")


class KG(DefinedNamespace):
    _NS = Namespace(ONTOLOGY_IRI + "#")
    _fail = True

    Cluster: URIRef
    Mention: URIRef
    cluster: URIRef
    clusterNumber: URIRef
    clusterSize: URIRef
    paperCount: URIRef
    degree: URIRef
    pagerank: URIRef
    betweenness: URIRef
    clustersReached: URIRef
    crossClusterLinks: URIRef
    acronym: URIRef
    labelKey: URIRef
    paper: URIRef
    concept: URIRef
    score: URIRef
    surfaceForm: URIRef
    evidence: URIRef
    start: URIRef
    end: URIRef
    arxivCategory: URIRef
    sourceRecord: URIRef
