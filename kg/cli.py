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
    for name in (
        "top_n",
        "model",
        "device",
        "candidates",
        "prescreen",
        "seed",
        "resolution",
        "min_concept_papers",
        "html_max_nodes",
        "graph_max_nodes",
    ):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    for flag in ("fast", "strict"):
        if getattr(args, flag, False):
            overrides[flag] = True
    if getattr(args, "vocab", None):
        overrides["vocab"] = str(args.vocab)
    if getattr(args, "config", None):
        return Config.from_toml(args.config, **overrides)
    return Config(**overrides)


def _add_extract_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="TOML file with options (a [kg] table)")
    p.add_argument("--top-n", type=int, dest="top_n", help="keyphrases per paper (default 10)")
    p.add_argument(
        "--model", help="sentence-transformers model (default: packaged all-MiniLM-L6-v2)"
    )
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--fast", action="store_true", help="static embeddings: much faster")
    p.add_argument(
        "--candidates",
        choices=["lexicon", "tagger"],
        help="candidate phrases from a word-class lexicon (default) or spaCy's tagger (slower)",
    )
    p.add_argument(
        "--prescreen",
        type=int,
        metavar="N",
        help="default mode: score only each paper's N most promising candidates (default 20; "
        "0: all)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument(
        "--cache",
        type=Path,
        metavar="DIR",
        help="persistent extraction cache (default: $KG_CACHE_DIR or ~/.cache/kg)",
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        dest="no_cache",
        help="do not read or store extraction results (derived models still cached)",
    )


def _cache_from(args: argparse.Namespace) -> Path | None:
    from kg.extract.cache import cache_dir

    if getattr(args, "no_cache", False):
        return None
    return cache_dir(getattr(args, "cache", None))


def cmd_build(args: argparse.Namespace) -> int:
    from kg.build import build

    config = _config_from(args)
    exports = args.exports.split(",") if args.exports else None
    built = build(
        args.inputs,
        args.out,
        config=config,
        progress=not args.quiet,
        exports=exports,
        cache=_cache_from(args),
        graph_backend=args.graph_backend,
        dask=args.dask,
    )
    counts = built.manifest()["counts"]
    for r in built.ingest.rejected[:5]:
        print(f"kg: rejected {r.file} {r.locator}: {r.reason}", file=sys.stderr)
    if counts["rejected"] > 5:
        print(
            f"kg: ... and {counts['rejected'] - 5} more rejected records, listed in "
            f"{args.out}/build.json",
            file=sys.stderr,
        )
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
    found = extract_keyphrases(
        result.papers, config=config, progress=not args.quiet, cache=_cache_from(args)
    )
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115
    try:
        for paper, pk in zip(result.papers, found, strict=True):
            line: dict[str, Any] = {
                "id": paper.record_id,
                "keyphrases": [k.text for k in pk.keyphrases],
            }
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
    """F1@k over every gold record: one that ingest rejects is named on stderr with its
    reason, scores 0 (as a missing prediction does in the reference scorer) and is counted
    in ``rejected``."""
    import time

    from kg.evaluate import read_gold, score
    from kg.extract import extract_keyphrases
    from kg.model import Paper

    config = _config_from(args).replace(top_n=max(15, args.top_n or 15))
    records = read_gold(args.gold)
    papers = [r.paper for r in records if isinstance(r.paper, Paper)]
    started = time.perf_counter()
    found = extract_keyphrases(papers, config=config, progress=not args.quiet)
    seconds = time.perf_counter() - started
    # matched by place in the file, which the gold records and their papers share
    predicted = {
        p.source.locator: [k.text for k in pk.keyphrases]
        for p, pk in zip(papers, found, strict=True)
    }
    rejected = 0
    for r in records:
        if isinstance(r.paper, Paper):
            continue
        rejected += 1
        named = f" (id {r.doc_id})" if r.doc_id is not None else ""
        print(f"kg: rejected {args.gold} {r.locator}{named}: {r.paper.reason}", file=sys.stderr)
    report = score({r.locator: r.keyphrases for r in records}, predicted)
    report["rejected"] = rejected
    report["docs_per_s"] = round(len(papers) / seconds, 2)
    print(json.dumps(report))
    return 0


def cmd_concepts(args: argparse.Namespace) -> int:
    """Print a build's concepts (most central first) or, with --merges, its merges table."""
    import csv

    name = "merges.csv" if args.merges else "concepts.csv"
    path = Path(args.build) / name
    if not path.is_file():
        raise KGError(
            f"{path}: not found; is {args.build} a kg build folder made with the tables export?"
        )
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if args.merges:
        columns = ["pref_label", "merged", "reason"]
    else:
        columns = ["concept", "papers", "pagerank", "cluster_label", "broader"]
    rows = rows[: args.limit] if args.limit else rows
    widths = {c: min(48, max([len(c)] + [len(r.get(c, "")) for r in rows])) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns).rstrip()]
    for r in rows:
        lines.append("  ".join(r.get(c, "")[: widths[c]].ljust(widths[c]) for c in columns))
    return _write_stdout("".join(line.rstrip() + "\n" for line in lines))


