"""What importing kg, KeyBERT and lemminflect costs: no model, no torch where it is not needed."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_keybert_is_imported_without_torch_and_leaves_sentence_transformers_importable():
    out = _run(
        "import sys\n"
        "from kg.extract.embedders import import_keybert\n"
        "KeyBERT = import_keybert()\n"
        "print(KeyBERT.__name__, 'torch' in sys.modules, 'transformers' in sys.modules)\n"
        "import sentence_transformers\n"
        "print(sentence_transformers.SentenceTransformer.__name__)\n"
    )
    assert out.splitlines() == ["KeyBERT False False", "SentenceTransformer"]


def test_importing_kg_loads_nothing_heavy():
    out = _run(
        "import sys, kg, kg.build, kg.cli\n"
        "print(sorted(m for m in ('torch', 'keybert', 'spacy', 'onnxruntime') if m in sys.modules))"
    )
    assert out == "[]"


def test_plurals_are_read_without_spacy_which_stays_importable():
    out = _run(
        "import sys\n"
        "from kg.link import concept_key\n"
        "print(concept_key('Large Language Models'))\n"
        "print(sorted(m for m in ('spacy', 'thinc', 'torch') if m in sys.modules))\n"
        "import spacy\n"
        "print(spacy.blank('en')('Two words').text)\n"
    )
    assert out.splitlines() == ["large language model", "[]", "Two words"]
