"""Ingest: every format, identifiers, duplicates, and bad input reported with file and record."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from kg.errors import InputError
from kg.ingest import detect_format, read_papers, read_records
from tests.conftest import ARXIV_5K, DEMO, INSPEC_TEST


def test_daily_listing_gives_thirty_titled_papers():
    result = read_papers([DEMO])
    assert len(result.papers) == 30
    assert not result.rejected and not result.merged
    first = result.papers[0]
    assert first.title == "Order-Preserving GFlowNets"
    assert first.abstract.startswith("Generative Flow Networks (GFlowNets)")
    assert first.source.locator == "line 13"
    assert len({p.key for p in result.papers}) == 30


def test_arxiv_jsonl_fields(tmp_path):
    path = tmp_path / "a.jsonl"
    with ARXIV_5K.open() as src:
        path.write_text("".join(next(src) for _ in range(20)))
    result = read_papers([path])
    paper = result.papers[0]
    raw = json.loads(path.read_text().splitlines()[0])
    assert paper.key == raw["id"] and paper.arxiv_id == raw["id"]
    assert "\n" not in paper.abstract and paper.abstract.split()[:3] == raw["summary"].split()[:3]
    assert paper.authors == tuple(raw["authors"])
    assert paper.date and paper.date.startswith("2025")
    assert paper.url == raw["abs"]
    assert paper.categories == tuple(raw["categories"])


def test_gzip_and_format_detection(tmp_path):
    rows = [
        {"id": "2501.00001v2", "title": "A", "abstract": "Text one."},
        {"id": "x", "title": "B", "summary": "Text two."},
    ]
    path = tmp_path / "papers.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(json.dumps(r) for r in rows) + "\n")
    assert detect_format(path) == "jsonl"
    result = read_papers([path])
    assert [p.key for p in result.papers][0] == "2501.00001"  # version stripped
    assert result.papers[1].abstract == "Text two."


def test_csv_tsv_json_bibtex(tmp_path):
    (tmp_path / "p.csv").write_text(
        "Title,Abstract,Year,Authors\n"
        '"Graph nets, revisited","We revisit graph nets.",2021,"A. B; C. D"\n'
    )
    (tmp_path / "p.tsv").write_text("title\tsummary\nTSV paper\tSome text here.\n")
    (tmp_path / "p.json").write_text(json.dumps({"papers": [{"title": "J", "abstract": "x y"}]}))
    (tmp_path / "p.bib").write_text(
        "@article{key1, title={Sparse {MeZO} tuning}, abstract={We tune.}, "
        "author={Liu, Y. and Zhu, Z.}, year={2024}, eprint={2402.15751}}\n"
    )
    result = read_papers(sorted(tmp_path.iterdir()))
    by_title = {p.title: p for p in result.papers}
    assert by_title["Graph nets, revisited"].date == "2021"
    assert by_title["Graph nets, revisited"].authors == ("A. B", "C. D")
    assert "TSV paper" in by_title and "J" in by_title
    bib = by_title["Sparse MeZO tuning"]
    assert bib.arxiv_id == "2402.15751" and bib.authors == ("Liu, Y.", "Zhu, Z.")


def test_records_without_title_are_kept_if_they_have_text():
    result = read_records([INSPEC_TEST])
    assert len(result.papers) == 500
    assert result.papers[0].record_id == "2"


def test_duplicates_are_merged_and_named(tmp_path):
    path = tmp_path / "d.jsonl"
    rows = [
        {"id": "2501.00001", "title": "Same Title", "abstract": "a"},
        {"id": "2501.00001v3", "title": "Other", "abstract": "b"},
        {"id": "q", "title": "same  title!", "abstract": "c"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    result = read_papers([path])
    assert [p.key for p in result.papers] == ["2501.00001"]
    assert [(m.locator, m.into) for m in result.merged] == [
        ("line 2", "2501.00001"),
        ("line 3", "2501.00001"),
    ]


def test_bad_records_are_rejected_with_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"title": "ok", "abstract": "fine"}\n{not json\n{"id": "7", "year": 2020}\n[1]\n'
    )
    result = read_papers([path])
    assert len(result.papers) == 1
    reasons = {r.locator: r.reason for r in result.rejected}
    assert set(reasons) == {"line 2", "line 3", "line 4"}
    assert "malformed JSON" in reasons["line 2"]
    assert "no title and no abstract" in reasons["line 3"] and "year" in reasons["line 3"]
    assert result.rejected[1].record_id == "7"


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such file"), (b"", "empty"), (b'{"foo": 1}\n{"bar": 2}\n', "no usable papers")],
)
def test_unusable_files_raise_one_clear_error(tmp_path, content, message):
    path = tmp_path / "in.jsonl"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        read_papers([path])
    assert str(path) in str(info.value)


def test_truncated_gzip_keeps_what_was_read(tmp_path):
    rows = "".join(
        json.dumps({"title": f"T{i}", "abstract": "x " * 200}) + "\n" for i in range(400)
    )
    data = gzip.compress(rows.encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    result = read_papers([path])
    assert 0 < len(result.papers) < 400
    assert "cut short" in result.rejected[-1].reason


def test_invalid_utf8_is_read_not_dropped(tmp_path):
    path = tmp_path / "enc.jsonl"
    path.write_bytes(
        b'\xef\xbb\xbf{"title": "Caf\xc3\xa9", "abstract": "ok"}\n'
        b'{"title": "Na\xefve", "abstract": "latin-1 line"}\n'
    )
    titles = [p.title for p in read_papers([path]).papers]
    assert titles == ["Café", "Naïve"]


def test_unknown_format_lists_known_ones(tmp_path):
    from kg.ingest import iter_records

    path = tmp_path / "x.txt"
    path.write_text("hello")
    with pytest.raises(InputError, match="known formats: bibtex, csv"):
        list(iter_records(Path(path), "xml"))


def test_clean_text_skips_its_expressions_only_where_they_change_nothing():
    """Printable text without a double space is returned stripped, unread by the control and
    space expressions: on every code point, between words and doubled, the result is theirs."""
    import sys
    import unicodedata

    from kg.ingest.records import _CONTROL, _SPACE, _SURROGATE, clean_text

    def by_expressions(text: str) -> str:
        text = unicodedata.normalize("NFC", text)
        return _SPACE.sub(" ", _SURROGATE.sub("\ufffd", _CONTROL.sub(" ", text))).strip()

    for code in range(sys.maxunicode + 1):
        for text in (f"a{chr(code)}b", f" a{chr(code) * 2}b "):
            assert clean_text(text) == by_expressions(text), hex(code)
