"""GraphML for Gephi, Cytoscape and networkx itself, with clusters and centralities."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx

if TYPE_CHECKING:
    from kg.build import Build


def annotated(build: Build) -> nx.Graph:
    """A copy of the build's graph with cluster and centralities as node attributes."""
    a = build.analysis
    g = nx.Graph()
    for node, data in sorted(build.graph.nodes(data=True)):
        g.add_node(
            node,
            **data,
            cluster=a.cluster_of.get(node, -1),
            degree=a.degree.get(node, 0),
            pagerank=round(a.pagerank.get(node, 0.0), 6),
            betweenness=round(a.betweenness.get(node, 0.0), 6),
        )
    g.add_edges_from(sorted(build.graph.edges(data=True)))
    return g


def write_graphml(build: Build, out: Path) -> list[Path]:
    path = out / "graph.graphml"
    nx.write_graphml(annotated(build), path, encoding="utf-8")
    return [path]
