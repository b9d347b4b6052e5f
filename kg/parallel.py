"""Run heavy computations (graph analytics, linking, exports) side by side in forked processes.

A forked child inherits the parent's memory, so a task reads the big graph it works on without
pickling it; only its result travels back. The parent's objects are frozen out of the garbage
collector first (``gc.freeze``), so a collection in a child does not touch, and so copy, every
page of the parent's heap. Where fork is not available (macOS, Windows), or with one core, the
tasks run one after another in this process, with the same results.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_TASKS: list[Callable[[], Any]] = []
"""The tasks of the running ``forked`` block: the children inherit them, nothing is pickled."""
_OWNER = 0
"""The process whose ``forked`` block ``_TASKS`` belongs to: a task may open a block of its own
in its child process, not a second one beside it in the same process."""


def cores() -> int:
    """The CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    """Whether tasks may run in forked processes: where fork is the start method set, or, with
    none set, on Linux (not on macOS, where forking a process that has run torch can crash)."""
    method = multiprocessing.get_start_method(allow_none=True)
    if method is None:
        return sys.platform.startswith("linux") and hasattr(os, "fork")
    return method == "fork" and hasattr(os, "fork")


def _forks(tasks: Sequence[Callable[[], Any]]) -> bool:
    """Whether ``forked`` runs ``tasks`` in forked processes (or here, one by one)."""
    return bool(tasks) and cores() > 1 and can_fork()


class _Later:
    """A task run in this process when its result is first asked for."""

    def __init__(self, task: Callable[[], Any]) -> None:
        self._task = task

    def result(self) -> Any:
        if not hasattr(self, "_value"):
            self._value = self._task()
        return self._value


def _run(index: int) -> Any:
    return _TASKS[index]()


@contextlib.contextmanager
def forked(
    tasks: Sequence[Callable[[], Any]], *, workers: int | None = None
) -> Iterator[list[Any]]:
    """Start ``tasks`` (callables without arguments) in up to ``workers`` forked processes
    (default: the cores), and yield one handle per task whose ``.result()`` waits for it. The
    block itself runs here meanwhile. Without fork, or with one worker, each task runs here
    when its result is first asked for.

    >>> with forked([lambda: 6 * 7, lambda: sum(range(10))]) as (a, b):
    ...     here = "meanwhile"
    >>> a.result(), b.result()
    (42, 45)
    """
    global _TASKS, _OWNER
    if not _forks(tasks):
        yield [_Later(t) for t in tasks]
        return
    workers = max(1, min(len(tasks), workers or cores()))
    from concurrent.futures import ProcessPoolExecutor

    if _TASKS and os.getpid() == _OWNER:
        raise RuntimeError("kg.parallel.forked blocks do not nest in one process")
    outer, _TASKS, _OWNER = (_TASKS, _OWNER), list(tasks), os.getpid()
    frozen = gc.get_freeze_count() > 0  # by the block that forked this process: left so
    gc.freeze()
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = [pool.submit(_run, i) for i in range(len(tasks))]
            # forked when the first task was submitted (the executor's own table of them)
            processes = list((getattr(pool, "_processes", None) or {}).values())
            _end_when_done(pool, futures)
            yield futures
            for f in futures:
                f.result()
        for process in processes:  # ended, as the executor waited for them before
            process.join()
    finally:
        _TASKS, _OWNER = outer
        if not frozen:
            gc.unfreeze()


def _end_when_done(pool: Any, futures: Sequence[Any]) -> None:
    """Let the pool's processes end as soon as the last task is done, not when the block that
    runs beside them does: a forked process holds the pages it copied from this one until it
    ends (a 45k default build's process that wrote exports beside the build process held
    1.9 GB, PSS, for the minute the build process went on writing its own after it had
    finished)."""
    left = [len(futures)]
    lock = threading.Lock()

    def done(_: Any) -> None:
        with lock:
            left[0] -= 1
            last = left[0] == 0
        if last:  # no task can come after: the pool sends each process its signal to end
            pool.shutdown(wait=False)

    for future in futures:
        future.add_done_callback(done)


class Shared(Generic[T]):
    """Items that processes share out as they go: iterated here and in processes forked after
    it was made (``forked``), each gets the next item that none has taken, until none is left.
    Which process takes which item depends on their speed, so what is made of an item must not
    depend on the process.

    >>> shared = Shared("abc")
    >>> next(iter(shared)), list(shared)
    ('a', ['b', 'c'])
    """

    def __init__(self, items: Iterable[T]) -> None:
        self.items = list(items)
        # in shared memory, which forked processes see (none needed for nothing to share)
        self._taken = multiprocessing.Value("i", 0) if self.items else None

    def __iter__(self) -> Iterator[T]:
        while self._taken is not None:
            with self._taken.get_lock():
                at = self._taken.value
                self._taken.value = at + 1
            if at >= len(self.items):
                return
            yield self.items[at]


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused in this process for the block.

    For a stage that makes millions of objects that last and next to no reference cycles
    (linking, unpickling a forked task's result): each collection would only walk the
    survivors again (a fifth of the 45k link stage's time; 84 cycles found after it)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def fork_map(
    tasks: Sequence[Callable[[], Any]], *, workers: int | None = None, spill: bool = False
) -> list[Any]:
    """The results of ``tasks``, in order, computed as ``forked`` does.

    ``spill``: a forked task writes its result to a temporary file (in ``$TMPDIR``, Python's
    ``tempfile`` folder), which this process reads once the task's process has ended. A big
    result (the 45k link stage's: concepts, mentions, merges) is then never held by both
    processes at once, nor is the forked process's working memory still there while this one
    rebuilds the result.
    """
    if not spill or not _forks(tasks):
        with forked(tasks, workers=workers) as handles:
            return [h.result() for h in handles]
    paths: list[str] = []
    try:
        for _ in tasks:
            handle, path = tempfile.mkstemp(prefix="kg-result-", suffix=".pickle")
            os.close(handle)
            paths.append(path)
        with forked(
            [partial(_spilled, t, p) for t, p in zip(tasks, paths, strict=True)], workers=workers
        ) as handles:
            for h in handles:
                h.result()
        results = []
        for path in paths:  # the forked processes have ended (the block waits for them)
            with open(path, "rb") as file:
                results.append(pickle.load(file))
        return results
    finally:
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def _spilled(task: Callable[[], Any], path: str) -> None:
    with open(path, "wb") as file:
        pickle.dump(task(), file, protocol=pickle.HIGHEST_PROTOCOL)
