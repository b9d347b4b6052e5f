"""All analytics of a build as tables, and the ``analytics`` export that writes them.

Files written beside the other tables (rows sorted, so the same build gives the same bytes):

- ``trends.csv``: one row per concept and month with papers (``concept_trends``);
- ``emerging.csv``: one row per concept with dated papers, fastest-growing first
  (``emerging_concepts``);
- ``thematic.csv``: one row per mapped cluster: centrality, density, quadrant, stability
  (``thematic_map``, ``cluster_stability``);
- ``stability.csv``: one row per Louvain seed: clusters, modularity, ARI and NMI against the
  build's clusters (``cluster_stability``);
- ``bridges.csv``: one row per concept linked into several clusters (``bridging_concepts``);
- ``gaps.csv``: one row per close concept pair that never co-occurs (``research_gaps``);
- ``analytics.json``: the summary: modularity, stability figures, dated papers, parameters.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from kg.analyse import FORK_EDGES, clustering_network, louvain, rerun_seeds
from kg.analytics.bridges import bridging_concepts
from kg.analytics.gaps import research_gaps
from kg.analytics.stability import cluster_stability
from kg.analytics.thematic import thematic_map
from kg.analytics.trends import concept_periods, concept_trends, emerging_concepts
from kg.extract.score import prefetch
from kg.graph import concept_network, concept_node
from kg.parallel import cores, forked

if TYPE_CHECKING:
    from kg.build import Build

TREND_FREQ = "month"
THEMATIC_MIN_CONCEPTS = 3
"""Clusters smaller than this stay off the thematic map (their density is meaningless)."""
GAP_MIN_PAPERS = 3
"""Research gaps pair concepts of at least this many papers."""
FILES = ("trends", "emerging", "thematic", "stability", "bridges", "gaps")


def analytics_tables(build: Build) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Every analytics table of ``build`` and the summary written to ``analytics.json``."""
    a = build.analysis
    label = {c.key: c.pref_label for c in build.linked.concepts}
    papers = pd.DataFrame(
        {"key": [p.key for p in build.papers], "date": [p.date or "" for p in build.papers]}
    )
    mentions = pd.DataFrame(
        {
            "paper": [m.paper_key for m in build.linked.mentions],
            "concept_key": [m.concept_key for m in build.linked.mentions],
            "concept": [label[m.concept_key] for m in build.linked.mentions],
        },
        columns=["paper", "concept_key", "concept"],
    )
    net = a.network if a.network is not None else concept_network(build.graph)
    # keyed by the network's own node names, not by new ``concept:`` strings: on a big build
    # those were 2 x 370,000 strings and two more dicts, ~80 MB at the export's memory peak.
    # Every mentioned concept is a node of the network, and only its nodes are looked up
    papers_of = Counter(m.concept_key for m in build.linked.mentions)
    cut = len(concept_node(""))
    occurrences: Counter[str] = Counter()
    node_label: dict[str, str] = {}
    for n in net:
        occurrences[n], node_label[n] = papers_of[n[cut:]], label[n[cut:]]
    del papers_of
    cluster_of = {n: a.cluster_of[n] for n in net if n in a.cluster_of}
    clustered = clustering_network(net, occurrences, config=build.config)

    seed, resolution = build.config.seed, build.config.resolution
    seeds = rerun_seeds(seed)
    # the Louvain reruns the analysis did not make. On a big network that it made none of, in
    # forked processes while this one makes the rest, on the other cores (on two, more
    # processes than cores only take memory); where it made some (a big build), here: the
    # build's exports already use the cores, and a third process would add ~450 MB at the
    # build's memory peak (45k fast: 4,499 against 4,042 MiB)
    missing = [s for s in seeds if s not in a.reruns]
    runs = [partial(louvain, clustered, seed=s, resolution=resolution) for s in missing]
    big = clustered.size() >= FORK_EDGES and not a.reruns
    with forked(runs if big else [], workers=max(1, cores() - 1)) as reruns:
        periods = concept_periods(papers, mentions, freq=TREND_FREQ)
        trends = concept_trends(papers, mentions, freq=TREND_FREQ, periods=periods)
        emerging = emerging_concepts(papers, mentions, freq=TREND_FREQ, periods=periods)
        thematic = thematic_map(
            net,
            cluster_of,
            occurrences,
            labels=a.cluster_labels,
            min_concepts=THEMATIC_MIN_CONCEPTS,
        )
        bridges = bridging_concepts(
            net, cluster_of, occurrences, labels=node_label, betweenness=a.betweenness
        )
        wanted = [
            k for k in build.concept_vectors if occurrences[concept_node(k)] >= GAP_MIN_PAPERS
        ]
        prefetch(build.concept_vectors, wanted)
        gaps = research_gaps(
            net,
            {concept_node(k): build.concept_vectors[k] for k in wanted},
            occurrences,
            papers=len(build.papers),
            labels=node_label,
            cluster_of=cluster_of,
            min_papers=GAP_MIN_PAPERS,
        )
    done = [r.result() for r in reruns] if big else [run() for run in runs]
    made = a.reruns | dict(zip(missing, done, strict=True))
    stability = cluster_stability(
        clustered,
        seeds=seeds,
        resolution=resolution,
        reference={n: cluster_of[n] for n in clustered},
        reference_seed=seed,
        partitions=[made[s] for s in seeds],
    )
    thematic["stability"] = [stability.clusters.get(c, float("nan")) for c in thematic["cluster"]]

    for frame in (bridges, gaps):
        for column in ("node", "a", "b"):
            if column in frame:
                frame[column] = frame[column].str.removeprefix("concept:")
    bridges = bridges.rename(columns={"node": "concept_key"})
    gaps = gaps.rename(columns={"a": "key_a", "b": "key_b"})

    dated = int(papers["date"].str.len().ge(7).sum())
    summary = {
        "modularity": round(a.modularity, 6),
        "resolution": resolution,
        "stability": {
            **stability.summary(),
            "seeds_used": sorted(stability.runs["seed"].tolist()),
            "min_component": 3,
        },
        "trends": {
            "freq": TREND_FREQ,
            "dated_papers": dated,
            "undated_papers": len(papers) - dated,
            "periods": sorted(trends["period"].unique().tolist()),
        },
        "thematic": {
            "clusters_mapped": len(thematic),
            "min_concepts": THEMATIC_MIN_CONCEPTS,
            "quadrants": dict(sorted(Counter(thematic["quadrant"]).items())),
        },
        "bridges": len(bridges),
        "gaps": len(gaps),
    }
    return (
        {
            "trends": trends,
            "emerging": emerging,
            "thematic": thematic,
            "stability": stability.runs,
            "bridges": bridges,
            "gaps": gaps,
        },
        summary,
    )


def write_analytics(build: Build, out: Path) -> list[Path]:
    """The ``analytics`` export: the tables above as CSV, and ``analytics.json``."""
    frames, summary = analytics_tables(build)
    written = []
    for name, frame in frames.items():
        path = out / f"{name}.csv"
        frame.to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    path = out / "analytics.json"
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [*written, path]
