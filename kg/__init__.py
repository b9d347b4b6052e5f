"""kg: the knowledge graph of a research field, built from its papers.

Importing the package loads nothing heavy: models and libraries load when a stage runs.

>>> import kg
>>> kg.Config().top_n
10
>>> kg.load("outputs").clusters.shape[1]   # a build folder, for notebooks (see kg.api)
4
"""

from kg.config import Config
from kg.errors import KGError

__all__ = ["Config", "KGError", "build", "load", "make_graph"]
__version__ = "0.1.0"


def __getattr__(name: str):  # noqa: ANN202 - lazy re-exports keep `import kg` instant
    if name in ("build", "make_graph", "Build"):
        from kg import build as _build

        return getattr(_build, name)
    if name in ("load", "LoadedBuild"):
        from kg import api

        return getattr(api, name)
    raise AttributeError(name)
