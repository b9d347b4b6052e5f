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
    from importlib import import_module

    if name in ("build", "make_graph", "Build"):
        # The function `build` shares its name with the module kg.build: importing the module
        # binds kg.build to it, so bind the function back (modules import `from kg.build`).
        module = import_module("kg.build")
        globals()["build"] = module.build
        return getattr(module, name)
    if name in ("load", "LoadedBuild"):
        return getattr(import_module("kg.api"), name)
    raise AttributeError(name)
