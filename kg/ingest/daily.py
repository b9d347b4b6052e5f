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

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
# The page's own lines (compared lower-cased, spaces folded): never read as a paper's title
# ("Subscribe" above an abstract) or short abstract ("Aug 1" below a title). Other lines before
# the first paper are skipped too, as the page's header; an abstract there is reported.
CHROME = re.compile(
    r"new|subscribe|daily papers|get trending papers in your email inbox!?"
    r"|by ?ak and the research community"
    rf"|{_MONTH} \d{{1,2}}(?:,? \d{{4}})?|\d{{1,2}} {_MONTH}(?:,? \d{{4}})?|\d{{4}}-\d{{2}}-\d{{2}}"
)
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*$")


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


def is_chrome(block: str) -> bool:
    """A line of the page itself (menu, banner, listing date), not of a paper.

    >>> is_chrome("Get trending papers in your email inbox!"), is_chrome("Aug 1")
    (True, True)
    >>> is_chrome("Order-Preserving GFlowNets")
    False
    """
    return CHROME.fullmatch(" ".join(block.lower().split())) is not None


def _short_abstract(block: str) -> str:
    sentences = len(re.findall(r"[.!?](?:\s|$)", block))
    return (
        f"{len(block)} characters, {sentences} sentence{'s' if sentences != 1 else ''}; "
        f"an abstract needs at least {MIN_ABSTRACT_CHARS} characters and 2 sentences"
    )


def read_daily(path: Path) -> Iterator[RawRecord | Rejected]:
    """A title is a short block followed by an abstract paragraph. Before the first paper
    the page's header (its name, navigation, dates: lines that are neither a paper nor an
    abstract) is skipped; every other block is a paper or is reported with its reason. A
    title followed by one short sentence (an abstract too short to tell from a title) is
    reported as one record, wherever it stands, the first paper too.

    >>> import tempfile
    >>> page = Path(tempfile.mkdtemp()) / "page.txt"
    >>> _ = page.write_text("Daily Papers\\n\\nA Title\\n\\nToo short an abstract.\\n")
    >>> [r.reason.split(":")[0] for r in read_daily(page)]
    ['a title followed by text too short for an abstract (22 characters, 1 sentence; an abstract needs at least 120 characters and 2 sentences)']
    """  # noqa: E501
    blocks = _blocks(read_text(path))
    seen_paper = False
    i = 0
    while i < len(blocks):
        line, block = blocks[i]
        nxt = blocks[i + 1][1] if i + 1 < len(blocks) else None
        after = blocks[i + 2][1] if i + 2 < len(blocks) else None
        if not seen_paper and is_chrome(block):  # the page's own lines are no paper's title
            i += 1
            continue
        if _is_title(block) and nxt is not None and _is_abstract(nxt):
            seen_paper = True
            yield RawRecord({"title": block, "abstract": nxt}, Source(str(path), f"line {line}"))
            i += 2
            continue
        if (
            _is_title(block)
            and nxt is not None
            and not _is_abstract(nxt)
            and _SENTENCE_END.search(nxt)
            and not is_chrome(nxt)
            and not (after is not None and _is_abstract(after))  # nxt is the next paper's title
        ):
            yield Rejected(
                str(path),
                f"line {line}",
                f"a title followed by text too short for an abstract ({_short_abstract(nxt)}): "
                f"{block[:80]!r} / {nxt[:80]!r}",
            )
            i += 2
            continue
        if _is_abstract(block):
            reason = "an abstract paragraph without a title line before it"
        elif seen_paper:
            reason = "a line that is neither a title followed by an abstract nor an abstract"
        else:  # the page's header: navigation, dates, its name (a paper there is read above)
            i += 1
            continue
        yield Rejected(str(path), f"line {line}", f"{reason}: {block[:80]!r}")
        i += 1
