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


def _demo_with(tmp_path: Path, replace: dict[int, str], name: str = "page.txt") -> Path:
    """The bundled listing with some lines (1-based) replaced."""
    lines = DEMO.read_text(encoding="utf-8").split("\n")
    for number, text in replace.items():
        lines[number - 1] = text
    path = tmp_path / name
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.mark.parametrize(("abstract_line", "title_line"), [(15, 13), (19, 17)])
def test_daily_paper_with_a_short_abstract_is_reported_first_or_later(
    tmp_path, abstract_line, title_line
):
    """The first paper is no page header: with a one-sentence abstract it is reported as one
    record (title and reason), as a later paper is."""
    path = _demo_with(tmp_path, {abstract_line: "We propose a new method."})
    result = read_records([path])
    assert len(result.papers) == 29
    assert [(r.file, r.locator) for r in result.rejected] == [(str(path), f"line {title_line}")]
    reason = result.rejected[0].reason
    assert "too short for an abstract" in reason and "We propose a new method." in reason
    assert "Order-" in reason  # the title names the paper


def test_daily_header_is_skipped_but_an_abstract_before_the_first_paper_is_reported(tmp_path):
    """The page's header (navigation, dates, however a saved page words them) is skipped; an
    abstract paragraph before the first title is text of a paper, and is reported."""
    header = "Previous\n\nNext\n\nTuesday, Aug 1\n\nDaily Papers by AK and the research community"
    path = _demo_with(tmp_path, {5: header})
    result = read_records([path])
    assert len(result.papers) == 30 and not result.rejected
    abstract = (
        "We study how a model learns. It learns from data that nobody labelled, and we show "
        "that it generalises to tasks it never saw, in theory and in practice."
    )
    path = _demo_with(tmp_path, {5: f"Subscribe\n\n{abstract}"}, name="with-abstract.txt")
    result = read_records([path])
    assert len(result.papers) == 30
    assert [r.locator for r in result.rejected] == ["line 7"]
    assert "an abstract paragraph without a title line" in result.rejected[0].reason


@pytest.mark.parametrize(
    ("content", "looks"),
    [
        (None, "looks like JSON Lines: rename it to end in .jsonl"),
        ("title,abstract\nGraph nets,We study graph nets.\n", "looks like CSV"),
        ("@article{k, title={Graph nets}, abstract={We study.}}\n", "looks like BibTeX"),
    ],
)
def test_other_formats_saved_as_txt_say_what_they_look_like(tmp_path, content, looks):
    path = tmp_path / "j.txt"
    if content is None:
        with ARXIV_5K.open(encoding="utf-8") as src:
            content = "".join(next(src) for _ in range(5))
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match="no usable papers") as info:
        read_records([path])
    assert looks in str(info.value) and str(path) in str(info.value)


def test_json_values_that_are_not_text_are_missing_or_rejected(tmp_path):
    """NaN and Infinity (pandas' missing values) are missing, not the words "nan" and "inf";
    an object as a title is rejected with the reason, not read as its Python spelling."""
    path = tmp_path / "odd.jsonl"
    path.write_text(
        '{"id": "a1", "title": NaN, "abstract": "We study graph neural networks for molecules."}\n'
        '{"id": "a2", "title": {"en": "Graph learning"}, "abstract": "We learn on graphs."}\n'
        '{"id": "a3", "title": Infinity, "abstract": NaN}\n'
        '{"id": "a4", "title": "Zeroth-order optimization", "abstract": ["We study", 42]}\n'
    )
    result = read_papers([path])
    assert [(p.record_id, p.title, p.abstract) for p in result.papers] == [
        ("a1", "", "We study graph neural networks for molecules."),
        ("a4", "Zeroth-order optimization", "We study 42"),
    ]
    reasons = {r.locator: r.reason for r in result.rejected}
    assert reasons["line 2"] == "the title is dict {'en': 'Graph learning'}, not text"
    assert reasons["line 3"].startswith("no title and no abstract")


def test_latex_markup_in_real_abstracts_becomes_the_words_it_marks(tmp_path):
    """Nested text commands, old-style font switches and braced accents, as three papers of
    the 5k corpus write them (the review of session 27 found "ll Object Detection" and "em
    backdoor attack" among the concepts)."""
    wanted = {"2503.20925", "2503.21999", "2504.14795"}
    with ARXIV_5K.open(encoding="utf-8") as src:
        lines = [line for line in src if json.loads(line)["id"] in wanted]
    path = tmp_path / "latex.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    abstracts = {p.record_id: " ".join(p.abstract.split()) for p in read_papers([path]).papers}
    assert set(abstracts) == wanted
    assert "susceptible to backdoor attacks involving" in abstracts["2503.20925"]
    facets = abstracts["2503.21999"]
    assert "FACETS, eFficient Once-for-All Object Detection via Constrained" in facets
    assert "Kac-Murdock-Szegö (KMS) matrix" in abstracts["2504.14795"]
    assert not any("\\" in a or "{" in a for a in abstracts.values())
