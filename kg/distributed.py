"""Dask: ingest and score papers on a cluster's workers, the rest of the build stays here.

``kg build ... --dask ADDRESS`` sends the two per-paper stages to the workers of a running Dask
scheduler: ingest's cleaning and validation of each record (``kg.ingest.papers_of``, 2,000
records a task; the files are read here, which is cheap) and the costly part of extraction
(``score_task``: candidates and KeyBERT's cosines of 64 papers). ``--dask local:N`` starts a
``distributed.LocalCluster`` of N single-threaded worker processes on 127.0.0.1 for the length
of the build. A record's paper and a paper's scored candidates depend on that record or text
alone, so where and in which grouping they were made changes nothing: results come back in
input order, and the driver de-duplicates, reads and writes the extraction cache and ranks the
keyphrases as it does without Dask. Each worker process loads the model once, with its first
scoring task (``_worker_phrases``).

>>> parse_address("local:4")
('local', 4)
>>> parse_address("tcp://10.0.0.5:8786")
('scheduler', 'tcp://10.0.0.5:8786')
"""

from __future__ import annotations

import contextlib
import logging
import sys
import uuid
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from kg.config import Config
from kg.errors import ConfigError, KGError
from kg.extract.score import TASK, Row, _worker_phrases, derive_models, score_task

T = TypeVar("T")
R = TypeVar("R")

DASHBOARD = "127.0.0.1:8787"
"""Where a local cluster serves its dashboard (another free port if this one is taken)."""
CONNECT_TIMEOUT = "20s"


def parse_address(spec: str) -> tuple[str, Any]:
    """``("local", N)`` for ``local:N``, else ``("scheduler", address)``."""
    spec = spec.strip()
    if spec.startswith("local:") or spec == "local":
        count = spec.partition(":")[2]
        if not count.isdigit() or int(count) < 1:
            raise ConfigError(f"--dask {spec}: write local:N with N workers, N >= 1 (local:2)")
        return "local", int(count)
    host = spec.split("://", 1)[-1]
    if not host or ":" not in host:
        raise ConfigError(
            f"--dask {spec}: give a scheduler address such as tcp://HOST:8786, or local:N"
        )
    return "scheduler", spec


def _say(message: str) -> None:
    print(f"kg: {message}", file=sys.stderr, flush=True)


_OPEN: dict[str, Any] = {}
"""Clients of the ``connect`` blocks now open, by spec: a nested ``connect`` reuses its client
(a build's ingest and extraction run on one LocalCluster)."""


@contextlib.contextmanager
def connect(spec: str) -> Iterator[Any]:
    """A ``distributed.Client`` of the scheduler ``spec`` names (a LocalCluster for local:N,
    closed again on leaving); the dashboard link is printed."""
    if spec in _OPEN:
        yield _OPEN[spec]
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - a dependency of kg
        hint = "pip install 'dask[distributed]'"
        raise KGError(f"--dask needs dask.distributed: {hint} ({exc})") from None
    kind, target = parse_address(spec)
    with contextlib.ExitStack() as stack:
        if kind == "local":
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=target,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=DASHBOARD,
                    silence_logs=logging.ERROR,
                )
            )
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(target, timeout=CONNECT_TIMEOUT))
            except (OSError, TimeoutError) as exc:
                raise KGError(f"--dask {target}: no Dask scheduler answers there ({exc})") from None
        _say(f"Dask dashboard: {client.dashboard_link}")
        _OPEN[spec] = client
        try:
            yield client
        finally:
            del _OPEN[spec]


def _model_loads() -> int:
    """Models this worker process has loaded so far (runs on a worker)."""
    return _worker_phrases.cache_info().misses


def in_order(
    client: Any,
    func: Callable[..., R],
    tasks: Iterable[T],
    *args: Any,
    name: str,
    done: Callable[[R], None] = lambda result: None,
) -> Iterator[R]:
    """``func(task, *args)`` for each task on the cluster, results in task order; at most a
    few tasks per worker thread are in flight (or waiting here to be handed on), so neither the
    scheduler nor this process holds every task at once. ``done`` sees each result as its task
    finishes, in whatever order they finish."""
    from distributed import as_completed

    todo = iter(tasks)
    run = uuid.uuid4().hex[:8]
    futures: dict[str, int] = {}
    finished = as_completed()
    results: dict[int, R] = {}
    submitted = yielded = 0
    exhausted = False

    def top_up() -> None:
        nonlocal submitted, exhausted
        limit = max(4, 4 * sum(client.nthreads().values()))
        while not exhausted and submitted - yielded < limit:
            task = next(todo, None)
            if task is None:
                exhausted = True
                break
            future = client.submit(
                func, task, *args, key=f"kg-{name}-{run}-{submitted}", pure=False
            )
            futures[future.key] = submitted
            finished.add(future)
            submitted += 1

    try:
        top_up()
        for future in finished:
            result = future.result()
            index = futures.pop(future.key)
            future.release()
            done(result)
            results[index] = result
            while yielded in results:
                yield results.pop(yielded)
                yielded += 1
            top_up()
    finally:
        finished.clear()


def ingest_on_dask(address: str) -> Callable[[Iterable[list[Any]]], Iterator[list[Any]]]:
    """A ``kg.ingest.MapChunks`` that turns chunks of records into papers on the cluster."""
    from kg.ingest import papers_of

    def map_chunks(chunks: Iterable[list[Any]]) -> Iterator[list[Any]]:
        counted = [0, 0]

        def done(papers: list[Any]) -> None:
            counted[0] += 1
            counted[1] += len(papers)

        with connect(address) as client:
            yield from in_order(client, papers_of, chunks, name="ingest", done=done)
            _say(
                f"Dask: ingest: {counted[1]} records in {counted[0]} task(s) "
                f"on {len(client.nthreads())} workers"
            )

    return map_chunks


def score_on_dask(
    texts: Sequence[str],
    config: Config,
    *,
    address: str,
    cache: str | None,
    done: Callable[[int], None] = lambda n: None,
) -> Generator[list[Row], None, None]:
    """Score ``texts`` on the Dask cluster at ``address`` (or ``local:N``): the shape of
    ``score_in_processes``, rows in input order, one list per ``TASK`` texts; ``done(n)`` is
    called as each task finishes, in whatever order they finish.

    ``cache`` is handed to the workers (folder of the derived models) for ``local:N`` only:
    remote workers use their own default cache folder.
    """
    tasks = [list(texts[i : i + TASK]) for i in range(0, len(texts), TASK)]
    if not tasks:
        return
    kind, _ = parse_address(address)
    worker_cache = cache if kind == "local" else None
    if kind == "local":
        derive_models(config, worker_cache)  # once here, not in every local worker at the same time
    with connect(address) as client:
        before = client.run(_model_loads)
        yield from in_order(
            client,
            score_task,
            tasks,
            config,
            worker_cache,
            name="score",
            done=lambda rows: done(len(rows)),
        )
        after = client.run(_model_loads)
        loads = sum(n - before.get(worker, 0) for worker, n in after.items())
        _say(
            f"Dask: {len(tasks)} tasks of up to {TASK} papers on {len(after)} workers; "
            f"the model was loaded {loads} time(s) by the workers"
        )