SIGPIPE_EXIT = 128 + 13
"""What a shell reports for a command ended by SIGPIPE (``seq 100000 | head -1``)."""


def _write_stdout(text: str) -> int:
    """Write ``text`` to stdout; 0, or ``SIGPIPE_EXIT`` without a traceback when the reader
    stops early (``kg concepts DIR | head -1``). For any command that prints a result.

    stdout is pointed at the null device afterwards, so the interpreter's own flush at exit
    does not fail on the closed pipe a second time (the recipe of Python's ``signal`` docs).
    """
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        import os

        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):  # a stdout with no file behind it (tests capture it)
            pass
        return SIGPIPE_EXIT
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    from kg.query import base_of, format_result, library, run_query
    from kg.store import open_store

    if args.list:
        for name, q in library().items():
            usage = " ".join(f"--param {p}=..." for p in q.params)
            print(f"{name} {usage}".rstrip() + f"\n    {q.summary}")
        return 0
    if args.graph is None or args.query is None:
        raise KGError("kg query needs GRAPH and QUERY (or --list)")
    params = {}
    for item in args.param or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise KGError(f"--param {item!r}: expected name=value")
        params[name] = value
    store = open_store(args.graph, store=args.store)
    result = run_query(store, args.query, params)
    base = base_of(store) if args.format in ("table", "turtle") else None
    return _write_stdout(format_result(result, args.format, base=base))


def cmd_serve(args: argparse.Namespace) -> int:
    from kg.serve import serve

    serve(
        args.graph,
        host=args.host,
        port=args.port,
        store=args.store,
        timeout=args.timeout,
        workers=args.workers,
    )
    return 0


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="kg", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="build the knowledge graph of paper listings")
    b.add_argument(
        "inputs",
        nargs="+",
        type=Path,
        help="listing files (txt, jsonl, json, csv, tsv, bib; .gz ok)",
    )
    b.add_argument("--out", type=Path, default=Path("outputs"), help="output folder")
    b.add_argument(
        "--exports",
        help="comma-separated: rdf,html,graphml,tables,gexf,vosviewer,"
        "cytoscape,analytics (default all)",
    )
    b.add_argument(
        "--html-max-nodes",
        type=int,
        dest="html_max_nodes",
        help="graph.html draws the most central N nodes (default 2000; 0: all)",
    )
    b.add_argument(
        "--graph-max-nodes",
        type=int,
        dest="graph_max_nodes",
        help="GraphML/GEXF/Cytoscape/VOSviewer files hold the most central N nodes "
        "(default 50000; 0: all)",
    )
    b.add_argument("--seed", type=int)
    b.add_argument("--resolution", type=float, help="Louvain resolution (more clusters above 1)")
    b.add_argument("--min-concept-papers", type=int, dest="min_concept_papers")
    b.add_argument(
        "--graph-backend",
        dest="graph_backend",
        help="a networkx backend for Louvain, PageRank and betweenness, each where it "
        "implements it (networkx dispatch; e.g. graphblas, cugraph)",
    )
    b.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="clean records and score papers on a Dask cluster: a scheduler address "
        "(tcp://HOST:8786) or local:N "
        "(N worker processes on this machine)",
    )
    b.add_argument("--strict", action="store_true", help="fail if any record is rejected")
    b.add_argument(
        "--vocab",
        type=Path,
        help="SKOS vocabulary (Turtle): its labels force merges and preferred labels",
    )
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

    c = sub.add_parser("concepts", help="a build's concepts, or what was merged and why")
    c.add_argument("build", type=Path, help="a build folder (made by kg build)")
    c.add_argument("--merges", action="store_true", help="show merges.csv: spellings merged")
    c.add_argument("--limit", type=int, default=0, help="show only the first N rows")
    c.set_defaults(func=cmd_concepts)

    q = sub.add_parser("query", help="run SPARQL on a build's graph")
    q.add_argument("graph", type=Path, nargs="?", help="graph.nt, graph.ttl or a build folder")
    q.add_argument(
        "query", nargs="?", help="SPARQL text, a .rq file, or a library query name (see --list)"
    )
    q.add_argument(
        "--param",
        action="append",
        metavar="NAME=VALUE",
        help="bind ?NAME to a literal (numbers typed), or to an IRI written <...>",
    )
    q.add_argument(
        "--format", default="table", choices=["table", "csv", "json", "xml", "turtle", "nt"]
    )
    q.add_argument("--store", default="oxigraph", choices=["oxigraph", "rdflib"])
    q.add_argument("--list", action="store_true", help="list the library queries")
    q.set_defaults(func=cmd_query)

    s = sub.add_parser("serve", help="a read-only SPARQL 1.1 endpoint at /sparql")
    s.add_argument("graph", type=Path, help="graph.nt, graph.ttl or a build folder")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=7878)
    s.add_argument("--store", default="oxigraph", choices=["oxigraph", "rdflib"])
    s.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help="seconds a query may run before it is stopped (default 30)",
    )
    s.add_argument(
        "--workers",
        type=int,
        default=2,
        help="queries answered at the same time (one process each; default 2)",
    )
    s.set_defaults(func=cmd_serve)
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
