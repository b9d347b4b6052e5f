"""Cytoscape.js JSON (``graph.cyjs``): opens in Cytoscape desktop and in cytoscape.js.

The elements are networkx's ``cytoscape_data``; each node also gets its ``position`` from the
shared layout, and the file carries a small cytoscape.js ``style`` that maps the ``color`` and
``size`` data fields, so the picture matches the HTML page.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from kg.export.jsonfile import write_json
from kg.export.layout import styled_graph

if TYPE_CHECKING:
    from kg.build import Build

STYLE = [
    {
        "selector": "node",
        "style": {
            "background-color": "data(color)",
            "label": "data(label)",
            "width": "mapData(size, 0, 30, 4, 60)",
            "height": "mapData(size, 0, 30, 4, 60)",
            "font-size": 10,
        },
    },
    {
        "selector": "node[kind = 'paper']",
        "style": {
            "shape": "rectangle",
            "label": "",
            "background-color": "#ffffff",
            "border-color": "data(color)",
            "border-width": 2,
        },
    },
    {"selector": "edge", "style": {"line-color": "#bbbbbb", "opacity": 0.5, "width": 1}},
]


def cytoscape_json(build: Build) -> dict[str, Any]:
    """``networkx.cytoscape_data`` of the styled graph, with positions and a style."""
    g = styled_graph(build)
    data = nx.cytoscape_data(g)
    for element in data["elements"]["nodes"]:
        d = element["data"]
        element["position"] = {"x": d["x"], "y": d["y"]}
    data["style"] = STYLE
    return data


def write_cytoscape(build: Build, out: Path) -> list[Path]:
    path = out / "graph.cyjs"
    write_json(path, cytoscape_json(build))
    return [path]
