"""notebooks/analysis.ipynb runs top to bottom in a fresh kernel, in its fast mode.

The notebook builds a 300-paper slice of the 5k arXiv corpus for real and asserts what each cell
shows; here we check that every cell ran, that the plots and the inline graph came out, and that
the build it made is what ``kg.load`` reads.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import ARXIV_5K, ROOT

NOTEBOOK = ROOT / "notebooks" / "analysis.ipynb"


@pytest.mark.slow
def test_analysis_notebook_runs_in_fast_mode(tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    out = tmp_path / "build" / "notebook-fast"
    monkeypatch.setenv("KG_NOTEBOOK_FAST", "1")
    monkeypatch.setenv("KG_NOTEBOOK_OUT", str(out))
    monkeypatch.setenv("KG_NOTEBOOK_DATA", str(ARXIV_5K))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        "commit the notebook without outputs"
    )
    NotebookClient(
        nb,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    ).execute()

    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code)
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 4  # centralities, cluster sizes, thematic map, trends
    assert any("<iframe" in o.get("data", {}).get("text/html", "") for o in outputs)
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "The 10 fastest-growing concepts" in printed and "mean pairwise ARI" in printed

    manifest = json.loads((out / "build.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["papers"] == 300
    summary = json.loads((out / "analytics.json").read_text(encoding="utf-8"))
    assert len(summary["trends"]["periods"]) == 7  # the slice spans March to September
