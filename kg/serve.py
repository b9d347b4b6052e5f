"""Serve: a read-only SPARQL 1.1 Protocol endpoint at ``/sparql``.

HTTP is Starlette on uvicorn; this module only maps the protocol's requests (GET ``?query=``,
POST form or ``application/sparql-query`` body) to queries and negotiates the result format
(JSON, XML or CSV results; Turtle, N-Triples, RDF/XML or JSON-LD graphs).

Queries run in worker processes that hold the graph: neither rdflib nor pyoxigraph can cancel
a running query, so one that passes the time limit is stopped by ending its worker, and a
fresh worker takes its place. With the oxigraph store the graph is bulk-loaded once into an
on-disk store that every worker opens read-only (a new worker starts in a fraction of a
second); with rdflib each worker parses the graph file. Updates are refused before they reach
a store, and the stores are never written to.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from kg.errors import ConfigError, KGError, QueryError

RESULT_TYPES = {  # SELECT and ASK
    "application/sparql-results+json": "json",
    "application/json": "json",
    "application/sparql-results+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/csv": "csv",
}
GRAPH_TYPES = {  # CONSTRUCT and DESCRIBE
    "text/turtle": "turtle",
    "application/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/n-triples": "nt",
    "text/plain": "nt",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
}
SHORT_NAMES = {  # the format= parameter that SPARQLWrapper and others send
    "json": ("application/sparql-results+json", "application/ld+json"),
    "xml": ("application/sparql-results+xml", "application/rdf+xml"),
    "csv": ("text/csv", None),
    "turtle": (None, "text/turtle"),
    "n3": (None, "text/turtle"),
    "nt": (None, "application/n-triples"),
    "rdf": (None, "application/rdf+xml"),
    "rdf+xml": (None, "application/rdf+xml"),
    "json-ld": (None, "application/ld+json"),
}
READ_ONLY = (
    "this endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, ...) is "
    "refused; query a copy of the graph in your own store to change it"
)


class NotAcceptable(KGError):
    """No result format that the client accepts fits the query."""


def negotiate(query_type: str, accept: str | None, fmt: str | None = None) -> str:
    """The media type to answer with, from the ``format`` parameter or the Accept header.

    >>> negotiate("SELECT", "text/csv;q=0.5, application/sparql-results+json")
    'application/sparql-results+json'
    >>> negotiate("CONSTRUCT", "*/*")
    'text/turtle'
    """
    graph = query_type in ("CONSTRUCT", "DESCRIBE")
    types = GRAPH_TYPES if graph else RESULT_TYPES
    default = "text/turtle" if graph else "application/sparql-results+json"
    if fmt:
        if fmt in types:
            return fmt
        choice = SHORT_NAMES.get(fmt.lower(), (None, None))[1 if graph else 0]
        if choice is None:
            raise NotAcceptable(
                f"format={fmt} does not fit a {query_type} query; use one of {', '.join(types)}"
            )
        return choice
    if not accept:
        return default
    ranked = []
    for i, part in enumerate(accept.split(",")):
        media, *options = (x.strip() for x in part.split(";"))
        q = 1.0
        for option in options:
            name, _, value = option.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            ranked.append((-q, i, media.lower()))
    for _, _, media in sorted(ranked):
        if media in types:
            return media
        if media in ("*/*", "application/*", "text/*"):
            return default
    raise NotAcceptable(
        f"none of the accepted types ({accept}) fits a {query_type} query; "
        f"this endpoint answers {', '.join(types)}"
    )


def answer(store: Any, text: str, accept: str | None, fmt: str | None) -> tuple[str, bytes]:
    """Run a query on a store and serialise its result: (media type, body)."""
    result = store.query(text)
    media = negotiate(result.type, accept, fmt)
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        from kg.query import PREFIXES

        for prefix, ns in PREFIXES.items():
            result.graph.bind(prefix, ns)
        body = result.graph.serialize(format=GRAPH_TYPES[media], encoding="utf-8")
        return media, body
    name = RESULT_TYPES[media]
    if result.type == "ASK" and name == "csv":
        return "text/csv", b"boolean\r\n" + (b"true" if result.askAnswer else b"false") + b"\r\n"
    body = result.serialize(format=name)
    assert body is not None  # rdflib returns None only when given a destination
    return media, body


# --- worker processes ---------------------------------------------------------------------


def _worker_main(conn: Connection, source: str, store_name: str) -> None:
    from kg.store import OxigraphStore, RdflibStore

    try:
        store: Any = (
            OxigraphStore.open_read_only(source)
            if store_name == "oxigraph"
            else RdflibStore.load(Path(source))
        )
    except (KGError, OSError) as exc:
        conn.send(("failed", str(exc)))
        return
    conn.send(("ready", len(store)))
    while True:
        try:
            text, accept, fmt = conn.recv()
        except (EOFError, OSError):
            return
        try:
            media, body = answer(store, text, accept, fmt)
            conn.send((200, media, body))
        except NotAcceptable as exc:
            conn.send((406, "text/plain", str(exc).encode("utf-8")))
        except QueryError as exc:
            conn.send((400, "text/plain", str(exc).encode("utf-8")))
        except Exception as exc:  # an evaluation error is the client's to read, not a crash
            conn.send((500, "text/plain", f"query failed: {exc}".encode()))


@dataclass
class Worker:
    process: Any
    conn: Connection

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


class Pool:
    """Worker processes that answer queries, each within the time limit."""

    def __init__(self, source: str, store: str, *, size: int, timeout: float) -> None:
        if size < 1:
            raise ConfigError(f"--workers {size}: need at least 1")
        if timeout <= 0:
            raise ConfigError(f"--timeout {timeout}: must be more than 0 seconds")
        self.source, self.store, self.size, self.timeout = source, store, size, timeout
        self.context = multiprocessing.get_context("spawn")
        self.workers: list[Worker] = []
        self.triples = 0
        self._idle: asyncio.Queue[Worker] | None = None

    def spawn(self) -> Worker:
        parent, child = self.context.Pipe()
        process = self.context.Process(
            target=_worker_main,
            args=(child, self.source, self.store),
            daemon=True,
            name="kg-serve-worker",
        )
        process.start()
        child.close()
        try:
            status, detail = parent.recv()
        except EOFError:
            raise QueryError("a query worker died while loading the graph") from None
        if status != "ready":
            raise QueryError(f"a query worker could not load the graph: {detail}")
        self.triples = detail
        worker = Worker(process, parent)
        self.workers.append(worker)
        return worker

    def start(self) -> None:
        for _ in range(self.size):
            self.spawn()

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers.clear()

    def _replace(self, worker: Worker) -> Worker:
        worker.stop()
        self.workers.remove(worker)
        return self.spawn()

    async def run(self, text: str, accept: str | None, fmt: str | None) -> tuple[int, str, bytes]:
        if self._idle is None:
            self._idle = asyncio.Queue()
            for w in self.workers:
                self._idle.put_nowait(w)
        loop = asyncio.get_running_loop()
        worker = await self._idle.get()
        try:
            worker.conn.send((text, accept, fmt))
            done = await loop.run_in_executor(None, worker.conn.poll, self.timeout)
            if not done:
                worker = await loop.run_in_executor(None, self._replace, worker)
                return (
                    503,
                    "text/plain",
                    (
                        f"query stopped: it ran past the time limit of {self.timeout:g} s "
                        "(kg serve --timeout)"
                    ).encode(),
                )
            try:
                return await loop.run_in_executor(None, worker.conn.recv)
            except (EOFError, OSError):
                worker = await loop.run_in_executor(None, self._replace, worker)
                return 500, "text/plain", b"query failed: its worker process died (out of memory?)"
        finally:
            self._idle.put_nowait(worker)


# --- HTTP ---------------------------------------------------------------------------------


def service_description(url: str, triples: int, timeout: float) -> str:
    """The endpoint described in Turtle (SPARQL 1.1 Service Description)."""
    formats = "http://www.w3.org/ns/formats/"
    return f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix void: <http://rdfs.org/ns/void#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

<{url}> a sd:Service ;
    rdfs:comment "kg serve: read-only; queries stop after {timeout:g} s" ;
    sd:endpoint <{url}> ;
    sd:supportedLanguage sd:SPARQL11Query ;
    sd:resultFormat <{formats}SPARQL_Results_JSON>, <{formats}SPARQL_Results_XML>,
        <{formats}SPARQL_Results_CSV>, <{formats}Turtle>, <{formats}N-Triples>,
        <{formats}RDF_XML>, <{formats}JSON-LD> ;
    sd:defaultDataset [ a sd:Dataset ; sd:defaultGraph [ a sd:Graph ; void:triples {triples} ] ] .
"""


