"""Shared fixtures: real data from ../shared/data, and one real demo build per test session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("KG_SHARED_DATA", ROOT.parent / "shared" / "data"))
"""The real corpora the tests read: ``../shared/data`` beside the checkout, or $KG_SHARED_DATA."""
DEMO = Path("examples/daily-papers-order.txt")  # relative: build.json records it as given
ARXIV_5K = SHARED / "arxiv-cs-lg-5k.jsonl"
INSPEC_TEST = SHARED / "keyphrase" / "inspec_test.jsonl"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def pytest_sessionstart(session: pytest.Session) -> None:
    if not (SHARED / ARXIV_5K.name).is_file():
        pytest.exit(
            f"the tests read real corpora from {SHARED}, which does not hold {ARXIV_5K.name}: "
            "clone kg beside the shared/ folder, or set KG_SHARED_DATA to its data/ folder",
            returncode=4,
        )


@pytest.fixture(autouse=True, scope="session")
def _repo_root() -> None:
    os.chdir(ROOT)


@pytest.fixture(scope="session")
def embedder():
    """The packaged all-MiniLM-L6-v2, loaded once, with the per-run phrase cache."""
    from kg.config import Config
    from kg.extract import PhraseCache, load_embedder

    return PhraseCache(load_embedder(Config()))


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory, embedder):
    """The bundled listing built for real into a temporary folder: (Build, folder)."""
    from kg.build import make_graph, output_folder, write_exports

    out = tmp_path_factory.mktemp("demo") / "outputs"
    built = make_graph([DEMO], embedder=embedder, progress=False)
    with output_folder(out) as folder:
        write_exports(built, folder)
    return built, out


@pytest.fixture(scope="session")
def arxiv_slice(tmp_path_factory) -> Path:
    """The first 300 records of the 5k arXiv corpus, as a JSONL file."""
    path = tmp_path_factory.mktemp("arxiv") / "arxiv-300.jsonl"
    with ARXIV_5K.open(encoding="utf-8") as src:
        lines = [next(src) for _ in range(300)]
    path.write_text("".join(lines), encoding="utf-8")
    return path


def run_kg(*args: str, **options) -> subprocess.CompletedProcess:
    """``python -m kg.cli ARGS`` from the project root, its output captured as text; it may
    fail (the caller checks ``returncode``). ``options`` go to ``subprocess.run``."""
    return subprocess.run(
        [sys.executable, "-m", "kg.cli", *args],
        **{"capture_output": True, "text": True, "cwd": ROOT, "check": False, **options},
    )


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
