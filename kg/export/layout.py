"""One look for every drawing of the graph: positions, sizes and colours.

The HTML page, GEXF (Gephi), the VOSviewer map and the Cytoscape JSON all read ``node_looks``,
so a cluster has the same colour, a node the same size and place, whichever tool opens it.

The layout scales to tens of thousands of nodes because it never runs a force layout on the
whole graph (networkx's ``spring_layout`` is quadratic in the nodes):

1. the clusters are laid out as one node each (a force layout of the cluster network, weighted
   by the co-occurrences between clusters), then pushed apart until their discs do not overlap;
   each disc's area is proportional to the cluster's nodes;
2. inside each disc a force layout places the cluster's most central concepts (at most
   ``CORE`` of them, by PageRank); the other concepts go next to their placed neighbours;
3. each paper goes to the mention-weighted centre of its concepts, a small seeded offset away.

Every random step draws from ``config.seed``, so the same build always gets the same picture.
"""

from __future__ import annotations

import math
import weakref
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx

from kg.graph import CONCEPT, PAPER

if TYPE_CHECKING:
    from kg.build import Build

PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#1f77b4",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#17becf",
)
NO_CLUSTER = "#999999"
CORE = 300
"""Concepts per cluster placed by the force layout; the others are placed by their neighbours."""
MAX_DISCS = 200
"""Clusters placed by the force layout (the largest); the others go in rows below the map."""
SPACING = 30.0
"""A cluster of n nodes gets a disc of radius SPACING * sqrt(n) (layout units)."""
CONCEPT_SIZE = (4.0, 26.0)
PAPER_SIZE = (3.5, 7.0)


@dataclass(frozen=True, slots=True)
class NodeLook:
    """Where a node is drawn, how big and in which colour."""

    x: float
    y: float
    size: float
    color: str
    cluster: int


def cluster_color(cluster: int) -> str:
    """The colour of a cluster (``-1``: papers that mention no concept).

    >>> cluster_color(0), cluster_color(16), cluster_color(-1)
    ('#4e79a7', '#4e79a7', '#999999')
    """
    return PALETTE[cluster % len(PALETTE)] if cluster >= 0 else NO_CLUSTER


Disc = tuple[float, float, float]
"""A cluster's disc: centre x, centre y, radius."""
_CACHE: weakref.WeakKeyDictionary[nx.Graph, tuple[int, dict[str, NodeLook], dict[int, Disc]]] = (
    weakref.WeakKeyDictionary()
)


def node_looks(build: Build) -> dict[str, NodeLook]:
    """Position, size, colour and cluster of every node of ``build.graph``, computed once."""
    return _cached(build)[0]


def cluster_discs(build: Build) -> dict[int, Disc]:
    """The disc each cluster's concepts are drawn in; no two discs overlap."""
    return _cached(build)[1]


def forget(build: Build) -> None:
    """Let the layout of ``build`` go (a big build's holds a few hundred thousand nodes): a
    process done with its drawings frees it; ``node_looks`` would compute it again."""
    _CACHE.pop(build.graph, None)


def _cached(build: Build) -> tuple[dict[str, NodeLook], dict[int, Disc]]:
    seed = build.config.seed
    cached = _CACHE.get(build.graph)
    if cached is None or cached[0] != seed:
        cached = (seed, *_compute(build))
        _CACHE[build.graph] = cached
    return cached[1], cached[2]


