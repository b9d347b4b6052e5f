"""RDF: papers (schema.org + Dublin Core terms), SKOS concepts, reified mentions (PROV-O).

No blank nodes: every resource has an IRI under the build's base, so outputs are byte-stable.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS, XSD

from kg.errors import OutputError
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
        return URIRef(self.text("paper", key))

    def concept(self, key: str) -> URIRef:
        return URIRef(self.text("concept", key))

    def mention(self, paper_key: str, concept_key: str) -> URIRef:
        return URIRef(self.text("mention", paper_key, concept_key))

    def text(self, kind: str, *keys: str) -> str:
        """The IRI of a paper, concept or mention as a plain string (what the exporters
        stream: an rdflib ``URIRef`` checks every character again)."""
        return f"{self.base}{kind}/{'/'.join(map(_slug, keys))}"

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


PREFIXES = {
    "kg": ONTOLOGY_IRI + "#",
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "schema": str(SCHEMA),
    "prov": str(PROV),
    "foaf": str(FOAF),
    "void": str(VOID),
    "xsd": str(XSD),
    "owl": str(OWL),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
}


def _iri(iri: str) -> str:
    """An IRI in its N-Triples form."""
    return f"<{iri}>"


_ESCAPES = str.maketrans(
    {
        **{chr(c): f"\\u{c:04X}" for c in (*range(0x20), 0x7F, 0xFFFE, 0xFFFF)},
        "\b": "\\b",
        "\t": "\\t",
        "\n": "\\n",
        "\f": "\\f",
        "\r": "\\r",
        '"': '\\"',
        "\\": "\\\\",
    }
)
_TO_ESCAPE = re.compile(r'[\x00-\x1f"\\\x7f\ufffe\uffff]')


def _external(iri: str) -> str:
    """An IRI from outside the build (a vocabulary's, a paper's URL), checked by pyoxigraph."""
    from pyoxigraph import NamedNode

    return f"<{NamedNode(iri).value}>"


def _quoted(text: str) -> str:
    """A literal's lexical form in N-Triples quotes, escaped as pyoxigraph (and the N-Triples
    canonical form) escape it."""
    if _TO_ESCAPE.search(text):
        text = text.translate(_ESCAPES)
    return f'"{text}"'


CONCEPTS_PER_PART = 50_000
PAPERS_PER_PART = 5_000
"""``graph.nt`` and ``graph.ttl`` are written in parts of this many concepts or papers (each
part is turned into Turtle in a process of its own), then joined; the parts depend on the build
only, never on the machine."""


def triples(build: Build, *, base: str = DEFAULT_BASE) -> Iterator[Any]:
    """Every triple of the build as a ``pyoxigraph.Triple``, each subject's triples together
    and in a fixed order, the VoID description (with statistics of the data) last: what
    pyoxigraph reads of the N-Triples that ``write_turtle`` writes."""
    from pyoxigraph import RdfFormat, parse

    stats = _Statistics()
    for part in _parts(build, base):
        lines = b"".join(_blocks(stats.counted(part())))
        yield from (quad.triple for quad in parse(lines, format=RdfFormat.N_TRIPLES))
    lines = b"".join(_blocks(_void(stats, Iris(base), build.title)))
    yield from (quad.triple for quad in parse(lines, format=RdfFormat.N_TRIPLES))


Part = Callable[[], Iterator[tuple[str, str, str]]]
"""A part of the data: a generator function of triples, each term in its N-Triples form."""


def _parts(build: Build, base: str) -> list[Part]:
    """The data triples in consecutive parts (each a generator function): the scheme and the
    clusters with the first concepts, then concepts, then papers, a fixed number a part. A
    subject's triples never straddle two parts.

    Each term comes in its N-Triples form (``<iri>``, ``"text"@en``): a triple is then one line
    of text, made without a term object per value (10M triples on the 45k corpus)."""
    iris = Iris(base)
    _external(iris.base)  # a base that is no IRI fails here, before anything is written
    a = _iri(str(RDF.type))
    xsd_integer, xsd_double = _iri(str(XSD.integer)), _iri(str(XSD.double))

    def en(text: str) -> str:
        return f"{_quoted(text)}@en"

    integers: dict[int, str] = {}  # counts and offsets repeat: one literal for each value

    def integer(value: int) -> str:
        found = integers.get(value)
        if found is None:
            found = integers[value] = f'"{int(value)}"^^{xsd_integer}'
        return found

    def double(value: float) -> str:
        return f'"{round(float(value), 6)}"^^{xsd_double}'

    def date(value: str) -> str:
        datatype = {4: XSD.gYear, 7: XSD.gYearMonth}.get(len(value), XSD.date)
        return f"{_quoted(value)}^^{_iri(str(datatype))}"

    p = {name: _iri(str(iri)) for name, iri in _PREDICATES.items()}
    analysis = build.analysis
    nodes = build.graph.nodes
    scheme, activity = _iri(str(iris.scheme)), _iri(str(iris.activity))
    concept_class, paper_class = _iri(str(SKOS.Concept)), _iri(str(SCHEMA.ScholarlyArticle))
    person_class, mention_class = _iri(str(FOAF.Person)), _iri(str(KG.Mention))
    cluster_term = {cid: _iri(str(iris.cluster(cid))) for cid in analysis.cluster_labels}
    concept_iri: dict[str, str] = {}

    def concept_term(key: str) -> str:
        found = concept_iri.get(key)
        if found is None:
            found = concept_iri[key] = f"<{iris.text('concept', key)}>"
        return found

    def head() -> Iterator[tuple[str, str, str]]:
        yield scheme, a, _iri(str(SKOS.ConceptScheme))
        yield scheme, p["title"], en(build.title)
        yield scheme, p["generated"], activity
        yield activity, a, _iri(str(PROV.Activity))
        yield activity, p["label"], _quoted(f"kg build ({build.config.describe()})")

        sizes: Counter[int] = Counter(
            k for n, k in analysis.cluster_of.items() if n.startswith("concept:")
        )
        for cid, label in sorted(analysis.cluster_labels.items()):
            c = cluster_term[cid]
            yield c, a, _iri(str(KG.Cluster))
            yield c, p["label"], en(label)
            yield c, p["clusterNumber"], integer(cid)
            yield c, p["clusterSize"], integer(sizes[cid])

    papers_of: Counter[str] = Counter(m.concept_key for m in build.linked.mentions)

    def concepts(chunk: Sequence[Any]) -> Iterator[tuple[str, str, str]]:
        for concept in chunk:
            node = concept_node(concept.key)
            if node not in nodes or nodes[node]["kind"] != CONCEPT:
                continue
            c = concept_term(concept.key)
            yield c, a, concept_class
            yield c, p["inScheme"], scheme
            yield c, p["prefLabel"], en(concept.pref_label)
            for alt in concept.alt_labels:
                yield c, p["altLabel"], en(alt)
            if concept.acronym:
                yield c, p["acronym"], en(concept.acronym)
            for broader in concept.broader:
                yield c, p["broader"], concept_term(broader)
            for iri in concept.exact_match:
                yield c, p["exactMatch"], _external(iri)
            for iri in concept.close_match:
                yield c, p["closeMatch"], _external(iri)
            yield c, p["paperCount"], integer(papers_of[concept.key])
            yield c, p["degree"], integer(analysis.degree.get(node, 0))
            yield c, p["pagerank"], double(analysis.pagerank.get(node, 0.0))
            yield c, p["betweenness"], double(analysis.betweenness.get(node, 0.0))
            if node in analysis.cluster_of:
                yield c, p["cluster"], cluster_term[analysis.cluster_of[node]]
            yield from _query_facts(c, concept, node, build, p, integer)

    mentions_of: dict[str, list[Any]] = defaultdict(list)
    for m in build.linked.mentions:
        mentions_of[m.paper_key].append(m)
    # a person is described where first named (which part that is does not matter)
    person_iri: dict[str, str] = {}  # name as written -> IRI
    first_named: dict[str, tuple[int, int]] = {}
    for index, paper in enumerate(build.papers):
        for at, name in enumerate(paper.authors):
            if name not in person_iri:
                person_iri[name] = f"<{iris.person(name)}>"
            first_named.setdefault(person_iri[name], (index, at))

    def papers(start: int, stop: int) -> Iterator[tuple[str, str, str]]:
        for index in range(start, stop):
            paper = build.papers[index]
            node = paper_node(paper.key)
            if node not in nodes or nodes[node]["kind"] != PAPER:
                continue
            s = f"<{iris.text('paper', paper.key)}>"
            yield s, a, paper_class
            yield s, p["identifier"], _quoted(paper.record_id)
            # every arXiv paper also has arXiv:ID, however its input spelled the id (the form
            # the library queries document)
            if paper.arxiv_id and f"arXiv:{paper.arxiv_id}" != paper.record_id:
                yield s, p["identifier"], _quoted(f"arXiv:{paper.arxiv_id}")
            if paper.title:
                yield s, p["title"], _quoted(paper.title)
            if paper.abstract:
                yield s, p["abstract"], _quoted(paper.abstract)
            authors = [person_iri[name] for name in paper.authors]
            for person in dict.fromkeys(authors):
                yield s, p["creator"], person
            if paper.date:
                yield s, p["date"], date(paper.date)
            if paper.url:
                yield (
                    s,
                    p["url"],
                    _external(paper.url) if _safe_iri(paper.url) else _quoted(paper.url),
                )
            for category in paper.categories:
                yield s, p["arxivCategory"], _quoted(category)
            yield s, p["sourceRecord"], _quoted(paper.source.record)
            if node in analysis.cluster_of:
                yield s, p["cluster"], cluster_term[analysis.cluster_of[node]]
            mentions = mentions_of.get(paper.key, ())
            for m in mentions:
                yield s, p["subject"], concept_term(m.concept_key)
            for at, (name, person) in enumerate(zip(paper.authors, authors, strict=True)):
                if first_named[person] == (index, at):
                    yield person, a, person_class
                    yield person, p["name"], _quoted(name)
            for m in mentions:
                mention = f"<{iris.text('mention', m.paper_key, m.concept_key)}>"
                yield mention, a, mention_class
                yield mention, p["paper"], s
                yield mention, p["concept"], concept_term(m.concept_key)
                yield mention, p["score"], double(m.score)
                yield mention, p["surfaceForm"], _quoted(m.surface)
                if m.sentence:
                    yield mention, p["evidence"], _quoted(m.sentence)
                yield mention, p["start"], integer(m.start)
                yield mention, p["end"], integer(m.end)
                yield mention, p["generated"], activity

    def first_concepts(chunk: Sequence[Any]) -> Iterator[tuple[str, str, str]]:
        yield from head()
        yield from concepts(chunk)

    everything = build.linked.concepts
    step = CONCEPTS_PER_PART
    parts: list[Part] = [partial(first_concepts, everything[:step])]
    parts += [
        partial(concepts, everything[at : at + step]) for at in range(step, len(everything), step)
    ]
    n = len(build.papers)
    for at in range(0, n, PAPERS_PER_PART):
        parts.append(partial(papers, at, min(n, at + PAPERS_PER_PART)))
    return parts


def _query_facts(
    c: str, concept: Any, node: str, build: Build, p: dict[str, str], integer: Callable[[int], str]
) -> Iterator[tuple[str, str, str]]:
    """Facts a library query could compute from the rest of the graph, but only slowly on a big
    build, written with each concept:

    * ``kg:labelKey``: each label (preferred, alternative, acronym) in lower case, so that a
      query finds a concept by any label in one look-up, lower-casing nothing at query time;
    * ``kg:clustersReached`` / ``kg:crossClusterLinks`` (concepts in a cluster): the other
      clusters of the concepts it shares a paper with, and those concepts
      (``ontology/queries/bridging-concepts.rq`` ranks concepts by them).
    """
    labels = (concept.pref_label, *concept.alt_labels, concept.acronym or "")
    for key in sorted({label.lower() for label in labels if label}):
        yield c, p["labelKey"], _quoted(key)
    cluster_of = build.analysis.cluster_of
    if node in cluster_of:
        own = cluster_of[node]
        others = [  # networkx's own adjacency dict: its read-only views cost more than the loop
            nb
            for nb, edge in build.graph._adj[node].items()
            if edge["kind"] == "cooccurs" and cluster_of.get(nb, own) != own
        ]
        yield c, p["clustersReached"], integer(len({cluster_of[nb] for nb in others}))
        yield c, p["crossClusterLinks"], integer(len(others))


_PREDICATES = {
    "title": DCTERMS.title,
    "generated": PROV.wasGeneratedBy,
    "label": RDFS.label,
    "clusterNumber": KG.clusterNumber,
    "clusterSize": KG.clusterSize,
    "inScheme": SKOS.inScheme,
    "prefLabel": SKOS.prefLabel,
    "altLabel": SKOS.altLabel,
    "acronym": KG.acronym,
    "broader": SKOS.broader,
    "exactMatch": SKOS.exactMatch,
    "closeMatch": SKOS.closeMatch,
    "paperCount": KG.paperCount,
    "degree": KG.degree,
    "pagerank": KG.pagerank,
    "betweenness": KG.betweenness,
    "cluster": KG.cluster,
    "labelKey": KG.labelKey,
    "clustersReached": KG.clustersReached,
    "crossClusterLinks": KG.crossClusterLinks,
    "identifier": DCTERMS.identifier,
    "abstract": DCTERMS.abstract,
    "creator": DCTERMS.creator,
    "name": FOAF.name,
    "date": DCTERMS.date,
    "url": SCHEMA.url,
    "arxivCategory": KG.arxivCategory,
    "sourceRecord": KG.sourceRecord,
    "subject": DCTERMS.subject,
    "paper": KG.paper,
    "concept": KG.concept,
    "score": KG.score,
    "surfaceForm": KG.surfaceForm,
    "evidence": KG.evidence,
    "start": KG.start,
    "end": KG.end,
}


class _Statistics:
    """What VoID says about the data: counted while the triples pass. Distinct subjects and
    objects are counted by 64-bit hashes of their N-Triples forms, kept in flat arrays (a set
    of terms would hold the whole graph in memory). Python salts its string hashes in each
    process: two terms of one hash (about one chance in six million for the 45k build's 2.5
    million distinct objects) would be counted as one in that run only. Each hash is kept once
    as the parts pass (``COMPACT_EVERY``): the 45k fast build's 12M objects are 2.5M terms."""

    COMPACT_EVERY = 1 << 21
    """Hashes appended to an array before it is sorted and each hash kept once, at the end of a
    part: an array holds its distinct terms, this many (16 MB) more and one part's."""

    def __init__(self) -> None:
        from array import array

        self.subjects = array("q")
        self.objects = array("q")
        self._compact_at = self.COMPACT_EVERY
        self._predicates: Counter[str] = Counter()  # N-Triples forms
        self._classes: Counter[str] = Counter()
        self._last_subject: str | None = None

    @property
    def triples(self) -> int:
        return sum(self._predicates.values())

    @property
    def properties(self) -> Counter[str]:
        return Counter({term[1:-1]: n for term, n in self._predicates.items()})

    @property
    def classes(self) -> Counter[str]:
        return Counter({term[1:-1]: n for term, n in self._classes.items()})

    def counted(self, triples: Iterator[tuple[str, str, str]]) -> Iterator[tuple[str, str, str]]:
        """The triples, counted as they pass."""
        predicates, classes = self._predicates, self._classes
        subject, obj = self.subjects.append, self.objects.append
        rdf_type = f"<{_RDF_TYPE}>"
        last = self._last_subject
        for triple in triples:
            s, p, o = triple
            predicates[p] += 1
            if p == rdf_type:
                classes[o] += 1
            if s != last:
                last = self._last_subject = s
                subject(hash(s))
            obj(hash(o))
            yield triple
        if len(self.objects) >= self._compact_at:  # a part's end: no append is bound to them
            self.subjects, self.objects = _unique(self.subjects), _unique(self.objects)
            self._compact_at = len(self.objects) + self.COMPACT_EVERY

    def distinct(self) -> tuple[int, int]:
        """Distinct subjects and distinct objects."""
        return len(_unique(self.subjects)), len(_unique(self.objects))


