"""Keyphrase evaluation agrees with the reference scorer of the shared tools."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys

import pytest

from kg.errors import InputError
from kg.evaluate import f1_at_k, read_gold, score
from kg.model import Paper, Rejected
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


def _gold(tmp_path, rows, name="gold.jsonl"):
    text = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)
    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_gold_records_that_ingest_rejects_are_kept_with_their_reason(tmp_path):
    rows = read_jsonl(INSPEC_TEST)[:3] + [
        {"id": "empty", "title": "", "abstract": "", "keyphrases": ["x"]},
        "{not json",
    ]
    for name in ("gold.jsonl", "gold.jsonl.gz"):
        gold = read_gold(_gold(tmp_path, rows, name))
        assert [g.locator for g in gold] == [f"line {n}" for n in range(1, 6)]
        assert [type(g.paper) for g in gold] == [Paper] * 3 + [Rejected] * 2
        assert gold[3].doc_id == "empty" and "no title and no abstract" in gold[3].paper.reason
        assert "malformed JSON" in gold[4].paper.reason
        assert gold[0].keyphrases == tuple(rows[0]["keyphrases"])


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"title": "T", "abstract": "A b.", "keyphrases": []}, "line 2: no 'id'"),
        ({"id": "2", "title": "T", "abstract": "A b.", "keyphrases": []}, "line 2: id '2' again"),
        ({"id": "n", "title": "T", "abstract": "A b."}, "line 2 (id 'n'): 'keyphrases' must"),
        ({"id": "n", "title": "T", "abstract": "A", "keyphrases": "a; b"}, "list of strings"),
    ],
)
def test_gold_without_id_or_keyphrases_is_an_error_naming_file_and_line(tmp_path, bad, message):
    path = _gold(tmp_path, [read_jsonl(INSPEC_TEST)[0], bad])
    with pytest.raises(InputError, match=re.escape(message)) as info:
        read_gold(path)
    assert str(path) in str(info.value)
