"""Dask: score papers on a cluster's workers, the rest of the build stays in the driver.

``kg build ... --dask ADDRESS`` sends the costly part of extraction (``score_task``: candidates
and KeyBERT's cosines of 64 papers) to the workers of a running Dask scheduler;
``--dask local:N`` starts a ``distributed.LocalCluster`` of N single-threaded worker processes
on 127.0.0.1 for the length of the build. A paper's scored candidates depend on its text alone,
so where and in which grouping it was scored changes nothing: rows come back in input order,
and the driver reads and writes the extraction cache and ranks the keyphrases as it does without
Dask. Each worker process loads the model once, with its first task (``_worker_phrases``).

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
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from kg.config import Config
from kg.errors import ConfigError, KGError
from kg.extract.score import TASK, Row, _derive, _worker_phrases, score_task

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


@contextlib.contextmanager
def connect(spec: str) -> Iterator[Any]:
    """A ``distributed.Client`` of the scheduler ``spec`` names (a LocalCluster for local:N,
    closed again on leaving); the dashboard link is printed."""
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
        yield client


def _model_loads() -> int:
    """Models this worker process has loaded so far (runs on a worker)."""
    return _worker_phrases.cache_info().misses


def score_on_dask(
    texts: Sequence[str],
    config: Config,
    *,
    address: str,
    cache: str | None,
    done: Callable[[int], None] = lambda n: None,
) -> Iterator[list[Row]]:
    """Score ``texts`` on the Dask cluster at ``address`` (or ``local:N``): the shape of
    ``score_in_processes``, rows in input order, one list per ``TASK`` texts; ``done(n)`` is
    called as each task finishes, in whatever order they finish.

    At most a few tasks per worker thread are in flight, so the driver's memory stays flat.
    ``cache`` is handed to the workers (folder of the derived models) for ``local:N`` only:
    remote workers use their own default cache folder.
    """
    from distributed import as_completed

    tasks = [list(texts[i : i + TASK]) for i in range(0, len(texts), TASK)]
    if not tasks:
        return
    kind, _ = parse_address(address)
    worker_cache = cache if kind == "local" else None
    run = uuid.uuid4().hex[:8]
    if kind == "local":
        _derive(config, worker_cache)  # once here, not in every local worker at the same time
    with connect(address) as client:
        before = client.run(_model_loads)
        futures: dict[str, int] = {}
        finished = as_completed()
        results: dict[int, list[Row]] = {}
        submitted = yielded = 0

        def window() -> int:
            return max(4, 4 * sum(client.nthreads().values()))

        def top_up() -> None:
            nonlocal submitted
            limit = window()
            while submitted < len(tasks) and submitted - yielded < limit:
                future = client.submit(
                    score_task,
                    tasks[submitted],
                    config,
                    worker_cache,
                    key=f"kg-score-{run}-{submitted}",
                    pure=False,
                )
                futures[future.key] = submitted
                finished.add(future)
                submitted += 1

        try:
            top_up()
            for future in finished:
                rows = future.result()
                index = futures.pop(future.key)
                future.release()
                done(len(rows))
                results[index] = rows
                while yielded in results:
                    yield results.pop(yielded)
                    yielded += 1
                top_up()
        finally:
            finished.clear()
        after = client.run(_model_loads)
        loads = sum(n - before.get(worker, 0) for worker, n in after.items())
        _say(
            f"Dask: {len(tasks)} tasks of up to {TASK} papers on {len(after)} workers; "
            f"the model was loaded {loads} time(s) by the workers"
        )
