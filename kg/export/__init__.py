"""Export: writers registered by name, one module per format.

Each writer takes the build and an output folder and returns the paths it wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kg.analytics.export import write_analytics
from kg.errors import ConfigError
from kg.export.cytoscape import write_cytoscape
from kg.export.gexf import write_gexf
from kg.export.graphml import write_graphml
from kg.export.html import write_html
from kg.export.rdf import write_turtle
from kg.export.tables import write_tables
from kg.export.vosviewer import write_vosviewer

if TYPE_CHECKING:
    from kg.build import Build

Writer = Callable[["Build", Path], list[Path]]

WRITERS: dict[str, Writer] = {
    "rdf": write_turtle,
    "html": write_html,
    "graphml": write_graphml,
    "tables": write_tables,
    "gexf": write_gexf,
    "vosviewer": write_vosviewer,
    "cytoscape": write_cytoscape,
    "analytics": write_analytics,
}


def writer(name: str) -> Writer:
    try:
        return WRITERS[name]
    except KeyError:
        raise ConfigError(
            f"unknown export {name!r}; known exports: {', '.join(sorted(WRITERS))}"
        ) from None
