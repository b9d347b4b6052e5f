"""networkx's Louvain and betweenness, compiled: the same results as networkx's, faster.

On a big build the analysis stage clusters the concept network with Louvain five times (the
build's seed and the stability table's reruns) and samples its betweenness. networkx runs both
in pure Python over dicts of dicts: on the 45k default build's clustered network (54,449
concepts, 1.37M links) 55.8 CPU-s a Louvain run and 47.0 CPU-s for 16 betweenness pivots, most
of the analysis. Here the same algorithms run over arrays, their loops compiled with Numba
(4.6 and 2.6 CPU-s there), and give networkx's results because they repeat networkx's steps
exactly.

``louvain_communities``, networkx's partition, community for community and in its order:

- the graph networkx copies before the first level (``add_weighted_edges_from(G.edges)``),
  and each level's aggregate graph (``_gen_graph``), with the adjacency order networkx gives
  them: a node's neighbours in the order their link was first added;
- the seeded shuffle of each level's nodes (the same ``random.Random`` stream);
- for each node, its neighbour communities in the order networkx's ``defaultdict`` meets them
  (its own community last when no neighbour is in it), and the gain computed with the same
  floating-point operations in the same order, the first best kept;
- the modularity of each level's partition, summed in networkx's order, against the same
  threshold.

With integer weights (kg's co-occurrence counts) every sum is exact, so the partition is
networkx's. With fractional weights the degrees and gains are computed in networkx's order too;
only a community's inner weight, which networkx sums in the order of a set, may differ in its
last bit, which matters only where a level's modularity gain falls within rounding of the
threshold (tests compare both on random weighted graphs).

``betweenness_centrality``, networkx's values to the bit (unweighted, normalized, endpoints
excluded: what the analysis asks for): the same seeded sample of pivots, each one's
breadth-first search in the graph's adjacency order, path counts and dependencies summed in
Brandes' order as networkx sums them, and networkx's rescaling.

Directed graphs, multigraphs and unseeded runs go to networkx itself.

>>> g = nx.karate_club_graph()
>>> louvain_communities(g, seed=7) == nx.community.louvain_communities(g, seed=7)
True
>>> betweenness_centrality(g, k=10, seed=3) == nx.betweenness_centrality(g, k=10, seed=3)
True
"""

from __future__ import annotations

import math
import random
from collections.abc import Hashable
from itertools import chain
from operator import methodcaller
from typing import Any

import networkx as nx
import numpy as np
from numba import njit

__all__ = ["betweenness_centrality", "load", "louvain_communities"]


def louvain_communities(
    G: nx.Graph,
    *,
    weight: str | None = "weight",
    resolution: float = 1,
    threshold: float = 0.0000001,
    seed: int | None = None,
) -> list[set[Any]]:
    """``nx.community.louvain_communities(G, weight, resolution, threshold, seed)``: the same
    list of sets.

    >>> g = nx.Graph([(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3), (2, 3)])
    >>> louvain_communities(g, seed=1)
    [{0, 1, 2}, {3, 4, 5}]
    """
    if G.is_directed() or G.is_multigraph() or not isinstance(seed, int):
        return nx.community.louvain_communities(
            G, weight=weight, resolution=resolution, threshold=threshold, seed=seed
        )
    nodes = list(G)
    if not any(G._adj.values()):  # noqa: SLF001 - no edge: networkx's singletons
        return [{u} for u in nodes]
    indptr, indices, weights, exact = _adjacency(G, nodes, weight)
    if exact is None:  # integer weights too large for exact float products: networkx's ints
        return nx.community.louvain_communities(
            G, weight=weight, resolution=resolution, threshold=threshold, seed=seed
        )
    rng = random.Random(seed)  # networkx's py_random_state for an integer seed
    singletons = np.arange(len(nodes), dtype=np.int64)
    # networkx copies G before the first level, with the adjacency order of that copy
    level = _aggregate(indptr, indices, weights, singletons, len(nodes))
    members = singletons  # original node -> its node at this level
    m = _scalar(_sequential_sum(_degrees(*level)), exact) / 2  # networkx's graph.size(weight)
    mod = _modularity(indptr, indices, weights, singletons, resolution, exact)  # on G itself
    found: list[set[Any]] = []
    while True:
        order = list(range(len(level[0]) - 1))
        rng.shuffle(order)
        com, moved = _one_level(
            *level,
            np.asarray(order, dtype=np.int64),
            float(m),
            float(2 * m**2),
            float(resolution),
        )
        if found and not moved:  # networkx's ``while improvement``: the last level is kept
            return found
        com, k = _renumbered(com)
        members = com[members]
        found = _sets(nodes, members, k)
        new_mod = _modularity(*level, com, resolution, exact)
        if new_mod - mod <= threshold:
            return found
        mod = new_mod
        level = _aggregate(*level, com, k)


