"""Keyphrase evaluation agrees with the reference scorer of the shared tools."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kg.evaluate import f1_at_k, score
from tests.conftest import INSPEC_TEST, SHARED, read_jsonl

REFERENCE = SHARED.parent / "tools" / "kpe_eval.py"  # shared/tools, beside shared/data


def test_f1_protocol_details():
    assert f1_at_k(["Neural Networks", "neural network", "graph"], ["neural network"], 1) == 1.0
    # duplicates after stemming are removed before the cut at k
    assert f1_at_k(["nets", "net", "graphs"], ["graph", "net"], 2) == 1.0
    assert f1_at_k([], ["a"], 5) == 0.0


@pytest.mark.slow
def test_kg_eval_agrees_with_reference_scorer(tmp_path, embedder):
    from kg.extract import extract_keyphrases
    from kg.ingest import read_records

    gold_rows = read_jsonl(INSPEC_TEST)[:60]
    gold_path = tmp_path / "gold.jsonl"
    gold_path.write_text("".join(json.dumps(r) + "\n" for r in gold_rows))
    papers = read_records([gold_path]).papers
    found = extract_keyphrases(papers, embedder=embedder, progress=False)
    pred = {
        p.record_id: [k.text for k in pk.keyphrases] for p, pk in zip(papers, found, strict=True)
    }
    pred_path = tmp_path / "pred.jsonl"
    pred_path.write_text(
        "".join(json.dumps({"id": i, "keyphrases": k}) + "\n" for i, k in pred.items())
    )
    ours = score({str(r["id"]): r["keyphrases"] for r in gold_rows}, pred)
    ref = json.loads(
        subprocess.run(
            [sys.executable, str(REFERENCE), str(gold_path), str(pred_path)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    for k in (5, 10, 15):
        assert ours[f"F1@{k}"] == pytest.approx(ref[f"F1@{k}"], abs=0.005)
    assert ours["F1@10"] > 20  # real keyphrases, not noise
