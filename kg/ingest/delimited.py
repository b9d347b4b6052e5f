"""CSV and TSV with a header row naming a title and/or an abstract column."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from kg.errors import InputError
from kg.ingest.records import RawRecord
from kg.ingest.textio import read_text
from kg.model import Rejected, Source

csv.field_size_limit(1 << 30)  # abstracts of 100,000 words are real


def _read(path: Path, delimiter: str) -> Iterator[RawRecord | Rejected]:
    text = read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    header = [h.strip() for h in header]
    if not header or not any(h for h in header):
        raise InputError(f"{path}: the first row should name the columns (title, abstract, ...)")
    try:
        for row in reader:
            where = f"line {reader.line_num}"
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                yield Rejected(
                    str(path),
                    where,
                    f"{len(row)} columns where the header has {len(header)}",
                )
                continue
            fields = {h: row[i] if i < len(row) else "" for i, h in enumerate(header) if h}
            yield RawRecord(fields, Source(str(path), where))
    except csv.Error as exc:
        raise InputError(f"{path} line {reader.line_num}: {exc}") from exc


def read_csv(path: Path) -> Iterator[RawRecord | Rejected]:
    return _read(path, ",")


def read_tsv(path: Path) -> Iterator[RawRecord | Rejected]:
    return _read(path, "\t")
