"""``kg concepts BUILD --merges``: what was merged and why, from a real build."""

from __future__ import annotations

import csv

import pytest

from kg.cli import main


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
