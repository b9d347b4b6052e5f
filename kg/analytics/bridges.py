"""Bridging concepts: the concepts whose links spread over several clusters.

The **participation coefficient** (Guimerà & Amaral 2005) of a concept is
``P = 1 - Σ_s (k_s / k)²``, where ``k_s`` is the co-occurrence weight of its links into cluster
``s`` and ``k`` its total: 0 when every link stays in one cluster, near 1 when the links are spread
evenly over many. Read it with the concept's betweenness (how many shortest paths cross it) and
its paper count: a bridge worth a look has all three well above the median.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

import networkx as nx
import pandas as pd


def participation(
    net: nx.Graph, cluster_of: Mapping[str, int], nodes: Iterable[str] | None = None
) -> dict[str, tuple[float, int]]:
    """Each node's participation coefficient and the number of clusters its links reach (of
    ``nodes``, all by default).

    >>> g = nx.Graph()
    >>> g.add_weighted_edges_from([("hub", "a", 1), ("hub", "b", 1), ("a", "a2", 1)])
    >>> participation(g, {"hub": 0, "a": 0, "a2": 0, "b": 1})["hub"]
    (0.5, 2)
    """
    result = {}
    adj = net._adj  # networkx's adjacency dict: its read-only views cost more than the loop
    for node in net if nodes is None else nodes:
        weights: dict[int, float] = defaultdict(float)
        for nb, w in adj[node].items():
            weights[cluster_of[nb]] += float(w.get("weight", 1))
        total = sum(weights.values())
        p = 1 - sum((w / total) ** 2 for w in weights.values()) if total else 0.0
        result[node] = (round(p, 6), len(weights))
    return result


def bridging_concepts(
    net: nx.Graph,
    cluster_of: Mapping[str, int],
    occurrences: Mapping[str, int],
    *,
    labels: Mapping[str, str] | None = None,
    betweenness: Mapping[str, float] | None = None,
    min_papers: int = 2,
) -> pd.DataFrame:
    """Concepts with links into more than one cluster, most spread first.

    Concepts with fewer than ``min_papers`` papers are left out (one paper's keyphrases all
    co-occur once, which says nothing about the field); ``occurrences`` gives the papers of
    every node of ``net``.

    >>> g = nx.Graph()
    >>> g.add_weighted_edges_from([("hub", "a", 1), ("hub", "b", 1), ("a", "a2", 1)])
    >>> occ = {"hub": 2, "a": 2, "a2": 1, "b": 1}
    >>> bridging_concepts(g, {"hub": 0, "a": 0, "a2": 0, "b": 1}, occ)[["node", "participation"]]
      node  participation
    0  hub            0.5
    """
    spread = participation(net, cluster_of, (n for n in net if occurrences[n] >= min_papers))
    rows = [
        {
            "concept": (labels or {}).get(node, node),
            "node": node,
            "cluster": cluster_of[node],
            "papers": int(occurrences[node]),
            "degree": net.degree(node),
            "clusters_linked": spread[node][1],
            "participation": spread[node][0],
            "betweenness": round(float((betweenness or {}).get(node, 0.0)), 6),
        }
        for node in sorted(spread)
        if spread[node][1] > 1
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "concept",
            "node",
            "cluster",
            "papers",
            "degree",
            "clusters_linked",
            "participation",
            "betweenness",
        ],
    )
    frame = frame.sort_values(
        ["participation", "papers", "node"], ascending=[False, False, True], kind="stable"
    )
    return frame.reset_index(drop=True)
