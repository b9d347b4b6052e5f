"""Query: SPARQL over a build's RDF, from text, a ``.rq`` file, or a named library query.

The library is ``ontology/queries/*.rq``. Each file starts with comments: the first line says
what the query answers, ``# param NAME: ...`` lines name its parameters. Parameters are bound
as RDF terms (see ``kg.store``): a value is never pasted into the query text, so it cannot
change what the query does.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, Literal, URIRef, Variable
from rdflib.namespace import XSD
from rdflib.query import Result
from rdflib.term import Identifier

from kg.errors import QueryError
from kg.store import DEFAULT_STORE, RdflibStore, Store, graph_file, open_store

FORMATS = ("table", "csv", "json", "xml", "turtle", "nt")
LIBRARY = Path(__file__).resolve().parent.parent / "ontology" / "queries"
PREFIXES = {
    "kg": "https://w3id.org/kg-papers/ontology#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "schema": "https://schema.org/",
    "prov": "http://www.w3.org/ns/prov#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "void": "http://rdfs.org/ns/void#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
_PARAM = re.compile(r"^#\s*param\s+(\w+)\s*:\s*(.*)$")


@dataclass(frozen=True)
class LibraryQuery:
    """A named query of ``ontology/queries``: its text, what it answers, its parameters."""

    name: str
    text: str
    summary: str
    params: Mapping[str, str]  # name -> description


def _read_library_query(path: Path) -> LibraryQuery:
    text = path.read_text(encoding="utf-8")
    comments = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        comments.append(line)
    if not comments:
        raise QueryError(f"{path}: a library query starts with a comment saying what it answers")
    params = {m.group(1): m.group(2) for m in map(_PARAM.match, comments) if m}
    return LibraryQuery(path.stem, text, comments[0].lstrip("# ").strip(), params)


def library() -> dict[str, LibraryQuery]:
    """The named queries, by name.

    >>> sorted(library()["papers-about-concept"].params)
    ['concept']
    """
    return {p.stem: _read_library_query(p) for p in sorted(LIBRARY.glob("*.rq"))}


def library_queries() -> dict[str, Path]:
    return {p.stem: p for p in sorted(LIBRARY.glob("*.rq"))}


def resolve_query(query: str) -> tuple[str, LibraryQuery | None]:
    """SPARQL text from a library name, a ``.rq`` path, or the text itself."""
    named = library()
    if query in named:
        return named[query].text, named[query]
    if query.endswith(".rq"):
        path = Path(query)
        if not path.exists():
            raise QueryError(f"{query}: no such query file")
        return path.read_text(encoding="utf-8"), None
    if not re.search(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", query, re.IGNORECASE):
        names = ", ".join(named) or "none"
        raise QueryError(f"{query!r} is neither SPARQL nor a library query (library: {names})")
    return query, None


def query_text(query: str) -> str:
    return resolve_query(query)[0]


_INTEGER = re.compile(r"^-?(?:0|[1-9][0-9]*)$")
_DECIMAL = re.compile(r"^-?(?:0|[1-9][0-9]*)\.[0-9]*[1-9]$")


def parse_param(value: str) -> URIRef | Literal:
    """``<iri>`` binds an IRI; an integer or a decimal binds a typed literal; anything else a
    string.

    A number is typed only when it is written the way every store writes it back (no leading
    or trailing zeros), so that ``STR()`` of the parameter is the text as given: an arXiv id
    such as ``2503.21800`` stays a string and still matches the paper's identifier.

    >>> parse_param("<https://example.org/x>")
    rdflib.term.URIRef('https://example.org/x')
    >>> parse_param("3").datatype, parse_param("GAN").datatype
    (rdflib.term.URIRef('http://www.w3.org/2001/XMLSchema#integer'), None)
    >>> parse_param("0.25").datatype, parse_param("2503.21800").datatype
    (rdflib.term.URIRef('http://www.w3.org/2001/XMLSchema#decimal'), None)
    """
    if value.startswith("<") and value.endswith(">"):
        return URIRef(value[1:-1])
    if _INTEGER.match(value):
        return Literal(value, datatype=XSD.integer)
    if _DECIMAL.match(value):
        return Literal(value, datatype=XSD.decimal)
    return Literal(value)


def bind_params(
    text: str, params: Mapping[str, str], named: LibraryQuery | None = None
) -> dict[str, Identifier]:
    """Check the parameters against the query and turn them into RDF terms."""
    for name in params:
        if not re.search(rf"[?$]{re.escape(name)}\b", text):
            raise QueryError(f"--param {name}: the query has no variable ?{name}")
    if named is not None:
        missing = [n for n in named.params if n not in params]
        if missing:
            needs = "; ".join(f"--param {n}=... ({named.params[n]})" for n in missing)
            raise QueryError(f"library query {named.name} needs {needs}")
    return {name: parse_param(value) for name, value in params.items()}


def run_query(store: Store | Graph, query: str, params: Mapping[str, str] | None = None) -> Result:
    """Run SPARQL text, a ``.rq`` file or a library query on a store (or an rdflib graph).

    >>> from kg.store import open_store
    >>> r = run_query(open_store("outputs"), "papers-about-concept", {"concept": "GFlowNet"})
    >>> len(r) > 0
    True
    """
    if isinstance(store, Graph):
        store = RdflibStore(store)
    text, named = resolve_query(query)
    return store.query(text, bind_params(text, params or {}, named))


def load_graph(path: str | Path) -> Graph:
    """Parse a build's graph into rdflib (``graph.nt`` or ``graph.ttl``; a folder works too)."""
    store = open_store(graph_file(path), store="rdflib")
    assert isinstance(store, RdflibStore)
    return store.graph


