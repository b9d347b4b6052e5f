"""One base exception for everything a user can cause; the CLI prints it as one line."""

from __future__ import annotations


class KGError(Exception):
    """Base class: a problem with the user's input, config or environment (not a bug)."""


class InputError(KGError):
    """An input file cannot be read at all (missing, empty, unknown format, no usable paper)."""


class ConfigError(KGError):
    """A configuration value is not allowed; the message lists the allowed ones."""


class OutputError(KGError):
    """The output folder cannot be written, or another build holds it."""


class QueryError(KGError):
    """A SPARQL query is malformed, names an unknown library query, or misses a parameter."""
