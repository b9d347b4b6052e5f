"""HTML: the interactive graph (vis-network, as pyvis ships it), self-contained and offline.

The page inlines vis-network itself (no CDN) and embeds the data as JSON with ``<``, ``>`` and
``&`` escaped, so no input text can close the script or run as markup; the page's script puts
every input text into the document with ``textContent`` and links only ``http(s)`` URLs.
Positions, sizes and colours come from :mod:`kg.export.layout` (the same as the desktop
exports), so physics stays off and the graph is drawn at once.

A large build is cut to its most central part, at most ``config.html_max_nodes`` nodes: the
top concepts of every cluster (each cluster keeps the same share of its concepts) and the
papers that mention most of them; the page says what it leaves out. ``html_max_nodes = 0``
draws everything.

The nodes and edges are plain vis-network dictionaries: pyvis's ``Network.add_edge`` scans every
edge it holds, which takes minutes on a few thousand papers.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.export.layout import cluster_color, node_looks
from kg.graph import CONCEPT, PAPER

if TYPE_CHECKING:
    import networkx as nx

    from kg.build import Build

TEMPLATE = Path(__file__).with_name("templates") / "graph.html"
HEADLINES_PER_CLUSTER = 2
HEADLINES = 40
"""Concept labels shown at the default zoom: the top concepts of each cluster, at most this many."""
COOCCURS_PER_CONCEPT = 6
"""A cut view keeps each concept's strongest co-occurrence links, this many."""
_SAFE_URL = re.compile(r"^https?://[^\s\"'<>]+$", re.IGNORECASE)


def safe_json(value: Any) -> str:
    """JSON that can sit inside a <script> element whatever the strings hold.

    >>> safe_json({"t": "</script><img src=x onerror=alert(1)>"})
    '{"t":"\\\\u003c/script\\\\u003e\\\\u003cimg src=x onerror=alert(1)\\\\u003e"}'
    """
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def safe_url(url: str | None) -> str:
    """The URL if it is a plain http(s) URL, else "" (a ``javascript:`` link is never made).

    >>> safe_url("https://arxiv.org/abs/2503.11794"), safe_url("javascript:alert(1)")
    ('https://arxiv.org/abs/2503.11794', '')
    """
    return url if url and _SAFE_URL.match(url) else ""


def _vis_assets() -> tuple[str, str]:
    import pyvis

    lib = Path(pyvis.__file__).parent / "templates" / "lib" / "vis-9.1.2"
    return (lib / "vis-network.min.js").read_text(encoding="utf-8"), (
        lib / "vis-network.css"
    ).read_text(encoding="utf-8")


@dataclass(frozen=True)
class View:
    """The part of the graph the page draws."""

    nodes: list[str]  # sorted
    edges: list[tuple[str, str]]  # sorted, each (u, v) with u < v
    cut: bool  # True when nodes or links were left out


