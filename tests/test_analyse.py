"""The analysis at scale: what large graphs get instead of exact clustering and betweenness
is checked on the demo graph, with the thresholds lowered so that it takes the large path."""

from __future__ import annotations

import json
import os

import networkx as nx
import pytest

from kg import parallel
from kg.analyse import analyse
from kg.config import Config
from kg.graph import PAPER, concept_network


@pytest.fixture(scope="module")
def graph(demo_build):
    return demo_build[0].graph


def _papers(graph, node):
    return sum(1 for nb in graph[node] if graph.nodes[nb]["kind"] == PAPER)


def test_concepts_of_one_paper_have_zero_betweenness_exactly(graph):
    """The reason the large path leaves them out: it must hold on the real graph."""
    exact = nx.betweenness_centrality(concept_network(graph))
    single = [n for n in exact if _papers(graph, n) == 1]
    assert single and all(exact[n] == 0 for n in single)


def test_large_graph_path_clusters_every_concept_and_says_how(graph):
    small = Config(cluster_core_above=10, betweenness_exact_max=10)
    analysis = analyse(graph, config=small)
    net = concept_network(graph)
    core = [n for n in net if _papers(graph, n) >= 2]
    assert set(net) <= set(analysis.cluster_of)
    assert "two or more papers" in analysis.notes["clustering"]
    assert "two or more papers" in analysis.notes["betweenness"]
    assert all(analysis.betweenness[n] == 0 for n in net if _papers(graph, n) == 1)
    assert any(analysis.betweenness[n] > 0 for n in core)
    # a concept of one paper sits in the cluster it is most tied to
    for node in net:
        if _papers(graph, node) == 1 and any(nb in core for nb in net[node]):
            weight: dict[int, float] = {}
            for nb in net[node]:
                if nb in core:
                    c = analysis.cluster_of[nb]
                    weight[c] = weight.get(c, 0) + net.edges[node, nb]["weight"]
            assert weight[analysis.cluster_of[node]] == max(weight.values())
    assert analysis == analyse(graph, config=small)  # deterministic


def test_small_graph_path_is_exact(graph):
    analysis = analyse(graph)
    assert analysis.notes["betweenness"] == "exact"
    assert "clustering" not in analysis.notes
    exact = nx.betweenness_centrality(concept_network(graph))
    assert analysis.betweenness == pytest.approx(exact)


@pytest.mark.parametrize(
    "config", [Config(), Config(cluster_core_above=10, betweenness_exact_max=10)]
)
def test_forked_analysis_equals_the_one_process_analysis(graph, monkeypatch, config):
    """Big graphs run betweenness and the stability runs in forked processes: same results."""
    import kg.analyse
    import kg.analytics.stability as stability

    here = analyse(graph, config=config)
    net = concept_network(graph)
    runs_here = stability.cluster_stability(net, seeds=[1, 2, 3])
    for module in (kg.analyse, stability):
        monkeypatch.setattr(module, "FORK_EDGES", 0)  # the demo graph counts as big
    forked = analyse(graph, config=config)
    assert forked == here
    assert forked.betweenness == here.betweenness and forked.notes == here.notes
    runs_forked = stability.cluster_stability(net, seeds=[1, 2, 3])
    assert runs_forked.runs.equals(runs_here.runs) and runs_forked.ari == runs_here.ari


