"""Ingest: paper listings in any supported format become ``Paper`` records.

Readers are registered by format name, one module per format; each yields raw records
(or ``Rejected`` entries for what it cannot read) and ``to_paper`` maps fields to a ``Paper``.

>>> from pathlib import Path
>>> result = read_papers([Path("examples/daily-papers-order.txt")])
>>> len(result.papers), result.papers[0].title
(30, 'Order-Preserving GFlowNets')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import InputError
from kg.ingest.bibtex import read_bibtex
from kg.ingest.daily import read_daily
from kg.ingest.delimited import read_csv, read_tsv
from kg.ingest.jsonl import read_json, read_jsonl
from kg.ingest.records import RawRecord, deduplicate, to_paper
from kg.ingest.textio import check_readable, head
from kg.model import Merged, Paper, Rejected

Reader = Callable[[Path], Iterator[RawRecord | Rejected]]
MapChunks = Callable[[Iterable[list[RawRecord | Rejected]]], Iterator[list[Paper | Rejected]]]
"""Runs ``papers_of`` over chunks of records elsewhere (``kg.distributed``), chunks in order."""
CHUNK = 2_000
"""Records per chunk handed to a ``MapChunks``."""

READERS: dict[str, Reader] = {
    "daily": read_daily,
    "jsonl": read_jsonl,
    "json": read_json,
    "csv": read_csv,
    "tsv": read_tsv,
    "bibtex": read_bibtex,
}

EXTENSIONS = {
    ".txt": "daily",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".bib": "bibtex",
    ".bibtex": "bibtex",
}


@dataclass
class IngestResult:
    """Every input record lands in exactly one list: ``papers``, ``merged`` or ``rejected``."""

    papers: list[Paper] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    merged: list[Merged] = field(default_factory=list)
    files: list[dict[str, object]] = field(default_factory=list)


def detect_format(path: Path) -> str:
    """Format from the extension (``.gz`` looked through), else from the first bytes."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".gzip"):
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in EXTENSIONS:
        fmt = EXTENSIONS[suffixes[-1]]
        if fmt == "json" and _looks_like_jsonl(head(path)):
            return "jsonl"
        return fmt
    start = head(path).lstrip()
    if not start:
        return "daily"
    if start.startswith("@"):
        return "bibtex"
    if start.startswith("["):
        return "json"
    if start.startswith("{"):
        return "jsonl" if _looks_like_jsonl(start) else "json"
    first = start.splitlines()[0].lower()
    if "\t" in first and ("title" in first or "abstract" in first):
        return "tsv"
    if "," in first and ("title" in first or "abstract" in first):
        return "csv"
    return "daily"


def _looks_like_jsonl(text: str) -> bool:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return len(lines) > 1 and lines[0].lstrip().startswith("{") and lines[0].rstrip().endswith("}")


def iter_records(
    path: Path, fmt: str | None = None, *, map_chunks: MapChunks | None = None
) -> Iterator[Paper | Rejected]:
    """Papers and rejections of one file, in file order. The file is read here; with
    ``map_chunks`` its records become papers where that function sends them."""
    check_readable(path)
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty")
    fmt = fmt or detect_format(path)
    try:
        reader = READERS[fmt]
    except KeyError:
        raise InputError(
            f"{path}: unknown format {fmt!r}; known formats: {', '.join(sorted(READERS))}"
        ) from None
    if map_chunks is None:
        yield from map(_paper_of, reader(path))  # one by one, as read
    else:
        for done in map_chunks(_chunks(reader(path))):
            yield from done


def papers_of(records: Iterable[RawRecord | Rejected]) -> list[Paper | Rejected]:
    """Each record as a ``Paper`` (its text cleaned) or the reason it is rejected: the costly
    part of ingest, the same wherever it runs."""
    return [_paper_of(r) for r in records]


def _paper_of(record: RawRecord | Rejected) -> Paper | Rejected:
    return record if isinstance(record, Rejected) else to_paper(record)


def _chunks(items: Iterable[RawRecord | Rejected]) -> Iterator[list[RawRecord | Rejected]]:
    chunk: list[RawRecord | Rejected] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def read_records(
    paths: Iterable[Path], fmt: str | None = None, *, map_chunks: MapChunks | None = None
) -> IngestResult:
    """Every record of every file, duplicates kept (``kg keyphrases`` wants one line each).

    ``map_chunks``: where the records become papers (default: here, one by one as read).
    """
    result = IngestResult()
    for path in paths:
        path = Path(path)
        before = len(result.papers), len(result.rejected)
        for item in iter_records(path, fmt, map_chunks=map_chunks):
            if isinstance(item, Rejected):
                result.rejected.append(item)
            else:
                result.papers.append(item)
        papers = len(result.papers) - before[0]
        rejected = len(result.rejected) - before[1]
        if papers == 0:
            reasons = sorted({r.reason for r in result.rejected[before[1] :]})[:3]
            detail = f": {'; '.join(reasons)}" if reasons else ""
            raise InputError(f"{path}: no usable papers ({rejected} records rejected{detail})")
        result.files.append(
            {"path": str(path), "format": fmt or detect_format(path), "records": papers + rejected}
        )
    return result


def read_papers(
    paths: Sequence[Path], fmt: str | None = None, *, map_chunks: MapChunks | None = None
) -> IngestResult:
    """Read, then fold duplicates (same arXiv id, or same normalised title) into one paper."""
    result = read_records(paths, fmt, map_chunks=map_chunks)
    result.papers, result.merged = deduplicate(result.papers)
    return result
