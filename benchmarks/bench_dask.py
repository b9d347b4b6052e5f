#!/usr/bin/env python3
"""The same corpus built without Dask and with ``--dask local:N``, in one run: wall time, ratio.

usage: python benchmarks/bench_dask.py INPUT [--first N] [--workers 2] [--fast] [--exports ...]
Both builds run from scratch (``--no-cache``), one after the other, as whole ``kg build``
processes (imports, cluster start and model loads included). Without Dask, a build of fewer than
1024 papers scores them in its own process, and a larger one in one process per CPU core.
Prints one JSON object: per build wall_s, cpu_s (the build and its children, Dask workers
included), the stage timings of build.json, and wall and extract ratios (without / with Dask).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _slice(path: Path, first: int, folder: Path) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    out = folder / f"first-{first}.jsonl"
    with opener(path, "rt", encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        for n, line in enumerate(src):
            if n >= first:
                break
            dst.write(line)
    return out


def _build(inputs: Path, out: Path, extra: list[str], exports: str) -> dict:
    cmd = [sys.executable, "-m", "kg.cli", "build", str(inputs), "--out", str(out)]
    cmd += ["--quiet", "--no-cache", "--exports", exports, *extra]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"bench: {' '.join(cmd[2:])} failed:\n{stderr.decode()[-3000:]}")
    children = os.times()
    manifest = json.loads((out / "build.json").read_text(encoding="utf-8"))
    return {
        "command": " ".join(cmd[2:]),
        "wall_s": round(wall, 1),
        "cpu_children_total_s": round(children.children_user + children.children_system, 1),
        "timings": manifest["timings"],
        "papers": manifest["counts"]["papers"],
        "stderr": [line for line in stderr.decode().splitlines() if "Dask" in line],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("input", type=Path)
    ap.add_argument("--first", type=int, help="only the first N records")
    ap.add_argument("--workers", type=int, default=2, help="--dask local:N")
    ap.add_argument("--fast", action="store_true")
    ap.add_argument("--exports", default="rdf,tables")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kg-bench-dask-"))
    inputs = _slice(args.input.resolve(), args.first, folder) if args.first else args.input
    extra = ["--fast"] if args.fast else []
    load_before = os.getloadavg()[0]
    single = _build(inputs.resolve(), folder / "single", extra, args.exports)
    cpu_single = single["cpu_children_total_s"]
    dask = _build(
        inputs.resolve(), folder / "dask", [*extra, "--dask", f"local:{args.workers}"], args.exports
    )
    dask["cpu_children_total_s"] = round(dask["cpu_children_total_s"] - cpu_single, 1)
    same = all(
        (folder / "single" / p.name).read_bytes() == p.read_bytes()
        for p in (folder / "dask").iterdir()
        if p.name != "build.json"
    )
    print(
        json.dumps(
            {
                "date": time.strftime("%Y-%m-%d %H:%M"),
                "machine": f"{os.cpu_count()} CPUs, load average {load_before:.1f} at the start, "
                f"{os.getloadavg()[0]:.1f} at the end",
                "input": str(args.input) + (f" (first {args.first})" if args.first else ""),
                "single": single,
                "dask": dask,
                "ratio_wall": round(single["wall_s"] / dask["wall_s"], 2),
                "ratio_extract": round(
                    single["timings"]["extract"] / dask["timings"]["extract"], 2
                ),
                "exports_identical": same,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
