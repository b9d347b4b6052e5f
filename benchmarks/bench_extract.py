#!/usr/bin/env python3
"""Extraction speed against vanilla KeyBERT, measured in the same run, plus Inspec F1@10.

Runs, one after the other, on the same N arXiv abstracts (default: the first 500 of the 5k
corpus), each as a whole process timed from the outside (imports and model loading included):
vanilla KeyBERT (/work/shared/tools/baseline_keybert.py or --baseline), then
``python -m kg.cli keyphrases --no-cache`` in default and in fast mode. Then ``kg eval`` on
Inspec test for each mode. Prints one JSON object per line.

Two ratios: ``ratio_wall``, whole process against whole process (start-up included: Python,
imports, model load), and ``ratio_throughput``, the papers per second each process adds once
started: every command also runs on the first abstract alone, and its throughput is
(N - 1) / (wall time on N - wall time on 1). The start-up cost is reported as ``startup_s``.

usage: python benchmarks/bench_extract.py [--n 500] [--modes default,fast,accurate]
       [--skip-baseline]
Derived models (ONNX, model2vec) are made once beforehand (a warm-up run) so that the timed
runs measure extraction, not the one-off export/distillation.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from shared import DATA, ROOT, TOOLS


def timed(cmd: list[str]) -> dict:
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own CPU time and peak RSS
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode:
        sys.exit(f"bench: {' '.join(cmd)} failed:\n{stderr[-2000:]}")
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "stdout": stdout,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--corpus", type=Path, default=DATA / "arxiv-cs-lg-5k.jsonl")
    ap.add_argument("--baseline", type=Path, default=TOOLS / "baseline_keybert.py")
    ap.add_argument("--modes", default="default,fast")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--skip-inspec", action="store_true")
    ap.add_argument("--skip-startup", action="store_true", help="no runs on one abstract")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tmp = Path(tempfile.mkdtemp(prefix="kg-bench-"))
    sample = tmp / f"arxiv-{args.n}.jsonl"
    with args.corpus.open(encoding="utf-8") as src:
        sample.write_text("".join(next(src) for _ in range(args.n)), encoding="utf-8")
    one = tmp / "arxiv-1.jsonl"
    one.write_text(sample.read_text(encoding="utf-8").splitlines(keepends=True)[0], "utf-8")
    modes = [m for m in args.modes.split(",") if m]
    flags = {
        "default": [],
        "fast": ["--fast"],
        "accurate": ["--candidates", "tagger", "--prescreen", "0"],  # spaCy, every candidate
    }
    py = sys.executable
    for mode in modes:  # warm-up: derived models made once, outside the timings
        timed(
            [
                py,
                "-m",
                "kg.cli",
                "keyphrases",
                str(sample),
                "--no-cache",
                "--quiet",
                "--out",
                str(tmp / "warm.jsonl"),
                *flags[mode],
            ]
        )
    info = {
        "machine": f"{os.cpu_count()} CPUs",
        "n": args.n,
        "corpus": args.corpus.name,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "load_avg": os.getloadavg(),
    }
    print(json.dumps({"run": info}))

    def run(command: Callable[[Path], list[str]]) -> dict:
        r = timed(command(sample))
        r.pop("stdout")
        if not args.skip_startup:
            r["startup_s"] = timed(command(one))["wall_s"]
            added = r["wall_s"] - r["startup_s"]
            r["throughput_per_s"] = round((args.n - 1) / added, 1) if added > 0 else None
        return r

    base = None
    if not args.skip_baseline:
        base = run(lambda f: [py, str(args.baseline), str(f), str(tmp / "vanilla.jsonl")])
        print(json.dumps({"vanilla_keybert": base}))
    for mode in modes:
        r = run(
            lambda f, mode=mode: [
                py,
                "-m",
                "kg.cli",
                "keyphrases",
                str(f),
                "--no-cache",
                "--quiet",
                "--out",
                str(tmp / f"{mode}.jsonl"),
                *flags[mode],
            ],
        )
        if base:
            r["ratio_wall"] = round(base["wall_s"] / r["wall_s"], 1)
            r["ratio_cpu"] = round(base["cpu_s"] / r["cpu_s"], 1)
            if r.get("throughput_per_s") and base.get("throughput_per_s"):
                r["ratio_throughput"] = round(r["throughput_per_s"] / base["throughput_per_s"], 1)
        print(json.dumps({mode: r}))
    print(json.dumps({"load_avg_after": os.getloadavg()}))
    if args.skip_inspec:
        return
    for mode in modes:
        r = timed(
            [
                py,
                "-m",
                "kg.cli",
                "eval",
                str(DATA / "keyphrase" / "inspec_test.jsonl"),
                "--quiet",
                *flags[mode],
            ]
        )
        print(json.dumps({f"inspec_test_{mode}": json.loads(r["stdout"].strip().splitlines()[-1])}))


if __name__ == "__main__":
    main()