def _blocks(triples: Iterator[tuple[str, str, str]], lines: int = 4096) -> Iterator[bytes]:
    """The triples as N-Triples, in UTF-8 blocks of ``lines`` lines."""
    block = []
    for s, p, o in triples:
        block.append(f"{s} {p} {o} .\n")
        if len(block) == lines:
            yield "".join(block).encode()
            block.clear()
    if block:
        yield "".join(block).encode()


def _unique(hashes: Any) -> Any:
    """The 64-bit ``hashes`` (an ``array``), each once, in a new array; ``hashes`` is sorted
    in place (``numpy.unique`` would copy it first: hundreds of MB for a big build's objects)."""
    from array import array

    import numpy as np

    values = np.frombuffer(hashes, dtype=np.int64)
    values.sort()
    keep = np.empty(len(values), dtype=bool)
    keep[:1] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    unique = array("q")
    unique.frombytes(values[keep].tobytes())
    return unique


_RDF_TYPE = str(RDF.type)


def _curie(iri: str) -> str:
    for prefix, ns in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns) :]}"
    return iri


def _void(stats: _Statistics, iris: Iris, title: str) -> Iterator[tuple[str, str, str]]:
    """The VoID description of the dataset, with the statistics of its data triples (the
    description does not count itself)."""
    xsd_integer = _iri(str(XSD.integer))

    def integer(value: int) -> str:
        return f'"{value}"^^{xsd_integer}'

    d = _iri(str(iris.dataset))
    void = {name: _iri(str(VOID[name])) for name in ("vocabulary", "classPartition")}
    yield d, _iri(_RDF_TYPE), _iri(str(VOID.Dataset))
    yield d, _iri(str(DCTERMS.title)), f"{_quoted(title)}@en"
    for vocabulary in (ONTOLOGY_IRI, *(str(ns) for ns in (SKOS, DCTERMS, SCHEMA, PROV, FOAF))):
        yield d, void["vocabulary"], _iri(vocabulary)
    yield d, _iri(str(VOID.rootResource)), _iri(str(iris.scheme))
    yield d, _iri(str(VOID.uriSpace)), _quoted(iris.base)
    yield d, _iri(str(PROV.wasGeneratedBy)), _iri(str(iris.activity))
    subjects, objects = stats.distinct()
    for prop, value in (
        (VOID.triples, stats.triples),
        (VOID.entities, subjects),
        (VOID.distinctSubjects, subjects),
        (VOID.distinctObjects, objects),
        (VOID.properties, len(stats.properties)),
        (VOID.classes, len(stats.classes)),
    ):
        yield d, _iri(str(prop)), integer(value)
    for kind, counts, link, what, measure in (
        ("class", stats.classes, VOID.classPartition, VOID["class"], VOID.entities),
        ("property", stats.properties, VOID.propertyPartition, VOID.property, VOID.triples),
    ):
        for iri, count in sorted(counts.items()):
            part = _iri(str(iris.partition(kind, _curie(iri))))
            yield d, _iri(str(link)), part
            yield part, _iri(str(what)), _iri(iri)
            yield part, _iri(str(measure)), integer(count)


