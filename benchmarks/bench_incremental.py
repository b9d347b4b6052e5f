#!/usr/bin/env python3
"""An incremental build against a build from scratch, measured in the same run.

usage: python benchmarks/bench_incremental.py INPUT [--new 1000] [--fast] [--keep DIR]

1. ``kg build INPUT`` from a new cache folder: the build from scratch (every paper scored);
2. the cache is brought back to what the build of the corpus before the new papers left: the
   cached keyphrases of the papers of INPUT's last ``--new`` records are deleted, and so are
   the stored label vectors, which a build of INPUT's other records (a JSONL file: its first
   lines) then stores again, every paper of it read from the cache;
3. ``kg build INPUT`` again with the cache: the incremental build (only the new papers scored,
   only the labels the build before did not have embedded).

Both builds run through ``bench_build.py`` (wall time, CPU, peak memory, stage timings). The
script prints one JSON object with both, the ratio of their wall times, and whether the two
builds wrote the same files, byte for byte (``build.json`` but its timings).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.build import VOLATILE_KEYS  # noqa: E402
from kg.config import Config  # noqa: E402
from kg.extract.cache import fingerprint, text_key  # noqa: E402
from kg.ingest import read_papers  # noqa: E402
from kg.model import MAX_TEXT_CHARS  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("input", type=Path)
    ap.add_argument("--new", type=int, default=1000, help="records added (the input's last)")
    ap.add_argument("--fast", action="store_true")
    ap.add_argument("--keep", type=Path, help="a folder for the cache and both builds' outputs")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="kg-bench-incremental-"))
    cache = work / "cache"
    work.mkdir(parents=True, exist_ok=True)
    earlier = _first_records(args.input, args.new, work)  # checked before the long build
    scratch = _bench(args.input, cache, work / "scratch", args.fast)
    forgotten = _forget_last(args.input, args.new, cache, Config(fast=args.fast))
    (cache / "vectors.sqlite").unlink(missing_ok=True)
    before = _bench(earlier, cache, work / "before", args.fast)
    incremental = _bench(args.input, cache, work / "incremental", args.fast)
    differing = _differences(work / "scratch", work / "incremental")
    print(
        json.dumps(
            {
                "input": str(args.input),
                "fast": args.fast,
                "new_records": args.new,
                "papers_scored_again": forgotten,
                "scratch": scratch,
                "before": before,
                "incremental": incremental,
                "ratio": round(incremental["wall_s"] / scratch["wall_s"], 4),
                "differing_files": differing,
                "identical_outputs": not differing,
            },
            indent=1,
        )
    )


def _bench(source: Path, cache: Path, out: Path, fast: bool) -> dict[str, Any]:
    cmd = [sys.executable, str(ROOT / "benchmarks" / "bench_build.py"), str(source)]
    cmd += ["--cache", str(cache), "--out", str(out)] + (["--fast"] if fast else [])
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if run.returncode:
        sys.exit(f"bench: {' '.join(cmd)} failed:\n{run.stderr[-3000:]}{run.stdout[-3000:]}")
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def _forget_last(source: Path, n: int, cache: Path, config: Config) -> int:
    """Delete the cached rows of the papers of ``source``'s last ``n`` records (a text that an
    earlier record has too stays): how many were deleted."""
    ingest = read_papers([source])
    records = sum(int(str(f["records"])) for f in ingest.files)

    def number(locator: str) -> int:  # "line 17" / "record 3"
        return int(locator.split()[-1])

    def key(text: str) -> str:
        return text_key(text[:MAX_TEXT_CHARS])

    old = {key(p.text) for p in ingest.papers if number(p.source.locator) <= records - n}
    new = {key(p.text) for p in ingest.papers if number(p.source.locator) > records - n} - old
    db = sqlite3.connect(cache / "keyphrases.sqlite")
    with db:
        deleted = db.executemany(
            "DELETE FROM keyphrases WHERE fp = ? AND key = ?",
            [(fingerprint(config), k) for k in sorted(new)],
        ).rowcount
    db.close()
    return int(deleted)


def _first_records(source: Path, n: int, work: Path) -> Path:
    """A JSONL file of ``source``'s records but its last ``n`` (the corpus before they came)."""
    if not source.name.endswith((".jsonl", ".jsonl.gz")):
        sys.exit(f"bench: {source} is not a JSONL file")
    opener = gzip.open if source.suffix == ".gz" else open
    with opener(source, "rt", encoding="utf-8") as lines:
        records = lines.readlines()
    if len(records) <= n:
        sys.exit(f"bench: {source} has {len(records)} records, not more than {n}")
    path = work / "before.jsonl"
    path.write_text("".join(records[:-n]), encoding="utf-8")
    return path


def _differences(a: Path, b: Path) -> list[str]:
    """The files that differ between two output folders (none: the same outputs)."""
    names = sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()})
    differ = []
    for name in names:
        x, y = a / name, b / name
        if not (x.is_file() and y.is_file()):
            differ.append(name)
        elif name == "build.json":
            left, right = (json.loads(p.read_text(encoding="utf-8")) for p in (x, y))
            if _stable(left) != _stable(right):
                differ.append(name)
        elif x.read_bytes() != y.read_bytes():
            differ.append(name)
    return differ


def _stable(manifest: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in manifest.items() if k not in VOLATILE_KEYS}


if __name__ == "__main__":
    main()
