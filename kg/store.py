"""Stores: where SPARQL runs, behind one small seam.

``oxigraph`` (pyoxigraph, the default) loads and queries big graphs fast; ``rdflib`` is the pure
Python reference. Both answer with an rdflib ``Result``, so the output formats (and the bytes
they write) do not depend on the store. ``benchmarks/bench_sparql.py`` measures the two.

Parameters are bound as RDF terms, never pasted into the query text: rdflib's
``initBindings``, Oxigraph's ``substitutions`` (SPARQL-dev SEP-0007). Oxigraph binds a SELECT
query's variable only when the SELECT clause names it, so library queries select their
parameters.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.namespace import RDF, XSD
from rdflib.query import Result
from rdflib.term import Identifier

from kg.errors import InputError, QueryError

if TYPE_CHECKING:
    import pyoxigraph

DEFAULT_STORE = "oxigraph"
_GROUP_BY = re.compile(r"\bGROUP\s+BY\b", re.IGNORECASE)
SUFFIXES = {
    ".nt": "nt",
    ".ttl": "turtle",
    ".nq": "nquads",
    ".trig": "trig",
    ".rdf": "xml",
    ".xml": "xml",
    ".jsonld": "json-ld",
    ".n3": "n3",
}


class Store(Protocol):
    """A loaded graph that answers SPARQL queries."""

    name: str

    def __len__(self) -> int: ...

    def query(self, text: str, bindings: Mapping[str, Identifier] | None = None) -> Result:
        """Run a query and return its whole answer (a SELECT's rows are all read)."""
        ...


def graph_file(path: str | Path) -> Path:
    """The RDF file of a build: a file as given, or a build folder's ``graph.nt`` / ``graph.ttl``.

    >>> graph_file("outputs").name
    'graph.nt'
    """
    path = Path(path)
    if path.is_dir():
        for name in ("graph.nt", "graph.ttl"):
            if (path / name).exists():
                return path / name
        raise InputError(
            f"{path}: no graph.nt or graph.ttl in this folder (build one with `kg build`)"
        )
    if not path.exists():
        raise InputError(f"{path}: no such graph file (build one with `kg build`)")
    if path.suffix.lower() not in SUFFIXES:
        raise InputError(f"{path}: unknown RDF file type; use one of {', '.join(SUFFIXES)}")
    return path


def open_store(path: str | Path, *, store: str = DEFAULT_STORE) -> Store:
    """Load a build's graph into a store (``oxigraph`` or ``rdflib``).

    >>> s = open_store("outputs", store="oxigraph")
    >>> s.query("ASK { ?c a <http://www.w3.org/2004/02/skos/core#Concept> }").askAnswer
    True
    """
    try:
        loader = STORES[store]
    except KeyError:
        raise QueryError(f"unknown store {store!r}; choose one of {', '.join(STORES)}") from None
    return loader(graph_file(path))


# --- rdflib -----------------------------------------------------------------------------------


class RdflibStore:
    name = "rdflib"

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    @classmethod
    def load(cls, path: Path) -> RdflibStore:
        g = Graph()
        try:
            g.parse(path, format=SUFFIXES[path.suffix.lower()])
        except Exception as exc:  # rdflib raises parser-specific types
            raise InputError(f"{path}: not a readable RDF file ({exc})") from exc
        return cls(g)

    def __len__(self) -> int:
        return len(self.graph)

    def query(self, text: str, bindings: Mapping[str, Identifier] | None = None) -> Result:
        try:
            result = self.graph.query(text, initBindings=dict(bindings or {}))
            if result.type == "SELECT":  # evaluate now, inside the try; columns in SELECT order
                names = list(result.vars or [])
                rows: list[Mapping[Variable, Identifier]] = [
                    {v: row[v] for v in names if row.get(v) is not None} for row in result.bindings
                ]
                if bindings and _GROUP_BY.search(text):
                    # rdflib answers a grouped query that matched nothing with one row of
                    # just the bound parameters; SPARQL (and Oxigraph) answer no rows.
                    given = {Variable(name) for name in bindings}
                    rows = [row for row in rows if not set(row) <= given]
                result.bindings = rows
        except Exception as exc:  # pyparsing and rdflib evaluation errors
            raise QueryError(f"SPARQL error: {exc}") from exc
        return result


# --- Oxigraph ---------------------------------------------------------------------------------


class OxigraphStore:
    name = "oxigraph"

    def __init__(self, store: pyoxigraph.Store) -> None:
        self.store = store

    @classmethod
    def load(cls, path: Path) -> OxigraphStore:
        import pyoxigraph as ox

        store = ox.Store()
        try:
            store.bulk_load(path=str(path), format=ox.RdfFormat.from_extension(path.suffix[1:]))
        except (SyntaxError, ValueError, OSError) as exc:
            raise InputError(f"{path}: not a readable RDF file ({exc})") from exc
        return cls(store)

    @classmethod
    def open_read_only(cls, directory: str | os.PathLike[str]) -> OxigraphStore:
        """An on-disk store made by ``persist``, opened read-only (several processes may)."""
        import pyoxigraph as ox

        return cls(ox.Store.read_only(str(directory)))

    @staticmethod
    def persist(path: Path, directory: str | os.PathLike[str]) -> int:
        """Bulk-load a graph file into an on-disk store; returns its number of triples."""
        import pyoxigraph as ox

        store = ox.Store(str(directory))
        try:
            store.bulk_load(path=str(path), format=ox.RdfFormat.from_extension(path.suffix[1:]))
        except (SyntaxError, ValueError) as exc:
            raise InputError(f"{path}: not a readable RDF file ({exc})") from exc
        store.flush()
        return len(store)

    def __len__(self) -> int:
        return len(self.store)

    def query(self, text: str, bindings: Mapping[str, Identifier] | None = None) -> Result:
        import pyoxigraph as ox

        subs = {ox.Variable(name): _to_ox(term) for name, term in (bindings or {}).items()}
        try:
            answer = self.store.query(text, substitutions=subs or None)
            return _to_result(answer)
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from exc
        except RuntimeError as exc:
            if "SELECT projection" in str(exc):
                raise QueryError(
                    f"{exc}: with the oxigraph store, a parameter of a SELECT query must be "
                    "named in its SELECT clause (or use --store rdflib)"
                ) from exc
            raise QueryError(f"SPARQL error: {exc}") from exc
        except OSError as exc:
            raise QueryError(f"SPARQL error: {exc}") from exc


def _to_ox(term: Identifier) -> Any:
    import pyoxigraph as ox

    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise QueryError(f"cannot bind {term!r}: not an IRI, blank node or literal")


def _to_rdflib(term: Any) -> Identifier | None:
    import pyoxigraph as ox

    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype in (str(XSD.string), str(RDF.langString)):
            return Literal(term.value)  # rdflib reads plain strings without a datatype
        return Literal(term.value, datatype=URIRef(datatype))
    raise QueryError(f"cannot convert {term!r} (RDF-star triples are not supported)")


def _to_result(answer: Any) -> Result:
    import pyoxigraph as ox

    # an answer repeats its terms (a CONSTRUCT's predicates, a SELECT's clusters): convert each once
    converted: dict[Any, Identifier | None] = {}

    def convert(term: Any) -> Identifier | None:
        if term is None:
            return None
        try:
            return converted[term]
        except KeyError:
            value = converted[term] = _to_rdflib(term)
            return value

    if isinstance(answer, ox.QueryBoolean):
        result = Result("ASK")
        result.askAnswer = bool(answer)
        return result
    if isinstance(answer, ox.QuerySolutions):
        result = Result("SELECT")
        names = [v.value for v in answer.variables]
        result.vars = [Variable(n) for n in names]
        rows: list[Mapping[Variable, Identifier]] = []
        variables = [Variable(n) for n in names]
        for solution in answer:
            row: dict[Variable, Identifier] = {}
            for name, variable in zip(names, variables, strict=True):
                value = convert(solution[name])
                if value is not None:
                    row[variable] = value
            rows.append(row)
        result.bindings = rows
        return result
    result = Result("CONSTRUCT")
    g = Graph()
    for t in answer:
        g.add((convert(t.subject), convert(t.predicate), convert(t.object)))  # type: ignore[arg-type]
    result.graph = g
    return result


STORES: dict[str, Callable[[Path], Store]] = {
    "oxigraph": OxigraphStore.load,
    "rdflib": RdflibStore.load,
}
