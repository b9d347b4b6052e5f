"""Opening inputs: gzip or plain, UTF-8 (with or without BOM) or a legacy 8-bit encoding."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path

from kg.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def check_readable(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a file of papers")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from exc


def decode(raw: bytes) -> str:
    """UTF-8 (BOM stripped); bytes that are not UTF-8 are read as Windows-1252/latin-1."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            return raw.decode("latin-1")


class TruncatedInput(InputError):
    """A compressed file ends in the middle: what was read before ``after_line`` is sound."""

    def __init__(self, path: Path, after_line: int, detail: str) -> None:
        self.after_line = after_line
        super().__init__(f"{path}: the gzip stream is cut short after line {after_line} ({detail})")


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)``; each line is decoded on its own so one bad line
    in a UTF-8 file does not change how the others read."""
    opener = gzip.open if is_gzip(path) else open
    number = 0
    try:
        with opener(path, "rb") as fh:
            for number, raw in enumerate(fh, start=1):  # noqa: B007 - used after the loop
                yield number, decode(raw).rstrip("\r\n")
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise TruncatedInput(path, number, str(exc) or type(exc).__name__) from exc


def read_text(path: Path) -> str:
    opener = gzip.open if is_gzip(path) else open
    try:
        with opener(path, "rb") as fh:
            return decode(fh.read())
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: the gzip stream is cut short or corrupt ({exc})") from exc


def head(path: Path, size: int = 4096) -> str:
    opener = gzip.open if is_gzip(path) else open
    try:
        with opener(path, "rb") as fh:
            return decode(fh.read(size))
    except (EOFError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError):
        return ""
