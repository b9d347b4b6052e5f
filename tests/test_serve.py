"""`kg serve` as a real subprocess on 127.0.0.1, queried over HTTP with SPARQLWrapper."""

from __future__ import annotations

import csv
import io
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from rdflib import Graph, Variable
from SPARQLWrapper import CSV, JSON, POST, TURTLE, XML, SPARQLWrapper

from kg.serve import NotAcceptable, negotiate
from kg.store import open_store
from tests.conftest import run_kg

TIMEOUT_S = 3
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
LABELS = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?c ?label WHERE { ?c a skos:Concept ; skos:prefLabel ?label } ORDER BY ?c"""


def children(pid: int) -> list[int]:
    """Child processes of every thread of ``pid`` (replacement workers start from threads)."""
    return [
        int(p)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for p in (task / "children").read_text().split()
    ]


@pytest.fixture(scope="module")
def server(demo_build):
    from benchmarks.load_serve import start

    _, out = demo_build
    proc, url = start(out, TIMEOUT_S)  # the same start-and-wait as the load benchmark
    yield proc, url, out
    workers = children(proc.pid)
    proc.terminate()
    assert proc.wait(timeout=30) == 0
    assert len(workers) >= 2
    deadline = time.monotonic() + 15  # the workers are gone once the server has exited
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]


def client(url: str, query: str, fmt: str) -> SPARQLWrapper:
    sparql = SPARQLWrapper(url)
    sparql.setQuery(query)
    sparql.setReturnFormat(fmt)
    return sparql


def test_select_as_json_and_csv_match_a_local_query(server):
    _, url, out = server
    rows = open_store(out).query(LABELS).bindings
    local = [(str(r[Variable("c")]), str(r[Variable("label")])) for r in rows]
    doc = client(url, LABELS, JSON).queryAndConvert()
    got = [(b["c"]["value"], b["label"]["value"]) for b in doc["results"]["bindings"]]
    assert got == local and len(got) > 100
    assert doc["results"]["bindings"][0]["label"]["xml:lang"] == "en"
    text = client(url, LABELS, CSV).queryAndConvert().decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["c", "label"] and [tuple(r) for r in rows[1:]] == local


def test_select_with_post_and_xml(server):
    _, url, _ = server
    sparql = client(url, LABELS + " LIMIT 3", XML)
    sparql.setMethod(POST)
    doc = sparql.queryAndConvert()
    assert len(doc.getElementsByTagName("result")) == 3


def test_ask_and_construct(server):
    _, url, _ = server
    ask = client(url, "ASK { ?p a <https://schema.org/ScholarlyArticle> }", JSON)
    assert ask.queryAndConvert()["boolean"] is True
    no = client(url, "ASK { ?p a <https://example.org/Nothing> }", JSON)
    assert no.queryAndConvert()["boolean"] is False
    construct = client(
        url,
        """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        CONSTRUCT { ?c skos:prefLabel ?l } WHERE { ?c skos:prefLabel ?l }""",
        TURTLE,
    )
    body = construct.queryAndConvert()
    g = Graph().parse(data=body, format="turtle")
    assert len(g) > 100


def test_a_query_in_the_request_body_with_content_negotiation(server):
    _, url, _ = server
    request = urllib.request.Request(
        url,
        data=b"ASK { ?s ?p ?o }",
        method="POST",
        headers={
            "Content-Type": "application/sparql-query",
            "Accept": "text/csv;q=0.5, application/sparql-results+xml",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Type"].startswith("application/sparql-results+xml")
        assert b"<boolean>true</boolean>" in response.read()


def test_updates_are_refused_with_a_clear_error(server):
    _, url, out = server
    sparql = client(url, "INSERT DATA { <urn:a> <urn:b> <urn:c> }", JSON)
    sparql.setMethod(POST)
    with pytest.raises(urllib.error.HTTPError) as err:
        sparql.query()
    assert err.value.code == 403
    assert "read-only" in err.value.read().decode()
    request = urllib.request.Request(
        url,
        data=b"DELETE WHERE { ?s ?p ?o }",
        method="POST",
        headers={"Content-Type": "application/sparql-update"},
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=30)
    assert err.value.code == 403
    ask = client(url, "ASK { <urn:a> <urn:b> <urn:c> }", JSON).queryAndConvert()
    assert ask["boolean"] is False
    assert client(url, "ASK { ?s ?p ?o }", JSON).queryAndConvert()["boolean"] is True


def test_a_malformed_query_is_a_bad_request(server):
    from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

    _, url, _ = server
    with pytest.raises(QueryBadFormed, match="SPARQL syntax error"):
        client(url, "SELECT ?x WHERE { ?x ?y }", JSON).query()


def test_a_slow_query_is_stopped_and_the_server_goes_on(server):
    _, url, _ = server
    started = time.monotonic()
    with pytest.raises(urllib.error.HTTPError) as err:
        client(url, SLOW, JSON).query()
    elapsed = time.monotonic() - started
    assert err.value.code == 503
    assert "time limit of 3 s" in err.value.read().decode()
    assert TIMEOUT_S <= elapsed < TIMEOUT_S + 30
    # the stopped query's worker was replaced: every worker still answers
    for _ in range(4):
        assert client(url, "ASK { ?s ?p ?o }", JSON).queryAndConvert()["boolean"] is True


def test_a_port_in_use_is_a_one_line_error(server):
    _, url, out = server
    port = url.split(":")[2].split("/")[0]
    run = run_kg("serve", str(out), "--port", port, timeout=120, env={**os.environ})
    assert run.returncode == 2
    assert run.stderr.startswith(f"kg: error: cannot listen on 127.0.0.1:{port}")


def test_negotiation_picks_the_first_acceptable_type():
    assert negotiate("SELECT", None) == "application/sparql-results+json"
    assert negotiate("ASK", "text/csv") == "text/csv"
    assert negotiate("SELECT", "text/html, */*;q=0.1") == "application/sparql-results+json"
    assert negotiate("CONSTRUCT", "application/n-triples, text/turtle;q=0.9") == (
        "application/n-triples"
    )
    assert negotiate("SELECT", None, "csv") == "text/csv"
    with pytest.raises(NotAcceptable):
        negotiate("SELECT", "text/turtle")
    with pytest.raises(NotAcceptable):
        negotiate("CONSTRUCT", None, "csv")


def test_concurrent_valid_and_invalid_queries_keep_the_server_up(server):
    """A small, bounded load: every request gets its expected answer, none is dropped."""
    from benchmarks.load_serve import MIX, ask, load

    _, url, _ = server
    report = load(url, requests=60, clients=6, seconds=120, slow_every=20)
    assert report["requests"] == 60
    assert report["connection_errors"] == 0
    assert report["unexpected"] == 0, report["unexpected_examples"]
    assert ask(url, MIX[0][1], timeout=30)[0] == 200
