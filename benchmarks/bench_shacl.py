"""How long does checking an export against ontology/shapes.ttl take? A benchmark, not a test.

    python benchmarks/bench_shacl.py /tmp/out5k            # a build folder, graph.nt or graph.ttl
    python benchmarks/bench_shacl.py /tmp/out5k --copy     # pyshacl's default: copy the data first

pyshacl validates the data graph as it is (no RDFS/OWL inference: the shapes target classes the
export states, and ``sh:class`` values are stated types too), in place instead of on a copy,
which it only needs when inference would add triples. The script prints the parse time, the
validation time and the result; it exits 1 when the export does not conform.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SHAPES = Path(__file__).resolve().parent.parent / "ontology" / "shapes.ttl"


def main() -> int:
    import pyshacl
    from rdflib import Graph

    from kg.store import graph_file

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("graph", type=Path, help="a build folder, graph.nt or graph.ttl")
    ap.add_argument("--copy", action="store_true", help="validate a copy (pyshacl's default)")
    args = ap.parse_args()
    path = graph_file(args.graph)
    t = time.perf_counter()
    data = Graph().parse(path)
    parse_s = time.perf_counter() - t
    shapes = Graph().parse(SHAPES)
    print(f"graph: {path} ({path.stat().st_size / 1e6:.1f} MB, {len(data)} triples)")
    print(f"parse (rdflib): {parse_s:.1f} s")
    t = time.perf_counter()
    conforms, _, text = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", inplace=not args.copy
    )
    took = time.perf_counter() - t
    print(f"pyshacl {pyshacl.__version__} ({'copy' if args.copy else 'in place'}): {took:.1f} s")
    print(f"SHACL: conforms={conforms}; parse + validate {parse_s + took:.1f} s")
    if not conforms:
        print(str(text)[:3000])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
