"""The "Daily Papers" page saved as text: header lines, then title / blank / abstract blocks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from kg.ingest.records import RawRecord
from kg.ingest.textio import read_text
from kg.model import Rejected, Source

MIN_ABSTRACT_CHARS = 120
MAX_TITLE_CHARS = 400


def _blocks(text: str) -> list[tuple[int, str]]:
    """Paragraphs separated by blank lines, each with the line number it starts on."""
    blocks: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            if not current:
                start = number
            current.append(line.strip())
        elif current:
            blocks.append((start, " ".join(current)))
            current = []
    if current:
        blocks.append((start, " ".join(current)))
    return blocks


def _is_abstract(block: str) -> bool:
    """Several sentences of prose; titles rarely hold even one full stop."""
    sentences = len(re.findall(r"[.!?](?:\s|$)", block))
    return len(block) >= MIN_ABSTRACT_CHARS and sentences >= 2


def _is_title(block: str) -> bool:
    return 0 < len(block) <= MAX_TITLE_CHARS and not _is_abstract(block)


def read_daily(path: Path) -> Iterator[RawRecord | Rejected]:
    """A title is a short block followed by an abstract paragraph. Short blocks before the
    first title are the page header; stray blocks after it are reported, not dropped."""
    blocks = _blocks(read_text(path))
    seen_paper = False
    i = 0
    while i < len(blocks):
        line, block = blocks[i]
        nxt = blocks[i + 1][1] if i + 1 < len(blocks) else None
        if _is_title(block) and nxt is not None and _is_abstract(nxt):
            seen_paper = True
            yield RawRecord({"title": block, "abstract": nxt}, Source(str(path), f"line {line}"))
            i += 2
            continue
        if seen_paper:
            reason = (
                "an abstract paragraph without a title line before it"
                if _is_abstract(block)
                else "a line that is neither a title followed by an abstract nor an abstract"
            )
            yield Rejected(str(path), f"line {line}", f"{reason}: {block[:80]!r}")
        i += 1
