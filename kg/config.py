"""The one configuration object that travels through the pipeline and into ``build.json``."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from kg.errors import ConfigError

PACKAGED_MODEL = "all-MiniLM-L6-v2"
DEVICES = ("auto", "cpu", "cuda", "mps")
CANDIDATES = ("lexicon", "tagger")


@dataclass(frozen=True, kw_only=True)
class Config:
    """How a graph is built. Every field can be set from ``--config FILE.toml`` or the CLI.

    >>> Config(top_n=5).top_n
    5
    >>> Config(top_n=0)
    Traceback (most recent call last):
    ...
    kg.errors.ConfigError: top_n must be between 1 and 100, got 0
    """

    # extraction
    model: str = PACKAGED_MODEL
    """Sentence-transformers model: the packaged all-MiniLM-L6-v2 (offline), a name or a path."""
    fast: bool = False
    """Fast mode: static embeddings distilled from the model, and cheaper candidates."""
    device: str = "auto"
    top_n: int = 10
    """Keyphrases kept per paper."""
    max_words: int = 4
    """Longest candidate phrase, in words."""
    candidates: str = "lexicon"
    """How candidates are found: ``lexicon`` (word classes from a lexicon, no tagger: fast) or
    ``tagger`` (spaCy part-of-speech tags: about 1.5 Inspec F1@10 points better, 1.5x slower)."""
    prescreen: int = 20
    """Default mode: only a paper's this-many most promising candidates (static-vector cosine,
    length and position) are embedded by the model and scored by KeyBERT; 0 scores them all."""
    use_mmr: bool = False
    """Reorder the top keyphrases by maximal marginal relevance (fewer near-synonyms)."""
    diversity: float = 0.5
    position_weight: float = 0.15
    """Ranking bonus for phrases near the start of the paper (0 turns it off)."""
    corpus_weight: float = 0.4
    """Ranking penalty for phrases that many papers of the build use (0 turns it off)."""
    batch_size: int = 64
    strict: bool = False
    """Fail the build (outputs untouched) if any input record is rejected."""
    # linking
    min_concept_papers: int = 1
    """A concept needs this many papers to become a node."""
    merge_similarity: float = 0.9
    """Embedding cosine at which two concepts with the same stemmed words merge (1 turns off)."""
    vocab: str = ""
    """A SKOS vocabulary (Turtle) whose prefLabel/altLabels force merges and preferred labels."""
    cso: bool = True
    """Link concepts to the Computer Science Ontology (exactMatch/closeMatch, broader)."""
    # analysis
    seed: int = 42
    resolution: float = 1.0
    """Louvain resolution: above 1 gives more, smaller clusters."""
    betweenness_exact_max: int = 2000
    """Graphs with more concept nodes get betweenness sampled from this many pivots."""
    cluster_core_above: int = 20_000
    """Graphs with more concept nodes are clustered on their concepts of two or more papers."""
    # export
    html_max_nodes: int = 2000
    """graph.html draws at most this many nodes (the most central part); 0 draws them all."""
    graph_max_nodes: int = 50_000
    """GraphML, GEXF, Cytoscape and VOSviewer files hold at most this many nodes (the most
    central part); 0 holds them all."""

    def __post_init__(self) -> None:
        _check_range("top_n", self.top_n, 1, 100)
        _check_range("max_words", self.max_words, 1, 8)
        _check_range("batch_size", self.batch_size, 1, 4096)
        _check_range("prescreen", self.prescreen, 0, 10_000)
        if self.candidates not in CANDIDATES:
            raise ConfigError(
                f"candidates must be one of {', '.join(CANDIDATES)}, got {self.candidates!r}"
            )
        _check_range("min_concept_papers", self.min_concept_papers, 1, 1_000_000)
        _check_range("betweenness_exact_max", self.betweenness_exact_max, 10, 10_000_000)
        _check_range("cluster_core_above", self.cluster_core_above, 10, 1_000_000_000)
        if self.graph_max_nodes != 0 and not 50 <= self.graph_max_nodes <= 1_000_000_000:
            raise ConfigError(
                "graph_max_nodes must be 0 (every node) or between 50 and "
                f"1000000000, got {self.graph_max_nodes}"
            )
        if self.html_max_nodes != 0 and not 50 <= self.html_max_nodes <= 10_000_000:
            raise ConfigError(
                "html_max_nodes must be 0 (every node) or between 50 and "
                f"10000000, got {self.html_max_nodes}"
            )
        for name in ("position_weight", "corpus_weight"):
            if not 0.0 <= getattr(self, name) <= 10.0:
                raise ConfigError(f"{name} must be between 0 and 10, got {getattr(self, name)}")
        if not 0.5 <= self.merge_similarity <= 1.0:
            raise ConfigError(
                f"merge_similarity must be between 0.5 and 1, got {self.merge_similarity}"
            )
        if not 0.0 <= self.diversity <= 1.0:
            raise ConfigError(f"diversity must be between 0 and 1, got {self.diversity}")
        if not 0.0 < self.resolution <= 100.0:
            raise ConfigError(f"resolution must be in (0, 100], got {self.resolution}")
        _check_range("seed", self.seed, 0, 2**32 - 1)  # what numpy's generators take
        if self.device not in DEVICES:
            raise ConfigError(f"device must be one of {', '.join(DEVICES)}, got {self.device!r}")

    def describe(self) -> str:
        """The options that differ from the defaults, e.g. ``top_n=5, fast=True``."""
        default = Config()
        changed = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        ]
        return ", ".join(changed) or "defaults"

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_toml(cls, path: str | Path, **overrides: Any) -> Config:
        """Read a ``[kg]`` table (or top-level keys) from a TOML file, then apply overrides."""
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"{path}: config file not found") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        table = data.get("kg", data)
        return cls.from_mapping(table, origin=str(path)).replace(**overrides)

    @classmethod
    def from_mapping(cls, table: dict[str, Any], *, origin: str = "config") -> Config:
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise ConfigError(
                f"{origin}: unknown option(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(sorted(known))}"
            )
        for name, value in table.items():
            expected = type(getattr(cls(), name))
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                continue
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise ConfigError(f"{origin}: {name} must be {expected.__name__}, got {value!r}")
        return cls(**table)


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