@pytest.mark.parametrize(("big", "seeds"), [(False, ()), (True, ()), (True, (1, 2))])
def test_meanwhile_runs_with_the_final_clusters_while_betweenness_is_computed(
    graph, monkeypatch, tmp_path, big, seeds
):
    """``meanwhile`` sees the final clusters, labels, degrees and PageRank; on a big network it
    runs while betweenness is still computed in its forked process (with or without stability
    reruns beside it), not after."""
    import time

    import kg.analyse

    config = Config(cluster_core_above=10, betweenness_exact_max=10)
    plain = analyse(graph, config=config)
    if big:
        monkeypatch.setattr(kg.analyse, "FORK_EDGES", 0)
    done = tmp_path / "betweenness-done"
    slow = kg.analyse._betweenness

    def betweenness(*args, **kwargs):
        found = slow(*args, **kwargs)
        time.sleep(1.0)  # a big network's betweenness takes a while: the hook comes before
        done.write_text(repr(time.time()))
        return found

    monkeypatch.setattr(kg.analyse, "_betweenness", betweenness)
    seen = []
    final = analyse(
        graph,
        config=config,
        stability_seeds=seeds,
        meanwhile=lambda provisional: seen.append((time.time(), provisional)),
    )
    assert final == plain
    ((started, provisional),) = seen
    if big and parallel.can_fork() and parallel.cores() > 1:  # CI has two cores
        assert started < float(done.read_text()) - 0.5
    assert provisional.cluster_of == final.cluster_of
    assert provisional.cluster_labels == final.cluster_labels
    assert provisional.pagerank == final.pagerank and provisional.degree == final.degree
    assert provisional.modularity == final.modularity


def test_reruns_made_beside_a_big_analysis_are_the_louvain_runs_of_those_seeds(graph, monkeypatch):
    """``stability_seeds``: on a big network the stability reruns are made during the analysis, in
    forked processes; each is the partition that ``louvain`` makes with its seed, and the
    analysis itself is unchanged."""
    import kg.analyse
    from kg.analyse import clustering_network, louvain

    config = Config(cluster_core_above=10, betweenness_exact_max=10, resolution=1.3)
    small = analyse(graph, config=config, stability_seeds=[1, 2, 3])
    assert small.reruns == {}  # below FORK_EDGES: the analytics export makes them
    monkeypatch.setattr(kg.analyse, "FORK_EDGES", 0)
    monkeypatch.setattr(kg.analyse, "cores", lambda: 2)  # one core: the reruns run in here
    big = analyse(graph, config=config, stability_seeds=[1, 2, 3])
    assert big == small and big.betweenness == small.betweenness
    net = concept_network(graph)
    papers = {n: _papers(graph, n) for n in net}
    clustered = clustering_network(net, papers, config=config)
    assert clustered is not net
    # the first seeds, as many as the forked processes make in the analysis' time
    assert list(big.reruns) == [1, 2, 3][: len(big.reruns)] and big.reruns
    for seed, partition in big.reruns.items():
        assert set(partition) == set(clustered)
        assert partition == louvain(clustered, seed=seed, resolution=config.resolution)


def test_forked_tasks_run_in_child_processes_and_return_in_order():
    import os

    from kg.parallel import cores, fork_map

    pids = fork_map([os.getpid, os.getpid, lambda: 7], workers=2)
    assert pids[2] == 7
    if cores() >= 2:  # CI and this machine have two
        assert os.getpid() not in pids[:2]


def test_forked_processes_end_when_their_tasks_are_done_not_with_the_block():
    """A forked process ends once the last task is done, while the block beside it still
    runs: it would otherwise hold the pages it copied from this one until the block ends."""
    import os
    import time

    from kg.parallel import can_fork, cores, forked

    with forked([os.getpid, os.getpid], workers=2) as handles:
        pids = {h.result() for h in handles}
        deadline = time.monotonic() + 30
        alive = pids
        while alive and time.monotonic() < deadline:
            time.sleep(0.05)
            alive = {pid for pid in pids if _running(pid)}
        if cores() > 1 and can_fork():  # CI and this machine have two
            assert os.getpid() not in pids
            assert not alive, "the forked processes outlived their tasks"


