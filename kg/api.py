"""A build folder, loaded for a notebook: tables, the networkx graph, SPARQL and the HTML view.

``kg.load(folder)`` reads what ``kg build`` wrote. Nothing is parsed until it is asked for, and
each part is parsed once: the tables from their CSV files, the graph rebuilt from the tables
(faster and more faithful than GraphML: same node names and edge weights as the build's own
graph), the RDF from ``graph.nt`` (same triples as ``graph.ttl``, parsed faster).

>>> import kg
>>> g = kg.load("outputs")
>>> int(g.concepts["papers"].max()) >= 1
True
>>> sorted(g.clusters["cluster"]) == list(range(len(g.clusters)))
True
"""

from __future__ import annotations

import json
from collections import defaultdict
from functools import cached_property
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.errors import InputError, QueryError

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd
    from rdflib import Graph as RDFGraph

TABLES = ("concepts", "papers", "mentions", "clusters", "merges")
ANALYTICS = ("trends", "emerging", "thematic", "stability", "bridges", "gaps")

TEXT_COLUMNS: dict[str, frozenset[str]] = {
    name: frozenset(columns.split())
    for name, columns in {
        "concepts": "concept key cluster_label acronym alt_labels broader",
        "papers": "key id title authors date url categories concepts source",
        "mentions": "paper concept concept_key surface sentence",
        "clusters": "label",
        "merges": "concept pref_label merged reason",
        "trends": "period concept concept_key",
        "emerging": "concept concept_key first_seen first_period burst_start burst_end",
        "thematic": "label quadrant",
        "stability": "",
        "bridges": "concept concept_key",
        "gaps": "key_a key_b concept_a concept_b",
    }.items()
}
"""Each table's text columns (``""`` when empty); its other columns are numeric (NaN when empty)."""


def read_table(path: str | Path, *, name: str | None = None) -> pd.DataFrame:
    """One CSV table of a build, with text columns as text (an id like ``2503.11794`` or a
    concept called ``NA`` stays a string) and the other columns numeric. ``name`` (by default
    the file's stem) says which table it is; an unknown table is read as text throughout.

    >>> read_table("outputs/clusters.csv").dtypes["concepts"]
    dtype('int64')
    """
    import pandas as pd

    path = Path(path)
    text = TEXT_COLUMNS.get(name or path.stem)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise InputError(f"{path}: no such table") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable CSV table ({exc})") from exc
    for column in frame.columns:
        if text is None or column in text:
            continue
        values = frame[column].replace("", float("nan"))
        try:
            frame[column] = pd.to_numeric(values)
        except (ValueError, TypeError) as exc:
            raise InputError(f"{path}: column {column!r} should be numeric ({exc})") from exc
    return frame


