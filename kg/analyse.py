"""Analyse: clusters of concepts (Louvain, seeded) and centralities, with readable cluster labels.

Everything is computed on the concept co-occurrence network, the map of a field that
bibliometric tools (VOSviewer, CiteSpace) draw; each paper then joins the cluster that holds
most of its mention weight.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import networkx as nx

from kg.config import Config
from kg.graph import PAPER, WEIGHTS, concept_network, induced_network, weight_matrix
from kg.parallel import Shared, can_fork, cores, forked

LABEL_TERMS = 3
BETWEENNESS_BUDGET = 10_000_000
"""Pivots x edges that sampled betweenness may cost (each pivot is one breadth-first search):
some 14 s of networkx on one core (0.7M edges a second), whatever the size of the graph."""
COMPILED_BETWEENNESS_BUDGET = 250_000_000
"""The same budget where betweenness runs compiled (``COMPILED_EDGES``): some 7.5 s on one
core, in the forked process beside Louvain and the drawings' layout (the 45k fast build's
network of the concepts of two or more papers, 251,897 links: 992 pivots; 1,000 took 7.6 s;
the default build's 1.37M links: 182). Against the exact betweenness of that fast network
(34,182 concepts, every one a pivot: 258 s), 1,000 pivots find 87 of its 100 most between
concepts and 39, as the budget above gave, 54; the median relative error of its 1,000 most
between falls from 0.50 to 0.32."""
MIN_PIVOTS = 16
"""Fewest pivots sampled, even over the budget: on the 45k default build (1.3M edges among the
concepts of two or more papers) 16 pivots take 23 s, 64 took 122 s."""
FORK_EDGES = 50_000
"""Co-occurrence edges from which betweenness runs in a forked process beside the rest."""
RERUNS_PER_WORKER = 3
"""Louvain reruns per forked process beside a big analysis (on two cores: three, shared by the
process of PageRank and betweenness and the build process once it has laid out). Making all
four there, the 45k fast build's analysis took 51.0-60.9 s in four runs, against 45.5-53.0 s
with three in the runs beside them (three processes then)."""
COMPILED_EDGES = 50_000
"""Links from which Louvain and betweenness run compiled (``kg.compiled``: networkx's results;
Louvain 12-13x faster on the 45k builds' clustered networks). Below, networkx's own take a
second or so, and the compiled ones would cost their imports (0.6 s) and loading their
compiled code (0.4 s; some 5 s to compile it the first time)."""
STABILITY_RUNS = 5
"""Louvain runs the stability analytics compare: the build's seed and the next
``STABILITY_RUNS - 1`` (``rerun_seeds``)."""


@dataclass
class Analysis:
    cluster_of: dict[str, int]  # node -> cluster id (0 = largest cluster)
    cluster_labels: dict[int, str]
    degree: dict[str, int]
    pagerank: dict[str, float]
    betweenness: dict[str, float]
    modularity: float
    notes: dict[str, object] = field(default_factory=dict)
    network: nx.Graph | None = field(default=None, compare=False, repr=False)
    """The concept co-occurrence network the analysis ran on (kept so later stages need not
    copy it again: on a big corpus it is the largest object of a build)."""
    reruns: dict[int, dict[str, int]] = field(default_factory=dict, compare=False, repr=False)
    """Louvain partitions of the clustered network for further seeds (``stability_seeds``: the
    stability analytics' reruns), made beside the analysis on a big network; seed -> ``louvain``
    partition."""


def checked_backend(name: str | None) -> str | None:
    """``name`` as a networkx backend to dispatch to: None for networkx itself, else an
    installed backend that loads (one built for another networkx fails on import: said now,
    before any work starts)."""
    if not name or name == "networkx":
        return None
    from importlib.metadata import entry_points

    from kg.errors import ConfigError

    found = {ep.name: ep for ep in entry_points(group="networkx.backends")}
    if name not in found:
        raise ConfigError(
            f"--graph-backend {name!r} is not installed; installed: "
            f"{', '.join(['networkx', *sorted(found)])}"
        )
    try:
        found[name].load()
    except Exception as exc:  # noqa: BLE001 - whatever its import raises, said as it is
        raise ConfigError(
            f"--graph-backend {name!r} is installed but does not load with networkx "
            f"{nx.__version__}: {type(exc).__name__}: {exc}"
        ) from exc
    return name


@dataclass
class Dispatch:
    """networkx's algorithms run on ``backend`` (networkx's dispatch) where it takes them, else
    on networkx; with a backend asked for, which ran each, and why a backend declined one."""

    backend: str | None
    ran: dict[str, str] = field(default_factory=dict)  # algorithm -> the backend, or "networkx"
    declined: dict[str, str] = field(default_factory=dict)  # algorithm -> the backend's reason

    def __call__(
        self, algorithm: Any, *args: Any, otherwise: Callable[[], Any] | None = None, **kwargs: Any
    ) -> Any:
        """``algorithm(*args, **kwargs)`` on the backend; where the backend lacks it or refuses
        these arguments (networkx raises ``NotImplementedError`` before converting anything), on
        networkx, or ``otherwise()``: kg's own equivalent."""
        if self.backend is not None:
            try:
                result = algorithm(*args, backend=self.backend, **kwargs)
            except NotImplementedError as exc:
                self.ran[algorithm.name] = "networkx"
                # networkx's first sentence, then the backend's own reason where it gave one
                why = [str(exc).split(". ")[0], *([str(exc.__cause__)] if exc.__cause__ else [])]
                self.declined[algorithm.name] = ": ".join(why)
            else:
                self.ran[algorithm.name] = self.backend
                return result
        return otherwise() if otherwise is not None else algorithm(*args, **kwargs)

    def notes(self) -> dict[str, object]:
        """What ``build.json`` says of it (nothing without a backend)."""
        if self.backend is None:
            return {}
        notes: dict[str, object] = {"graph_backend_algorithms": dict(sorted(self.ran.items()))}
        if self.declined:
            notes["graph_backend_declined"] = dict(sorted(self.declined.items()))
        return notes


def analyse(
    graph: nx.Graph,
    *,
    config: Config = Config(),
    backend: str | None = None,
    stability_seeds: Sequence[int] = (),
    meanwhile: Callable[[Analysis], None] | None = None,
    network: nx.Graph | None = None,
) -> Analysis:
    """Communities and centralities; deterministic for a given ``config.seed``.

    ``backend``: a networkx backend (dispatch) for Louvain, PageRank and betweenness, each run on
    it where it takes them, else on networkx (``Dispatch``); ``notes["graph_backend_algorithms"]``
    says which ran where. Results differ from networkx's as much as the backend's algorithms do.
    ``stability_seeds``: on a big network, Louvain is also run with the first of these seeds
    (what the stability analytics compare), into ``Analysis.reruns``: as many as the forked
    processes beside the rest make in its time (``RERUNS_PER_WORKER``), helped, with every core
    busy, by this process once its own work (and ``meanwhile``) is done, each process taking the
    next seed left.
    ``meanwhile``: called with the analysis as soon as its clusters and PageRank are known,
    betweenness still empty: what it does (the drawings' layout, in a build) runs while a big
    network's betweenness is computed in its forked process. Not called when the graph has no
    concept.
    ``network``: the concept network of ``graph`` (``concept_network``), where it was made
    already (``kg.graph.graph_and_network``).

    >>> from kg.graph import build_graph
    >>> g = nx.Graph()
    >>> g.add_node("concept:a", kind="concept", label="a")
    >>> analyse(g).cluster_labels
    {0: 'a'}
    """
    net = concept_network(graph) if network is None else network
    notes: dict[str, object] = {
        "concept_nodes": net.number_of_nodes(),
        "cooccurrence_edges": net.number_of_edges(),
    }
    if net.number_of_nodes() == 0:
        return Analysis({}, {}, {}, {}, {}, 0.0, notes)

    dispatch = Dispatch(checked_backend(backend))
    if dispatch.backend is not None:
        notes["graph_backend"] = dispatch.backend
    # a concept's neighbours are its papers and the concepts it co-occurs with
    links, cooccurs = graph._adj, net._adj  # networkx's adjacency dicts, without views
    papers = {n: len(links[n]) - len(cooccurs[n]) for n in net}
    clustered = clustering_network(net, papers, config=config)

    def betweenness() -> tuple[dict[str, float], str]:
        return _betweenness(
            net,
            papers,
            config=config,
            dispatch=dispatch,
            core=None if clustered is net else clustered,
        )

    def ranks() -> dict[str, float]:
        if not net.size():
            return {n: 1 / len(net) for n in net}
        found = dispatch(nx.pagerank, net, weight="weight", otherwise=partial(_pagerank, net))
        return found if isinstance(found, dict) else dict(found)  # a backend's mapping

    # on a big graph betweenness and PageRank run in forked processes meanwhile; then those
    # processes make as many reruns as fit in the analysis's time (on two cores: three; the
    # analytics export makes the other), and, with every core busy, this one too once its own
    # work is done (each takes the next seed left: more processes than cores only take memory;
    # 45k default build, back to back: three, 5,435 MiB at the analysis's peak; two, 4,392
    # MiB); where nothing forks, none. Nothing forks beside a backend (a GPU's CUDA state does
    # not survive a fork)
    big = net.size() >= FORK_EDGES and dispatch.backend is None
    wanted = list(stability_seeds)[: RERUNS_PER_WORKER * max(1, cores() - 2)]
    seeds = Shared(wanted if big and can_fork() and cores() > 1 else ())
    workers = min(max(1, cores() - 1), 1 + -(-len(seeds.items) // RERUNS_PER_WORKER))

    def reruns_taken() -> dict[int, dict[str, int]]:
        return {s: louvain(clustered, seed=s, resolution=config.resolution) for s in seeds}

    # PageRank first: ``meanwhile`` needs it, and runs while betweenness is computed
    side: list[Callable[[], object]] = (
        [ranks, betweenness, *[reruns_taken] * (workers if seeds.items else 0)] if big else []
    )
    if big and clustered.size() >= COMPILED_EDGES:  # betweenness's network is no larger
        from kg import compiled

        compiled.load()  # before the fork: its processes share the compiled code
    with forked(side, workers=workers) as handles:
        communities = dispatch(
            nx.community.louvain_communities,
            clustered,
            weight="weight",
            resolution=config.resolution,
            seed=config.seed,
            otherwise=partial(
                louvain_communities, clustered, seed=config.seed, resolution=config.resolution
            ),
        )
        modularity = (
            matrix_modularity(_weights_of(clustered, net), clustered, communities)
            if clustered.size()
            else 0.0
        )
        if clustered is not net:
            communities = _complete(net, communities)
            notes["clustering"] = (
                f"Louvain among the {clustered.number_of_nodes()} concepts of two or more papers "
                "(modularity of that network); each other concept joined the cluster it "
                "co-occurs with most, or, with none to join, its own"
            )
        degree = dict(net.degree())
        pagerank = handles[0].result() if handles else ranks()
        cluster_of, labels = _clusters(graph, net, communities, papers, pagerank, degree)
        if meanwhile is not None:
            meanwhile(Analysis(cluster_of, labels, degree, pagerank, {}, modularity, notes, net))
        made = reruns_taken() if workers == cores() - 1 else {}
        between, notes["betweenness"] = handles[1].result() if handles else betweenness()
        for handle in handles[2:]:
            made |= handle.result()
        reruns = {s: made[s] for s in seeds.items}
    notes["clusters"] = len(labels)
    notes |= dispatch.notes()
    return Analysis(cluster_of, labels, degree, pagerank, between, modularity, notes, net, reruns)


def _clusters(
    graph: nx.Graph,
    net: nx.Graph,
    communities: list[set[str]],
    papers: dict[str, int],
    pagerank: dict[str, float],
    degree: dict[str, int],
) -> tuple[dict[str, int], dict[int, str]]:
    """Each node's cluster (0 = the largest; a paper joins the cluster holding most of its
    mention weight) and each cluster's label (its most central concepts); papers' degrees are
    added to ``degree``."""

    def rank(node: str) -> tuple[int, float, str]:
        return (-papers[node], -pagerank[node], node)

    ordered = sorted(communities, key=lambda c: (-len(c), min(c, key=rank)))
    cluster_of: dict[str, int] = {}
    labels: dict[int, str] = {}
    for cid, nodes in enumerate(ordered):
        for node in nodes:
            cluster_of[node] = cid
        top = heapq.nsmallest(LABEL_TERMS, nodes, key=rank)
        labels[cid] = " · ".join(graph.nodes[n]["label"] for n in top)

    for node in sorted(n for n, kind in graph.nodes(data="kind") if kind == PAPER):
        weight: dict[int, float] = defaultdict(float)
        nbrs = graph.adj[node]
        for nb, edge in nbrs.items():
            if nb in net and nb in cluster_of:  # a clustered concept (net: the concept nodes)
                weight[cluster_of[nb]] += edge["weight"]
        degree[node] = len(nbrs)
        if weight:
            cluster_of[node] = min(weight, key=lambda c: (-weight[c], c))
    return cluster_of, labels


def rerun_seeds(seed: int) -> range:
    """The seeds of the Louvain reruns compared with the build's own, ``seed``."""
    return range(seed + 1, seed + STABILITY_RUNS)


def louvain_communities(net: nx.Graph, *, seed: int, resolution: float = 1.0) -> list[set[str]]:
    """``nx.community.louvain_communities(net, weight="weight", ...)``: on a big network
    (``COMPILED_EDGES``) the same communities from ``kg.compiled``."""
    if net.number_of_edges() < COMPILED_EDGES:
        return nx.community.louvain_communities(
            net, weight="weight", resolution=resolution, seed=seed
        )
    from kg import compiled

    return compiled.louvain_communities(net, weight="weight", resolution=resolution, seed=seed)


def betweenness_centrality(
    net: nx.Graph, *, k: int | None = None, seed: int | None = None
) -> dict[str, float]:
    """``nx.betweenness_centrality(net, k=k, seed=seed)``: on a big network
    (``COMPILED_EDGES``) the same values from ``kg.compiled``."""
    if net.number_of_edges() < COMPILED_EDGES:
        return nx.betweenness_centrality(net, k=k, seed=seed)
    from kg import compiled

    return compiled.betweenness_centrality(net, k=k, seed=seed)


def louvain(net: nx.Graph, *, seed: int, resolution: float = 1.0) -> dict[str, int]:
    """One Louvain partition as node -> community number (numbered in a canonical order)."""
    communities = louvain_communities(net, seed=seed, resolution=resolution)
    ordered = sorted((sorted(c) for c in communities), key=lambda c: (-len(c), c[0]))
    return {n: i for i, nodes in enumerate(ordered) for n in nodes}


def _pagerank(
    net: nx.Graph, *, alpha: float = 0.85, max_iter: int = 100, tol: float = 1e-6
) -> dict[str, float]:
    """``nx.pagerank(net, weight="weight")``, the same values: networkx's power iteration
    (``_pagerank_scipy``, uniform personalization and dangling weights) on the weighted
    adjacency matrix: the one ``graph_and_network`` keeps with the network (``WEIGHTS``), or
    ``weight_matrix``'s, read from networkx's adjacency dicts.

    networkx makes that matrix with ``to_scipy_sparse_array``, which walks edge views: on the
    45k default build's concept network (349,344 concepts, 4.47M links) 21 of PageRank's 22 s;
    read from the adjacency dicts 11 s, kept from the graph stage none.

    >>> g = nx.Graph([("a", "b", {"weight": 2}), ("b", "c", {"weight": 1})])
    >>> g.add_node("d")
    >>> _pagerank(g) == nx.pagerank(g, weight="weight")
    True
    """
    import numpy as np
    from scipy import sparse

    n = len(net)
    if n == 0:
        return {}
    a = _kept_weights(net)
    if a is None:
        a = weight_matrix(net)
    # from here on networkx's _pagerank_scipy, line for line
    s = a.sum(axis=1)
    s[s != 0] = 1.0 / s[s != 0]
    a = sparse.dia_array((s.T, 0), shape=a.shape).tocsr() @ a
    x = np.repeat(1.0 / n, n)
    p = np.repeat(1.0 / n, n)
    is_dangling = np.where(s == 0)[0]
    for _ in range(max_iter):
        xlast = x
        x = alpha * (x @ a + sum(x[is_dangling]) * p) + (1 - alpha) * p
        if np.absolute(x - xlast).sum() < n * tol:
            return dict(zip(net, map(float, x), strict=True))
    raise nx.PowerIterationFailedConvergence(max_iter)


def matrix_modularity(
    weights: Any, net: nx.Graph, communities: Iterable[Iterable[str]], resolution: float = 1.0
) -> float:
    """``nx.community.modularity(net, communities, weight="weight", resolution=resolution)``
    from ``net``'s weighted adjacency matrix (``weights``, in ``net``'s node order): equal to
    networkx's up to the order of float sums (~1e-16). networkx walks every link of the network
    for each call (2.5 s on the 45k default build's clustered network, 1.34M links, and the
    stability table calls it five times); here one pass of NumPy. A network with self-loops
    (networkx counts their weight twice in a degree) goes to networkx.

    >>> g = nx.barbell_graph(4, 1)
    >>> parts = [set(range(4)), {4}, set(range(5, 9))]
    >>> from kg.graph import weight_matrix
    >>> found = matrix_modularity(weight_matrix(g), g, parts)
    >>> abs(found - nx.community.modularity(g, parts)) < 1e-15
    True
    """
    import numpy as np

    groups = [list(nodes) for nodes in communities]
    index = {node: i for i, node in enumerate(net)}
    label = np.full(len(index), -1, dtype=np.int64)
    for c, nodes in enumerate(groups):
        label[[index[n] for n in nodes if n in index]] = c
    partition = sum(map(len, groups)) == len(index) and not (label < 0).any()
    if weights.diagonal().any() or not partition:
        # self-loops (networkx counts their weight twice in a degree), or not a partition (a
        # node left out, in two, or not in the network: networkx says so)
        return float(nx.community.modularity(net, groups, weight="weight", resolution=resolution))
    coo = weights.tocoo()
    degree = np.asarray(weights.sum(axis=1)).ravel()
    total = degree.sum()  # twice the links' weight
    if total == 0:
        return 0.0
    inside = label[coo.row] == label[coo.col]
    within = np.bincount(label[coo.row[inside]], weights=coo.data[inside], minlength=len(groups))
    degrees = np.bincount(label, weights=degree, minlength=len(groups))
    return float((within / total - resolution * (degrees / total) ** 2).sum())


def _kept_weights(net: nx.Graph) -> Any:
    """The weighted adjacency matrix the graph stage kept with ``net`` (``WEIGHTS``), or None
    where there is none or it no longer fits (a node or a link added or taken away since)."""
    a = net.graph.get(WEIGHTS)
    if a is None or a.shape != (len(net), len(net)) or a.nnz != 2 * net.number_of_edges():
        return None
    return a


def _weights_of(clustered: nx.Graph, net: nx.Graph) -> Any:
    """The weighted adjacency matrix of ``clustered``, ``net`` itself or a part of it in its
    order (``induced_network``): cut from the one the graph stage made, where it did."""
    import numpy as np

    whole = _kept_weights(net)
    if whole is None:
        return weight_matrix(clustered)
    if clustered is net:
        return whole
    index = {node: i for i, node in enumerate(net)}
    rows = np.fromiter(map(index.__getitem__, clustered), dtype=np.int64, count=len(clustered))
    part = whole[rows][:, rows]
    part.sum_duplicates()
    return part


def _betweenness(
    net: nx.Graph,
    papers: dict[str, int],
    *,
    config: Config,
    dispatch: Dispatch,
    core: nx.Graph | None = None,
) -> tuple[dict[str, float], str]:
    """Betweenness centrality, and a note on how it was computed.

    Up to ``config.betweenness_exact_max`` concepts it is exact. Above, it is computed among
    the concepts of two or more papers, sampled from as many pivots as a fixed budget allows.
    A concept of a single paper lies on no shortest path: its neighbours, the other concepts of
    that paper, are all linked to each other. So its exact betweenness is 0, and leaving those
    concepts out is what makes large graphs affordable (they are most of the concepts). The
    budget is the compiled code's on a network of ``COMPILED_EDGES`` links or more.
    """
    if net.number_of_nodes() <= config.betweenness_exact_max:
        exact = dispatch(
            nx.betweenness_centrality, net, otherwise=partial(betweenness_centrality, net)
        )
        return exact, "exact"
    if core is None:  # the concepts of two or more papers (``clustering_network``'s core)
        core = induced_network(net, (n for n in net if papers[n] >= 2))
    n, m = core.number_of_nodes(), core.number_of_edges()
    budget = COMPILED_BETWEENNESS_BUDGET if m >= COMPILED_EDGES else BETWEENNESS_BUDGET
    k = min(n, config.betweenness_exact_max, max(MIN_PIVOTS, budget // max(m, 1)))
    scope = f"among the {n} concepts of two or more papers (the others: 0, exact)"
    if k >= n:
        whole = partial(betweenness_centrality, core)
        found = dispatch(nx.betweenness_centrality, core, otherwise=whole) if n else {}
        note = f"exact {scope}"
    else:
        found = dispatch(
            nx.betweenness_centrality,
            core,
            k=k,
            seed=config.seed,
            otherwise=partial(betweenness_centrality, core, k=k, seed=config.seed),
        )
        note = f"approximate {scope}: sampled from {k} pivot nodes (seed {config.seed})"
    return {node: found.get(node, 0.0) for node in net}, note


def clustering_network(net: nx.Graph, papers: dict[str, int], *, config: Config) -> nx.Graph:
    """The network Louvain runs on: the concept network, or, above
    ``config.cluster_core_above`` concepts, its concepts of two or more papers. A concept of
    one paper is tied only to that paper's other concepts, so it adds no structure between
    papers, and such concepts are most of a big corpus's."""
    if net.number_of_nodes() <= config.cluster_core_above:
        return net
    return induced_network(net, (n for n in net if papers[n] >= 2))


def _complete(net: nx.Graph, communities: list[set[str]]) -> list[set[str]]:
    """Clusters of every concept: those left out of the clustering join the cluster of their
    clustered neighbours with the most co-occurrence weight (ties: the first); each group of
    concepts with no clustered neighbour is a cluster of its own, as Louvain would make it."""
    index = {node: i for i, nodes in enumerate(communities) for node in nodes}
    groups = [set(nodes) for nodes in communities]
    rest = []
    adj = net._adj  # networkx's adjacency dict: its views cost seconds on a big network
    for node in sorted(net):
        if node in index:
            continue
        weight: dict[int, float] = defaultdict(float)
        for nb, data in adj[node].items():
            if nb in index:
                weight[index[nb]] += data.get("weight", 1)
        if weight:
            groups[min(weight, key=lambda c: (-weight[c], c))].add(node)
        else:
            rest.append(node)
    groups += sorted(
        (set(c) for c in nx.connected_components(net.subgraph(rest))), key=lambda c: min(c)
    )
    return groups
