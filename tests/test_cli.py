"""The CLI: user errors are one line naming the file, never a traceback; outputs are kept."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.conftest import INSPEC_TEST, read_jsonl
from tests.conftest import run_kg as kg


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("missing.jsonl", None, "no such file"),
        ("empty.jsonl", "", "the file is empty"),
        ("useless.jsonl", '{"foo": 1}\n', "no usable papers"),
    ],
)
def test_bad_input_is_one_readable_line(tmp_path, name, content, expected):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    run = kg("build", str(path), "--out", str(tmp_path / "out"), "--quiet")
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    lines = [line for line in run.stderr.splitlines() if line.startswith("kg:")]
    assert len(lines) == 1 and expected in lines[0] and str(path) in lines[0]
    assert not (tmp_path / "out").exists()


def test_keyphrases_one_line_per_record_in_input_order(tmp_path):
    src = tmp_path / "in.jsonl"
    rows = [
        {
            "id": "b",
            "title": "Graph neural networks for molecules",
            "abstract": "We apply graph neural networks to molecular property prediction.",
        },
        {
            "id": "a",
            "title": "Graph neural networks for molecules",
            "abstract": "We apply graph neural networks to molecular property prediction.",
        },
        {"id": "c", "title": "", "abstract": "Zeroth-order optimization fine-tunes LLMs."},
    ]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "kp.jsonl"
    run = kg("keyphrases", str(src), "--top-n", "3", "--out", str(out), "--quiet")
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["id"] for line in lines] == ["b", "a", "c"]
    assert all(1 <= len(line["keyphrases"]) <= 3 for line in lines)
    assert lines[0]["keyphrases"] == lines[1]["keyphrases"]
    assert "graph neural networks" in [k.lower() for k in lines[0]["keyphrases"]]


def test_bad_config_lists_allowed_options(tmp_path):
    cfg = tmp_path / "kg.toml"
    cfg.write_text("[kg]\ntop_m = 3\n")
    run = kg(
        "build",
        "examples/daily-papers-order.txt",
        "--config",
        str(cfg),
        "--out",
        str(tmp_path / "o"),
    )
    assert run.returncode == 2
    assert "unknown option(s) top_m" in run.stderr and "top_n" in run.stderr


@pytest.mark.parametrize("name", ["gold.jsonl", "gold.jsonl.gz"])
def test_eval_counts_and_names_gold_records_ingest_rejects(tmp_path, name):
    rows = read_jsonl(INSPEC_TEST)[:3] + [
        {"id": "blank", "title": "", "abstract": "", "keyphrases": ["graph"]},
        {"id": "bare", "keyphrases": ["net"]},
    ]
    text = "".join(json.dumps(r) + "\n" for r in rows).encode("utf-8")
    gold = tmp_path / name
    gold.write_bytes(gzip.compress(text) if name.endswith(".gz") else text)
    run = kg("eval", str(gold), "--fast", "--quiet")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["docs"] == 5 and report["rejected"] == 2
    rejected = [line for line in run.stderr.splitlines() if line.startswith("kg: rejected")]
    assert len(rejected) == 2
    assert f"{gold} line 4 (id blank): no title and no abstract" in rejected[0]
    assert f"{gold} line 5 (id bare)" in rejected[1]


def test_eval_gold_line_without_id_is_one_readable_line(tmp_path):
    gold = tmp_path / "gold.jsonl"
    row = read_jsonl(INSPEC_TEST)[0]
    del row["id"]
    gold.write_text(json.dumps(read_jsonl(INSPEC_TEST)[1]) + "\n" + json.dumps(row) + "\n")
    run = kg("eval", str(gold), "--fast", "--quiet")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.startswith(f"kg: error: {gold} line 2: no 'id'")
