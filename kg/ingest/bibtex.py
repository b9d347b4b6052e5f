"""BibTeX through bibtexparser: entries with a title and/or an abstract field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import bibtexparser
from bibtexparser import middlewares as mw

from kg.ingest.records import RawRecord
from kg.ingest.textio import read_text
from kg.model import Rejected, Source


def read_bibtex(path: Path) -> Iterator[RawRecord | Rejected]:
    library = bibtexparser.parse_string(
        read_text(path),
        append_middleware=[mw.LatexDecodingMiddleware(), mw.SeparateCoAuthors()],
    )
    for number, block in enumerate(library.failed_blocks, start=1):
        line = getattr(block, "start_line", None)
        where = f"line {line + 1}" if line is not None else f"failed block {number}"
        yield Rejected(str(path), where, f"unparseable BibTeX ({type(block).__name__})")
    for entry in library.entries:
        fields = {f.key.lower(): f.value for f in entry.fields}
        fields.setdefault("id", entry.key)
        where = f"line {entry.start_line + 1}" if entry.start_line is not None else entry.key
        yield RawRecord(fields, Source(str(path), where))
