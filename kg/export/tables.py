"""Tables for notebooks and spreadsheets: concepts, papers, mentions, clusters, merges.

``tables(build)`` gives pandas DataFrames; ``write_tables`` writes them as CSV, rows sorted.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from kg.graph import concept_node, paper_node

if TYPE_CHECKING:
    from kg.build import Build


def tables(build: Build) -> dict[str, pd.DataFrame]:
    a = build.analysis
    papers_of: dict[str, list[str]] = defaultdict(list)
    concepts_of: dict[str, list[str]] = defaultdict(list)
    labels = {c.key: c.pref_label for c in build.linked.concepts}
    for m in build.linked.mentions:
        papers_of[m.concept_key].append(m.paper_key)
        concepts_of[m.paper_key].append(labels[m.concept_key])

    concepts = pd.DataFrame(
        [
            {
                "concept": c.pref_label,
                "key": c.key,
                "papers": len(papers_of[c.key]),
                "degree": a.degree.get(concept_node(c.key), 0),
                "pagerank": round(a.pagerank.get(concept_node(c.key), 0.0), 6),
                "betweenness": round(a.betweenness.get(concept_node(c.key), 0.0), 6),
                "cluster": a.cluster_of.get(concept_node(c.key), -1),
                "cluster_label": a.cluster_labels.get(
                    a.cluster_of.get(concept_node(c.key), -1), ""
                ),
                "acronym": c.acronym or "",
                "alt_labels": " | ".join(c.alt_labels),
                "broader": " | ".join(c.broader),
            }
            for c in build.linked.concepts
        ],
        columns=[
            "concept",
            "key",
            "papers",
            "degree",
            "pagerank",
            "betweenness",
            "cluster",
            "cluster_label",
            "acronym",
            "alt_labels",
            "broader",
        ],
    )
    concepts = concepts.sort_values(["pagerank", "key"], ascending=[False, True], kind="stable")

    papers = pd.DataFrame(
        [
            {
                "key": p.key,
                "id": p.record_id,
                "title": p.title,
                "authors": " | ".join(p.authors),
                "date": p.date or "",
                "url": p.url or "",
                "categories": " ".join(p.categories),
                "cluster": a.cluster_of.get(paper_node(p.key), -1),
                "concepts": " | ".join(sorted(concepts_of[p.key])),
                "source": str(p.source),
            }
            for p in build.papers
        ],
        columns=[
            "key",
            "id",
            "title",
            "authors",
            "date",
            "url",
            "categories",
            "cluster",
            "concepts",
            "source",
        ],
    ).sort_values("key", kind="stable")

    mentions = pd.DataFrame(
        [
            {
                "paper": m.paper_key,
                "concept": labels[m.concept_key],
                "concept_key": m.concept_key,
                "score": m.score,
                "surface": m.surface,
                "start": m.start,
                "end": m.end,
                "sentence": m.sentence,
            }
            for m in build.linked.mentions
        ],
        columns=["paper", "concept", "concept_key", "score", "surface", "start", "end", "sentence"],
    ).sort_values(["paper", "score", "concept_key"], ascending=[True, False, True], kind="stable")

    sizes: dict[int, int] = defaultdict(int)
    paper_sizes: dict[int, int] = defaultdict(int)
    for node, cid in a.cluster_of.items():
        if node.startswith("concept:"):
            sizes[cid] += 1
        else:
            paper_sizes[cid] += 1
    clusters = pd.DataFrame(
        [
            {"cluster": cid, "label": label, "concepts": sizes[cid], "papers": paper_sizes[cid]}
            for cid, label in sorted(a.cluster_labels.items())
        ],
        columns=["cluster", "label", "concepts", "papers"],
    )
    merges = pd.DataFrame(
        build.linked.merges, columns=["concept", "pref_label", "merged", "reason"]
    )
    merges = merges.sort_values(["concept", "merged"], kind="stable")
    return {
        "concepts": concepts,
        "papers": papers,
        "mentions": mentions,
        "clusters": clusters,
        "merges": merges,
    }


def write_tables(build: Build, out: Path) -> list[Path]:
    written = []
    for name, frame in tables(build).items():
        path = out / f"{name}.csv"
        frame.to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    return written
