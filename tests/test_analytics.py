"""Analytics (trends, thematic map, stability, bridges, gaps) and ``kg.load``.

Small hand-made inputs check each method against a value worked out independently (brute
force, an optimiser, arithmetic by hand); the real demo build checks the exports end to end.
"""

from __future__ import annotations

import doctest
import importlib
import itertools
import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import kg
from kg.analytics.bridges import bridging_concepts, participation
from kg.analytics.gaps import research_gaps
from kg.analytics.stability import cluster_stability
from kg.analytics.thematic import QUADRANTS, thematic_map
from kg.analytics.trends import (
    concept_trends,
    emerging_concepts,
    kleinberg_bursts,
    poisson_growth,
)
from kg.errors import ConfigError, InputError, QueryError
from kg.graph import concept_network

MODULES = [
    "kg.analytics.trends",
    "kg.analytics.thematic",
    "kg.analytics.stability",
    "kg.analytics.bridges",
    "kg.analytics.gaps",
    "kg.api",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# --- trends -------------------------------------------------------------------------------


def corpus(monthly: dict[str, dict[str, int]], undated: int = 0):
    """Papers and mentions where ``monthly[month][concept]`` papers mention the concept
    (each concept's papers are distinct papers; each month has 20 papers in all)."""
    papers, mentions = [], []
    for month, counts in monthly.items():
        for i in range(20):
            key = f"{month}-{i}"
            papers.append({"key": key, "date": f"{month}-{i + 1:02d}"})
        i = 0
        for concept, n in counts.items():
            for _ in range(n):
                mentions.append(
                    {"paper": f"{month}-{i}", "concept_key": concept, "concept": concept.upper()}
                )
                i += 1
    for j in range(undated):
        papers.append({"key": f"undated-{j}", "date": ""})
        mentions.append({"paper": f"undated-{j}", "concept_key": "a", "concept": "A"})
    return pd.DataFrame(papers), pd.DataFrame(mentions)


def test_trends_count_papers_per_month_and_leave_out_undated_papers():
    papers, mentions = corpus({"2025-03": {"a": 2, "b": 1}, "2025-05": {"a": 4}}, undated=3)
    t = concept_trends(papers, mentions)
    got = {(r.concept_key, r.period): (r.papers, r.period_papers) for r in t.itertuples()}
    assert got == {("a", "2025-03"): (2, 20), ("b", "2025-03"): (1, 20), ("a", "2025-05"): (4, 20)}
    yearly = concept_trends(papers, mentions, freq="year")
    assert yearly.set_index("concept_key")["papers"].to_dict() == {"a": 6, "b": 1}
    with pytest.raises(ConfigError, match="freq must be one of month, year"):
        concept_trends(papers, mentions, freq="week")


def test_emerging_ranks_a_rising_concept_first_and_records_first_appearance():
    months = [f"2025-{m:02d}" for m in range(3, 10)]
    rising = [0, 1, 1, 2, 4, 6, 9]
    steady = [3, 3, 3, 3, 3, 3, 3]
    falling = [8, 6, 4, 3, 2, 1, 1]
    papers, mentions = corpus(
        {
            m: {"rise": r, "steady": s, "fall": f}
            for m, r, s, f in zip(months, rising, steady, falling, strict=True)
        }
    )
    e = emerging_concepts(papers, mentions).set_index("concept_key")
    assert list(e.index) == ["rise", "steady", "fall"]
    assert e.loc["rise", "growth"] > 0.3 > abs(e.loc["steady", "growth"])
    assert e.loc["fall", "growth"] < -0.3
    assert e.loc["rise", "first_seen"] == "2025-04-01"
    assert e.loc["rise", "first_period"] == "2025-04"
    assert e.loc["steady", "burst_weight"] == 0
    assert e.loc["rise", "burst_end"] == "2025-09"


def test_emerging_leaves_growth_empty_below_min_papers():
    papers, mentions = corpus(
        {"2025-03": {"rare": 1}, "2025-04": {"rare": 1, "common": 5}, "2025-05": {"common": 5}}
    )
    e = emerging_concepts(papers, mentions, min_papers=5).set_index("concept_key")
    assert math.isnan(e.loc["rare", "growth"]) and not math.isnan(e.loc["common", "growth"])
    assert list(e.index) == ["common", "rare"]


def test_poisson_growth_is_the_maximum_likelihood_slope():
    from scipy.optimize import minimize

    rng = np.random.default_rng(0)
    totals = np.array([120.0, 80.0, 200.0, 150.0, 90.0, 160.0])
    counts = rng.poisson(totals * 0.05 * np.exp(0.3 * np.arange(6)), size=(5, 6)).astype(float)
    b, se = poisson_growth(counts, totals, smoothing=0.0)
    x = np.arange(6) - 2.5
    for row, slope in zip(counts, b, strict=True):

        def nll(ab, row=row):
            mu = totals * np.exp(ab[0] + ab[1] * x)
            return float((mu - row * np.log(mu)).sum())

        best = minimize(
            nll,
            [np.log(row.sum() / totals.sum()), 0.0],
            method="Nelder-Mead",
            options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 4000},
        )
        assert slope == pytest.approx(best.x[1], abs=1e-4)
    assert np.all(se > 0)


