"""From a raw record (a dict of whatever fields a file had) to a ``Paper``, or the reason not."""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kg.ingest.markup import plain_text
from kg.model import Merged, Paper, Rejected, Source

# Usual field names (lower case), first match wins. Keys are compared case-insensitively.
TITLE_FIELDS = ("title", "paper_title", "name")
ABSTRACT_FIELDS = ("abstract", "summary", "abstractnote", "description", "text")
ID_FIELDS = ("id", "arxiv_id", "arxiv", "paper_id", "eprint", "doi", "key")
DATE_FIELDS = ("date", "published", "listing_date", "year", "update_date", "updated", "created")
AUTHOR_FIELDS = ("authors", "author", "creators", "creator")
URL_FIELDS = ("url", "abs", "link", "pdf", "doi_url")
CATEGORY_FIELDS = ("categories", "category", "subjects", "keywords_arxiv", "primary_category")

ARXIV_ID = re.compile(
    r"^(?:arxiv:|(?:https?://)?(?:www\.)?arxiv\.org/(?:abs|pdf)/)?"
    r"(?P<id>\d{4}\.\d{4,5}|[a-z][a-z.-]+/\d{7})(?:v\d+)?(?:\.pdf)?$",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SPACE = re.compile(r"\s+")
_DATE = re.compile(r"(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?")


@dataclass(frozen=True, slots=True)
class RawRecord:
    fields: Mapping[str, Any]
    source: Source


def clean_text(value: Any) -> str:
    """Text as one line: NFC, no control characters, single spaces (arXiv wraps abstracts).
    A lone surrogate (JSON's ``"\\ud800"``, half a character) becomes U+FFFD, the replacement
    character: no UTF-8 file could hold it.

    >>> clean_text(" Graph\\n  neural\\u200bnetworks ")
    'Graph neural networks'
    >>> clean_text("half \\ud83d a face")
    'half \\ufffd a face'
    """
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value if v is not None)
    text = unicodedata.normalize("NFC", str(value))
    # printable text has no control character and no space but " " (the usual case: a name)
    if text.isprintable() and "  " not in text:
        return text.strip()
    text = _SURROGATE.sub("\ufffd", _CONTROL.sub(" ", text))
    return _SPACE.sub(" ", text).strip()


