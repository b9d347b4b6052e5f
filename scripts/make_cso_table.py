#!/usr/bin/env python3
"""Make kg/data/cso-topics.tsv.gz, the part of the Computer Science Ontology that kg uses.

usage: python scripts/make_cso_table.py ../shared/data/vocab/cso-3.5-topics.jsonl

CSO lists equivalent topics ("neural network", "neural networks", "artificial neural network")
as separate topics. Each class of equivalents becomes one row, named by its representative (the
topic that lists the most equivalents; then the shortest id): ``id<TAB>labels<TAB>broader``,
labels and broader ids separated by ``|``, the representative's own label first; broader ids
are representatives too. Two more columns hold each label's ``kg.link.concept_key`` and
``stem_signature``, so that loading the table needs no tagging or stemming (rerun this script
when those functions change; tests/test_vocabulary.py checks that they agree).
Rows sorted by id, gzip without a timestamp: the file is reproducible.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "kg" / "data" / "cso-topics.tsv.gz"


def main(src: str) -> None:
    sys.path.insert(0, str(OUT.parent.parent.parent))
    from kg.link import concept_key, stem_signature

    rows = {}
    for line in Path(src).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows[row["id"]] = row
    parent = {i: i for i in rows}

    def find(i: str) -> str:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, row in rows.items():
        for j in row["equivalent_ids"]:
            if j in rows:
                parent[find(j)] = find(i)
    classes: dict[str, list[str]] = {}
    for i in rows:
        classes.setdefault(find(i), []).append(i)
    rep_of = {}
    for members in classes.values():
        rep = min(
            members,
            key=lambda i: (-len(rows[i]["equivalent_ids"]), "-" in i, i.endswith("s"), len(i), i),
        )
        for i in members:
            rep_of[i] = rep
    out = []
    for rep, members in ((rep_of[m[0]], m) for m in classes.values()):
        labels = [rows[rep]["label"]] + sorted(
            {rows[m]["label"] for m in members} - {rows[rep]["label"]}
        )
        broader = sorted(
            {
                rep_of[b]
                for m in members
                for b in rows[m]["broader_ids"]
                if b in rep_of and rep_of[b] != rep
            }
        )
        keys = [concept_key(label) for label in labels]
        out.append(
            "\t".join(
                [
                    rep,
                    "|".join(labels),
                    "|".join(broader),
                    "|".join(keys),
                    "|".join(stem_signature(k) for k in keys),
                ]
            )
        )
    header = "id\tlabels\tbroader\tkeys\tsignatures\n"
    data = (header + "\n".join(sorted(out)) + "\n").encode("utf-8")
    with open(OUT, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(data)
    print(f"{len(out)} topics ({len(rows)} CSO topics) -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
