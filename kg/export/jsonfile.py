"""JSON files of the graph exports, written as they are encoded.

``json.dumps`` with ``indent`` builds the whole text from millions of small pieces before a
byte is written: for a 45k build's ``graph.cyjs`` (58 MB) that was half a gigabyte at once, the
build's peak. ``write_json`` streams the same pieces into the file instead: the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_json(path: Path, value: Any) -> None:
    """``value`` as JSON in ``path``: keys sorted, one-space indents, UTF-8, a final newline."""
    with path.open("w", encoding="utf-8", newline="\n") as f:
        json.dump(value, f, ensure_ascii=False, sort_keys=True, indent=1)
        f.write("\n")