def _running(pid: int) -> bool:
    """Whether process ``pid`` runs (not ended, nor a zombie waiting to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_shared_items_are_taken_once_each_by_the_processes_that_share_them():
    """``Shared``: a forked process and this one, iterating one ``Shared``, take each item once
    between them, each in order; both take some when each item takes a while."""
    import os
    import time

    from kg.parallel import Shared, can_fork, cores, forked

    items = Shared(range(40))

    def take():
        got = []
        for item in items:
            got.append(item)
            time.sleep(0.01)  # each takes a while: the other process takes some meanwhile
        return os.getpid(), got

    with forked([take], workers=1) as (beside,):
        here_pid, here = take()
    there_pid, there = beside.result()
    assert sorted(here + there) == list(range(40))
    assert here == sorted(here) and there == sorted(there)
    if cores() > 1 and can_fork():  # CI and this machine have two
        assert here_pid != there_pid and here and there
    assert list(items) == [] and list(Shared([])) == []


def test_a_forked_task_may_fork_again_but_a_process_opens_one_block_at_a_time():
    import os

    from kg.parallel import cores, fork_map, forked

    def inner():
        return os.getpid(), fork_map([os.getpid, os.getpid], workers=2)

    ((middle, inner_pids),) = fork_map([inner], workers=1)
    if cores() >= 2:  # CI and this machine have two (with one, nothing is forked)
        assert middle != os.getpid() and middle not in inner_pids
        refused = pytest.raises(RuntimeError, match="do not nest")
        with forked([os.getpid], workers=1), refused, forked([os.getpid], workers=1):
            pass
    assert fork_map([lambda: 7]) == [7]  # the refused block left nothing behind


class _LoadedWhile:
    """Pickles as a note of whether the process that pickled it still ran when it was read."""

    def __reduce__(self):
        import os

        return _process_alive, (os.getpid(),)


def _process_alive(pid):
    import os

    return os.path.exists(f"/proc/{pid}")


def test_a_spilled_result_is_read_after_its_process_ended_and_leaves_no_file(tmp_path, monkeypatch):
    import os
    import tempfile

    from kg.parallel import cores, fork_map

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    if cores() >= 2 and os.path.exists("/proc/self"):  # CI and this machine (Linux, 2 cores)
        # an unspilled result is read while its process still waits for more work
        assert fork_map([_LoadedWhile], workers=1) == [True]
        assert fork_map([_LoadedWhile, lambda: list(range(5))], spill=True) == [
            False,
            [0, 1, 2, 3, 4],
        ]
    with pytest.raises(ZeroDivisionError):
        fork_map([lambda: 1 / 0], spill=True)
    assert list(tmp_path.iterdir()) == []


def test_edges_of_one_kind_and_weight_share_their_attributes(demo_build, graph):
    """The memory saving of ``build_graph`` (co-occurrences of one count, mentions of one
    score), the same edges as networkx's ``add_edge`` makes, and what a copy gives back:
    edges of their own."""
    shared = {}
    for u, v, data in graph.edges(data=True):
        assert data is shared.setdefault((data["kind"], data["weight"]), data), (u, v)
    kinds = {kind for kind, _ in shared}
    assert kinds == {"mentions", "cooccurs"} and graph.graph == {}
    assert len(shared) < graph.number_of_edges() / 2
    papers = [n for n, kind in graph.nodes(data="kind") if kind == PAPER]
    plain = nx.Graph()  # the mentions as networkx's add_edge makes them, a dict each
    plain.add_nodes_from(papers)
    for m in sorted(demo_build[0].linked.mentions, key=lambda m: (m.paper_key, m.concept_key)):
        p, c = f"paper:{m.paper_key}", f"concept:{m.concept_key}"
        plain.add_edge(p, c, kind="mentions", weight=m.score)
    # a paper's links are its mentions: the same, in the same order, with the same attributes
    assert [list(graph[p].items()) for p in papers] == [list(plain[p].items()) for p in papers]
    copy = graph.copy()
    (u, v), *rest = ((u, v) for u, v, w in copy.edges(data="weight") if w == 1)
    copy.edges[u, v]["weight"] = 7
    assert graph.edges[u, v]["weight"] == 1 and all(copy.edges[e]["weight"] == 1 for e in rest)


def test_the_network_made_with_the_graph_is_its_concept_network(demo_build):
    """The build's analysis reads the network ``graph_and_network`` made: the one
    ``concept_network`` finds in the graph, node for node and link for link, in the same order
    (Louvain's result depends on it), sharing the graph's link attributes."""
    from kg.graph import graph_and_network

    built = demo_build[0]
    graph, made = graph_and_network(built.papers, built.linked)
    found = concept_network(graph)
    assert list(made.nodes(data=True)) == list(found.nodes(data=True))
    assert [list(row.items()) for row in made._adj.values()] == [
        list(row.items()) for row in found._adj.values()
    ]
    assert made.number_of_edges() > 100
    assert all(made._adj[u][v] is graph._adj[u][v] for u, v in made.edges)


def test_louvain_copies_a_network_with_shared_link_attributes_and_finds_the_same_clusters(
    demo_build,
):
    """networkx's Louvain copies the network it is given (``add_weighted_edges_from`` on a
    graph of its class): a ``Network`` copy shares one dict per weight, has the same links in
    the same order, and Louvain finds the same clusters in it as in a plain ``Graph``."""
    from kg.graph import Network, graph_and_network

    built = demo_build[0]
    net = graph_and_network(built.papers, built.linked)[1]
    assert type(net) is Network
    plain = nx.Graph(net)  # a dict per link
    ebunch = list(net.edges(data="weight"))
    shared, own = Network(), nx.Graph()
    shared.add_weighted_edges_from(ebunch)
    own.add_weighted_edges_from(ebunch)
    assert [list(row.items()) for row in shared._adj.values()] == [
        list(row.items()) for row in own._adj.values()
    ]
    by_weight = {}
    for _, _, data in shared.edges(data=True):
        assert data is by_weight.setdefault(data["weight"], data)
    assert 1 < len(by_weight) < shared.number_of_edges() / 10
    for seed in range(42, 46):
        assert nx.community.louvain_communities(net, seed=seed) == nx.community.louvain_communities(
            plain, seed=seed
        )
    # equal weights of other types or signs are not one value; a link added again gets its own
    odd = Network()
    odd.add_weighted_edges_from([(1, 2, 1), (2, 3, 1.0), (3, 4, 0.0), (4, 5, -0.0), (5, 6, 1)])
    assert [repr(w) for _, _, w in odd.edges(data="weight")] == ["1", "1.0", "0.0", "-0.0", "1"]
    odd.add_weighted_edges_from([(1, 2, 9)])
    assert odd.edges[1, 2]["weight"] == 9 and odd.edges[5, 6]["weight"] == 1
    with pytest.raises(ValueError, match="None cannot be a node"):
        odd.add_weighted_edges_from([(None, 1, 1)])


def test_pagerank_is_networkx_pagerank_bit_for_bit(demo_build):
    """The analysis's PageRank reads the weighted matrix the graph stage kept with the network,
    or, without one (a network found in a loaded graph) or with a stale one (a link added
    since), a matrix read from the adjacency dicts: networkx's values either way, to the bit."""
    from kg.analyse import _pagerank
    from kg.graph import WEIGHTS, graph_and_network, weight_matrix

    built = demo_build[0]
    graph, net = graph_and_network(built.papers, built.linked)
    kept = net.graph[WEIGHTS]
    for matrix in (kept, weight_matrix(net)):
        assert (matrix != nx.to_scipy_sparse_array(net, weight="weight", dtype=float)).nnz == 0
        assert matrix.has_sorted_indices
    expected = nx.pagerank(net, weight="weight")
    assert _pagerank(net) == expected
    assert _pagerank(concept_network(graph)) == expected
    changed = net.copy()
    assert changed.graph[WEIGHTS] is kept
    u, v = next((u, v) for u in changed for v in changed if u < v and not changed.has_edge(u, v))
    changed.add_edge(u, v, weight=3)
    assert _pagerank(changed) == nx.pagerank(changed, weight="weight") != expected


