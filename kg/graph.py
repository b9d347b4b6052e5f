"""Graph: papers, concepts and mentions as one networkx graph.

Nodes are ``paper:<key>`` and ``concept:<key>``; a paper–concept edge (``kind="mentions"``)
carries the KeyBERT score, a concept–concept edge (``kind="cooccurs"``) the number of papers
that mention both. Nodes and edges are added in sorted order so every export is deterministic.

Edges of the same kind and weight share one attribute dict (the graph's largest part): the
co-occurrence edges of one count, the mention edges of one score (KeyBERT's scores, rounded to
four places, take a few thousand values). Copy the graph (``graph.copy()``) before changing an
edge's attributes in place.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import networkx as nx

from kg.link import Linked
from kg.model import Mention, Paper

PAPER = "paper"
CONCEPT = "concept"
WEIGHTS = "weights"
"""The key of ``graph_and_network``'s concept network's weighted adjacency matrix, in its
``graph`` attribute dict: a SciPy CSR matrix in the network's node order (what
``nx.to_scipy_sparse_array`` of the network gives, in 21 s on the 45k default build's network,
and ``weight_matrix`` in 11 s; here it comes with the co-occurrence counts)."""


class Network(nx.Graph):
    """A concept co-occurrence network: a networkx ``Graph`` whose edges added by
    ``add_weighted_edges_from`` share one attribute dict per weight, as the build's own
    co-occurrence edges do (``_add_cooccurrences``).

    networkx's Louvain copies the network it is given that way (a graph of the same class,
    ``add_weighted_edges_from``) before its first level, a dict per link in a plain ``Graph``:
    on the 45k default build's clustered network (54,028 concepts, 1.34M links) a run took
    286 MiB more than the network, shared 115 MiB (77 s, not 92), with the same partition. The
    build makes five runs, two at a time: from the full cache, back to back, its peak fell from
    4,040 to 3,594 MiB and its analysis from 210.8 to 171.3 s, every file identical.
    An edge already there gets a new dict, so a shared one is never changed.
    (Since then Louvain on a network of ``kg.analyse.COMPILED_EDGES`` links or more runs
    compiled, ``kg.compiled``, and copies no graph; networkx's runs on smaller ones.)
    """

    def add_weighted_edges_from(
        self, ebunch_to_add: Iterable[tuple[Any, Any, Any]], weight: str = "weight", **attr: Any
    ) -> None:
        if attr:
            super().add_weighted_edges_from(ebunch_to_add, weight, **attr)
            return
        adj, nodes = self._adj, self._node  # networkx's: {node: {neighbour: data}}, {node: data}
        shared: dict[tuple[type, Any, float], dict[str, Any]] = {}
        for u, v, w in ebunch_to_add:
            for node in (u, v):
                if node not in nodes:
                    if node is None:
                        raise ValueError("None cannot be a node")
                    adj[node] = self.adjlist_inner_dict_factory()
                    nodes[node] = self.node_attr_dict_factory()
            old = adj[u].get(v)
            data: dict[str, Any]
            if old is not None:
                data = {**old, weight: w}
            elif type(w) in (int, float):  # 1 and 1.0, 0.0 and -0.0 are equal keys, not one value
                key = (type(w), w, math.copysign(1.0, w))
                found = shared.get(key)
                if found is None:
                    found = shared[key] = {weight: w}
                data = found
            else:
                data = {weight: w}
            adj[u][v] = adj[v][u] = data
        nx._clear_cache(self)


def paper_node(key: str) -> str:
    return f"paper:{key}"


def concept_node(key: str) -> str:
    return f"concept:{key}"


def build_graph(papers: Sequence[Paper], linked: Linked) -> nx.Graph:
    """The knowledge graph as networkx sees it.

    >>> from kg.model import Concept, Mention, Paper, Source
    >>> p = Paper("p1", "p1", "A title", "", Source("f", "line 1"))
    >>> linked = Linked([Concept("graph", "graph")], [Mention("p1", "graph", 0.5, "graph", 0, 5)])
    >>> sorted(build_graph([p], linked).edges(data="weight"))
    [('paper:p1', 'concept:graph', 0.5)]
    """
    return graph_and_network(papers, linked)[0]


def graph_and_network(papers: Sequence[Paper], linked: Linked) -> tuple[nx.Graph, Network]:
    """The knowledge graph and its concept network (what ``concept_network`` of the graph
    gives, in the same order), made together: the build's analysis then need not walk the
    graph's millions of links to find the network in it. Every mention's concept must be one of
    ``linked.concepts``, as ``link_concepts`` makes them. When every concept is mentioned, the
    network keeps its weighted adjacency matrix as ``net.graph[WEIGHTS]`` (PageRank's)."""
    graph, net = nx.Graph(), Network()
    for paper in sorted(papers, key=lambda p: p.key):
        graph.add_node(
            paper_node(paper.key),
            kind=PAPER,
            label=paper.title or paper.abstract[:80],
            key=paper.key,
        )
    for concept in sorted(linked.concepts, key=lambda c: c.key):
        for g in (graph, net):
            g.add_node(
                concept_node(concept.key), kind=CONCEPT, label=concept.pref_label, key=concept.key
            )
    _add_mentions(graph, linked.mentions)
    keys, counts = _add_cooccurrences(graph, net, linked.mentions)
    if len(keys) == net.number_of_nodes():  # every concept mentioned: the matrix is in net's order
        from scipy import sparse

        weights = sparse.csr_array(counts + counts.T, dtype=float)
        weights.sum_duplicates()  # each row's columns sorted
        net.graph[WEIGHTS] = weights
    return graph, net


def _add_mentions(graph: nx.Graph, mentions: Sequence[Mention]) -> None:
    """A ``mentions`` edge from each paper to each concept it mentions, weighted by the score,
    in sorted order of the two keys. The edges of one score share one attribute dict, as the
    co-occurrence edges of one count do: the 45k default build's 662,307 mentions have 7,169
    scores (a dict each: 123 MiB more, with the network). Both nodes must be in ``graph``."""
    shared: dict[tuple[float, float], dict[str, object]] = {}
    adj = graph._adj  # networkx's adjacency: {node: {neighbour: data}}
    for m in sorted(mentions, key=lambda m: (m.paper_key, m.concept_key)):
        score = m.score
        key = (score, math.copysign(1.0, score))  # 0.0 and -0.0 are equal keys, not one value
        data = shared.get(key)
        if data is None:
            data = shared[key] = {"kind": "mentions", "weight": score}
        u, v = paper_node(m.paper_key), concept_node(m.concept_key)
        adj[u][v] = adj[v][u] = data


def _add_cooccurrences(
    graph: nx.Graph, net: nx.Graph, mentions: Sequence[Mention]
) -> tuple[list[str], Any]:
    """A ``cooccurs`` edge between every two concepts of a paper, weighted by their papers, added
    in sorted order of the two keys, to the graph and to the concept network ``net``.

    The counts come from a sparse product (papers x concepts, transposed, times itself), not
    from a table of pairs: the 45k corpus has 4.5M pairs, whose tuples took ~700 MB. Nearly every
    pair (99.6 % there) meets in one paper: the edges of one count share one attribute dict, as
    networkx allows, instead of a dict each (~400 MB more).

    Returns the keys of the mentioned concepts, sorted, and the counts among them (the upper
    triangle of a sparse matrix)."""
    import numpy as np
    from scipy import sparse

    keys = sorted({m.concept_key for m in mentions})
    column = {k: i for i, k in enumerate(keys)}
    pairs = sorted({(m.paper_key, column[m.concept_key]) for m in mentions})
    row = {p: i for i, p in enumerate(dict.fromkeys(p for p, _ in pairs))}
    incidence = sparse.csr_matrix(
        (
            np.ones(len(pairs), dtype=np.int32),
            ([row[p] for p, _ in pairs], [c for _, c in pairs]),
        ),
        shape=(len(row), len(keys)),
    )
    counts = sparse.triu(incidence.T @ incidence, k=1, format="csr")
    counts.sort_indices()  # row by row, columns ascending: the sorted order of the key pairs
    nodes = [concept_node(k) for k in keys]
    shared: dict[int, dict[str, object]] = {}
    # networkx's adjacency: {node: {neighbour: data}}
    rows = [graph._adj[u] for u in nodes]
    net_rows = [net._adj[u] for u in nodes]
    indptr, indices, data = (a.tolist() for a in (counts.indptr, counts.indices, counts.data))
    for a in range(len(keys)):
        u, row, net_row = nodes[a], rows[a], net_rows[a]
        lo, hi = indptr[a], indptr[a + 1]
        for b, count in zip(indices[lo:hi], data[lo:hi], strict=True):
            shared_data = shared.get(count)
            if shared_data is None:
                shared_data = shared[count] = {"kind": "cooccurs", "weight": count}
            v = nodes[b]
            row[v] = rows[b][u] = net_row[v] = net_rows[b][u] = shared_data
    return keys, counts


def concept_network(graph: nx.Graph) -> Network:
    """The concept co-occurrence network (concept nodes, ``cooccurs`` edges).

    The network shares each edge's attribute dict with ``graph`` (it is the largest part of a
    big build, and a copy would double it): change a weight here and it changes there too.
    """
    net = Network()
    concepts = [n for n, d in graph.nodes(data=True) if d["kind"] == CONCEPT]
    net.add_nodes_from((n, graph.nodes[n]) for n in concepts)
    source, target = graph._adj, net._adj  # networkx's adjacency: {node: {neighbour: data}}
    for node in concepts:  # each row a plain dict, as networkx makes them, in the graph's order
        target[node] = {nb: data for nb, data in source[node].items() if data["kind"] == "cooccurs"}
    return net


def induced_network(net: nx.Graph, nodes: Iterable[str]) -> Network:
    """The part of ``net`` on ``nodes``, as a graph of its own whose nodes and adjacency follow
    ``net``'s order, whatever the order of ``nodes``, sharing ``net``'s edge attribute dicts (as
    ``concept_network`` does).

    Not ``net.subgraph(nodes).copy()``: that walks a node set smaller than half the graph in
    the set's order, which for strings changes from one process to the next (their hashes are
    salted), and Louvain with the same seed then finds other clusters.
    """
    keep = set(nodes)
    sub = Network()
    sub.add_nodes_from((n, net.nodes[n]) for n in net if n in keep)
    # networkx's adjacency dicts, {node: {neighbour: data}}: its views cost seconds here
    source, target = net._adj, sub._adj
    for node in sub:
        row = target[node]
        for nb, data in source[node].items():
            if nb in keep:
                row[nb] = data
    return sub


def weight_matrix(net: nx.Graph) -> Any:
    """The weighted adjacency matrix of ``net`` in its node order (SciPy CSR, each row's
    columns sorted), as ``nx.to_scipy_sparse_array`` makes it."""
    import numpy as np
    from scipy import sparse

    n = len(net)
    rows = net._adj.values()  # networkx's adjacency dicts, {node: {neighbour: data}}
    index = {node: i for i, node in enumerate(net)}
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, rows), dtype=np.int64, count=n), out=indptr[1:])
    nnz = int(indptr[-1])
    columns = np.fromiter((index[v] for row in rows for v in row), dtype=np.int64, count=nnz)
    weights = np.fromiter(
        (d.get("weight", 1) for row in rows for d in row.values()), dtype=float, count=nnz
    )
    a = sparse.csr_array((weights, columns, indptr), shape=(n, n))
    a.sum_duplicates()  # sorted columns in each row, as networkx's matrix has them
    return a
