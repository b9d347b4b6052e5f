"""GEXF for Gephi: the HTML page's clusters, colours, sizes and positions as ``viz`` attributes.

Gephi opens ``graph.gexf`` with the layout already done (Gephi's y axis points up, so y is
flipped to keep the picture the right way round); the partition and ranking panels can use the
``cluster``, ``cluster_label``, ``kind``, ``degree``, ``pagerank`` and ``betweenness`` columns.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx

from kg.export.layout import styled_graph

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
    from networkx.readwrite.gexf import GEXFWriter

    path = out / "graph.gexf"
    writer = GEXFWriter(encoding="utf-8", prettyprint=True)
    meta = writer.xml.find("meta")
    if meta is not None:  # today's date would make two builds of the same input differ
        meta.attrib.pop("lastmodifieddate", None)
    writer.add_graph(gexf_graph(build))
    writer.write(path)
    return [path]
