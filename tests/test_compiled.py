"""kg.compiled: networkx's Louvain and betweenness compiled must give networkx's results (the
communities in networkx's order, the betweenness to the bit) on the real demo network and on
random graphs of every kind the analysis can meet."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from kg import analyse
from kg.compiled import betweenness_centrality, louvain_communities
from kg.graph import graph_and_network


def _networkx(g: nx.Graph, **options) -> list[set]:
    return nx.community.louvain_communities(g, weight="weight", **options)


def _random_graph(trial: int) -> nx.Graph:
    """Nodes named as strings in a shuffled order, links added in a shuffled order (the
    adjacency order Louvain's ties depend on), integer or fractional weights, some self-loops
    and isolated nodes."""
    r = random.Random(trial)
    n = r.randint(5, 250)
    kind = trial % 3
    if kind == 0:
        base = nx.gnm_random_graph(n, r.randint(n // 2, 5 * n), seed=trial)
    elif kind == 1:
        base = nx.powerlaw_cluster_graph(n, r.randint(1, 4), 0.3, seed=trial)
    else:
        base = nx.planted_partition_graph(r.randint(2, 6), max(2, n // 6), 0.5, 0.05, seed=trial)
    nodes = list(base)
    r.shuffle(nodes)
    g = nx.Graph()
    g.add_nodes_from(f"n{u}" for u in nodes)
    edges = list(base.edges())
    r.shuffle(edges)
    fractional = trial % 4 == 3
    for u, v in edges:
        g.add_edge(f"n{u}", f"n{v}", weight=r.random() * 3 if fractional else r.randint(1, 6))
    if trial % 5 == 0:
        g.add_edge(f"n{nodes[0]}", f"n{nodes[0]}", weight=2)
    return g


@pytest.mark.parametrize("trial", range(60))
def test_random_graphs_get_networkx_communities_in_networkx_order(trial):
    g = _random_graph(trial)
    for seed in (0, 42):
        for resolution in (1, 0.5, 1.6):
            expected = _networkx(g, resolution=resolution, seed=seed)
            assert louvain_communities(g, resolution=resolution, seed=seed) == expected


def test_the_demo_network_gets_networkx_communities_for_every_seed(demo_build):
    built = demo_build[0]
    net = graph_and_network(built.papers, built.linked)[1]
    assert net.number_of_edges() > 1_000  # a real network, links of many weights
    for seed in range(40, 48):
        for resolution in (1.0, 0.7):
            expected = _networkx(net, resolution=resolution, seed=seed)
            assert louvain_communities(net, resolution=resolution, seed=seed) == expected


def test_edge_cases_are_networkx_s():
    empty = nx.Graph()
    assert louvain_communities(empty, seed=1) == _networkx(empty, seed=1) == []
    isolated = nx.Graph()
    isolated.add_nodes_from("abc")
    assert louvain_communities(isolated, seed=1) == [{"a"}, {"b"}, {"c"}]
    unweighted = nx.les_miserables_graph()
    assert louvain_communities(unweighted, weight=None, seed=3) == (
        nx.community.louvain_communities(unweighted, weight=None, seed=3)
    )
    assert louvain_communities(unweighted, seed=3, threshold=0.05) == _networkx(
        unweighted, seed=3, threshold=0.05
    )
    directed = nx.DiGraph(nx.karate_club_graph())  # not compiled: networkx's own
    assert louvain_communities(directed, seed=2) == _networkx(directed, seed=2)


def test_integer_weights_too_large_for_exact_floats_go_to_networkx():
    g = nx.karate_club_graph()
    for u, v in g.edges():
        g.edges[u, v]["weight"] = 2**40 + u + v
    assert louvain_communities(g, seed=5) == _networkx(g, seed=5)


@pytest.mark.parametrize("trial", range(40))
def test_random_graphs_get_networkx_betweenness_to_the_bit(trial):
    g = _random_graph(trial)
    if trial % 6 == 0:  # more than one component
        g.add_edges_from([("x1", "x2"), ("x2", "x3")])
    for k in (None, 1, 2, min(12, len(g)), len(g)):
        for seed in (0, 42):
            expected = nx.betweenness_centrality(g, k=k, seed=seed)
            found = betweenness_centrality(g, k=k, seed=seed)
            assert list(found) == list(expected)
            for node, value in expected.items():  # k=1: the pivot's is NaN, as networkx's
                assert found[node] == value or (value != value and found[node] != found[node])


def test_the_demo_network_gets_networkx_betweenness(demo_build):
    built = demo_build[0]
    net = graph_and_network(built.papers, built.linked)[1]
    assert betweenness_centrality(net) == nx.betweenness_centrality(net)
    for seed in (1, 2):
        expected = nx.betweenness_centrality(net, k=40, seed=seed)
        assert betweenness_centrality(net, k=40, seed=seed) == expected


def test_the_analysis_clusters_big_networks_compiled_with_the_same_result(demo_build, monkeypatch):
    """Above ``COMPILED_EDGES`` the analysis and the stability reruns run kg.compiled:
    lowered so the demo network takes that path, the analysis is the one networkx gives."""
    from kg import compiled

    graph = demo_build[0].graph
    with_networkx = analyse.analyse(graph)
    calls = []

    def counted(function):
        def run(net, **options):
            calls.append(function.__name__)
            return function(net, **options)

        return run

    monkeypatch.setattr(analyse, "COMPILED_EDGES", 0)
    for name in ("louvain_communities", "betweenness_centrality"):
        monkeypatch.setattr(compiled, name, counted(getattr(compiled, name)))
    found = analyse.analyse(graph)  # the demo's concepts: exact betweenness
    assert sorted(set(calls)) == ["betweenness_centrality", "louvain_communities"]
    assert found == with_networkx
    assert analyse.louvain(graph, seed=3) == {
        node: i
        for i, nodes in enumerate(
            sorted((sorted(c) for c in _networkx(graph, seed=3)), key=lambda c: (-len(c), c[0]))
        )
        for node in nodes
    }


def test_compiled_betweenness_samples_from_the_larger_budget(demo_build, monkeypatch):
    """Where betweenness runs compiled it affords ``COMPILED_BETWEENNESS_BUDGET``: more pivots
    than networkx's budget gives the same network, said in the note, with networkx's values
    for that sample. (The demo's whole concept network stands for the sampled one.)"""
    from kg.config import Config
    from kg.graph import concept_network

    graph = demo_build[0].graph
    config = Config(betweenness_exact_max=100)
    net = concept_network(graph)
    assert net.number_of_nodes() > 100
    m = net.number_of_edges()
    papers = {n: 2 for n in net}

    def sampled():
        return analyse._betweenness(
            net, papers, config=config, dispatch=analyse.Dispatch(None), core=net
        )

    monkeypatch.setattr(analyse, "BETWEENNESS_BUDGET", 4 * m)
    monkeypatch.setattr(analyse, "COMPILED_BETWEENNESS_BUDGET", 40 * m)
    assert "sampled from 16 pivot nodes" in sampled()[1]  # MIN_PIVOTS
    monkeypatch.setattr(analyse, "COMPILED_EDGES", 0)
    found, note = sampled()
    assert "sampled from 40 pivot nodes" in note
    assert found == nx.betweenness_centrality(net, k=40, seed=config.seed)
