"""GraphML for Gephi, Cytoscape and networkx itself, with clusters and centralities."""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

if TYPE_CHECKING:
    from kg.build import Build


def file_view(build: Build) -> tuple[list[str], list[tuple[str, str]], bool]:
    """The nodes and edges the graph files hold, sorted, and whether some were left out.

    Up to ``config.graph_max_nodes`` nodes (0: no limit) the files hold the whole graph;
    above, the same most central part as the HTML page, with room for more nodes: desktop
    tools open tens of thousands of nodes, not the millions of links of a big corpus.
    """
    from kg.export.html import select_view

    view = _VIEWS.get(build.graph)
    if view is None or view[0] != build.config.graph_max_nodes:
        found = select_view(build, max_nodes=build.config.graph_max_nodes)
        view = (build.config.graph_max_nodes, (found.nodes, found.edges, found.cut))
        _VIEWS[build.graph] = view
    return view[1]


_VIEWS: weakref.WeakKeyDictionary[nx.Graph, Any] = weakref.WeakKeyDictionary()


def annotated(build: Build) -> nx.Graph:
    """The graph files' part of the build's graph (``file_view``) with cluster and
    centralities as node attributes."""
    a = build.analysis
    nodes, edges, _ = file_view(build)
    g = nx.Graph()
    for node in nodes:
        data = build.graph.nodes[node]
        g.add_node(
            node,
            **data,
            cluster=a.cluster_of.get(node, -1),
            degree=a.degree.get(node, 0),
            pagerank=round(a.pagerank.get(node, 0.0), 6),
            betweenness=round(a.betweenness.get(node, 0.0), 6),
        )
    g.add_edges_from((u, v, build.graph.edges[u, v]) for u, v in edges)
    return g


def write_graphml(build: Build, out: Path) -> list[Path]:
    path = out / "graph.graphml"
    # lxml's writer streams the elements to the file; ElementTree's holds the whole document
    # (400 MB more for the 45k build's file view)
    nx.write_graphml_lxml(annotated(build), path, encoding="utf-8")
    return [path]