def _lowered(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A record's fields by lower-cased name (the last of two names that differ in case)."""
    return {str(k).lower(): v for k, v in fields.items()}


def _pick(lowered: Mapping[str, Any], names: Iterable[str]) -> Any:
    """The first non-empty value of ``names`` (lower case) among ``_lowered`` fields."""
    for name in names:
        value = lowered.get(name)
        if value not in (None, "", [], ()):
            return value
    return None


def parse_authors(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        names = []
        for item in value:
            if isinstance(item, Mapping):  # {"name": ...} or {"given": .., "family": ..}
                item = item.get("name") or " ".join(
                    str(item[k]) for k in ("given", "family") if item.get(k)
                )
            names.append(clean_text(item))
        return tuple(n for n in names if n)
    text = clean_text(value)
    if " and " in text:
        parts = text.split(" and ")
    elif ";" in text:
        parts = text.split(";")
    else:
        parts = text.split(",")
    return tuple(p.strip() for p in parts if p.strip())


def parse_date(value: Any) -> str | None:
    if value is None:
        return None
    match = _DATE.search(str(value))
    if not match:
        return None
    year, month, day = match.groups()
    if not 1000 <= int(year) <= 2999:
        return None
    if month and 1 <= int(month) <= 12:
        if day and 1 <= int(day) <= 31:
            return f"{year}-{int(month):02d}-{int(day):02d}"
        return f"{year}-{int(month):02d}"
    return year


def parse_categories(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(clean_text(v) for v in value if clean_text(v))
    return tuple(p for p in re.split(r"[\s,;]+", clean_text(value)) if p)


def arxiv_id_of(*values: Any) -> str | None:
    for value in values:
        if value is None:
            continue
        match = ARXIV_ID.search(clean_text(value))
        if match:
            return match.group("id").lower()
    return None


def normalise_title(title: str) -> str:
    """Lower-case letters and digits only: the identity of a title across sources."""
    folded = unicodedata.normalize("NFKD", title).casefold()
    return " ".join(re.findall(r"[^\W_]+", folded))


def derived_key(title: str, abstract: str) -> str:
    """A readable, stable key for papers without an arXiv id: a slug of the normalised title
    and a short hash (of the title, or of the text when there is no title)."""
    norm = normalise_title(title) or normalise_title(abstract)
    slug = "-".join(norm.split()[:8])[:60].strip("-") or "untitled"
    slug = re.sub(r"[^a-z0-9-]", "", slug) or "paper"
    digest = hashlib.blake2b(norm.encode("utf-8"), digest_size=4).hexdigest()
    return f"{slug}-{digest}"


def to_paper(record: RawRecord) -> Paper | Rejected:
    fields = _lowered(record.fields)
    src = record.source
    raw_id = _pick(fields, ID_FIELDS)
    record_id = clean_text(raw_id) or None
    title_value, abstract_value = _pick(fields, TITLE_FIELDS), _pick(fields, ABSTRACT_FIELDS)
    for name, value in (("title", title_value), ("abstract", abstract_value)):
        if not _is_text(value):
            return Rejected(
                src.file,
                src.locator,
                f"the {name} is {type(value).__name__} {_short(value)}, not text",
                record_id,
            )
    title = clean_text(plain_text(clean_text(_missing_as_none(title_value))))
    abstract = clean_text(plain_text(clean_text(_missing_as_none(abstract_value))))
    if not title and not abstract:
        seen = ", ".join(str(k) for k in record.fields) or "none"
        return Rejected(
            src.file,
            src.locator,
            f"no title and no abstract/summary text (fields seen: {seen})",
            record_id,
        )
    url = clean_text(_pick(fields, URL_FIELDS)) or None
    arxiv = arxiv_id_of(raw_id, url, record.fields.get("eprint"))
    key = arxiv or derived_key(title, abstract)
    if arxiv and not url:
        url = f"https://arxiv.org/abs/{arxiv}"
    return Paper(
        key=key,
        record_id=record_id or key,
        title=title,
        abstract=abstract,
        source=src,
        authors=parse_authors(_pick(fields, AUTHOR_FIELDS)),
        date=parse_date(_pick(fields, DATE_FIELDS)),
        url=url,
        arxiv_id=arxiv,
        categories=parse_categories(_pick(fields, CATEGORY_FIELDS)),
    )


def _is_text(value: Any) -> bool:
    """A title or abstract as text, a number, missing, or a list of those (lines); not an
    object (``{"en": "..."}``), whose text kg would have to guess."""
    if isinstance(value, list | tuple):
        return all(v is None or isinstance(v, str | int | float) for v in value)
    return value is None or isinstance(value, str | int | float)


def _missing_as_none(value: Any) -> Any:
    """JSON's NaN and Infinity (what pandas writes for a missing value) as missing, not as the
    words "nan" and "inf"."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def deduplicate(papers: Iterable[Paper]) -> tuple[list[Paper], list[Merged]]:
    """Keep the first paper of each identity (arXiv id / derived key, or normalised title);
    every later one is listed in ``merged`` with the key it was folded into."""
    kept: list[Paper] = []
    merged: list[Merged] = []
    by_key: dict[str, str] = {}
    by_title: dict[str, str] = {}
    for paper in papers:
        title_norm = normalise_title(paper.title)
        if paper.key in by_key:
            merged.append(
                Merged(
                    paper.source.file,
                    paper.source.locator,
                    paper.key,
                    "same identifier as an earlier record",
                    paper.record_id,
                )
            )
            continue
        if title_norm and title_norm in by_title:
            merged.append(
                Merged(
                    paper.source.file,
                    paper.source.locator,
                    by_title[title_norm],
                    "same title as an earlier record",
                    paper.record_id,
                )
            )
            continue
        by_key[paper.key] = paper.key
        if title_norm:
            by_title[title_norm] = paper.key
        kept.append(paper)
    return kept, merged
