#!/usr/bin/env python3
"""Full ``kg build`` wall time and peak memory, with the per-stage timings of build.json.

usage: python benchmarks/bench_build.py INPUT [--fast] [--exports rdf,tables] [--cache DIR]
By default every export is written and the extraction cache is off (``--no-cache``), so the
build is from scratch. Prints one JSON object: wall_s, cpu_s, peak_rss_mb (the largest single
process), peak_tree_pss_mb (the build and its worker processes together, proportional set size, so
that pages the forked workers share are counted once; sampled every second), peak_tree_at_s
(seconds into the build when that peak was sampled: set it against the cumulative timings to
find the stage), counts, timings.
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
    ap.add_argument("--exports", default="", help="default: every export")
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
    ]
    cmd += ["--exports", args.exports] if args.exports else []
    cmd += ["--fast"] if args.fast else []
    cmd += ["--cache", str(args.cache)] if args.cache else ["--no-cache"]
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:
        child = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=log, text=True)
        peak_tree, peak_at = _watch(child, start)
        log.seek(0)
        proc = subprocess.CompletedProcess(cmd, child.returncode, "", log.read())
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
                "peak_tree_pss_mb": round(peak_tree / 2**20),
                "peak_tree_at_s": round(peak_at, 1),
                "counts": manifest["counts"],
                "timings": manifest["timings"],
            }
        )
    )


def _watch(child: subprocess.Popen[str], start: float) -> tuple[int, float]:
    """Peak memory (PSS) of ``child`` and its descendants, summed, until it exits, and the
    seconds after ``start`` when it was sampled."""
    import threading

    import psutil

    peak, peak_at = 0, 0.0
    proc = psutil.Process(child.pid)

    def sample() -> None:
        nonlocal peak, peak_at
        while child.poll() is None:
            try:
                tree = [proc, *proc.children(recursive=True)]
                pss = sum(p.memory_full_info().pss for p in tree if p.is_running())
            except psutil.Error:
                pss = 0
            if pss > peak:
                peak, peak_at = pss, time.perf_counter() - start
            time.sleep(1.0)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    child.wait()
    thread.join()
    return peak, peak_at


if __name__ == "__main__":
    main()
