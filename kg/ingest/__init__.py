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
    return _format_of_content(head(path))


def _format_of_content(text: str) -> str:
    """The format the first bytes of a file look like; ``daily`` for plain text."""
    start = text.lstrip()
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


def no_usable_papers(path: Path, rejected: Sequence[Rejected], fmt: str | None) -> InputError:
    """The error for a file none of whose records is a paper: its first reasons, and a hint
    where the extension chose a format the content does not have."""
    reasons = sorted({r.reason for r in rejected})[:3]
    detail = f": {'; '.join(reasons)}" if reasons else ""
    return InputError(
        f"{path}: no usable papers ({len(rejected)} records rejected{detail})"
        + _format_hint(path, fmt)
    )


FORMAT_NAMES = {
    "jsonl": ("JSON Lines", ".jsonl"),
    "json": ("JSON", ".json"),
    "csv": ("CSV", ".csv"),
    "tsv": ("TSV", ".tsv"),
    "bibtex": ("BibTeX", ".bib"),
}


def _format_hint(path: Path, fmt: str | None) -> str:
    """Why a file read as a Daily Papers page gave nothing, when its content says another
    format (JSON Lines saved as ``.txt``, say): the extension decided, so say how to fix it."""
    if (fmt or detect_format(path)) != "daily":
        return ""
    looks = _format_of_content(head(path))
    if looks not in FORMAT_NAMES:
        return ""
    name, ext = FORMAT_NAMES[looks]
    how = f"read it with format {looks!r}" if fmt else f"rename it to end in {ext}"
    return f"; it was read as a Daily Papers page but looks like {name}: {how}"


def _looks_like_jsonl(text: str) -> bool:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return len(lines) > 1 and lines[0].lstrip().startswith("{") and lines[0].rstrip().endswith("}")


def iter_raw(path: Path, fmt: str | None = None) -> Iterator[RawRecord | Rejected]:
    """The records of one file with every field as read (``kg eval`` wants the gold
    keyphrases beside the text), and what could not be read, in file order."""
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
    yield from reader(path)


def iter_records(
    path: Path, fmt: str | None = None, *, map_chunks: MapChunks | None = None
) -> Iterator[Paper | Rejected]:
    """Papers and rejections of one file, in file order. The file is read here; with
    ``map_chunks`` its records become papers where that function sends them."""
    if map_chunks is None:
        yield from map(_paper_of, iter_raw(path, fmt))  # one by one, as read
    else:
        for done in map_chunks(_chunks(iter_raw(path, fmt))):
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
            raise no_usable_papers(path, result.rejected[before[1] :], fmt)
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
