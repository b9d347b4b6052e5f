"""The ``kg`` command: parses arguments, calls the library, prints errors as one line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kg.config import Config
from kg.errors import KGError


def _config_from(args: argparse.Namespace) -> Config:
    overrides: dict[str, Any] = {}
    for name in ("top_n", "model", "device", "seed", "resolution", "min_concept_papers"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    if getattr(args, "fast", False):
        overrides["fast"] = True
    if getattr(args, "config", None):
        return Config.from_toml(args.config, **overrides)
    return Config(**overrides)


def _add_extract_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="TOML file with options (a [kg] table)")
    p.add_argument("--top-n", type=int, dest="top_n", help="keyphrases per paper (default 10)")
    p.add_argument("--model", help="sentence-transformers model (default: packaged all-MiniLM-L6-v2)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--fast", action="store_true", help="static embeddings: much faster")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--cache", type=Path, metavar="DIR",
                   help="persistent extraction cache (default: $KG_CACHE_DIR or ~/.cache/kg)")
    p.add_argument("--no-cache", action="store_true", dest="no_cache",
                   help="do not read or store extraction results (derived models still cached)")


def _cache_from(args: argparse.Namespace) -> Path | None:
    from kg.extract.cache import cache_dir

    if getattr(args, "no_cache", False):
        return None
    return cache_dir(getattr(args, "cache", None))


def cmd_build(args: argparse.Namespace) -> int:
    from kg.build import build

    config = _config_from(args)
    built = build(args.inputs, args.out, config=config, progress=not args.quiet,
                  exports=args.exports.split(",") if args.exports else ("rdf", "html", "graphml", "tables"),
                  cache=_cache_from(args), graph_backend=args.graph_backend)
    counts = built.manifest()["counts"]
    if args.strict and counts["rejected"]:
        print(f"kg: --strict: {counts['rejected']} records rejected; see {args.out}/build.json",
              file=sys.stderr)
        return 1
    print(
        f"{counts['records']} records: {counts['papers']} papers, {counts['merged']} merged, "
        f"{counts['rejected']} rejected; {counts['concepts']} concepts, "
        f"{counts['clusters']} clusters -> {args.out}"
    )
    return 0


def cmd_keyphrases(args: argparse.Namespace) -> int:
    from kg.extract import extract_keyphrases
    from kg.ingest import read_records

    config = _config_from(args)
    result = read_records([args.input])
    found = extract_keyphrases(result.papers, config=config, progress=not args.quiet,
                               cache=_cache_from(args))
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115
    try:
        for paper, pk in zip(result.papers, found, strict=True):
            line = {"id": paper.record_id, "keyphrases": [k.text for k in pk.keyphrases]}
            if args.scores:
                line["scores"] = [k.score for k in pk.keyphrases]
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    for r in result.rejected:
        print(f"kg: rejected {r.file} {r.locator}: {r.reason}", file=sys.stderr)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    import time

    from kg.evaluate import score
    from kg.extract import extract_keyphrases
    from kg.ingest import read_records

    config = _config_from(args).replace(top_n=max(15, args.top_n or 15))
    result = read_records([args.gold])
    started = time.perf_counter()
    found = extract_keyphrases(result.papers, config=config, progress=not args.quiet)
    seconds = time.perf_counter() - started
    gold = {}
    for line in Path(args.gold).read_text(encoding="utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            gold[str(obj["id"])] = obj.get("keyphrases") or []
    predicted = {p.record_id: [k.text for k in pk.keyphrases]
                 for p, pk in zip(result.papers, found, strict=True)}
    report = score({k: v for k, v in gold.items() if k in predicted}, predicted)
    report["docs_per_s"] = round(len(result.papers) / seconds, 2)
    print(json.dumps(report))
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    from kg.query import format_result, load_graph, run_query

    params = {}
    for item in args.param or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise KGError(f"--param {item!r}: expected name=value")
        params[name] = value
    graph = load_graph(args.graph)
    sys.stdout.write(format_result(run_query(graph, args.query, params), args.format))
    return 0


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="kg", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="build the knowledge graph of paper listings")
    b.add_argument("inputs", nargs="+", type=Path, help="listing files (txt, jsonl, json, csv, tsv, bib; .gz ok)")
    b.add_argument("--out", type=Path, default=Path("outputs"), help="output folder")
    b.add_argument("--exports", help="comma-separated: rdf,html,graphml,tables (default all)")
    b.add_argument("--seed", type=int)
    b.add_argument("--resolution", type=float, help="Louvain resolution (more clusters above 1)")
    b.add_argument("--min-concept-papers", type=int, dest="min_concept_papers")
    b.add_argument("--graph-backend", dest="graph_backend",
                   help="networkx backend for the analytics (e.g. parallel, cugraph, graphblas)")
    b.add_argument("--strict", action="store_true", help="fail if any record is rejected")
    _add_extract_options(b)
    b.set_defaults(func=cmd_build)

    k = sub.add_parser("keyphrases", help="ranked keyphrases per record, as JSON Lines")
    k.add_argument("input", type=Path)
    k.add_argument("--out", type=Path, help="output .jsonl (default: standard output)")
    k.add_argument("--scores", action="store_true", help="add the scores")
    _add_extract_options(k)
    k.set_defaults(func=cmd_keyphrases)

    e = sub.add_parser("eval", help="F1@5/10/15 against gold keyphrases (e.g. Inspec)")
    e.add_argument("gold", type=Path, help="JSONL with id, title, abstract, keyphrases")
    _add_extract_options(e)
    e.set_defaults(func=cmd_eval)

    q = sub.add_parser("query", help="run SPARQL on a build's graph")
    q.add_argument("graph", type=Path, help="graph.ttl or a build folder")
    q.add_argument("query", help="SPARQL text, a .rq file, or a library query name")
    q.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="bind ?NAME to a literal, or to an IRI written <...>")
    q.add_argument("--format", default="table", choices=["table", "csv", "json", "turtle"])
    q.set_defaults(func=cmd_query)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KGError as exc:
        print(f"kg: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kg: interrupted; previous outputs are untouched", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
