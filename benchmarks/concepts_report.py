#!/usr/bin/env python3
"""The concepts of a corpus as an expert would look at them: label collisions, the most used
concepts, the largest merges.

Runs ingest -> extract -> link exactly as ``kg.build.make_graph`` does (without graph analysis
and exports), with the persistent extraction cache, so a second run on the same corpus only
redoes the linking. Prints the number of label collisions (``kg.link.label_collisions``: two
concept nodes whose prefLabels or acronym labels agree after lower-casing, singularising and
unifying hyphens; a correct build has none), the top concepts by number of papers, and the
concepts that absorbed the most spellings / merged concepts.

usage: python benchmarks/concepts_report.py [INPUT] [--top 60] [--merges 20] [--cache DIR]
(default INPUT: ../shared/data/arxiv-cs-lg-5k.jsonl). Exit status 1 if any label collides.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from shared import DATA, ROOT

sys.path.insert(0, str(ROOT))
DEFAULT = DATA / "arxiv-cs-lg-5k.jsonl"


def main() -> int:
    from kg.build import _doc_matrix
    from kg.config import Config
    from kg.extract import PhraseCache, extract_keyphrases, load_embedder
    from kg.extract.cache import cache_dir
    from kg.extract.score import LabelVectors
    from kg.ingest import read_papers
    from kg.link import label_collisions, link_concepts

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", nargs="?", default=str(DEFAULT))
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--merges", type=int, default=20)
    parser.add_argument("--cache", default=None)
    args = parser.parse_args()
    cache = cache_dir(args.cache)
    config = Config()

    clock = time.perf_counter()
    papers = read_papers([Path(args.input)]).papers
    phrases = PhraseCache(load_embedder(config, cache=cache))
    keyphrases = extract_keyphrases(
        papers, config=config, embedder=phrases, progress=False, cache=cache
    )
    extract_s = time.perf_counter() - clock
    clock = time.perf_counter()
    linked = link_concepts(
        papers,
        keyphrases,
        config=config,
        label_vectors=lambda labels: LabelVectors(phrases, labels),
        doc_vectors=_doc_matrix(keyphrases),
    )
    link_s = time.perf_counter() - clock

    collisions = label_collisions(linked.concepts)
    print(f"papers {len(papers)}  concepts {len(linked.concepts)}  mentions {len(linked.mentions)}")
    print(f"merges rows {len(linked.merges)}  extract {extract_s:.0f}s  link {link_s:.0f}s")
    print(f"label collisions: {len(collisions)}")
    for fold, members in collisions.items():
        print(f"  {fold!r}: {members}")
    n_papers = Counter(m.concept_key for m in linked.mentions)
    by_key = {c.key: c for c in linked.concepts}
    print(f"\ntop {args.top} concepts by papers")
    ranked = sorted(n_papers.items(), key=lambda kv: (-kv[1], kv[0]))[: args.top]
    for i, (key, n) in enumerate(ranked, 1):
        c = by_key[key]
        acronym = f" ({c.acronym})" if c.acronym else ""
        print(f"{i:4d} {n:5d}  {c.pref_label}{acronym}")
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in linked.merges:
        rows[row["concept"]].append(row)
    print(f"\n{args.merges} largest merges (most merged labels, then papers)")
    largest = sorted(rows.items(), key=lambda kv: (-len(kv[1]), -n_papers[kv[0]], kv[0]))
    for key, merged in largest[: args.merges]:
        labels = ", ".join(sorted({r["merged"] for r in merged}))
        print(f"  {by_key[key].pref_label} [{n_papers[key]} papers] <- {len(merged)}: {labels}")
        for reason in sorted({r["reason"] for r in merged})[:3]:
            print(f"      {reason[:140]}")
    return 1 if collisions else 0


if __name__ == "__main__":
    sys.exit(main())