def make_app(pool: Pool, *, url: str) -> Any:
    """The Starlette application: ``/sparql`` (GET and POST)."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    def error(status: int, message: str) -> Response:
        return PlainTextResponse(message + "\n", status_code=status)

    async def sparql(request: Request) -> Response:
        params: Mapping[str, list[str]] = parse_qs(request.url.query)
        query = None
        if request.method == "POST":
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype == "application/sparql-update":
                return error(403, READ_ONLY)
            if ctype == "application/x-www-form-urlencoded":
                body = (await request.body()).decode("utf-8", errors="replace")
                params = {**params, **parse_qs(body)}
            elif ctype == "application/sparql-query":
                query = (await request.body()).decode("utf-8", errors="replace")
            else:
                return error(
                    415,
                    f"POST a query as application/x-www-form-urlencoded or "
                    f"application/sparql-query, not {ctype or 'no content type'}",
                )
        if "update" in params:
            return error(403, READ_ONLY)
        if "default-graph-uri" in params or "named-graph-uri" in params:
            return error(
                400,
                "this endpoint has one default graph: default-graph-uri and "
                "named-graph-uri are not supported",
            )
        if query is None:
            values = params.get("query", [])
            if len(values) > 1:
                return error(400, "more than one query parameter")
            query = values[0] if values else None
        if not query:
            if request.method == "GET":
                return Response(
                    service_description(url, pool.triples, pool.timeout), media_type="text/turtle"
                )
            return error(400, "no query: send it as the query parameter")
        formats = params.get("format") or params.get("output") or []
        fmt = formats[0] if formats else None
        status, media, answered = await pool.run(query, request.headers.get("accept"), fmt)
        return Response(answered, status_code=status, media_type=media, headers={"Vary": "Accept"})

    return Starlette(
        routes=[Route("/sparql", sparql, methods=["GET", "POST"])],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=["*"],
                allow_methods=["GET", "POST"],
                allow_headers=["*"],
            )
        ],
    )


def serve(
    graph: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 7878,
    store: str = "oxigraph",
    timeout: float = 30.0,
    workers: int = 2,
) -> None:
    """Serve a build's graph until interrupted (Ctrl-C or SIGTERM)."""
    import uvicorn

    from kg.store import STORES, OxigraphStore, graph_file

    if store not in STORES:
        raise ConfigError(f"unknown store {store!r}; choose one of {', '.join(STORES)}")
    path = graph_file(graph)
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port"
            ) from exc
    tmp = tempfile.mkdtemp(prefix="kg-serve-")
    try:
        source = str(path)
        if store == "oxigraph":
            source = str(Path(tmp) / "store")
            OxigraphStore.persist(path, source)
        pool = Pool(source, store, size=workers, timeout=timeout)
        pool.start()
        url = f"http://{host}:{port}/sparql"
        print(
            f"kg serve: {url} ({pool.triples} triples from {path}, {store} store, "
            f"{workers} workers, {timeout:g} s time limit); Ctrl-C stops",
            file=sys.stderr,
            flush=True,
        )
        # uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again for
        # the handler it found: ours ends the serve loop so the workers and the on-disk store
        # are cleaned up (the default SIGTERM handler would kill the process first).
        previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            uvicorn.run(
                make_app(pool, url=url), host=host, port=port, log_level="warning", lifespan="off"
            )
        except _Stopped:
            pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            pool.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("kg serve: stopped", file=sys.stderr, flush=True)


class _Stopped(Exception):
    pass


def _stop(signum: int, frame: Any) -> None:
    raise _Stopped
