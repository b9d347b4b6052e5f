"""Load time and each library query's time on a build's graph, for each store.

    python benchmarks/bench_sparql.py /tmp/sparql-5k [--stores oxigraph,rdflib] [--repeat 3]
                                      [--validate]

Parameters are taken from the graph itself: the concept with the most papers, cluster 0, and
the paper with the most concepts. Each query is run ``--repeat`` times after loading; the
table shows the first run and the best run, in seconds (the floor is 1 s per library query).
``--validate`` also checks the graph against ontology/shapes.ttl with pyshacl.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rdflib import Variable  # noqa: E402

from kg.query import library, run_query  # noqa: E402
from kg.store import STORES, graph_file, open_store  # noqa: E402

FLOOR_S = 1.0
PICK = {
    "concept": """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        PREFIX kg: <https://w3id.org/kg-papers/ontology#>
        SELECT ?v WHERE { ?c kg:paperCount ?n ; skos:prefLabel ?v } ORDER BY DESC(?n) ?c LIMIT 1""",
    "paper": """PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?v (COUNT(?c) AS ?n) WHERE { ?p dcterms:subject ?c ; dcterms:identifier ?v }
        GROUP BY ?p ?v ORDER BY DESC(?n) ?v LIMIT 1""",
}


def pick_params(store) -> dict[str, str]:
    params = {"cluster": "0"}
    for name, text in PICK.items():
        rows = store.query(text).bindings
        params[name] = str(rows[0][Variable("v")])
    return params


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("graph", type=Path, help="a build folder, graph.nt or graph.ttl")
    ap.add_argument("--stores", default=",".join(STORES))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--validate", action="store_true", help="also validate with pyshacl")
    args = ap.parse_args()
    path = graph_file(args.graph)
    print(f"graph: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    queries = library()
    params: dict[str, str] | None = None
    table: dict[str, dict[str, tuple[float, float, int]]] = {}
    loads: dict[str, float] = {}
    for kind in args.stores.split(","):
        t = time.perf_counter()
        store = open_store(path, store=kind)
        loads[kind] = time.perf_counter() - t
        print(f"{kind}: loaded {len(store)} triples in {loads[kind]:.2f} s", flush=True)
        if params is None:
            params = pick_params(store)
            print(f"parameters: {params}")
        table[kind] = {}
        for name, q in queries.items():
            chosen = {p: params[p] for p in q.params}
            times, rows = [], 0
            for _ in range(args.repeat):
                t = time.perf_counter()
                result = run_query(store, name, chosen)
                rows = len(result.graph) if result.graph is not None else len(result.bindings)
                times.append(time.perf_counter() - t)
            table[kind][name] = (times[0], min(times), rows)
            print(
                f"  {name:24s} first {times[0]:8.3f} s  best {min(times):8.3f} s  {rows:6d} rows",
                flush=True,
            )
        del store
    kinds = list(table)
    print("\nquery".ljust(26) + "".join(f"{k + ' (best s)':>18s}" for k in kinds))
    print("load".ljust(25) + "".join(f"{loads[k]:18.3f}" for k in kinds))
    for name in queries:
        cells = "".join(f"{table[k][name][1]:18.3f}" for k in kinds)
        print(name.ljust(25) + cells)
    for kind in kinds:
        slow = [n for n, (first, _, _) in table[kind].items() if first > FLOOR_S]
        print(
            f"{kind}: {'every query under' if not slow else 'OVER'} the {FLOOR_S:g} s floor"
            + (f": {', '.join(slow)}" if slow else "")
        )
    if args.validate:
        import pyshacl
        from rdflib import Graph

        t = time.perf_counter()
        data = Graph().parse(path)
        shapes = Graph().parse(Path(__file__).resolve().parent.parent / "ontology" / "shapes.ttl")
        conforms, _, text = pyshacl.validate(data, shacl_graph=shapes)
        print(f"SHACL: conforms={conforms} ({time.perf_counter() - t:.1f} s)")
        if not conforms:
            print(text[:3000])
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