def _shorten(term: Identifier | None, prefixes: Mapping[str, str]) -> str:
    if term is None:
        return ""
    if isinstance(term, URIRef):
        for prefix, ns in prefixes.items():
            if term.startswith(ns) and len(term) > len(ns):
                return f"{prefix}:{term[len(ns) :]}"
        return f"<{term}>"
    return str(term)


def format_result(result: Result, fmt: str = "table", *, base: str | None = None) -> str:
    """Render a result: ``table`` (IRIs shortened, ``id:`` for ``base``), ``csv``, ``json`` and
    ``xml`` (SPARQL 1.1 results formats), ``turtle`` or ``nt`` (CONSTRUCT and DESCRIBE)."""
    if fmt not in FORMATS:
        raise QueryError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        assert result.graph is not None
        if fmt in ("csv", "json", "xml"):
            raise QueryError(f"a {result.type} query returns RDF: use --format turtle or nt")
        g = result.graph
        for prefix, ns in PREFIXES.items():
            g.bind(prefix, ns)
        if base:
            g.bind("id", base)
        if fmt == "nt":
            lines = sorted(set(g.serialize(format="nt").splitlines()) - {""})
            return "".join(line + "\n" for line in lines)
        return g.serialize(format="turtle")
    if fmt in ("turtle", "nt"):
        raise QueryError(
            f"a {result.type} query returns a table: use --format table, csv, json or xml"
        )
    if result.type == "ASK":
        if fmt == "json":
            return json.dumps({"head": {}, "boolean": bool(result.askAnswer)}) + "\n"
        if fmt == "xml":
            return _serialize(result, "xml") + "\n"
        return ("true" if result.askAnswer else "false") + "\n"
    if fmt == "json":
        return _serialize(result, "json") + "\n"
    if fmt == "xml":
        return _serialize(result, "xml") + "\n"
    if fmt == "csv":
        return _serialize(result, "csv")
    return _table(result, {**({"id": base} if base else {}), **PREFIXES})


def _serialize(result: Result, fmt: str) -> str:
    data = result.serialize(format=fmt)
    assert data is not None  # rdflib returns None only when given a destination
    return data.decode("utf-8")


def _table(result: Result, prefixes: Mapping[str, str], width: int = 60) -> str:
    names = [str(v) for v in result.vars or []]
    rows = [[_shorten(row.get(v), prefixes) for v in result.vars or []] for row in result.bindings]
    cut = [[c if len(c) <= width else c[: width - 1] + "…" for c in r] for r in rows]
    widths = [max([len(n)] + [len(r[i]) for r in cut]) for i, n in enumerate(names)]
    out = io.StringIO()
    out.write("  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for r in cut:
        out.write("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() + "\n")
    out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")
    return out.getvalue()


def base_of(store: Store) -> str | None:
    """The IRI space of a build's resources (its ``void:uriSpace``), for shorter tables."""
    r = store.query(
        "SELECT ?base WHERE { ?d a <http://rdfs.org/ns/void#Dataset> ; "
        "<http://rdfs.org/ns/void#uriSpace> ?base } ORDER BY ?base LIMIT 1"
    )
    rows = list(r.bindings)
    return str(rows[0][Variable("base")]) if rows else None


__all__ = [
    "DEFAULT_STORE",
    "FORMATS",
    "LIBRARY",
    "LibraryQuery",
    "base_of",
    "bind_params",
    "format_result",
    "library",
    "load_graph",
    "parse_param",
    "run_query",
]
