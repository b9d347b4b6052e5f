#!/usr/bin/env python3
"""Keyphrase quality and speed: ``kg eval`` on a gold JSONL, with same-run baselines.

usage: python benchmarks/eval_keyphrases.py [GOLD.jsonl] [--vanilla] [--before DIR] [--limit N]

Prints one JSON line per system: F1@5/10/15 (the protocol of ``kg.evaluate``) and docs/s.

* ``kg``: ``python -m kg.cli eval GOLD`` from this checkout, exactly as users run it;
* ``--before DIR``: the same command from another checkout (e.g. ``main``), for before/after;
* ``--vanilla``: vanilla KeyBERT (``../shared/tools/baseline_keybert.py``: 1-3-grams,
  English stop words, packaged MiniLM), scored here; its docs/s is its own extraction time.

Speeds depend on the machine and its load: compare only numbers printed by one run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from shared import DATA, ROOT, TOOLS

DEFAULT_GOLD = DATA / "keyphrase" / "inspec_test.jsonl"


def kg_eval(checkout: Path, gold: Path) -> dict:
    run = subprocess.run(
        [sys.executable, "-m", "kg.cli", "eval", str(gold), "--quiet"],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def vanilla(gold: Path) -> dict:
    sys.path.insert(0, str(ROOT))
    from kg.evaluate import score

    with tempfile.TemporaryDirectory() as tmp:
        pred_path = Path(tmp) / "pred.jsonl"
        run = subprocess.run(
            [
                sys.executable,
                str(TOOLS / "baseline_keybert.py"),
                str(gold),
                str(pred_path),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        speed = json.loads(run.stdout.strip().splitlines()[-1])
        rows = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines() if line]
        pred = {}
        for line in pred_path.read_text(encoding="utf-8").splitlines():
            obj = json.loads(line)
            pred[obj["id"]] = obj["keyphrases"]
    report = score({str(r["id"]): r["keyphrases"] for r in rows}, pred)
    report["docs_per_s"] = speed["docs_per_s"]
    return report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gold", nargs="?", type=Path, default=DEFAULT_GOLD)
    ap.add_argument("--vanilla", action="store_true", help="also run vanilla KeyBERT")
    ap.add_argument("--before", type=Path, help="another kg checkout to compare with")
    ap.add_argument("--limit", type=int, help="only the first N gold records")
    args = ap.parse_args()
    gold = args.gold.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        if args.limit:
            lines = gold.read_text(encoding="utf-8").splitlines(keepends=True)[: args.limit]
            gold = Path(tmp) / gold.name
            gold.write_text("".join(lines), encoding="utf-8")
        systems = [("kg", lambda: kg_eval(ROOT, gold))]
        if args.before:
            systems.append((f"kg@{args.before}", lambda: kg_eval(args.before.resolve(), gold)))
        if args.vanilla:
            systems.append(("vanilla-keybert", lambda: vanilla(gold)))
        for name, run in systems:
            print(json.dumps({"system": name, "gold": args.gold.name, **run()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
