"""The CLI: user errors are one line naming the file, never a traceback; outputs are kept."""

from __future__ import annotations

import json

import pytest

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