def test_modularity_from_the_matrix_is_networkx_modularity(demo_build):
    """The analysis and the stability table compute modularity from the network's matrix:
    networkx's value (up to the order of float sums) for Louvain's partition, random ones, one
    cluster and singletons, at two resolutions; with a self-loop (networkx counts it twice in a
    degree) and for what is not a partition, networkx itself answers."""
    import random

    from kg.analyse import matrix_modularity
    from kg.graph import graph_and_network, weight_matrix

    built = demo_build[0]
    _, net = graph_and_network(built.papers, built.linked)
    weights = weight_matrix(net)
    nodes = list(net)
    rng = random.Random(7)
    shuffled = rng.sample(nodes, len(nodes))
    partitions = [
        nx.community.louvain_communities(net, weight="weight", seed=1),
        [set(shuffled[i::5]) for i in range(5)],
        [set(nodes)],
        [{n} for n in nodes],
    ]
    for communities in partitions:
        for resolution in (1.0, 0.5):
            expected = nx.community.modularity(
                net, communities, weight="weight", resolution=resolution
            )
            found = matrix_modularity(weights, net, communities, resolution)
            assert found == pytest.approx(expected, abs=1e-12), (len(communities), resolution)
    looped = net.copy()
    looped.add_edge(nodes[0], nodes[0], weight=5)
    expected = nx.community.modularity(looped, partitions[0], weight="weight")
    assert matrix_modularity(weight_matrix(looped), looped, partitions[0]) == expected
    louvain = partitions[0]
    foreign = [*louvain[:-1], louvain[-1] | {"concept:in no paper"}]
    for wrong in (louvain[1:], [*louvain, {nodes[0]}], foreign):  # nodes left out, twice, foreign
        with pytest.raises(nx.NetworkXError):
            matrix_modularity(weights, net, wrong)


