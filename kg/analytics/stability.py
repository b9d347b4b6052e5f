"""Cluster quality: modularity, and how much the Louvain clusters change with the random seed.

Louvain is randomised: another seed gives another partition of similar modularity. How similar
the partitions are says how far to trust any one of them. ``cluster_stability`` reruns Louvain
with several seeds (same resolution) and reports

- per seed: the number of clusters, the modularity, and the adjusted Rand index (ARI) and
  normalised mutual information (NMI) against the reference partition (the build's);
- overall: the mean ARI and NMI over all pairs of runs (1 = the same partition every time;
  ARI near 0 = no more alike than chance);
- per reference cluster: its mean best-match Jaccard overlap with the clusters of the other
  runs (1 = that cluster comes back whole every time).

Concepts in connected components of fewer than ``min_component`` concepts are left out of the
scores: an isolated pair is the same cluster under every seed and would flatter the figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import combinations

import networkx as nx
import numpy as np
import pandas as pd

from kg.analyse import FORK_EDGES, louvain, matrix_modularity
from kg.graph import weight_matrix
from kg.parallel import fork_map


@dataclass(frozen=True)
class Stability:
    """What ``cluster_stability`` measured; ``runs`` and ``clusters`` are DataFrames."""

    runs: pd.DataFrame  # seed, clusters, modularity, ari, nmi (vs the reference)
    clusters: pd.Series  # reference cluster id -> mean best-match Jaccard over the other runs
    ari: float  # mean pairwise adjusted Rand index over all runs
    nmi: float  # mean pairwise normalised mutual information
    concepts: int  # concepts scored (in components of at least min_component concepts)

    def summary(self) -> dict[str, float | int]:
        return {
            "seeds": len(self.runs),
            "concepts_scored": self.concepts,
            "ari_mean": round(self.ari, 6),
            "nmi_mean": round(self.nmi, 6),
            "modularity_mean": round(float(self.runs["modularity"].mean()), 6),
            "modularity_std": round(float(self.runs["modularity"].std(ddof=0)), 6),
        }


def cluster_stability(
    net: nx.Graph,
    *,
    seeds: Iterable[int] = range(1, 6),
    resolution: float = 1.0,
    reference: Mapping[str, int] | None = None,
    reference_seed: int | None = None,
    min_component: int = 3,
    partitions: Sequence[Mapping[str, int]] | None = None,
) -> Stability:
    """Rerun Louvain with each seed and compare the partitions.

    ``reference`` is the partition being judged (node -> cluster; by default the first seed's).
    ``partitions``: the seeds' ``louvain`` partitions, in order, where they were made already
    (by ``kg.analyse.analyse``, or by ``kg.analytics.export`` in a forked process while it makes
    the other tables).

    >>> g = nx.barbell_graph(5, 0)
    >>> s = cluster_stability(g, seeds=[1, 2, 3])
    >>> s.ari, s.nmi, len(s.runs)
    (1.0, 1.0, 3)
    """
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    seeds = list(seeds)
    scored = sorted(n for c in nx.connected_components(net) if len(c) >= min_component for n in c)
    if partitions is None:
        runs = [partial(louvain, net, seed=s, resolution=resolution) for s in seeds]
        # big networks: the runs share the cores, in forked processes
        partitions = fork_map(runs) if net.size() >= FORK_EDGES else [r() for r in runs]
    by_seed = dict(zip(seeds, partitions, strict=True))
    if reference is None:
        reference = by_seed[seeds[0]]
        reference_seed = seeds[0]
    elif reference_seed is not None:
        by_seed.setdefault(reference_seed, dict(reference))
    ref = [reference[n] for n in scored]

    weights = weight_matrix(net)  # once for every run's modularity

    def modularity(part: Mapping[str, int]) -> float:
        groups: dict[int, set[str]] = {}
        for n, c in part.items():
            groups.setdefault(c, set()).add(n)
        if not net.size():
            return 0.0
        return matrix_modularity(weights, net, groups.values(), resolution)

    rows = []
    for s, part in sorted(by_seed.items()):
        labels = [part[n] for n in scored]
        rows.append(
            {
                "seed": s,
                "clusters": len(set(part.values())),
                "modularity": round(modularity(part), 6),
                "ari": round(_safe(adjusted_rand_score, ref, labels), 6),
                "nmi": round(_safe(normalized_mutual_info_score, ref, labels), 6),
            }
        )
    runs = pd.DataFrame(rows, columns=["seed", "clusters", "modularity", "ari", "nmi"])

    vectors = [[part[n] for n in scored] for _, part in sorted(by_seed.items())]
    pairs = list(combinations(vectors, 2))
    ari = float(np.mean([_safe(adjusted_rand_score, a, b) for a, b in pairs])) if pairs else 1.0
    nmi = (
        float(np.mean([_safe(normalized_mutual_info_score, a, b) for a, b in pairs]))
        if pairs
        else 1.0
    )

    others = [part for s, part in sorted(by_seed.items()) if s != reference_seed]
    per_cluster = _best_match(reference, others, set(scored))
    return Stability(runs, per_cluster, ari, nmi, len(scored))


def _safe(score, a: list[int], b: list[int]) -> float:  # noqa: ANN001 - sklearn metric
    return float(score(a, b)) if len(a) else 1.0


def _best_match(
    reference: Mapping[str, int], others: list[dict[str, int]], scored: set[str]
) -> pd.Series:
    """Mean over ``others`` of each reference cluster's best Jaccard overlap with their clusters."""
    ref_sets: dict[int, set[str]] = {}
    for n, c in reference.items():
        if n in scored:
            ref_sets.setdefault(c, set()).add(n)
    sizes = []
    for part in others:
        count: dict[int, int] = {}
        for n in scored:
            count[part[n]] = count.get(part[n], 0) + 1
        sizes.append(count)
    result = {}
    for cid, members in sorted(ref_sets.items()):
        scores = []
        for part, size in zip(others, sizes, strict=True):
            overlap: dict[int, int] = {}
            for n in members:
                overlap[part[n]] = overlap.get(part[n], 0) + 1
            scores.append(max(k / (len(members) + size[c] - k) for c, k in overlap.items()))
        result[cid] = round(float(np.mean(scores)), 6) if scores else 1.0
    return pd.Series(result, name="stability", dtype=float)
