#!/usr/bin/env python3
"""The graph analytics of a built graph, alone: communities, PageRank, betweenness and labels.

usage: python benchmarks/bench_analysis.py FOLDER [--repeat 2] [--graph-backend NAME]

FOLDER is what ``kg build`` wrote (``kg.load`` reads its graph back). The concept network and
its weighted matrix are made first, outside the timing, as the build's graph stage makes them;
then ``kg.analyse.analyse`` runs ``--repeat`` times with the build's configuration (its seed,
resolution and thresholds from ``build.json``), without the drawings' layout or the stability
analytics' Louvain reruns that a build runs beside it. The script prints one JSON object: each
run's wall time and CPU time (this process and its forked helpers), the clusters, the
modularity and how betweenness was computed (sampled or exact).

With ``--graph-backend NAME`` each repeat runs the analysis on networkx, then through that
backend (networkx's dispatch), and the JSON says which algorithms ran on the backend, the
largest relative difference between the two PageRanks, and whether the two found the same
clusters (as sets of concepts), betweenness and modularity.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import kg  # noqa: E402
from kg.analyse import Analysis, analyse  # noqa: E402
from kg.config import Config  # noqa: E402
from kg.graph import WEIGHTS, concept_network, weight_matrix  # noqa: E402


def _cpu() -> float:
    own, helpers = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return sum(r.ru_utime + r.ru_stime for r in (own, helpers))


def _partition(cluster_of: dict[str, int]) -> set[frozenset[str]]:
    members: dict[int, set[str]] = {}
    for node, cluster in cluster_of.items():
        members.setdefault(cluster, set()).add(node)
    return {frozenset(nodes) for nodes in members.values()}


def _against(base: Analysis, other: Analysis) -> dict[str, object]:
    """How an analysis through a backend compares with networkx's (nothing for networkx's)."""
    if other is base:
        return {}
    return {
        "algorithms": other.notes.get("graph_backend_algorithms"),
        "pagerank_max_rel_diff": max(
            (abs(other.pagerank[n] - p) / p for n, p in base.pagerank.items()), default=0.0
        ),
        "same_clusters": _partition(other.cluster_of) == _partition(base.cluster_of),
        "same_betweenness": other.betweenness == base.betweenness,
        "same_modularity": other.modularity == base.modularity,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", type=Path)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--graph-backend", default=None)
    args = ap.parse_args()
    start = time.perf_counter()
    loaded = kg.load(args.folder)
    graph = loaded.graph
    net = concept_network(graph)
    net.graph[WEIGHTS] = weight_matrix(net)
    config = Config.from_mapping(loaded.manifest["config"], origin=f"{args.folder}/build.json")
    prepared = time.perf_counter() - start
    runs = []
    for _ in range(args.repeat):
        made = {}
        for backend in dict.fromkeys([None, args.graph_backend]):  # networkx first
            # a build converts its network for a backend once: no conversion from an earlier run
            getattr(net, "__networkx_cache__", {}).clear()
            cpu, wall = _cpu(), time.perf_counter()
            made[backend] = analysis = analyse(graph, config=config, backend=backend, network=net)
            runs.append(
                {
                    "graph_backend": backend or "networkx",
                    "wall_s": round(time.perf_counter() - wall, 2),
                    "cpu_s": round(_cpu() - cpu, 2),
                    "clusters": len(analysis.cluster_labels),
                    "modularity": round(analysis.modularity, 6),
                    "betweenness": analysis.notes["betweenness"],
                    **_against(made[None], analysis),
                }
            )
            print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    print(
        json.dumps(
            {
                "folder": str(args.folder),
                "concepts": net.number_of_nodes(),
                "cooccurrence_links": net.number_of_edges(),
                "load_and_network_s": round(prepared, 1),
                "build_analyse_stage_s": loaded.manifest["timings"].get("analyse"),
                "runs": runs,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