def betweenness_centrality(
    G: nx.Graph, *, k: int | None = None, seed: int | None = None
) -> dict[Any, float]:
    """``nx.betweenness_centrality(G, k=k, seed=seed)``: the same values (normalized,
    unweighted, endpoints excluded).

    >>> betweenness_centrality(nx.path_graph(4))
    {0: 0.0, 1: 0.6666666666666666, 2: 0.6666666666666666, 3: 0.0}
    """
    if G.is_directed() or G.is_multigraph() or (k is not None and not isinstance(seed, int)):
        return nx.betweenness_centrality(G, k=k, seed=seed)
    nodes = list(G)
    n = len(nodes)
    if k == n:  # networkx: the same result as every pivot
        k = None
    pivots = range(n) if k is None else random.Random(seed).sample(range(n), k)
    indptr, indices, _ = _structure(G, nodes)
    found = _brandes(indptr, indices, np.asarray(pivots, dtype=np.int64))
    big_n = n - 1  # networkx's _rescale: N, endpoints excluded
    if big_n >= 2:
        if k is None:
            scale = 1 / (big_n * (big_n - 1))
            if scale != 1:
                found *= scale
        else:  # the pivots themselves are scaled apart
            scales = np.full(n, 1 / (k * (big_n - 1)))
            scales[list(pivots)] = 1 / ((k - 1) * (big_n - 1)) if k > 1 else math.nan
            found *= scales
    return dict(zip(nodes, found.tolist(), strict=True))


def load() -> None:
    """Load the compiled code now (from Numba's cache; compiled the first time): called before
    forking, the processes share it instead of loading it each (some 120 MB apiece)."""
    g = nx.karate_club_graph()
    louvain_communities(g, seed=0)
    betweenness_centrality(g, k=2, seed=0)


def _structure(G: nx.Graph, nodes: list[Hashable]) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """``G``'s links as CSR arrays, each row in ``G``'s adjacency order, and its adjacency
    dicts in ``nodes``' order."""
    index = {u: i for i, u in enumerate(nodes)}
    rows = [G._adj[u] for u in nodes]  # noqa: SLF001 - networkx's adjacency dicts, not views
    indptr = np.zeros(len(nodes) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, rows), dtype=np.int64, count=len(rows)), out=indptr[1:])
    indices = np.fromiter(
        map(index.__getitem__, chain.from_iterable(rows)), dtype=np.int64, count=int(indptr[-1])
    )
    return indptr, indices, rows


def _adjacency(
    G: nx.Graph, nodes: list[Hashable], weight: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool | None]:
    """``G``'s weighted links (``_structure``), and whether every weight is an integer
    (Python's sums and products of them are then exact, and so are ours): None where they
    are, but some product of sums would not fit a float exactly."""
    indptr, indices, rows = _structure(G, nodes)
    nnz = len(indices)
    data = chain.from_iterable(map(dict.values, rows))
    raw = [1] * nnz if weight is None else list(map(methodcaller("get", weight, 1), data))
    integers = set(map(type, raw)) <= {int, bool}
    weights = np.asarray(raw, dtype=np.float64)
    if integers and float(np.abs(weights).sum()) ** 2 >= 2**53:
        return indptr, indices, weights, None  # a product of two sums could round
    return indptr, indices, weights, integers