def test_kleinberg_bursts_match_a_brute_force_search():
    rng = np.random.default_rng(1)
    totals = np.array([40.0, 55.0, 30.0, 60.0, 45.0, 50.0])
    counts = rng.binomial(
        totals.astype(int), [0.05, 0.05, 0.2, 0.25, 0.05, 0.05], size=(30, 6)
    ).astype(float)
    masks = kleinberg_bursts(counts, totals, scale=2.0, gamma=1.0)
    enter = math.log(6)
    for row, mask in zip(counts, masks, strict=True):
        p0 = row.sum() / totals.sum()
        p = [p0, min(2 * p0, 1 - 1e-9)]

        def cost(states, row=row, p=p):
            total = 0.0
            prev = 0
            for t, s in enumerate(states):
                total -= row[t] * math.log(p[s]) + (totals[t] - row[t]) * math.log1p(-p[s])
                total += enter if s > prev else 0.0
                prev = s
            return total

        best = min(itertools.product([0, 1], repeat=6), key=cost)
        assert cost(tuple(int(v) for v in mask)) == pytest.approx(cost(best), abs=1e-9)
    assert masks[:, 2:4].mean() > masks[:, [0, 1, 4, 5]].mean()


# --- thematic map, stability, bridges, gaps ----------------------------------------------


def two_communities(size: int = 6) -> tuple[nx.Graph, dict[str, int]]:
    g = nx.Graph()
    for side in "ab":
        nodes = [f"{side}{i}" for i in range(size)]
        g.add_weighted_edges_from((u, v, 3) for u, v in itertools.combinations(nodes, 2))
    g.add_edge("a0", "b0", weight=1)
    return g, {n: 0 if n.startswith("a") else 1 for n in g}


def test_thematic_map_values_and_quadrants():
    g = nx.Graph()
    # cluster 0: dense and central; 1: dense, isolated; 2: sparse, central; 3: sparse, isolated
    g.add_weighted_edges_from(
        [
            ("a1", "a2", 4),
            ("a2", "a3", 4),
            ("a1", "a3", 4),
            ("b1", "b2", 4),
            ("b2", "b3", 4),
            ("b1", "b3", 4),
            ("c1", "c2", 1),
            ("c2", "c3", 1),
            ("d1", "d2", 1),
            ("a1", "c1", 3),
            ("a2", "c2", 3),
            ("a3", "d1", 1),
        ]
    )
    cluster_of = {n: "abcd".index(n[0]) for n in g}
    occ = dict.fromkeys(g, 4)
    tm = thematic_map(g, cluster_of, occ).set_index("cluster")
    # centrality of 0 = 10 * (9/16 + 9/16 + 1/16); density of 0 = 100 * 3 * (16/16) / 3
    assert tm.loc[0, "centrality"] == pytest.approx(10 * 19 / 16)
    assert tm.loc[0, "density"] == pytest.approx(100.0)
    assert tm.loc[1, "centrality"] == 0
    assert dict(tm["quadrant"]) == {0: "motor", 1: "niche", 2: "basic", 3: "emerging or declining"}
    assert set(tm["quadrant"]) <= set(QUADRANTS)


def test_thematic_map_ignores_one_paper_concepts():
    g, cluster_of = two_communities()
    occ = dict.fromkeys(g, 5)
    occ.update({"b1": 1, "b2": 1, "b3": 1, "b4": 1, "b5": 1})
    tm = thematic_map(g, cluster_of, occ, min_papers=2, min_concepts=2)
    assert tm["cluster"].tolist() == [0]