def _partition(cluster_of: dict[str, int]) -> set[frozenset[str]]:
    members: dict[int, set[str]] = {}
    for node, cluster in cluster_of.items():
        members.setdefault(cluster, set()).add(node)
    return {frozenset(nodes) for nodes in members.values()}


@pytest.mark.parametrize(
    "config", [Config(), Config(cluster_core_above=10, betweenness_exact_max=10)]
)
def test_a_graph_backend_runs_what_it_implements_and_networkx_the_rest(graph, config, monkeypatch):
    """``--graph-backend graphblas`` (graphblas-algorithms, installed with the tests), through
    networkx's dispatch: each of Louvain, PageRank and betweenness runs on the backend where it
    implements it, else on networkx, and the manifest says which ran where, and why not. The
    results are networkx's up to the backend's float rounding: the same clusters (their numbers
    and labels may differ where that rounding breaks a PageRank tie), betweenness and
    modularity. The graph counts as big: nothing forks beside a backend all the same."""
    import kg.analyse

    plain = analyse(graph, config=config)
    monkeypatch.setattr(kg.analyse, "FORK_EDGES", 0)
    on = analyse(graph, config=config, backend="graphblas", stability_seeds=[1, 2])
    assert on.reruns == {}  # nothing forked: no reruns beside it
    assert on.notes.pop("graph_backend") == "graphblas"
    ran = on.notes.pop("graph_backend_algorithms")
    declined = on.notes.pop("graph_backend_declined")
    algorithms = {
        "louvain_communities": nx.community.louvain_communities,
        "pagerank": nx.pagerank,
        "betweenness_centrality": nx.betweenness_centrality,
    }
    assert set(ran) == set(algorithms)
    for name, algorithm in algorithms.items():  # what graphblas-algorithms says it implements
        on_it = "graphblas" in algorithm.backends
        assert ran[name] == ("graphblas" if on_it else "networkx")
        assert (name in declined) == (not on_it)
    assert "graphblas" in ran.values()  # something did run on the backend
    assert all(
        why == f"'{n}' is not implemented by 'graphblas' backend" for n, why in declined.items()
    )
    assert on.notes == plain.notes
    assert on.pagerank == pytest.approx(plain.pagerank, rel=1e-9, abs=0)
    assert _partition(on.cluster_of) == _partition(plain.cluster_of)
    assert on.betweenness == plain.betweenness and on.modularity == plain.modularity
    assert on.degree == plain.degree