def select_view(build: Build, *, max_nodes: int) -> View:
    """The most central part of the graph, at most ``max_nodes`` nodes (0: everything).

    Concepts are taken cluster by cluster in the order of their PageRank, so that every cluster
    keeps the same share of its concepts; papers are taken by how many of the chosen concepts
    they mention. Concepts get at least half the budget.
    """
    graph, a = build.graph, build.analysis
    if not max_nodes or graph.number_of_nodes() <= max_nodes:
        edges = sorted(tuple(sorted((u, v))) for u, v in graph.edges())
        return View(sorted(graph.nodes), edges, False)
    by_cluster: dict[int, list[str]] = defaultdict(list)
    papers = []
    for node, data in graph.nodes(data=True):
        if data["kind"] == CONCEPT:
            by_cluster[a.cluster_of.get(node, -1)].append(node)
        else:
            papers.append(node)
    share: dict[str, float] = {}
    for nodes in by_cluster.values():
        nodes.sort(key=lambda n: (-a.pagerank.get(n, 0.0), n))
        for rank, node in enumerate(nodes):
            share[node] = rank / len(nodes)
    concepts = sorted(share, key=lambda n: (share[n], -a.pagerank.get(n, 0.0), n))
    budget = min(len(concepts), max(max_nodes - len(papers), max_nodes // 2))
    chosen = set(concepts[:budget])
    reach: dict[str, tuple[int, float]] = {}
    adj = graph._adj  # networkx's own adjacency dict: on a big graph its views cost seconds
    for p in papers:
        ws = [edge["weight"] for c, edge in adj[p].items() if c in chosen]
        if ws:
            reach[p] = (len(ws), sum(ws))
    ranked = sorted(reach, key=lambda p: (-reach[p][0], -reach[p][1], p))
    keep = chosen | set(ranked[: max_nodes - len(chosen)])
    edges = _view_edges(graph, keep)
    return View(sorted(keep), edges, True)


def _view_edges(graph: nx.Graph, keep: set[str]) -> list[tuple[str, str]]:
    """Every mention link inside ``keep``; each concept's strongest co-occurrence links."""
    edges: set[tuple[str, str]] = set()
    adj = graph._adj  # networkx's own adjacency dict, read without its views
    for node in keep:
        strongest = []
        for nb, d in adj[node].items():
            if nb not in keep:
                continue
            if d["kind"] == "cooccurs":
                strongest.append((-d["weight"], nb))
            else:
                edges.add((node, nb) if node < nb else (nb, node))
        if len(strongest) > COOCCURS_PER_CONCEPT:
            strongest = sorted(strongest)[:COOCCURS_PER_CONCEPT]
        for _, nb in strongest:
            edges.add((node, nb) if node < nb else (nb, node))
    return sorted(edges)


_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?")


def month_span(date: str | None) -> tuple[int, int] | None:
    """The months a date covers, as ``year * 12 + month - 1`` (a bare year: all twelve).

    >>> month_span("2025-03-18"), month_span("2024"), month_span("n.d.")
    ((24302, 24302), (24288, 24299), None)
    """
    m = _DATE.match(date or "")
    if not m:
        return None
    year = int(m.group(1))
    if m.group(2) and 1 <= int(m.group(2)) <= 12:
        month = year * 12 + int(m.group(2)) - 1
        return month, month
    return year * 12, year * 12 + 11


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _headlines(
    candidates: list[str], looks: dict, concepts: dict, shrink: float, view_nodes: list[str]
) -> set[str]:
    """The concepts whose labels show at the default zoom: candidates in order, at most
    ``HEADLINES``, skipping one whose label would overlap a label already chosen.

    Label boxes are estimated at the scale where the whole view fits a ~900 px pane (the page
    sets headline labels to about 14 px there; a character is about 0.6 of that wide).
    """
    xs = [looks[n].x * shrink for n in view_nodes]
    ys = [looks[n].y * shrink for n in view_nodes]
    span = max(max(xs, default=0) - min(xs, default=0), max(ys, default=0) - min(ys, default=0))
    unit = max(span, 1.0) / 900  # layout units per pixel at the default zoom
    boxes: list[tuple[float, float, float, float]] = []
    chosen: set[str] = set()
    for node in candidates:
        if len(chosen) >= HEADLINES:
            break
        if node in chosen:
            continue
        look = looks[node]
        half_w = 0.6 * 15 * len(concepts[node].pref_label) / 2 * unit
        x, y = look.x * shrink, look.y * shrink + look.size + 10 * unit  # drawn under the dot
        box = (x - half_w, x + half_w, y - 10 * unit, y + 10 * unit)
        if any(b[0] < box[1] and box[0] < b[1] and b[2] < box[3] and box[2] < b[3] for b in boxes):
            continue
        boxes.append(box)
        chosen.add(node)
    return chosen


def view_data(build: Build, *, max_nodes: int | None = None) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready data (nodes and edges in vis-network's form).

    Keys: ``title``, ``view`` (counts, and whether the graph was cut), ``clusters`` (the legend),
    ``nodes`` (position, size, colour, label, tooltip and details ``d``), ``edges`` and
    ``mentions`` (paper, concept, score, evidence sentence) between nodes of the view.
    """
    graph, a = build.graph, build.analysis
    limit = build.config.html_max_nodes if max_nodes is None else max_nodes
    view = select_view(build, max_nodes=limit)
    looks = node_looks(build)
    in_view = set(view.nodes)
    papers = {f"paper:{p.key}": p for p in build.papers}
    concepts = {f"concept:{c.key}": c for c in build.linked.concepts}
    label = {n: d["label"] for n, d in graph.nodes(data=True)}

    by_cluster: dict[int, list[str]] = defaultdict(list)
    for node in view.nodes:
        if graph.nodes[node]["kind"] == CONCEPT:
            by_cluster[looks[node].cluster].append(node)
    ranked = sorted(
        (n for nodes in by_cluster.values() for n in nodes),
        key=lambda n: (-a.pagerank.get(n, 0.0), n),
    )
    # a cut view keeps the layout's shape but is drawn as densely as a whole one would be:
    # positions shrink by sqrt(view / whole), so nodes and labels keep their size on screen
    shrink = (len(view.nodes) / graph.number_of_nodes()) ** 0.5 if view.cut else 1.0
    candidates = []  # the top concepts of each cluster, biggest clusters first, then the rest
    for cid in sorted(by_cluster, key=lambda c: (-len(by_cluster[c]), c)):
        top = sorted(by_cluster[cid], key=lambda n: (-a.pagerank.get(n, 0.0), n))
        candidates.extend(top[:HEADLINES_PER_CLUSTER])
    candidates.extend(ranked)
    headline = _headlines(candidates, looks, concepts, shrink, view.nodes)
    top_pr = a.pagerank.get(ranked[0], 1.0) if ranked else 1.0

    nodes = []
    for node in view.nodes:
        look = looks[node]
        kind = graph.nodes[node]["kind"]
        item: dict[str, Any] = {
            "id": node,
            "kind": kind,
            "x": round(look.x * shrink, 2),
            "y": round(look.y * shrink, 2),
            "size": look.size,
            "color": look.color,
            "cluster": look.cluster,
            "degree": graph.degree(node),
        }
        if kind == CONCEPT:
            c = concepts[node]
            pr = a.pagerank.get(node, 0.0)
            n_papers = sum(1 for nb in graph[node] if graph.nodes[nb]["kind"] == PAPER)
            # label weight: 1+ for headline labels (readable at the default zoom); below 0.6
            # the label appears only as one zooms in, the sooner the more central the concept
            item["w"] = round(
                1 + 0.4 * (pr / top_pr) ** 0.5
                if node in headline
                else 0.15 + 0.45 * (pr / top_pr) ** 0.5,
                3,
            )
            item["label"] = c.pref_label
            item["title"] = (
                f"{c.pref_label}\nconcept · {n_papers} paper"
                f"{'' if n_papers == 1 else 's'} · {graph.degree(node)} links"
            )
            item["d"] = {
                "alt": list(c.alt_labels),
                "acronym": c.acronym or "",
                "broader": [
                    [
                        f"concept:{b}" if f"concept:{b}" in in_view else "",
                        label.get(f"concept:{b}", b),
                    ]
                    for b in c.broader
                ],
                "papers": n_papers,
                "pagerank": round(pr, 6),
                "betweenness": round(a.betweenness.get(node, 0.0), 6),
            }
        elif kind == PAPER:
            p = papers[node]
            url = safe_url(p.url) or (
                safe_url(f"https://arxiv.org/abs/{p.arxiv_id}") if p.arxiv_id else ""
            )
            title = p.title or _clip(p.abstract, 120)
            item["w"] = 0.1
            item["label"] = _clip(title, 48)
            item["title"] = title + (f"\n{p.date}" if p.date else "")
            span = month_span(p.date)
            if span is not None:
                item["t"] = list(span)
            item["d"] = {
                "title": title,
                "authors": list(p.authors),
                "date": p.date or "",
                "url": url,
                "key": p.key,
                "other": sorted(label[c] for c in graph[node] if c not in in_view),
            }
        nodes.append(item)

    edges = []
    for u, v in view.edges:
        d = graph.edges[u, v]
        edges.append({"from": u, "to": v, "kind": d["kind"], "w": round(float(d["weight"]), 4)})

    mentions = sorted(
        [f"paper:{m.paper_key}", f"concept:{m.concept_key}", round(m.score, 4), m.sentence]
        for m in build.linked.mentions
        if f"paper:{m.paper_key}" in in_view and f"concept:{m.concept_key}" in in_view
    )
    in_cluster: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for node in view.nodes:
        in_cluster[looks[node].cluster][0 if graph.nodes[node]["kind"] == CONCEPT else 1] += 1
    clusters = [
        {
            "id": cid,
            "label": text,
            "color": cluster_color(cid),
            "concepts": in_cluster[cid][0],
            "papers": in_cluster[cid][1],
        }
        for cid, text in sorted(a.cluster_labels.items())
        if cid in in_cluster
    ]
    totals = {
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "concepts": sum(1 for n in graph if graph.nodes[n]["kind"] == CONCEPT),
        "papers": len(papers),
        "clusters": len(a.cluster_labels),
    }
    return {
        "title": build.title,
        "view": {
            "nodes": len(nodes),
            "edges": len(edges),
            "cut": view.cut,
            "max_nodes": limit,
            "total": totals,
        },
        "clusters": clusters,
        "nodes": nodes,
        "edges": edges,
        "mentions": mentions,
    }


def render_html(data: dict[str, Any]) -> str:
    """The page for ``view_data``'s data, vis-network inlined."""
    from jinja2 import Template

    js, css = _vis_assets()
    return Template(TEMPLATE.read_text(encoding="utf-8"), autoescape=True).render(
        title=data["title"], vis_js=js, vis_css=css, data_json=safe_json(data)
    )


def write_html(build: Build, out: Path) -> list[Path]:
    path = out / "graph.html"
    path.write_text(render_html(view_data(build)), encoding="utf-8")
    return [path]
