"""Tables for notebooks and spreadsheets: concepts, papers, mentions, clusters, merges.

``tables(build)`` gives pandas DataFrames; ``write_tables`` writes them as CSV, rows sorted.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from kg.graph import concept_node, paper_node

if TYPE_CHECKING:
    from kg.build import Build


def tables(build: Build) -> dict[str, pd.DataFrame]:
    """Every table of ``build``: concepts, papers, mentions, clusters, merges."""
    return {name: make(build) for name, make in TABLES.items()}


def _frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    """A DataFrame from its columns (a dict per row would take ten times the memory); with no
    rows, of ``object`` columns, as a frame of dicts is."""
    empty = not any(columns.values())
    return pd.DataFrame(columns, columns=list(columns), dtype=object if empty else None)


def concepts_table(build: Build) -> pd.DataFrame:
    a = build.analysis
    papers: dict[str, int] = defaultdict(int)
    for m in build.linked.mentions:
        papers[m.concept_key] += 1
    concepts = build.linked.concepts
    nodes = [concept_node(c.key) for c in concepts]
    cluster = [a.cluster_of.get(n, -1) for n in nodes]
    frame = _frame(
        {
            "concept": [c.pref_label for c in concepts],
            "key": [c.key for c in concepts],
            "papers": [papers[c.key] for c in concepts],
            "degree": [a.degree.get(n, 0) for n in nodes],
            "pagerank": [round(a.pagerank.get(n, 0.0), 6) for n in nodes],
            "betweenness": [round(a.betweenness.get(n, 0.0), 6) for n in nodes],
            "cluster": cluster,
            "cluster_label": [a.cluster_labels.get(cid, "") for cid in cluster],
            "acronym": [c.acronym or "" for c in concepts],
            "alt_labels": [" | ".join(c.alt_labels) for c in concepts],
            "broader": [" | ".join(c.broader) for c in concepts],
        }
    )
    return frame.sort_values(["pagerank", "key"], ascending=[False, True], kind="stable")


def papers_table(build: Build) -> pd.DataFrame:
    a = build.analysis
    labels = {c.key: c.pref_label for c in build.linked.concepts}
    concepts_of: dict[str, list[str]] = defaultdict(list)
    for m in build.linked.mentions:
        concepts_of[m.paper_key].append(labels[m.concept_key])
    papers = build.papers
    frame = _frame(
        {
            "key": [p.key for p in papers],
            "id": [p.record_id for p in papers],
            "title": [p.title for p in papers],
            "authors": [" | ".join(p.authors) for p in papers],
            "date": [p.date or "" for p in papers],
            "url": [p.url or "" for p in papers],
            "categories": [" ".join(p.categories) for p in papers],
            "cluster": [a.cluster_of.get(paper_node(p.key), -1) for p in papers],
            "concepts": [" | ".join(sorted(concepts_of[p.key])) for p in papers],
            "source": [p.source.record for p in papers],
        }
    )
    return frame.sort_values("key", kind="stable")


def mentions_table(build: Build) -> pd.DataFrame:
    labels = {c.key: c.pref_label for c in build.linked.concepts}
    mentions = build.linked.mentions
    frame = _frame(
        {
            "paper": [m.paper_key for m in mentions],
            "concept": [labels[m.concept_key] for m in mentions],
            "concept_key": [m.concept_key for m in mentions],
            "score": [m.score for m in mentions],
            "surface": [m.surface for m in mentions],
            "start": [m.start for m in mentions],
            "end": [m.end for m in mentions],
            "sentence": [m.sentence for m in mentions],
        }
    )
    return frame.sort_values(
        ["paper", "score", "concept_key"], ascending=[True, False, True], kind="stable"
    )


def clusters_table(build: Build) -> pd.DataFrame:
    a = build.analysis
    sizes: dict[int, int] = defaultdict(int)
    paper_sizes: dict[int, int] = defaultdict(int)
    for node, cid in a.cluster_of.items():
        if node.startswith("concept:"):
            sizes[cid] += 1
        else:
            paper_sizes[cid] += 1
    ordered = sorted(a.cluster_labels.items())
    return _frame(
        {
            "cluster": [cid for cid, _ in ordered],
            "label": [label for _, label in ordered],
            "concepts": [sizes[cid] for cid, _ in ordered],
            "papers": [paper_sizes[cid] for cid, _ in ordered],
        }
    )


def merges_table(build: Build) -> pd.DataFrame:
    merges = pd.DataFrame(
        build.linked.merges, columns=["concept", "pref_label", "merged", "reason"]
    )
    return merges.sort_values(["concept", "merged"], kind="stable")


TABLES = {
    "concepts": concepts_table,
    "papers": papers_table,
    "mentions": mentions_table,
    "clusters": clusters_table,
    "merges": merges_table,
}
"""The tables by name, each made from the build on its own."""


def write_tables(build: Build, out: Path) -> list[Path]:
    """Each table as CSV, made and written one after another (a big build's tables are not
    all held at once)."""
    written = []
    for name, make in TABLES.items():
        path = out / f"{name}.csv"
        make(build).to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    return written
