"""Dask: a build whose papers are scored on a LocalCluster's workers equals a build without."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kg.build import VOLATILE_KEYS, make_graph, output_folder, write_exports
from tests.conftest import ARXIV_5K, ROOT

SLICE = 500


def _kg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kg.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=600,
    )


def _manifest(path: Path) -> dict:
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for key in (*VOLATILE_KEYS, "versions"):
        manifest.pop(key)
    return manifest


@pytest.mark.slow
def test_dask_build_equals_single_process_build(tmp_path, embedder):
    """500 arXiv papers: ``--dask local:2`` (two worker processes on 127.0.0.1, started and
    stopped by the build) gives every export file byte for byte as the build in this process;
    each worker loads the model once."""
    papers = tmp_path / "arxiv-500.jsonl"
    with ARXIV_5K.open(encoding="utf-8") as src:
        papers.write_text("".join(next(src) for _ in range(SLICE)), encoding="utf-8")

    dask_out = tmp_path / "dask"
    run = _kg("build", str(papers), "--out", str(dask_out), "--no-cache", "--dask", "local:2")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "kg: Dask dashboard: http://127.0.0.1:" in run.stderr
    assert f"Dask: ingest: {SLICE} records in 1 task(s) on 2 workers" in run.stderr
    tasks = -(-SLICE // 64)
    assert (
        f"Dask: {tasks} tasks of up to 64 papers on 2 workers; "
        "the model was loaded 2 time(s) by the workers" in run.stderr
    ), run.stderr[-3000:]

    single_out = tmp_path / "single"
    built = make_graph([papers], embedder=embedder, progress=False)
    with output_folder(single_out) as folder:
        write_exports(built, folder)

    names = sorted(p.name for p in single_out.iterdir())
    assert names == sorted(p.name for p in dask_out.iterdir())
    assert {"graph.nt", "graph.ttl", "graph.html", "concepts.csv", "build.json"} <= set(names)
    for name in names:
        if name == "build.json":
            assert _manifest(dask_out / name) == _manifest(single_out / name)
        else:
            assert (dask_out / name).read_bytes() == (single_out / name).read_bytes(), name
    assert _manifest(dask_out / "build.json")["counts"]["papers"] == SLICE


@pytest.mark.slow
def test_a_running_scheduler_ingests_and_scores_the_papers_and_its_workers_keep_the_model(
    tmp_path, embedder, capsys, monkeypatch
):
    """``dask=ADDRESS``: a cluster the build does not own (here one started by the test on
    127.0.0.1) turns records into papers in chunks (rejections and duplicates as without
    Dask), scores the papers, stays up after the build, and its worker loads the model once
    for two builds."""
    import numpy as np
    from distributed import Client, LocalCluster

    import kg.ingest
    from kg.distributed import _model_loads, ingest_on_dask
    from kg.extract import extract_keyphrases
    from kg.ingest import read_papers

    path = tmp_path / "arxiv-80.jsonl"
    with ARXIV_5K.open(encoding="utf-8") as src:
        lines = [next(src) for _ in range(80)]
    lines[10:10] = ['{"id": "no-text", "title": "  "}\n', "not json\n"]  # two rejections
    lines.append(lines[20])  # and a duplicate
    path.write_text("".join(lines), encoding="utf-8")
    here = read_papers([path])
    assert len(here.papers) == 80 and len(here.rejected) == 2 and len(here.merged) == 1
    papers = here.papers
    expected = extract_keyphrases(papers, embedder=embedder, progress=False)
    with (
        LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as cluster,
        Client(cluster) as client,
    ):
        monkeypatch.setattr(kg.ingest, "CHUNK", 7)  # 12 chunks, put back in order
        there = read_papers([path], map_chunks=ingest_on_dask(cluster.scheduler_address))
        assert (there.papers, there.rejected, there.merged, there.files) == (
            here.papers,
            here.rejected,
            here.merged,
            here.files,
        )
        assert "Dask: ingest: 83 records in 12 task(s) on 1 workers" in capsys.readouterr().err
        for loads in (1, 0):
            capsys.readouterr()
            got = extract_keyphrases(papers, dask=cluster.scheduler_address, progress=False)
            assert f"on 1 workers; the model was loaded {loads} time(s)" in capsys.readouterr().err
            assert [g.keyphrases for g in got] == [e.keyphrases for e in expected]
            assert all(
                np.array_equal(g.doc_vector, e.doc_vector)
                for g, e in zip(got, expected, strict=True)
            )
        assert list(client.run(_model_loads).values()) == [1]


def test_a_wrong_dask_address_fails_before_any_work(tmp_path):
    for spec, words in (("local:0", "local:N"), ("somewhere", "scheduler address")):
        run = _kg("build", str(ARXIV_5K), "--out", str(tmp_path / "out"), "--dask", spec)
        assert run.returncode == 2
        assert run.stderr.startswith(f"kg: error: --dask {spec}: ") and words in run.stderr
        assert len(run.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "out").exists()
