"""HTML: the interactive graph (pyvis / vis-network), self-contained and safe to open offline.

pyvis builds the nodes, edges and options; our template inlines vis-network itself (no CDN) and
embeds the data as JSON with ``<``, ``>`` and ``&`` escaped, so no input text can close the
script or run as markup. Positions come from networkx (seeded), so physics stays off.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from kg.graph import CONCEPT, PAPER

if TYPE_CHECKING:
    from kg.build import Build

PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#17becf",
)
TEMPLATE = Path(__file__).with_name("templates") / "graph.html"


def safe_json(value: Any) -> str:
    """JSON that can sit inside a <script> element whatever the strings hold."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (
        text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )


def _vis_assets() -> tuple[str, str]:
    import pyvis

    lib = Path(pyvis.__file__).parent / "templates" / "lib" / "vis-9.1.2"
    return (lib / "vis-network.min.js").read_text(encoding="utf-8"), (
        lib / "vis-network.css"
    ).read_text(encoding="utf-8")


def view_data(build: Build) -> dict[str, Any]:
    """Nodes, edges, clusters and details for the page, positions from networkx."""
    from pyvis.network import Network

    graph = build.graph
    a = build.analysis
    layout = nx.spring_layout(graph, seed=build.config.seed, weight="weight",
                              k=2 / max(1, graph.number_of_nodes()) ** 0.5, iterations=60)
    scale = 120 * max(1, graph.number_of_nodes()) ** 0.5
    papers = {f"paper:{p.key}": p for p in build.papers}
    concepts = {f"concept:{c.key}": c for c in build.linked.concepts}
    max_pr = max(a.pagerank.values(), default=1.0) or 1.0
    net = Network(directed=False)
    for node, data in sorted(graph.nodes(data=True)):
        cid = a.cluster_of.get(node, -1)
        x, y = (float(v) * scale for v in layout[node])
        common = {"x": round(x, 2), "y": round(y, 2), "cluster": cid, "kind": data["kind"],
                  "color": PALETTE[cid % len(PALETTE)] if cid >= 0 else "#999999"}
        if data["kind"] == CONCEPT:
            c = concepts[node]
            size = 8 + 32 * (a.pagerank.get(node, 0.0) / max_pr) ** 0.5
            net.add_node(node, label=c.pref_label, shape="dot", size=round(size, 2),
                         title=f"{c.pref_label}\n{len(graph[node])} links", **common,
                         details={"labels": list(c.alt_labels), "acronym": c.acronym or "",
                                  "broader": list(c.broader)})
        elif data["kind"] == PAPER:
            p = papers[node]
            net.add_node(node, label="", shape="square", size=5, title=p.title or p.key,
                         **common, details={"title": p.title, "authors": list(p.authors),
                                            "date": p.date or "", "url": p.url or ""})
    for u, v, d in sorted(graph.edges(data=True)):
        net.add_edge(u, v, value=float(d["weight"]), kind=d["kind"],
                     color="rgba(120,120,120,0.25)")
    clusters = [{"id": cid, "label": label, "color": PALETTE[cid % len(PALETTE)]}
                for cid, label in sorted(a.cluster_labels.items())]
    return {"nodes": net.nodes, "edges": net.edges, "clusters": clusters, "title": build.title}


def write_html(build: Build, out: Path) -> list[Path]:
    from jinja2 import Template

    js, css = _vis_assets()
    data = view_data(build)
    html = Template(TEMPLATE.read_text(encoding="utf-8"), autoescape=True).render(
        title=build.title, vis_js=js, vis_css=css, data_json=safe_json(data)
    )
    path = out / "graph.html"
    path.write_text(html, encoding="utf-8")
    return [path]
