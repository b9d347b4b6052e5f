"""The thematic map of clusters: Callon centrality × density, with bibliometrix's quadrants.

Links between two concepts are weighted by the equivalence index ``e_ij = c_ij² / (c_i · c_j)``
(``c_ij`` papers that mention both, ``c_i`` papers that mention ``i``), which does not favour
frequent concepts. For a cluster (a theme):

- **centrality** (Callon) = 10 × the sum of ``e_ij`` over links from the cluster's concepts to
  other clusters: how strongly the theme is tied to the rest of the field;
- **density** (Callon) = 100 × the sum of ``e_ij`` over links inside the cluster, divided by the
  number of its concepts: how developed (cohesive) the theme is internally.

Themes are then split at the median centrality and median density (bibliometrix); a theme
exactly at a median counts as low, so that themes tied at zero centrality (disconnected
components of the network) are all peripheral:

| quadrant | centrality | density | reads as |
|---|---|---|---|
| motor | high | high | developed and central: drives the field |
| basic | high | low | central but generic: transversal, foundational |
| niche | low | high | well developed, peripheral: specialised |
| emerging or declining | low | low | weak and marginal: new, or fading |
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import networkx as nx
import numpy as np
import pandas as pd

QUADRANTS = ("motor", "basic", "niche", "emerging or declining")


def quadrant(
    centrality: float, density: float, *, centrality_cut: float, density_cut: float
) -> str:
    """The bibliometrix quadrant of a theme, given where the axes cross.

    >>> quadrant(2.0, 5.0, centrality_cut=1.0, density_cut=1.0)
    'motor'
    >>> quadrant(0.5, 0.5, centrality_cut=1.0, density_cut=1.0)
    'emerging or declining'
    """
    central = centrality > centrality_cut
    dense = density > density_cut
    if central:
        return "motor" if dense else "basic"
    return "niche" if dense else "emerging or declining"


def thematic_map(
    net: nx.Graph,
    cluster_of: Mapping[str, int],
    occurrences: Mapping[str, int],
    *,
    labels: Mapping[int, str] | None = None,
    min_papers: int = 2,
    min_concepts: int = 1,
) -> pd.DataFrame:
    """Callon centrality and density of each cluster, and its quadrant.

    ``net`` is the concept co-occurrence network (``weight`` = papers in common),
    ``cluster_of`` maps its nodes to clusters, ``occurrences`` gives each node's paper count.
    As in bibliometrix, only concepts with at least ``min_papers`` papers count (the
    keyphrases of a single paper form a clique that would look like a perfectly dense theme);
    clusters left with fewer than ``min_concepts`` such concepts are left out of the map (and
    of the medians that split it). ``concepts`` counts the concepts that count.

    >>> g = nx.Graph()
    >>> g.add_weighted_edges_from([("a", "b", 2), ("c", "d", 1), ("b", "c", 1)])
    >>> occ = {"a": 2, "b": 3, "c": 2, "d": 1}
    >>> tm = thematic_map(g, {"a": 0, "b": 0, "c": 1, "d": 1}, occ, min_papers=1)
    >>> tm[["cluster", "concepts", "centrality", "density"]].round(3)
       cluster  concepts  centrality  density
    0        0         2       1.667   33.333
    1        1         2       1.667   25.000
    """
    counted = {n for n in net if n in cluster_of and occurrences[n] >= min_papers}
    members: dict[int, list[str]] = defaultdict(list)
    for node in counted:
        members[cluster_of[node]].append(node)
    inside: dict[int, float] = defaultdict(float)
    outside: dict[int, float] = defaultdict(float)
    # each link among counted concepts once, in the order of ``net.edges`` (the sums' order):
    # from the first of its two ends in the network's order, through its adjacency dicts
    adj, done = net._adj, set()
    for a in net:
        if a not in counted:
            continue
        for b, data in adj[a].items():
            if b not in counted or b in done:
                continue
            e = float(data.get("weight", 1)) ** 2 / (occurrences[a] * occurrences[b])
            ca, cb = cluster_of[a], cluster_of[b]
            if ca == cb:
                inside[ca] += e
            else:
                outside[ca] += e
                outside[cb] += e
        done.add(a)
    rows = [
        {
            "cluster": cid,
            "label": (labels or {}).get(cid, ""),
            "concepts": len(nodes),
            "papers_mentioning": int(sum(occurrences[n] for n in nodes)),
            "centrality": round(10 * outside[cid], 6),
            "density": round(100 * inside[cid] / len(nodes), 6),
        }
        for cid, nodes in sorted(members.items())
        if len(nodes) >= min_concepts
    ]
    frame = pd.DataFrame(
        rows, columns=["cluster", "label", "concepts", "papers_mentioning", "centrality", "density"]
    )
    if frame.empty:
        frame["quadrant"] = pd.Series(dtype=str)
        return frame
    c_cut = float(np.median(frame["centrality"]))
    d_cut = float(np.median(frame["density"]))
    frame["quadrant"] = [
        quadrant(c, d, centrality_cut=c_cut, density_cut=d_cut)
        for c, d in zip(frame["centrality"], frame["density"], strict=True)
    ]
    return frame.reset_index(drop=True)