def test_stability_is_perfect_on_clear_communities_and_lower_on_noise():
    g, cluster_of = two_communities()
    clear = cluster_stability(g, seeds=[1, 2, 3], reference=cluster_of, reference_seed=0)
    assert clear.ari == 1.0 and clear.nmi == 1.0
    assert clear.runs["seed"].tolist() == [0, 1, 2, 3]
    assert clear.clusters.to_dict() == {0: 1.0, 1: 1.0}
    noise = nx.gnp_random_graph(120, 0.08, seed=3)
    nx.set_edge_attributes(noise, 1, "weight")
    fuzzy = cluster_stability(noise, seeds=range(1, 6))
    assert fuzzy.ari < 0.9
    assert fuzzy.clusters.between(0, 1).all() and fuzzy.clusters.min() < 1
    assert fuzzy.summary()["seeds"] == 5


def test_stability_leaves_out_small_components():
    g, _ = two_communities()
    g.add_edge("x", "y", weight=1)
    assert cluster_stability(g, seeds=[1, 2]).concepts == 12


def test_participation_coefficient_by_hand():
    g, cluster_of = two_communities()
    # a0: five links of weight 3 inside, one of weight 1 outside: 1 - (15/16)^2 - (1/16)^2
    assert participation(g, cluster_of)["a0"] == (round(1 - (15 / 16) ** 2 - (1 / 16) ** 2, 6), 2)
    bridges = bridging_concepts(g, cluster_of, dict.fromkeys(g, 2))
    assert bridges["node"].tolist() == ["a0", "b0"]


def test_research_gaps_skip_co_occurring_nested_and_near_synonym_pairs():
    g = nx.Graph()
    g.add_nodes_from(
        [
            "graph",
            "graph neural network",
            "message passing",
            "transformer",
            "attention",
            "node embedding",
        ]
    )
    g.add_edge("transformer", "attention", weight=2)
    angle = {
        "graph": 0.0,
        "graph neural network": 0.1,
        "message passing": 0.6,
        "node embedding": 0.75,
        "transformer": 2.0,
        "attention": 2.2,
    }
    vectors = {n: np.array([math.cos(a), math.sin(a)]) for n, a in angle.items()}
    gaps = research_gaps(
        g, vectors, dict.fromkeys(g, 5), papers=50, min_similarity=0.7, max_similarity=0.95
    )
    pairs = {(a, b) for a, b in zip(gaps["a"], gaps["b"], strict=True)}
    assert ("attention", "transformer") not in pairs  # they co-occur
    assert ("graph", "graph neural network") not in pairs  # nested (and too close)
    assert ("message passing", "node embedding") not in pairs  # cos(0.15) = 0.989 > 0.95
    assert pairs == {
        ("graph", "message passing"),
        ("graph", "node embedding"),  # cos .6, .75
        ("graph neural network", "message passing"),  # cos(0.5)
        ("graph neural network", "node embedding"),
    }  # cos(0.65)
    assert gaps["similarity"].is_monotonic_decreasing
    assert (gaps["similarity"].between(0.7, 0.95)).all()
    assert gaps["expected"].eq(0.5).all()


# --- the demo build: exports and kg.load --------------------------------------------------


@pytest.fixture(scope="module")
def loaded(demo_build):
    _, out = demo_build
    return kg.load(out)


def test_build_writes_the_analytics_tables(demo_build, loaded):
    built, out = demo_build
    for name in ("trends", "emerging", "thematic", "stability", "bridges", "gaps"):
        assert (out / f"{name}.csv").exists(), name
    assert "analytics.json" in built.manifest()["outputs"] or (out / "analytics.json").exists()
    summary = loaded.summary
    assert summary["trends"]["undated_papers"] == len(built.papers)  # the demo has no dates
    assert loaded.trends.empty and loaded.emerging.empty
    runs = loaded.stability
    assert len(runs) == summary["stability"]["seeds"] == 5
    reference = runs[runs["seed"] == built.config.seed].iloc[0]
    assert reference["ari"] == 1.0 and reference["modularity"] == pytest.approx(
        built.analysis.modularity, abs=1e-6
    )
    thematic = loaded.thematic
    assert thematic["cluster"].is_unique
    assert set(thematic["cluster"]) <= set(loaded.clusters["cluster"])
    assert thematic["stability"].between(0, 1).all()
    bridges = loaded.bridges
    assert (bridges["clusters_linked"] > 1).all() and bridges["participation"].between(0, 1).all()