def _scalar(value: float, exact: bool) -> float | int:
    """A sum as Python holds it: an int where the weights are ints."""
    return int(value) if exact else float(value)


def _aggregate(
    indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, com: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The graph networkx's ``_gen_graph`` makes of a level's communities ``com`` (node ->
    0..k-1): one node per community, its links added in the order of the level's
    ``G.edges(data=True)`` (node by node, each link once, from its first end), weights summed
    in that order. A node's neighbours come in the order their link was first added. With
    ``com`` the identity, the copy networkx makes of the graph before the first level."""
    n = len(indptr) - 1
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    first = indices >= rows  # G.edges: each link from the end met first (self-loops once)
    a, b = com[rows[first]], com[indices[first]]
    w = weights[first]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keys = lo * k + hi
    pairs, at, pair_of = np.unique(keys, return_index=True, return_inverse=True)
    summed = _ordered_sums(pair_of.astype(np.int64), w, len(pairs))
    plo, phi = pairs // k, pairs % k
    loop = plo == phi
    # each link sits in both ends' rows (a self-loop once), ordered by when it was first added
    end = np.concatenate([plo, phi[~loop]])
    other = np.concatenate([phi, plo[~loop]])
    when = np.concatenate([at, at[~loop]])
    wt = np.concatenate([summed, summed[~loop]])
    by = np.lexsort((when, end))
    out_ptr = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(np.bincount(end, minlength=k), out=out_ptr[1:])
    return out_ptr, other[by], wt[by]


def _sets(nodes: list[Hashable], members: np.ndarray, k: int) -> list[set[Any]]:
    groups: list[set[Any]] = [set() for _ in range(k)]
    for node, c in zip(nodes, members.tolist(), strict=True):
        groups[c].add(node)
    return groups


def _renumbered(com: np.ndarray) -> tuple[np.ndarray, int]:
    """Communities numbered 0..k-1 in the order of their old numbers (networkx's
    ``filter(len, partition)``)."""
    used, new = np.unique(com, return_inverse=True)
    return new.astype(np.int64), len(used)


@njit(cache=True)
def _ordered_sums(group: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    """Per group, its values summed in the order given (``wt + temp``, as networkx adds them)."""
    out = np.zeros(k)
    for i in range(len(group)):
        out[group[i]] = values[i] + out[group[i]]
    return out


@njit(cache=True)
def _degrees(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """networkx's weighted degree: the row's weights summed in order, a self-loop's again."""
    n = len(indptr) - 1
    out = np.zeros(n)
    for u in range(n):
        acc = 0.0
        loop = 0.0
        for p in range(indptr[u], indptr[u + 1]):
            acc += weights[p]
            if indices[p] == u:
                loop = weights[p]
        out[u] = acc + loop
    return out


@njit(cache=True)
def _sequential_sum(values: np.ndarray) -> float:
    acc = 0.0
    for v in values:
        acc += v
    return acc


@njit(cache=True)
def _one_level(  # noqa: PLR0913 - the level's arrays and networkx's constants
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    order: np.ndarray,
    m: float,
    two_m2: float,
    resolution: float,
) -> tuple[np.ndarray, bool]:
    """networkx's ``_one_level``: each node, in the shuffled ``order``, moves to the neighbour
    community of the best modularity gain, until a pass moves none. Returns each node's
    community (a node number) and whether any node moved."""
    n = len(indptr) - 1
    degree = _degrees(indptr, indices, weights)
    stot = degree.copy()
    node2com = np.arange(n)
    acc = np.zeros(n)  # weight to each neighbour community, for the node being moved
    seen = np.zeros(n, dtype=np.bool_)
    met = np.empty(n, dtype=np.int64)  # those communities, in the order first met
    improvement = False
    moves = 1
    while moves > 0:
        moves = 0
        for u in order:
            own = node2com[u]
            count = 0
            for p in range(indptr[u], indptr[u + 1]):
                v = indices[p]
                if v == u:
                    continue
                c = node2com[v]
                if not seen[c]:
                    seen[c] = True
                    acc[c] = 0.0
                    met[count] = c
                    count += 1
                acc[c] += weights[p]
            if not seen[own]:  # networkx's defaultdict adds it, last, on reading it
                seen[own] = True
                acc[own] = 0.0
                met[count] = own
                count += 1
            d = degree[u]
            best_mod = 0.0
            best_com = own
            stot[own] -= d
            remove_cost = -acc[own] / m + resolution * (stot[own] * d) / two_m2
            for i in range(count):
                c = met[i]
                gain = remove_cost + acc[c] / m - resolution * (stot[c] * d) / two_m2
                if gain > best_mod:
                    best_mod = gain
                    best_com = c
            stot[best_com] += d
            for i in range(count):
                seen[met[i]] = False
            if best_com != own:
                improvement = True
                moves += 1
                node2com[u] = best_com
    return node2com, improvement


def _modularity(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    com: np.ndarray,
    resolution: float,
    exact: bool,
) -> float:
    """``nx.community.modularity`` of the partition ``com`` (node -> 0..k-1, in the order of
    networkx's list of sets), its terms computed and summed in networkx's order."""
    degree = _degrees(indptr, indices, weights)
    deg_sum = _scalar(_sequential_sum(degree), exact)
    m = deg_sum / 2
    norm = 1 / deg_sum**2
    inside, total = _community_sums(indptr, indices, weights, com, degree)
    return _contributions(inside, total, float(m), float(resolution), float(norm))


@njit(cache=True)
def _community_sums(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    com: np.ndarray,
    degree: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per community, the weight of its inner links (each once) and its degrees' sum."""
    k = com.max() + 1 if len(com) else 0
    inside = np.zeros(k)
    total = np.zeros(k)
    for u in range(len(indptr) - 1):
        total[com[u]] += degree[u]
        for p in range(indptr[u], indptr[u + 1]):
            v = indices[p]
            if v >= u and com[v] == com[u]:
                inside[com[u]] += weights[p]
    return inside, total


@njit(cache=True)
def _contributions(
    inside: np.ndarray, total: np.ndarray, m: float, resolution: float, norm: float
) -> float:
    acc = 0.0
    for c in range(len(inside)):
        acc += inside[c] / m - resolution * total[c] * total[c] * norm
    return acc


@njit(cache=True)
def _brandes(indptr: np.ndarray, indices: np.ndarray, pivots: np.ndarray) -> np.ndarray:
    """networkx's ``_single_source_shortest_path_basic`` and ``_accumulate_basic`` from each
    pivot in turn: the unscaled betweenness. A node's predecessors are its neighbours one step
    nearer the pivot; the order in which one node's predecessors are credited does not change
    any sum, since each predecessor gets one term from it."""
    n = len(indptr) - 1
    betweenness = np.zeros(n)
    sigma = np.zeros(n)
    delta = np.zeros(n)
    dist = np.full(n, -1, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)  # networkx's S: the nodes in the order reached
    for s in pivots:
        sigma[s] = 1.0
        dist[s] = 0
        order[0] = s
        head, tail = 0, 1
        while head < tail:
            v = order[head]
            head += 1
            dv = dist[v]
            sv = sigma[v]
            for p in range(indptr[v], indptr[v + 1]):
                w = indices[p]
                if dist[w] < 0:
                    order[tail] = w
                    tail += 1
                    dist[w] = dv + 1
                if dist[w] == dv + 1:
                    sigma[w] += sv
        for i in range(tail - 1, -1, -1):
            w = order[i]
            coeff = (1.0 + delta[w]) / sigma[w]
            dw = dist[w]
            for p in range(indptr[w], indptr[w + 1]):
                v = indices[p]
                if dist[v] == dw - 1:
                    delta[v] += sigma[v] * coeff
            if w != s:
                betweenness[w] += delta[w]
        for i in range(tail):
            w = order[i]
            sigma[w] = 0.0
            delta[w] = 0.0
            dist[w] = -1
    return betweenness
