#!/usr/bin/env python3
"""Load test of `kg serve` on 127.0.0.1: concurrent valid and invalid queries, bounded in
requests and time. Prints requests served, answers by status, connection errors, p50/p99.

usage: python benchmarks/load_serve.py BUILD_DIR [--requests 400] [--clients 8] [--seconds 120]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
# (name, query, expected HTTP status): the mix a public endpoint sees.
MIX = [
    (
        "labels",
        PREFIX + "SELECT ?c ?l WHERE { ?c a skos:Concept ; skos:prefLabel ?l } LIMIT 50",
        200,
    ),
    ("count", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", 200),
    ("ask", "ASK { ?s ?p ?o }", 200),
    ("everything", "SELECT * WHERE { ?s ?p ?o }", 200),
    ("syntax", "SELECT ?x WHERE { ?x ?y }}", 400),
    ("garbage", "}; DROP ALL; <script>", 400),
    ("update", "INSERT DATA { <urn:a> <urn:b> <urn:c> }", 403),
    ("slow", "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }", 503),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(build: Path, timeout: int) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kg.cli",
            "serve",
            str(build),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--timeout",
            str(timeout),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/sparql"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"kg serve exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("kg serve did not answer within 120 s")


def ask(url: str, query: str, timeout: float) -> tuple[int | None, float]:
    """One POST; (status or None for a connection failure, seconds). An update goes in the
    protocol's ``update`` field, as SPARQL clients send it."""
    field = "update" if query.lstrip().upper().startswith(("INSERT", "DELETE")) else "query"
    data = urllib.parse.urlencode({field: query}).encode()
    request = urllib.request.Request(
        url,
        data=data,
        headers={
            "Accept": "application/sparql-results+json",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            status: int | None = response.status
    except urllib.error.HTTPError as err:
        err.read()
        status = err.code
    except OSError:
        status = None
    return status, time.perf_counter() - started


def load(
    url: str, *, requests: int, clients: int, seconds: float, slow_every: int = 25
) -> dict[str, object]:
    """Send up to ``requests`` queries from ``clients`` threads, stopping after ``seconds``.
    Every ``slow_every``-th request is a slow query; the rest cycle through the fast mix."""
    fast = [m for m in MIX if m[0] != "slow"]
    slow = next(m for m in MIX if m[0] == "slow")
    plan = [
        slow if i % slow_every == slow_every - 1 else fast[i % len(fast)] for i in range(requests)
    ]
    stop_at = time.monotonic() + seconds

    def one(item: tuple[str, str, int]) -> tuple[str, int, int | None, float] | None:
        if time.monotonic() > stop_at:
            return None
        status, took = ask(url, item[1], timeout=60)
        return item[0], item[2], status, took

    with ThreadPoolExecutor(max_workers=clients) as pool:
        done = [r for r in pool.map(one, plan) if r is not None]
    latencies = sorted(took for *_, took in done)
    fast_latencies = sorted(took for name, _, _, took in done if name != "slow")
    statuses = Counter(str(status) for _, _, status, _ in done)
    wrong = [(name, expected, status) for name, expected, status, _ in done if status != expected]

    def pct(values: list[float], q: float) -> float:
        return (
            round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 1) if values else 0.0
        )

    return {
        "requests": len(done),
        "by_status": dict(sorted(statuses.items())),
        "connection_errors": statuses.get("None", 0),
        "unexpected": len(wrong),
        "unexpected_examples": wrong[:5],
        "p50_ms": pct(latencies, 0.50),
        "p99_ms": pct(latencies, 0.99),
        "p50_ms_fast_queries": pct(fast_latencies, 0.50),
        "p99_ms_fast_queries": pct(fast_latencies, 0.99),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else 0.0,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("build", type=Path)
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--timeout", type=int, default=3, help="the server's query time limit")
    args = ap.parse_args()
    proc, url = start(args.build, args.timeout)
    try:
        report = load(url, requests=args.requests, clients=args.clients, seconds=args.seconds)
        status, _ = ask(url, MIX[0][1], timeout=30)
        report["alive_after"] = status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(json.dumps(report))
    return 0 if report["alive_after"] and not report["connection_errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