def _compute(build: Build) -> tuple[dict[str, NodeLook], dict[int, Disc]]:
    import numpy as np

    graph, a, seed = build.graph, build.analysis, build.config.seed
    rng = np.random.default_rng(seed)
    members: dict[int, list[str]] = defaultdict(list)  # cluster -> concepts, central first
    count: dict[int, int] = defaultdict(int)  # cluster -> concepts + papers
    for node, data in sorted(graph.nodes(data=True)):
        cid = a.cluster_of.get(node, -1)
        if cid >= 0:
            count[cid] += 1
            if data["kind"] == CONCEPT:
                members[cid].append(node)
    for nodes in members.values():
        nodes.sort(key=lambda n: (-a.pagerank.get(n, 0.0), n))
    radius = {cid: SPACING * math.sqrt(n) for cid, n in count.items()}
    centres = _cluster_centres(graph, a.cluster_of, radius, seed)

    pos: dict[str, tuple[float, float]] = {}
    for cid, nodes in sorted(members.items()):
        _place_cluster(graph, nodes, centres[cid], radius[cid], seed, rng, pos)

    papers = sorted(n for n, d in graph.nodes(data=True) if d["kind"] == PAPER)
    orphans = []
    adj = graph._adj  # networkx's adjacency dict: its edge views cost seconds on a big graph
    for node in papers:
        linked = [(pos[nb], d["weight"]) for nb, d in adj[node].items() if nb in pos]
        if not linked:
            orphans.append(node)
            continue
        total = sum(max(w, 1e-6) for _, w in linked)
        x = sum(p[0] * max(w, 1e-6) for p, w in linked) / total
        y = sum(p[1] * max(w, 1e-6) for p, w in linked) / total
        angle, r = rng.uniform(0, 2 * math.pi), SPACING * (0.3 + 0.7 * rng.uniform())
        pos[node] = (x + r * math.cos(angle), y + r * math.sin(angle))
    if orphans:  # papers without concepts: a ring around the map
        extent = max((math.hypot(*p) for p in pos.values()), default=0.0) + 3 * SPACING
        for i, node in enumerate(orphans):
            angle = 2 * math.pi * i / len(orphans)
            pos[node] = (extent * math.cos(angle), extent * math.sin(angle))

    max_pr = max(a.pagerank.values(), default=1.0) or 1.0
    looks = {}
    for node, data in graph.nodes(data=True):
        cid = a.cluster_of.get(node, -1)
        if data["kind"] == CONCEPT:
            low, high = CONCEPT_SIZE
            size = low + (high - low) * math.sqrt(a.pagerank.get(node, 0.0) / max_pr)
        else:
            low, high = PAPER_SIZE
            nbrs = adj[node]  # its degree, a link to itself counted twice as networkx does
            size = low + (high - low) * min(1.0, (len(nbrs) + (node in nbrs)) / 20)
        x, y = pos[node]
        looks[node] = NodeLook(
            round(float(x), 2), round(float(y), 2), round(size, 2), cluster_color(cid), cid
        )
    discs = {
        cid: (round(x, 2), round(y, 2), round(radius[cid], 2)) for cid, (x, y) in centres.items()
    }
    return looks, discs


def _cluster_centres(
    graph: nx.Graph, cluster_of: dict[str, int], radius: dict[int, float], seed: int
) -> dict[int, tuple[float, float]]:
    """Cluster discs placed by their links, then pushed apart until none overlap."""
    import numpy as np

    ranked = sorted(radius, key=lambda c: (-radius[c], c))
    ids = sorted(ranked[:MAX_DISCS])
    if len(ids) <= 1:
        return _rows({cid: (0.0, 0.0) for cid in ids}, ranked[len(ids) :], radius)
    meta = nx.Graph()
    meta.add_nodes_from(ids)
    between: dict[tuple[int, int], float] = defaultdict(float)
    # networkx's own adjacency (each link seen from both ends, once kept): a big build has
    # millions of links, which the edge view's tuples would cost seconds to walk; the weights
    # are whole numbers, so the order of the sums does not matter
    for u, nbrs in graph._adj.items():
        cu = cluster_of.get(u, -1)
        if cu not in meta:
            continue
        for v, d in nbrs.items():
            if u < v and d["kind"] == "cooccurs":
                cv = cluster_of[v]
                if cv != cu and cv in meta:
                    between[min(cu, cv), max(cu, cv)] += d["weight"]
    meta.add_weighted_edges_from((u, v, w) for (u, v), w in sorted(between.items()))
    start = nx.spring_layout(meta, seed=seed, weight="weight", iterations=100)
    r = np.array([radius[c] for c in ids])
    xy = np.array([start[c] for c in ids], dtype=float) * math.sqrt((r**2).sum()) * 1.5
    pad = SPACING
    for _ in range(300):  # overlap removal: each pair of discs that overlaps is pushed apart
        delta = xy[:, None, :] - xy[None, :, :]
        dist = np.sqrt((delta**2).sum(-1)) + np.eye(len(ids))
        need = r[:, None] + r[None, :] + pad - dist
        np.fill_diagonal(need, 0.0)
        if need.max() <= 1e-6:
            break
        push = np.clip(need, 0.0, None) / dist / 2
        xy += (delta * push[..., None]).sum(1)
        xy *= 0.995  # a slight pull to the centre keeps the map compact
    placed = {cid: (float(x), float(y)) for cid, (x, y) in zip(ids, xy, strict=True)}
    return _rows(placed, ranked[len(ids) :], radius)