def to_rdf(build: Build, *, base: str = DEFAULT_BASE) -> Graph:
    """The build as an rdflib graph (what ``graph.nt`` holds), for small builds and tests."""
    from kg.store import _to_rdflib

    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns)
    g.bind("id", base)
    for t in triples(build, base=base):
        s, p, o = (_to_rdflib(term) for term in (t.subject, t.predicate, t.object))
        assert s is not None and p is not None and o is not None  # a triple has all three
        g.add((s, p, o))
    return g


_IRI_OK = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")


def _safe_iri(value: str) -> bool:
    return bool(_IRI_OK.match(value))


def write_turtle(build: Build, out: Path) -> list[Path]:
    """``graph.nt`` (N-Triples, for bulk loading) and ``graph.ttl`` (Turtle, for reading),
    streamed: the graph is never held in memory as a whole.

    The data is written part by part (``_parts``) into ``graph.nt`` here, one line a triple,
    while a small separate process has pyoxigraph read each finished part (a malformed line
    fails the export there) and write it as Turtle (on another core, without a copy of the
    build); the Turtle parts are then joined, with one set of prefixes at the top, and the VoID
    description last.

    The build's own resources are written as full IRIs: a prefixed name would need escapes
    (``concept:o\\.``) that rdflib's Turtle parser does not read."""
    from kg.parallel import cores

    folder = Path(tempfile.mkdtemp(prefix=".rdf-parts-", dir=out))
    running: list[tuple[subprocess.Popen[bytes], Path]] = []
    nt, ttl = out / "graph.nt", out / "graph.ttl"
    try:
        parts = _parts(build, build.base)
        stats = _Statistics()
        void = _void(stats, Iris(build.base), build.title)
        turtles = [folder / f"{i:05d}.ttl" for i in range(len(parts) + 1)]
        with open(nt, "wb") as sink:
            for i, turtle in enumerate(turtles):
                start = sink.tell()
                # the VoID description last: it counts what the parts wrote
                sink.writelines(_blocks(stats.counted(parts[i]()) if i < len(parts) else void))
                sink.flush()
                running.append(_to_turtle(nt, start, sink.tell(), turtle))
                while len(running) >= max(2, cores()):  # this process and the converters
                    _finish(running.pop(0))
        while running:
            _finish(running.pop(0))
        _join(turtles, ttl)
    finally:
        for proc, _ in running:
            proc.kill()
            proc.wait()
        shutil.rmtree(folder, ignore_errors=True)
    return [ttl, nt]


