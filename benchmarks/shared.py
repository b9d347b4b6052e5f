"""Where the benchmarks find the shared corpora and tools: ``../shared/data`` beside the
checkout, or ``$KG_SHARED_DATA`` (its ``data/`` folder), as the tests do; the tools (vanilla
KeyBERT, the reference scorer) in the ``tools/`` folder beside it."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("KG_SHARED_DATA", ROOT.parent / "shared" / "data"))
TOOLS = DATA.parent / "tools"
