"""Analytics researchers ask of a field's graph, each a small function returning a DataFrame.

- ``trends``: which concepts grow, burst, or appear first, month by month?
  (``concept_trends``, ``emerging_concepts``)
- ``thematic``: which clusters are motor, niche, emerging/declining or basic themes?
  (``thematic_map``)
- ``stability``: how far can the clusters be trusted (modularity, agreement across seeds)?
  (``cluster_stability``)
- ``bridges``: which concepts connect clusters? (``bridging_concepts``)
- ``gaps``: which close concepts never meet in a paper? (``research_gaps``)

``analytics_tables(build)`` computes them all from a ``Build``; ``write_analytics`` writes them
beside the other tables (``kg build`` does this). ``kg.load(folder)`` reads them back.
Importing this package loads nothing heavy.
"""

from __future__ import annotations

__all__ = [
    "analytics_tables",
    "bridging_concepts",
    "cluster_stability",
    "concept_trends",
    "emerging_concepts",
    "research_gaps",
    "thematic_map",
    "write_analytics",
]

_HOME = {
    "concept_trends": "trends",
    "emerging_concepts": "trends",
    "thematic_map": "thematic",
    "cluster_stability": "stability",
    "bridging_concepts": "bridges",
    "research_gaps": "gaps",
    "analytics_tables": "export",
    "write_analytics": "export",
}


def __getattr__(name: str):  # noqa: ANN202 - lazy: pandas and scikit-learn load on first use
    if name in _HOME:
        from importlib import import_module

        return getattr(import_module(f"kg.analytics.{_HOME[name]}"), name)
    raise AttributeError(name)
