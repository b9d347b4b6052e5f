#!/usr/bin/env python3
"""Full ``kg build`` wall time and peak memory, with the per-stage timings of build.json.

usage: python benchmarks/bench_build.py INPUT [--fast] [--exports rdf,tables] [--cache DIR]
By default the extraction cache is off (``--no-cache``), so the build is from scratch.
Prints one JSON object: wall_s, cpu_s, peak_rss_mb (of the build process), counts, timings.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("input", type=Path)
    ap.add_argument("--fast", action="store_true")
    ap.add_argument("--exports", default="rdf,html,graphml,tables")
    ap.add_argument("--cache", type=Path, help="use (and fill) this extraction cache")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="kg-bench-build-")) / "out"
    cmd = [
        sys.executable,
        "-m",
        "kg.cli",
        "build",
        str(args.input.resolve()),
        "--out",
        str(out),
        "--quiet",
        "--exports",
        args.exports,
    ]
    cmd += ["--fast"] if args.fast else []
    cmd += ["--cache", str(args.cache)] if args.cache else ["--no-cache"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        sys.exit(f"bench: build failed:\n{proc.stderr[-3000:]}")
    manifest = json.loads((out / "build.json").read_text(encoding="utf-8"))
    print(
        json.dumps(
            {
                "command": " ".join(cmd[1:]),
                "date": time.strftime("%Y-%m-%d %H:%M"),
                "machine": f"{os.cpu_count()} CPUs, load average "
                f"{os.getloadavg()[0]:.1f} at the end",
                "wall_s": round(wall, 1),
                "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
                "peak_rss_mb": round(usage.ru_maxrss / 1024),
                "counts": manifest["counts"],
                "timings": manifest["timings"],
            }
        )
    )


if __name__ == "__main__":
    main()