def test_analytics_are_deterministic(demo_build):
    from kg.analytics.export import analytics_tables

    built, _ = demo_build
    first, summary = analytics_tables(built)
    again, summary_again = analytics_tables(built)
    assert summary == summary_again
    for name in first:
        pd.testing.assert_frame_equal(first[name], again[name])


def test_louvain_reruns_in_a_forked_process_give_the_same_tables(demo_build, monkeypatch):
    """A big network's stability reruns run in a forked process beside the other tables: the
    same tables and summary as when they run here."""
    import kg.analytics.export as export

    built, _ = demo_build
    here, summary = export.analytics_tables(built)
    monkeypatch.setattr(export, "FORK_EDGES", 1)
    forked, forked_summary = export.analytics_tables(built)
    assert forked_summary == summary
    for name in here:
        pd.testing.assert_frame_equal(forked[name], here[name])


def test_reruns_made_by_the_analysis_give_the_same_tables(demo_build, monkeypatch):
    """A big build's analysis makes the stability reruns (``stability_seeds``); the analytics
    export then uses them instead of running Louvain again: the same tables and summary."""
    import dataclasses

    import kg.analyse
    import kg.analytics.export as export
    from kg.analyse import analyse, rerun_seeds

    built, _ = demo_build
    here, summary = export.analytics_tables(built)
    monkeypatch.setattr(kg.analyse, "FORK_EDGES", 0)
    seeds = rerun_seeds(built.config.seed)
    monkeypatch.setattr(kg.analyse, "cores", lambda: 2)  # whatever the machine
    # some made there (shared by its two processes, whichever is free), some not
    analysis = analyse(built.graph, config=built.config, stability_seeds=seeds[:3])
    assert analysis.reruns and set(analysis.reruns) < set(seeds)
    called = []

    def louvain(net, *, seed, resolution):
        called.append(seed)
        return kg.analyse.louvain(net, seed=seed, resolution=resolution)

    monkeypatch.setattr(export, "louvain", louvain)  # only the missing seeds are run again
    made, made_summary = export.analytics_tables(dataclasses.replace(built, analysis=analysis))
    assert sorted(called) == sorted(set(seeds) - set(analysis.reruns))
    assert made_summary == summary
    for name in here:
        pd.testing.assert_frame_equal(made[name], here[name])


def test_gaps_on_real_embeddings_never_co_occur(demo_build, loaded):
    built, _ = demo_build
    vectors = built.concept_vectors
    assert set(vectors) == {c.key for c in built.linked.concepts}
    assert all(abs(float(np.linalg.norm(v)) - 1) < 1e-4 for v in vectors.values())
    net = loaded.concept_network
    occ = loaded.concepts.set_index("key")["papers"]
    gaps = research_gaps(
        net,
        {f"concept:{k}": v for k, v in vectors.items()},
        {f"concept:{k}": int(n) for k, n in occ.items()},
        papers=len(built.papers),
        min_papers=1,
        min_similarity=0.5,
        top=20,
    )
    assert len(gaps) > 0
    together = loaded.mentions.groupby("paper")["concept_key"].apply(set)
    for a, b in zip(gaps["a"], gaps["b"], strict=True):
        ka, kb = a.removeprefix("concept:"), b.removeprefix("concept:")
        assert not any(ka in s and kb in s for s in together)


def test_load_rebuilds_the_build_graph(demo_build, loaded):
    from kg.export.graphml import annotated

    built, _ = demo_build
    expected = annotated(built)
    got = loaded.graph
    assert sorted(got.nodes) == sorted(expected.nodes)

    def edges(graph):
        return sorted((*sorted((u, v)), sorted(d.items())) for u, v, d in graph.edges(data=True))

    assert edges(got) == edges(expected)
    for node, data in expected.nodes(data=True):
        assert got.nodes[node] == data, node
    expected_net = concept_network(built.graph)
    assert sorted(loaded.concept_network.edges(data="weight")) == sorted(
        expected_net.edges(data="weight")
    )


