"""VOSviewer JSON (``vosviewer.json``): the concept co-occurrence map, as VOSviewer draws maps.

VOSviewer (and VOSviewer Online) opens the file with File > Open > VOSviewer JSON file. Items are
the concepts (VOSviewer's "term map"), with the HTML page's clusters (numbered from 1), colours
and positions; links are co-occurrences with their strength (papers mentioning both). Weights:
``Occurrences`` (papers), ``Links``, ``Total link strength`` and ``Size`` (the node size of the
HTML page); scores: ``PageRank`` and, where papers are dated, ``Avg. pub. year``. Descriptions are
HTML in VOSviewer, so every text in them is escaped.
"""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.export.graphml import file_view
from kg.export.jsonfile import write_json
from kg.export.layout import cluster_color, node_looks
from kg.graph import CONCEPT, PAPER

if TYPE_CHECKING:
    from kg.build import Build

VOS_MAX_CLUSTERS = 1000
"""VOSviewer numbers clusters 1..1000; concepts of smaller clusters beyond that get none."""


def vosviewer_json(build: Build) -> dict[str, Any]:
    """The VOSviewer map and network of the concepts, as a JSON-ready dict."""
    graph, a = build.graph, build.analysis
    looks = node_looks(build)
    kept, _, _ = file_view(build)
    concepts = [n for n in kept if graph.nodes[n]["kind"] == CONCEPT]
    ids = {n: i for i, n in enumerate(concepts, start=1)}
    years: dict[str, list[int]] = defaultdict(list)
    dates = {f"paper:{p.key}": p.date for p in build.papers}
    alt = {f"concept:{c.key}": c.alt_labels for c in build.linked.concepts}
    items = []
    for node in concepts:
        papers = [nb for nb in graph[node] if graph.nodes[nb]["kind"] == PAPER]
        for p in papers:
            date = dates.get(p)
            if date and date[:4].isdigit():
                years[node].append(int(date[:4]))
        co = [d["weight"] for nb, d in graph[node].items() if d["kind"] == "cooccurs"]
        look = looks[node]
        cid = look.cluster
        label = graph.nodes[node]["label"]
        scores: dict[str, float] = {"PageRank": round(a.pagerank.get(node, 0.0), 6)}
        if years[node]:
            scores["Avg. pub. year"] = round(sum(years[node]) / len(years[node]), 2)
        item: dict[str, Any] = {
            "id": ids[node],
            "label": label,
            "description": _description(label, alt.get(node, ()), a.cluster_labels.get(cid, "")),
            "x": look.x,
            "y": look.y,
            "weights": {
                "Occurrences": len(papers),
                "Links": len(co),
                "Total link strength": sum(co),
                "Size": look.size,
            },
            "scores": scores,
        }
        if 0 <= cid < VOS_MAX_CLUSTERS:
            item["cluster"] = cid + 1
        items.append(item)
    # every co-occurrence link among them, each once, from networkx's adjacency dicts (through
    # a subgraph view, the 45k default build's export took 23.8 s; now 20.5, back to back)
    adj = graph._adj
    pairs = sorted(
        (ids[u], ids[v], d["weight"])
        for u in concepts
        for v, d in adj[u].items()
        if d["kind"] == "cooccurs" and v in ids and ids[u] <= ids[v]
    )
    links = [{"source_id": s, "target_id": t, "strength": w} for s, t, w in pairs]
    colours = [
        {"cluster": cid + 1, "color": cluster_color(cid)}
        for cid in sorted(a.cluster_labels)
        if cid < VOS_MAX_CLUSTERS
    ]
    return {
        "config": {
            "terminology": {
                "item": "Concept",
                "items": "Concepts",
                "link": "Co-occurrence link",
                "links": "Co-occurrence links",
                "link_strength": "Papers in common",
                "total_link_strength": "Total papers in common",
            },
            "color_schemes": {"cluster_colors": colours},
        },
        "network": {"items": items, "links": links},
    }


def _description(label: str, alt: tuple[str, ...] | list[str], cluster: str) -> str:
    """VOSviewer shows the description as HTML: every piece of input text is escaped.

    >>> _description("<b>x</b>", ["y"], "c")
    '<b>&lt;b&gt;x&lt;/b&gt;</b><br>Also: y<br>Cluster: c'
    """
    parts = [f"<b>{html.escape(label)}</b>"]
    if alt:
        parts.append("Also: " + html.escape(", ".join(alt)))
    if cluster:
        parts.append("Cluster: " + html.escape(cluster))
    return "<br>".join(parts)


def write_vosviewer(build: Build, out: Path) -> list[Path]:
    path = out / "vosviewer.json"
    write_json(path, vosviewer_json(build))
    return [path]
