"""JSON Lines (arXiv metadata and the like) and JSON arrays of paper objects."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kg.errors import InputError
from kg.ingest.records import RawRecord
from kg.ingest.textio import TruncatedInput, iter_lines, read_text
from kg.model import Rejected, Source


def read_jsonl(path: Path) -> Iterator[RawRecord | Rejected]:
    try:
        for number, line in iter_lines(path):
            if not line.strip():
                continue
            where = f"line {number}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Rejected(
                    str(path), where, f"malformed JSON ({exc.msg} at column {exc.colno})"
                )
                continue
            if not isinstance(obj, dict):
                yield Rejected(str(path), where, f"a JSON {type(obj).__name__}, not an object")
                continue
            yield RawRecord(obj, Source(str(path), where))
    except TruncatedInput as exc:
        yield Rejected(
            str(path),
            f"after line {exc.after_line}",
            "the compressed file is cut short: records after this line could not be read",
        )


def _records_of(data: Any, path: Path) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in ("papers", "records", "items", "data", "results"):
            if isinstance(data.get(key), list):
                return list(data[key])
        return [data]
    raise InputError(f"{path}: JSON holds a {type(data).__name__}, not papers")


def read_json(path: Path) -> Iterator[RawRecord | Rejected]:
    text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # One object per line saved as .json is common: read it as JSON Lines.
        if text.lstrip().startswith("{") and "\n{" in text:
            yield from read_jsonl(path)
            return
        raise InputError(f"{path}: malformed JSON at line {exc.lineno}: {exc.msg}") from exc
    for number, obj in enumerate(_records_of(data, path), start=1):
        where = f"record {number}"
        if isinstance(obj, dict):
            yield RawRecord(obj, Source(str(path), where))
        else:
            yield Rejected(str(path), where, f"a JSON {type(obj).__name__}, not an object")
