"""GEXF for Gephi: the HTML page's clusters, colours, sizes and positions as ``viz`` attributes.

Gephi opens ``graph.gexf`` with the layout already done (Gephi's y axis points up, so y is
flipped to keep the picture the right way round); the partition and ranking panels can use the
``cluster``, ``cluster_label``, ``kind``, ``degree``, ``pagerank`` and ``betweenness`` columns.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from itertools import count, islice
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import Element, ElementTree, SubElement, tostring

import networkx as nx
from networkx.readwrite.gexf import GEXFWriter

from kg.export.layout import styled_graph
from kg.parallel import collector_paused

if TYPE_CHECKING:
    from kg.build import Build


def rgb(color: str) -> tuple[int, int, int]:
    """``#rrggbb`` as three integers.

    >>> rgb("#4e79a7")
    (78, 121, 167)
    """
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def gexf_graph(build: Build) -> nx.Graph:
    """The styled graph with Gephi's ``viz`` attributes (colour, size, position)."""
    g = styled_graph(build)
    for _, data in g.nodes(data=True):
        r, gr, b = rgb(data["color"])
        data["viz"] = {
            "color": {"r": r, "g": gr, "b": b, "a": 1.0},
            "size": data["size"],
            "position": {"x": data["x"], "y": -data["y"], "z": 0.0},
        }
        for name in ("x", "y", "size", "color"):
            del data[name]
    return g


def write_gexf(build: Build, out: Path) -> list[Path]:
    path = out / "graph.gexf"
    _write(gexf_graph(build), path)
    return [path]


EDGES_PER_CHUNK = 20_000
_PLACE = "kg-gexf-edges"  # the edges' place in the document, until they are written there
_OPEN, _CLOSE = "<edges>", "\n    </edges>"  # inside <gexf> and <graph>, pretty-printed


_WHOLE = frozenset(("viz", "start", "end", "spells"))
"""Edge data that networkx writes into the graph's head or with a namespace: a graph whose
edges carry any (or dynamic, list-valued attributes) is written whole, as networkx does."""


class _Writer(GEXFWriter):
    """networkx's GEXF writer, whose ``add_graph`` leaves the edges out (declaring their
    attributes) for ``_write`` to stream, where it can (``streamed``; not without edges:
    networkx writes ``<edges />``)."""

    streamed = True

    def add_edges(self, G: nx.Graph, graph_element: Element) -> None:  # noqa: N803 - networkx's
        # the attributes are declared (numbered) as the edges bring them, in the edges' order:
        # the first edge of each set of attribute names brings every new one
        firsts, seen, dynamic = [], set(), False
        for edge in G.edges(data=True):
            names = tuple(edge[2])
            if names not in seen:
                seen.add(names)
                firsts.append(edge)
            dynamic = dynamic or list in map(type, edge[2].values())
        if not firsts or dynamic or any(not _WHOLE.isdisjoint(names) for names in seen):
            self.streamed = False
            super().add_edges(G, graph_element)
            return
        # numbered on a counter of their own: the edges are numbered when written
        state = self.__dict__
        numbering = {"edge_id": state["edge_id"], "all_edge_ids": state["all_edge_ids"]}
        state.update(edge_id=count(), all_edge_ids=set(state["all_edge_ids"]))
        super().add_edges(_Edges(G, firsts), Element("graph"))
        state.update(numbering)
        SubElement(graph_element, "edges").text = _PLACE


class _Edges:
    """What networkx's ``GEXFWriter.add_edges`` reads of a graph, with some of its edges."""

    def __init__(self, graph: nx.Graph, edges: Iterable[tuple[str, str, dict[str, Any]]]) -> None:
        self.nodes, self.graph, self._edges = graph.nodes, graph.graph, edges

    def is_multigraph(self) -> bool:
        return False

    def edges(self, data: bool = True) -> Iterable[tuple[str, str, dict[str, Any]]]:
        return self._edges


def _write(graph: nx.Graph, path: Path) -> None:
    """``graph`` as networkx writes GEXF (pretty-printed, UTF-8), the same bytes, but streamed:
    the edges' XML elements are made and written some thousands at a time. networkx holds
    every element of the document until it writes it: in the 45k default build's export
    phase, the process writing it grew by 833 MiB (PSS) for a 110 MB file."""
    # each chunk's elements, without cycles among them, would be walked again by the
    # collections they set off: 800k edges took 28.5 s with the collector, 16.1 s without
    with collector_paused():
        _write_document(graph, path)


def _write_document(graph: nx.Graph, path: Path) -> None:
    writer = _Writer(encoding="utf-8", prettyprint=True)
    meta = writer.xml.find("meta")
    if meta is not None:  # today's date would make two builds of the same input differ
        meta.attrib.pop("lastmodifieddate", None)
    writer.add_graph(graph)
    if not writer.streamed:
        writer.write(path)
        return
    writer.indent(writer.xml)
    document = io.BytesIO()
    ElementTree(writer.xml).write(document, encoding="utf-8", xml_declaration=True)
    head, tail = document.getvalue().split(f"{_OPEN}{_PLACE}</edges>".encode())
    rest = iter(graph.edges(data=True))
    with open(path, "wb") as sink:
        sink.write(head + _OPEN.encode())
        while chunk := list(islice(rest, EDGES_PER_CHUNK)):
            into = Element("graph")
            GEXFWriter.add_edges(writer, _Edges(graph, chunk), into)  # networkx's own
            edges_element = into[0]
            writer.indent(edges_element, 2)
            edges_element.tail = None
            # _OPEN + the edges, each on a line of its own + _CLOSE; made as text (written to an
            # encoding stream, each of its million small pieces took longer), then encoded as
            # ElementTree encodes the document
            text = tostring(edges_element, encoding="unicode")[len(_OPEN) : -len(_CLOSE)]
            sink.write(text.encode("utf-8", "xmlcharrefreplace"))
        sink.write(_CLOSE.encode() + tail)