def _rows(
    placed: dict[int, tuple[float, float]], rest: list[int], radius: dict[int, float]
) -> dict[int, tuple[float, float]]:
    """The clusters beyond the ``MAX_DISCS`` largest (the small groups of concepts a big corpus
    has many of) in rows below the map, largest first: pushing tens of thousands of discs
    apart pair by pair would cost more than the rest of the build."""
    if not rest:
        return placed
    left = min((x - radius[c] for c, (x, _) in placed.items()), default=0.0)
    right = max((x + radius[c] for c, (x, _) in placed.items()), default=0.0)
    width = max(right - left, 40 * SPACING)
    y = max((y + radius[c] for c, (_, y) in placed.items()), default=0.0) + 2 * SPACING
    x, row = left, 0.0
    out = dict(placed)
    for cid in rest:
        d = 2 * radius[cid] + SPACING / 2
        if x + d > left + width:
            x, y, row = left, y + row, 0.0
        out[cid] = (x + d / 2, y + d / 2)
        x, row = x + d, max(row, d)
    return out


def _place_cluster(
    graph: nx.Graph,
    nodes: list[str],
    centre: tuple[float, float],
    radius: float,
    seed: int,
    rng: object,
    pos: dict[str, tuple[float, float]],
) -> None:
    """Force layout of the cluster's core concepts inside its disc; the rest by neighbours."""
    core = nodes[:CORE]
    if len(core) == 1:
        pos[core[0]] = centre
    else:
        sub = nx.Graph()
        sub.add_nodes_from(core)
        core_set = set(core)
        sub.add_weighted_edges_from(
            (u, v, math.log1p(d["weight"]))
            for u in core
            for v, d in graph[u].items()
            if v in core_set and u < v and d["kind"] == "cooccurs"
        )
        n = len(core)
        if sub.number_of_edges() == n * (n - 1) // 2:
            # every pair linked (most often the concepts of a single paper): the forces balance
            # on a regular polygon, placed directly (thousands of such clusters in a big build)
            placed = nx.circular_layout(sub, scale=radius * 0.68, center=centre)
        else:
            # spring_layout scales the largest coordinate to ``scale``: a corner of that
            # square is scale * sqrt(2) from the centre, still inside the disc
            placed = nx.spring_layout(
                sub, seed=seed, weight="weight", iterations=60, scale=radius * 0.68, center=centre
            )
        for node in core:
            x, y = placed[node]
            pos[node] = (float(x), float(y))
    members = set(nodes)
    adj = graph._adj
    for node in nodes[CORE:]:  # central first, so each can lean on those placed before it
        near = [pos[nb] for nb in adj[node] if nb in members and nb in pos]
        angle = rng.uniform(0, 2 * math.pi)  # type: ignore[attr-defined]
        if near:
            x = sum(p[0] for p in near) / len(near)
            y = sum(p[1] for p in near) / len(near)
            r = SPACING * (0.5 + rng.uniform())  # type: ignore[attr-defined]
        else:
            x, y = centre
            r = radius * 0.9 * math.sqrt(rng.uniform())  # type: ignore[attr-defined]
        x, y = x + r * math.cos(angle), y + r * math.sin(angle)
        off = math.hypot(x - centre[0], y - centre[1])
        if off > radius * 0.95:  # stay inside the cluster's disc
            x = centre[0] + (x - centre[0]) * radius * 0.95 / off
            y = centre[1] + (y - centre[1]) * radius * 0.95 / off
        pos[node] = (x, y)


def styled_graph(build: Build) -> nx.Graph:
    """The build's graph with cluster, centralities and the look as plain node attributes.

    Node attributes: ``label``, ``kind``, ``key``, ``cluster``, ``cluster_label``, ``degree``,
    ``pagerank``, ``betweenness``, ``color`` (``#rrggbb``), ``size``, ``x``, ``y`` (y grows
    downwards, as on screen).
    """
    from kg.export.graphml import annotated

    g = annotated(build)
    looks = node_looks(build)
    labels = build.analysis.cluster_labels
    for node, data in g.nodes(data=True):
        look = looks[node]
        data.update(
            cluster_label=labels.get(look.cluster, ""),
            color=look.color,
            size=look.size,
            x=look.x,
            y=look.y,
        )
    return g
