"""Research gaps: concepts close in meaning that no paper mentions together.

Two concepts whose embeddings are close (cosine similarity at least ``min_similarity``) yet never
co-occur in a paper are a candidate gap: related ideas that nobody has combined yet (or two
communities that name neighbouring things and do not read each other). Pairs above
``max_similarity`` are left out: they are near-synonyms the linker kept apart, not gaps; so are
pairs where one label's words contain the other's (``graph`` and ``graph neural network``).

``expected`` is the number of papers that would mention both if the two concepts were
independent (``papers_a · papers_b / papers``): a gap between frequent concepts, which would be
expected to meet several times, is a stronger signal than one between two rare concepts.
"""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx
import numpy as np
import pandas as pd


def research_gaps(
    net: nx.Graph,
    vectors: Mapping[str, np.ndarray],
    occurrences: Mapping[str, int],
    *,
    papers: int,
    labels: Mapping[str, str] | None = None,
    cluster_of: Mapping[str, int] | None = None,
    min_papers: int = 3,
    max_concepts: int = 2000,
    min_similarity: float = 0.6,
    max_similarity: float = 0.9,
    top: int = 100,
) -> pd.DataFrame:
    """The ``top`` closest concept pairs that never co-occur, closest first.

    Candidates are the ``max_concepts`` concepts with the most papers among those with at
    least ``min_papers`` (and a vector); ``papers`` is the number of papers in the build.

    >>> g = nx.Graph()
    >>> g.add_nodes_from(["a", "b", "c"])
    >>> g.add_edge("a", "c", weight=1)
    >>> vec = {"a": np.array([1.0, 0.0]), "b": np.array([0.8, 0.6]), "c": np.array([0.6, 0.8])}
    >>> gaps = research_gaps(g, vec, {"a": 4, "b": 3, "c": 3}, papers=10)  # b, c: 0.96, too close
    >>> gaps[["a", "b", "similarity", "expected"]]
       a  b  similarity  expected
    0  a  b         0.8       1.2
    """
    ranked = sorted(
        (n for n in net if occurrences.get(n, 0) >= min_papers and n in vectors),
        key=lambda n: (-occurrences[n], n),
    )[:max_concepts]
    columns = [
        "a",
        "b",
        "concept_a",
        "concept_b",
        "similarity",
        "papers_a",
        "papers_b",
        "expected",
        "cluster_a",
        "cluster_b",
    ]
    if len(ranked) < 2:
        return pd.DataFrame(columns=columns)
    nodes = sorted(ranked)
    matrix = np.stack([np.asarray(vectors[n], dtype=np.float64) for n in nodes])
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    matrix = matrix / norms
    sims = matrix @ matrix.T
    names = {n: (labels or {}).get(n, n) for n in nodes}
    words = {n: set(names[n].lower().split()) for n in nodes}
    rows = []
    ii, jj = np.nonzero(np.triu((sims >= min_similarity) & (sims <= max_similarity), k=1))
    for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
        a, b = nodes[i], nodes[j]
        if net.has_edge(a, b) or words[a] <= words[b] or words[b] <= words[a]:
            continue
        rows.append(
            {
                "a": a,
                "b": b,
                "concept_a": names[a],
                "concept_b": names[b],
                "similarity": round(float(sims[i, j]), 6),
                "papers_a": int(occurrences[a]),
                "papers_b": int(occurrences[b]),
                "expected": round(occurrences[a] * occurrences[b] / max(papers, 1), 6),
                "cluster_a": (cluster_of or {}).get(a, -1),
                "cluster_b": (cluster_of or {}).get(b, -1),
            }
        )
    frame = pd.DataFrame(rows, columns=columns)
    frame = frame.sort_values(
        ["similarity", "expected", "a", "b"], ascending=[False, False, True, True], kind="stable"
    )
    return frame.head(top).reset_index(drop=True)