def test_load_tables_keep_text_as_text(loaded):
    papers = loaded.papers
    assert papers["key"].map(type).eq(str).all() and papers["date"].eq("").all()
    concepts = loaded.concepts
    assert concepts["papers"].dtype.kind == "i" and concepts["pagerank"].dtype.kind == "f"
    assert concepts["acronym"].map(type).eq(str).all()
    assert len(loaded.clusters) == loaded.manifest["counts"]["clusters"]


def test_sparql_binds_parameters_as_rdf_terms(loaded):
    from rdflib import URIRef

    q = """PREFIX kg: <https://w3id.org/kg-papers/ontology#>
           PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
           SELECT ?label ?n WHERE { ?c kg:cluster ?cluster ; skos:prefLabel ?label ;
                                      kg:paperCount ?n FILTER(?n >= ?min) }"""
    rows = loaded.sparql(q, cluster=loaded.iri("cluster", 0), min=2)
    concepts = loaded.concepts
    expected = concepts[(concepts["cluster"] == 0) & (concepts["papers"] >= 2)]
    assert sorted(rows["label"]) == sorted(expected["concept"])
    assert rows["n"].map(type).eq(int).all()
    injected = loaded.sparql(q, cluster=URIRef("x:nothing"), min="2 } UNION { ?c ?p ?o")
    assert injected.empty
    ask = "ASK { ?s ?p ?o }"
    assert loaded.sparql(ask) is True
    with pytest.raises(QueryError, match="SPARQL error"):
        loaded.sparql("SELECT ?x WHERE { ?x }")


def test_load_reports_missing_folders_and_files(tmp_path, demo_build):
    with pytest.raises(InputError, match="no such build folder"):
        kg.load(tmp_path / "nothing")
    with pytest.raises(InputError, match="not a kg build folder"):
        kg.load(tmp_path)
    (tmp_path / "build.json").write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match=r"no trends\.csv \(rebuild with the analytics export"):
        _ = kg.load(tmp_path).trends
    (tmp_path / "concepts.csv").write_text("concept,key,papers\nx,x,many\n", encoding="utf-8")
    with pytest.raises(InputError, match="concepts.csv: column 'papers' should be numeric"):
        _ = kg.load(tmp_path).concepts


def test_importing_kg_stays_light():
    import subprocess
    import sys

    code = (
        "import sys, kg; kg.load; heavy = [m for m in ('pandas', 'networkx', 'rdflib', "
        "'torch', 'sklearn', 'matplotlib') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    code = "import kg; print(callable(kg.build), callable(kg.make_graph), callable(kg.load))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True True True"


def test_thematic_sums_follow_networkx_edge_order():
    """The thematic map walks the adjacency dicts, not ``net.edges``: it must add the links the
    definition over ``net.edges`` adds, self-loops, unweighted links and concepts outside any
    cluster included (its order, which the unrounded sums depend on, is checked on the 45k
    build's byte-identical outputs)."""
    import random

    for seed in range(60):
        rng = random.Random(seed)
        g = nx.relabel_nodes(nx.gnm_random_graph(40, 150, seed=seed), lambda n: f"n{n}")
        for u, v in list(g.edges)[::3]:
            g[u][v]["weight"] = rng.random() * 5
        for _ in range(5):
            n = f"n{rng.randrange(40)}"
            g.add_edge(n, n, weight=2.5)
        occurrences = {n: rng.randint(1, 6) for n in g}
        cluster_of = {n: rng.randrange(4) for n in g if rng.random() > 0.1}
        counted = {n for n in g if n in cluster_of and occurrences[n] >= 2}
        inside: dict[int, float] = {}
        outside: dict[int, float] = {}
        for a, b, w in g.edges(data="weight", default=1):  # the definition, in networkx's order
            if a in counted and b in counted:
                e = float(w) ** 2 / (occurrences[a] * occurrences[b])
                ca, cb = cluster_of[a], cluster_of[b]
                if ca == cb:
                    inside[ca] = inside.get(ca, 0.0) + e
                else:
                    outside[ca] = outside.get(ca, 0.0) + e
                    outside[cb] = outside.get(cb, 0.0) + e
        frame = thematic_map(g, cluster_of, occurrences)
        for row in frame.itertuples():
            assert row.centrality == round(10 * outside.get(row.cluster, 0.0), 6), seed
            size = sum(1 for n in counted if cluster_of[n] == row.cluster)
            assert row.density == round(100 * inside.get(row.cluster, 0.0) / size, 6), seed