_TO_TURTLE = """
import io, json, sys
from pyoxigraph import RdfFormat, parse, serialize
source, start, end, target, prefixes = sys.argv[1:]

class Part(io.RawIOBase):  # bytes start-end of the file, streamed, not read into memory
    def __init__(self, f, n):
        self.f, self.left = f, n
    def readable(self):
        return True
    def readinto(self, b):
        n = self.f.readinto(memoryview(b)[: min(len(b), self.left)]) if self.left > 0 else 0
        self.left -= n
        return n

with open(source, "rb") as f:
    f.seek(int(start))
    part = io.BufferedReader(Part(f, int(end) - int(start)), 1 << 20)
    serialize(parse(part, format=RdfFormat.N_TRIPLES), target, RdfFormat.TURTLE,
              prefixes=json.loads(prefixes))
"""
"""The Turtle converter: it streams its part of ``graph.nt`` through pyoxigraph (23 MiB at
its peak on a 110 MB part of the 45k fast build's file, against 127 MiB with the part read into
memory first, and no slower: 1.01 against 1.03 s)."""


def _to_turtle(nt: Path, start: int, end: int, ttl: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """Start turning bytes ``start``-``end`` of ``nt`` (one part) into ``ttl`` in a separate
    process."""
    args = [sys.executable, "-c", _TO_TURTLE, str(nt), str(start), str(end), str(ttl)]
    return subprocess.Popen([*args, json.dumps(PREFIXES)], stderr=subprocess.PIPE), ttl


def _finish(job: tuple[subprocess.Popen[bytes], Path]) -> None:
    proc, ttl = job
    _, err = proc.communicate()
    if proc.returncode:
        raise OutputError(
            f"{ttl.name}: writing Turtle failed ({err.decode(errors='replace').strip()[-500:]})"
        )


def _join(parts: list[Path], target: Path) -> None:
    """Concatenate Turtle files, leaving out the ``@prefix`` lines that open every part but the
    first (Turtle declares them once). The bytes are copied by the kernel where it can
    (``os.copy_file_range``)."""
    with open(target, "wb") as sink:
        for i, path in enumerate(parts):
            with open(path, "rb") as source:
                start = 0
                if i:
                    line = source.readline()
                    while line.startswith(b"@prefix "):
                        start += len(line)
                        line = source.readline()
                _copy(source, sink, start, path.stat().st_size - start)


def _copy(source: BinaryIO, sink: BinaryIO, offset: int, count: int) -> None:
    """``count`` bytes of ``source`` from ``offset`` appended to ``sink``."""
    sink.flush()
    copy_range = getattr(os, "copy_file_range", None)
    while count > 0 and copy_range is not None:
        try:
            done = copy_range(source.fileno(), sink.fileno(), count, offset)
        except OSError:  # not between these files (another file system, an old kernel)
            break
        if not done:
            break
        offset, count = offset + done, count - done
    if count > 0:
        source.seek(offset)
        while count > 0:
            chunk = source.read(min(count, 1 << 20))
            if not chunk:
                break
            sink.write(chunk)
            count -= len(chunk)