class LoadedBuild:
    """What one ``kg build`` wrote into a folder; see ``load``.

    Tables (pandas DataFrames, parsed on first use): ``concepts``, ``papers``, ``mentions``,
    ``clusters``, ``merges``, and the analytics ``trends``, ``emerging``, ``thematic``,
    ``stability``, ``bridges``, ``gaps``. Also ``manifest`` (``build.json``), ``summary``
    (``analytics.json``), ``graph`` and ``concept_network`` (networkx), ``rdf`` (rdflib),
    ``sparql()`` and ``show()``.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._tables: dict[str, pd.DataFrame] = {}

    def __repr__(self) -> str:
        counts = self.manifest.get("counts", {})
        return (
            f"<kg build {str(self.folder)!r}: {counts.get('papers', '?')} papers, "
            f"{counts.get('concepts', '?')} concepts, {counts.get('clusters', '?')} clusters>"
        )

    def path(self, name: str) -> Path:
        """A file of the build; a clear error when the build did not write it."""
        path = self.folder / name
        if not path.exists():
            hint = (
                " (rebuild with the analytics export: kg build ... --exports "
                "rdf,html,graphml,tables,analytics)"
                if Path(name).stem in ANALYTICS or name == "analytics.json"
                else ""
            )
            raise InputError(f"{self.folder}: the build has no {name}{hint}")
        return path

    def table(self, name: str) -> pd.DataFrame:
        """A table by name (``concepts``, ``trends``, ...), parsed once; callers get a copy."""
        if name not in TABLES + ANALYTICS:
            raise InputError(f"no table {name!r}; tables: {', '.join(TABLES + ANALYTICS)}")
        if name not in self._tables:
            self._tables[name] = read_table(self.path(f"{name}.csv"))
        return self._tables[name].copy()

    concepts = property(
        lambda self: self.table("concepts"),
        doc="One row per concept: papers, degree, pagerank, betweenness, cluster.",
    )
    papers = property(
        lambda self: self.table("papers"),
        doc="One row per paper: id, title, authors, date, url, cluster, concepts.",
    )
    mentions = property(
        lambda self: self.table("mentions"),
        doc="One row per paper–concept link: KeyBERT score, surface, span.",
    )
    clusters = property(
        lambda self: self.table("clusters"), doc="One row per cluster: label, concepts, papers."
    )
    merges = property(
        lambda self: self.table("merges"), doc="Surface forms folded into a concept, and why."
    )
    trends = property(
        lambda self: self.table("trends"), doc="Papers per concept and month (long format)."
    )
    emerging = property(
        lambda self: self.table("emerging"),
        doc="Per concept: first appearance, growth, burst; fastest-growing first.",
    )
    thematic = property(
        lambda self: self.table("thematic"),
        doc="Per cluster: Callon centrality, density, quadrant, stability.",
    )
    stability = property(
        lambda self: self.table("stability"),
        doc="Per Louvain seed: clusters, modularity, ARI/NMI vs the build.",
    )
    bridges = property(
        lambda self: self.table("bridges"),
        doc="Concepts linked into several clusters, most spread first.",
    )
    gaps = property(
        lambda self: self.table("gaps"), doc="Close concept pairs (embeddings) that never co-occur."
    )

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """``build.json``: inputs, counts, config, versions, rejected and merged records."""
        return _read_json(self.path("build.json"))

    @cached_property
    def summary(self) -> dict[str, Any]:
        """``analytics.json``: modularity, cluster stability, dated papers, thematic quadrants."""
        return _read_json(self.path("analytics.json"))

    @cached_property
    def graph(self) -> nx.Graph:
        """The knowledge graph as the build made it: ``paper:<key>`` and ``concept:<key>`` nodes
        (``kind``, ``label``, ``key``, ``cluster``, ``degree``, ``pagerank``, ``betweenness``),
        paper–concept ``mentions`` edges (``weight`` = KeyBERT score) and concept–concept
        ``cooccurs`` edges (``weight`` = papers in common)."""
        import networkx as nx

        concepts, papers, mentions = self.concepts, self.papers, self.mentions
        g = nx.Graph()
        for row in papers.sort_values("key").itertuples(index=False):
            g.add_node(
                f"paper:{row.key}",
                kind="paper",
                label=row.title or row.key,
                key=row.key,
                cluster=int(row.cluster),
                degree=0,
                pagerank=0.0,
                betweenness=0.0,
            )
        for row in concepts.sort_values("key").itertuples(index=False):
            g.add_node(
                f"concept:{row.key}",
                kind="concept",
                label=row.concept,
                key=row.key,
                cluster=int(row.cluster),
                degree=int(row.degree),
                pagerank=float(row.pagerank),
                betweenness=float(row.betweenness),
            )
        of_paper: dict[str, list[str]] = defaultdict(list)
        ordered = mentions.sort_values(["paper", "concept_key"])
        for paper, key, score in zip(
            ordered["paper"], ordered["concept_key"], ordered["score"], strict=True
        ):
            g.add_edge(f"paper:{paper}", f"concept:{key}", kind="mentions", weight=float(score))
            of_paper[paper].append(key)
        pairs: dict[tuple[str, str], int] = defaultdict(int)
        for keys in of_paper.values():
            for a, b in combinations(sorted(set(keys)), 2):
                pairs[(a, b)] += 1
        for (a, b), count in sorted(pairs.items()):
            g.add_edge(f"concept:{a}", f"concept:{b}", kind="cooccurs", weight=count)
        for node in g:
            if g.nodes[node]["kind"] == "paper":
                g.nodes[node]["degree"] = len(g[node])
        return g

    @cached_property
    def concept_network(self) -> nx.Graph:
        """Concepts only, linked by co-occurrence: the network clusters and centralities use."""
        from kg.graph import concept_network

        return concept_network(self.graph)

    @cached_property
    def rdf(self) -> RDFGraph:
        """The build's RDF as an rdflib graph (parsed from ``graph.nt``, else ``graph.ttl``)."""
        from kg.query import load_graph

        nt = self.folder / "graph.nt"
        return load_graph(nt if nt.exists() else self.path("graph.ttl"))

    def iri(self, kind: str, key: str | int) -> Any:
        """The IRI of a ``paper``, ``concept`` or ``cluster`` of this build, for ``sparql()``.

        >>> import kg
        >>> kg.load("outputs").iri("cluster", 0)
        rdflib.term.URIRef('https://w3id.org/kg-papers/id/cluster/0')
        """
        from kg.export.rdf import Iris

        iris = Iris(self.manifest.get("base_iri") or "https://w3id.org/kg-papers/id/")
        if kind not in ("paper", "concept", "cluster"):
            raise QueryError(f"no IRI kind {kind!r}; kinds: paper, concept, cluster")
        return iris.cluster(int(key)) if kind == "cluster" else getattr(iris, kind)(str(key))

    def sparql(self, query: str, **params: Any) -> Any:
        """Run SPARQL on the build's RDF; ``params`` are bound as RDF terms (never pasted in).

        A Python value binds a typed literal (``str``, ``int``, ``float``, ``bool``, dates);
        an rdflib term (``self.iri(...)``, ``URIRef``, ``Literal``) binds as it is. A SELECT
        gives a DataFrame (one column per variable, values as Python objects), an ASK a bool,
        a CONSTRUCT or DESCRIBE an rdflib graph. ``query`` may also name a ``.rq`` file or a
        library query (see ``kg query``).

        >>> import kg
        >>> g = kg.load("outputs")
        >>> q = '''PREFIX kg: <https://w3id.org/kg-papers/ontology#>
        ...        SELECT (COUNT(?c) AS ?n) WHERE { ?c kg:cluster ?cluster ; kg:paperCount ?k
        ...        FILTER(?k >= ?min) }'''
        >>> int(g.sparql(q, cluster=g.iri("cluster", 0), min=1)["n"][0]) > 0
        True
        """
        import pandas as pd
        from rdflib import Literal
        from rdflib.term import Identifier

        from kg.query import query_text

        bindings = {
            name: value if isinstance(value, Identifier) else Literal(value)
            for name, value in params.items()
        }
        try:
            result = self.rdf.query(query_text(query), initBindings=bindings)
        except QueryError:
            raise
        except Exception as exc:  # pyparsing and rdflib evaluation errors
            raise QueryError(f"SPARQL error: {exc}") from exc
        if result.type == "ASK":
            return bool(result.askAnswer)
        if result.type in ("CONSTRUCT", "DESCRIBE"):
            return result.graph
        names = [str(v) for v in result.vars or []]
        rows = [
            [None if v is None else _python(v) for v in row]
            for row in result
            if isinstance(row, tuple)
        ]
        return pd.DataFrame(rows, columns=names)

    @property
    def html(self) -> Path:
        """The interactive graph page (``graph.html``; works offline)."""
        return self.path("graph.html")

    def show(self, *, height: int = 600, embed: bool | None = None) -> Any:
        """The interactive graph inline in a notebook.

        ``embed=True`` puts the page itself into the notebook (works in every notebook viewer,
        and when the notebook moves); ``False`` links to the file (light, but the notebook
        server must be able to serve it). By default pages under 8 MB are embedded.
        """
        import html as html_lib
        import os
        import warnings

        from IPython.display import HTML, IFrame

        path = self.html
        if embed is None:
            embed = path.stat().st_size < 8_000_000
        if embed:
            page = html_lib.escape(path.read_text(encoding="utf-8"), quote=True)
            with warnings.catch_warnings():  # IPython suggests IFrame, which cannot embed
                warnings.simplefilter("ignore", UserWarning)
                return HTML(
                    f'<iframe srcdoc="{page}" width="100%" height="{height}" '
                    f'style="border:1px solid #ddd"></iframe>'
                )
        return IFrame(os.path.relpath(path, Path.cwd()), width="100%", height=height)


def _python(term: Any) -> Any:
    from rdflib import Literal

    if isinstance(term, Literal):
        value = term.toPython()
        return value if not isinstance(value, Literal) else str(value)
    return str(term)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc


def load(folder: str | Path = "outputs") -> LoadedBuild:
    """Open the folder a ``kg build`` wrote (``build.json`` must be there).

    >>> import kg
    >>> g = kg.load("outputs")
    >>> g.clusters.columns.tolist()
    ['cluster', 'label', 'concepts', 'papers']
    >>> g.graph.number_of_nodes() == g.manifest["counts"]["graph_nodes"]
    True
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(
            f"{folder}: no such build folder (make one with `kg build INPUT --out {folder}`)"
        )
    if not (folder / "build.json").exists():
        raise InputError(f"{folder}: not a kg build folder (no build.json)")
    return LoadedBuild(folder)
