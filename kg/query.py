"""Query: SPARQL over a build's RDF, from text, a ``.rq`` file, or a named library query.

Parameters are bound as RDF terms through rdflib's ``initBindings``: a value is never pasted
into the query text, so it cannot change what the query does.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.query import Result

from kg.errors import InputError, QueryError

FORMATS = ("table", "csv", "json", "turtle")
LIBRARY = Path(__file__).resolve().parent.parent / "ontology" / "queries"


def load_graph(path: str | Path) -> Graph:
    """Parse a build's ``graph.ttl`` (or ``.nt``, ``.jsonld``; a build folder works too)."""
    path = Path(path)
    if path.is_dir():
        path = path / "graph.ttl"
    if not path.exists():
        raise InputError(f"{path}: no such graph file (build one with `kg build`)")
    g = Graph()
    try:
        g.parse(path)
    except Exception as exc:  # rdflib raises many parser-specific types
        raise InputError(f"{path}: not a readable RDF file ({exc})") from exc
    return g


def library_queries() -> dict[str, Path]:
    return {p.stem: p for p in sorted(LIBRARY.glob("*.rq"))}


def query_text(query: str) -> str:
    """SPARQL text from a library name, a ``.rq`` path, or the text itself."""
    named = library_queries()
    if query in named:
        return named[query].read_text(encoding="utf-8")
    if query.endswith(".rq"):
        path = Path(query)
        if not path.exists():
            raise QueryError(f"{query}: no such query file")
        return path.read_text(encoding="utf-8")
    if not any(word in query.upper() for word in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")):
        names = ", ".join(named) or "none"
        raise QueryError(f"{query!r} is neither SPARQL nor a library query (library: {names})")
    return query


def parse_param(value: str) -> URIRef | Literal:
    """``<iri>`` binds an IRI; anything else binds a plain literal (numbers typed)."""
    if value.startswith("<") and value.endswith(">"):
        return URIRef(value[1:-1])
    for cast in (int, float):
        try:
            return Literal(cast(value))
        except ValueError:
            pass
    return Literal(value)


def run_query(graph: Graph, query: str, params: Mapping[str, str] | None = None) -> Result:
    text = query_text(query)
    bindings = {name: parse_param(value) for name, value in (params or {}).items()}
    try:
        return graph.query(text, initBindings=bindings)
    except Exception as exc:  # pyparsing and rdflib evaluation errors
        raise QueryError(f"SPARQL error: {exc}") from exc


def format_result(result: Result, fmt: str = "table") -> str:
    if fmt not in FORMATS:
        raise QueryError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if result.type == "CONSTRUCT" or result.type == "DESCRIBE":
        assert result.graph is not None
        return result.graph.serialize(format="turtle")
    if result.type == "ASK":
        if fmt == "json":
            return json.dumps({"head": {}, "boolean": bool(result.askAnswer)})
        return "true" if result.askAnswer else "false"
    if fmt == "json":
        return result.serialize(format="json").decode("utf-8")
    if fmt == "csv":
        return result.serialize(format="csv").decode("utf-8")
    names = [str(v) for v in result.vars or []]
    rows = [["" if v is None else str(v) for v in row] for row in result]
    widths = [max([len(n)] + [min(len(r[i]), 80) for r in rows]) for i, n in enumerate(names)]
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t") if not widths else None
    if writer:
        return ""
    line = "  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True))
    out.write(line + "\n" + "  ".join("-" * w for w in widths) + "\n")
    for r in rows:
        out.write("  ".join(c[:80].ljust(w) for c, w in zip(r, widths, strict=True)) + "\n")
    out.write(f"({len(rows)} rows)\n")
    return out.getvalue()