def _backend_distribution(site, name: str, module: str) -> None:
    """An installed networkx backend ``name``: a distribution whose entry point networkx reads,
    and its module's source."""
    info = site / f"{name}_nx_backend-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}-nx-backend\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(
        f"[networkx.backends]\n{name} = {name}_nx_backend:BackendInterface\n"
    )
    (site / f"{name}_nx_backend.py").write_text(module)


def _with_site(site) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
    }


def test_an_unknown_or_broken_graph_backend_is_refused_before_the_build_starts(tmp_path):
    """A backend that is not installed, or one that is but fails on import (nx-parallel 0.3
    against networkx 3.6 does), is a clear error before anything is read: the input given here
    does not exist, and that is not what is reported."""
    from tests.conftest import run_kg

    nowhere, out = str(tmp_path / "no-such-listing.txt"), tmp_path / "out"
    missing = run_kg("build", nowhere, "--out", str(out), "--graph-backend", "nosuch")
    assert missing.returncode != 0
    assert "--graph-backend 'nosuch' is not installed; installed: networkx" in missing.stderr
    assert "graphblas" in missing.stderr
    site = tmp_path / "site"
    _backend_distribution(
        site, "broken", "raise ImportError(\"cannot import name '_rescale_e' from networkx\")\n"
    )
    broken = run_kg(
        "build", nowhere, "--out", str(out), "--graph-backend", "broken", env=_with_site(site)
    )
    assert broken.returncode != 0
    assert (
        f"--graph-backend 'broken' is installed but does not load with networkx {nx.__version__}: "
        "ImportError: cannot import name '_rescale_e' from networkx"
    ) in broken.stderr
    for run in (missing, broken):
        assert "Traceback" not in run.stderr and "no-such-listing" not in run.stderr
    assert not out.exists()


PARTIAL_BACKEND = """
import networkx as nx


class BackendInterface:
    \"\"\"Betweenness as networkx computes it; a PageRank that refuses kg's arguments; no
    Louvain, and no list of what it implements (networkx's backend_info is optional).\"\"\"

    @staticmethod
    def convert_from_nx(graph, *args, **kwargs):
        return graph

    @staticmethod
    def convert_to_nx(result, *args, **kwargs):
        return result

    @staticmethod
    def betweenness_centrality(G, k=None, normalized=True, weight=None, endpoints=False, seed=None):
        return nx.betweenness_centrality.orig_func(G, k, normalized, weight, endpoints, seed)

    @staticmethod
    def pagerank(G, *args, **kwargs):
        raise NotImplementedError("this backend's PageRank takes no weights")
"""


def test_a_backend_that_declines_an_algorithm_leaves_it_to_networkx_and_says_why(
    demo_build, tmp_path
):
    """``kg build --graph-backend`` with a backend that runs betweenness, refuses PageRank for
    kg's arguments and has no Louvain: those two run on networkx (PageRank: kg's own), the
    manifest says so with the backend's reasons, and every other file is the plain build's."""
    from tests.conftest import DEMO, run_kg

    _, plain = demo_build
    site, out = tmp_path / "site", tmp_path / "out"
    _backend_distribution(site, "partial", PARTIAL_BACKEND)
    run = run_kg(
        "build",
        str(DEMO),
        "--out",
        str(out),
        "--quiet",
        "--graph-backend",
        "partial",
        env=_with_site(site),
    )
    assert run.returncode == 0, run.stderr
    analysis = json.loads((out / "build.json").read_text())["analysis"]
    assert analysis["graph_backend"] == "partial"
    assert analysis["graph_backend_algorithms"] == {
        "betweenness_centrality": "partial",
        "louvain_communities": "networkx",
        "pagerank": "networkx",
    }
    assert analysis["graph_backend_declined"] == {
        "louvain_communities": "'louvain_communities' is not implemented by 'partial' backend",
        "pagerank": "'partial' backend raised NotImplementedError when calling 'pagerank': "
        "this backend's PageRank takes no weights",
    }
    for name in sorted(p.name for p in plain.iterdir()):
        if name != "build.json":
            assert (out / name).read_bytes() == (plain / name).read_bytes(), name
