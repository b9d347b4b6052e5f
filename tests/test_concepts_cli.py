"""``kg concepts BUILD --merges``: what was merged and why, from a real build."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest

from kg.cli import SIGPIPE_EXIT, main
from tests.conftest import ROOT


def test_concepts_merges_lists_every_merge_with_its_reason(demo_build, capsys):
    _, out = demo_build
    assert main(["concepts", str(out), "--merges"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["pref_label", "merged", "reason"]
    with (out / "merges.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(lines) == len(rows) + 1
    assert any(r["pref_label"] == "GFlowNet" and "acronym" in r["reason"] for r in rows)
    assert main(["concepts", str(out), "--limit", "5"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 6


def test_concepts_on_a_folder_that_is_no_build(tmp_path, capsys):
    assert main(["concepts", str(tmp_path), "--merges"]) == 2
    assert "merges.csv: not found" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0.2", "1.5"])
def test_merge_similarity_is_checked(value, tmp_path, capsys):
    cfg = tmp_path / "kg.toml"
    cfg.write_text(f"[kg]\nmerge_similarity = {value}\n")
    assert main(["keyphrases", "missing.jsonl", "--config", str(cfg)]) == 2
    assert "merge_similarity must be between 0.5 and 1" in capsys.readouterr().err


def test_concepts_into_a_reader_that_has_gone_prints_no_traceback(tmp_path):
    """``kg concepts DIR | head -1`` on a big build: the reader has gone before kg writes (its
    end of the pipe closed first, so the write fails however much the pipe would hold)."""
    with (tmp_path / "concepts.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["concept", "papers", "pagerank", "cluster_label", "broader"])
        writer.writerows([f"concept {i}", 1, 0.001, "a cluster", ""] for i in range(100))
    run = _into_a_closed_pipe("concepts", str(tmp_path))
    assert run.stderr == ""
    assert run.returncode == SIGPIPE_EXIT


def test_query_into_a_reader_that_has_gone_prints_no_traceback(demo_build):
    _, out = demo_build
    run = _into_a_closed_pipe("query", str(out / "graph.ttl"), "central-concepts")
    assert run.stderr == ""
    assert run.returncode == SIGPIPE_EXIT


def _into_a_closed_pipe(*args: str) -> subprocess.CompletedProcess:
    """``kg ARGS`` writing into a pipe whose reader has closed its end."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "kg.cli", *args],
            cwd=ROOT,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
