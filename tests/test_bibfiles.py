"""`refs import` of bibliography files: BibTeX, RIS and CSL-JSON, told apart by content.

exocli's own exports must come back as the same references, and real files written by
other tools (tests/data/reference_lists/, each with its source) must import entry for entry.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from exocli.bibfiles import detect_format, read_entries
from exocli.export import expand_pages
from helpers import PROJECT, Invoke, copy_workspace, stdout_json

CORPUS = PROJECT / "tests" / "data" / "reference_lists"
FIELDS = ("authors", "title", "journal", "year", "volume", "pages", "doi")


@pytest.mark.parametrize(
    ("fmt", "flags"), [("bib", ["--unicode"]), ("bib", []), ("ris", []), ("csl-json", [])]
)
def test_own_exports_import_back_as_the_same_references(
    cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, flags: list[str]
) -> None:
    shipped = copy_workspace(tmp_path / "shipped")
    out = tmp_path / f"all.{fmt}"
    assert cli("--home", str(shipped), "export", fmt, "--all", *flags, "-o", str(out)).exit_code == 0
    original = stdout_json(cli("--home", str(shipped), "refs", "list", "-f", "json"))
    fresh = tmp_path / "fresh"
    assert cli("init", str(fresh)).exit_code == 0
    monkeypatch.setenv("EXOCLI_HOME", str(fresh))
    result = cli("refs", "import", str(out))
    assert result.exit_code == 0, result.output
    assert "96 new, 0 replaced, 0 moved, 0 dropped, 0 unchanged, 0 kept unparsed" in result.stderr
    imported = stdout_json(cli("refs", "list", "-f", "json"))
    assert [r["key"] for r in imported] == [r["key"] for r in original]  # the file's keys kept
    for before, after in zip(original, imported, strict=True):
        for name in FIELDS:
            expected = expand_pages(before[name]) if name == "pages" else before[name]
            if name == "authors" and fmt == "bib" and not flags:
                # the ASCII export writes ’ as ' (TeX quotes); --unicode keeps it
                expected = [{**a, "family": a["family"].replace("’", "'")} for a in expected]
            assert after[name] == expected, (before["number"], name)
    again = cli("refs", "import", str(out))
    assert "0 new, 0 replaced, 0 moved, 0 dropped, 96 unchanged" in again.stderr


def _corpus_files() -> list[Path]:
    return sorted(
        p
        for p in CORPUS.glob("*")
        if p.suffix in (".bib", ".ris", ".json", ".nbib") and ".source" not in p.name
    )


@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: p.name)
def test_real_bibliography_files_read_entry_for_entry(path: Path) -> None:
    text = path.read_text(encoding="utf-8-sig")
    side = tomllib.loads(path.with_name(path.stem + ".source.toml").read_text("utf-8"))
    fmt = detect_format(text)
    assert fmt == {".bib": "bibtex", ".ris": "ris", ".json": "csl-json", ".nbib": "medline"}[path.suffix]
    entries, problems = read_entries(text, fmt, path.name)
    assert len(entries) == side["entries"], problems
    structured = [e for e in entries if e.reference.kind != "unparsed"]
    assert len(structured) >= 0.9 * len(entries), problems
    assert all(e.reference.title for e in structured)
    # most entries name authors (data and software citations may name none)
    assert sum(bool(e.reference.authors) for e in structured) >= 0.6 * len(structured)
    assert not any(e.reference.raw.startswith(". ") for e in structured)


def test_a_bibtex_file_into_a_workspace_that_has_references(
    cli: Invoke, workspace: Path, tmp_path: Path
) -> None:
    bib = tmp_path / "mine.bib"
    bib.write_text(
        "@article{Liu2022DPSC,\n  author = {Liu, Chang and Hu, Fengqiu},\n"
        "  title = {Dental pulp stem cell-derived exosomes suppress {M1} macrophage polarization},\n"
        "  journal = {J Nanobiotechnology}, year = {2022}, volume = {20}, pages = {65},\n"
        "  doi = {10.1186/s12951-022-01273-4}\n}\n\n"
        "@article{Ngata2025,\n  author = {Ngata, Aroha Mere and Olsen, Per},\n"
        "  title = {Exosomes in a new reference}, journal = {J Test Sci}, year = {2025},\n"
        "  volume = {3}, number = {2}, pages = {10--20}, doi = {10.5555/new.2025}\n}\n",
        "utf-8",
    )
    result = cli("refs", "import", str(bib))
    assert result.exit_code == 0, result.output
    assert "1 new, 0 replaced, 0 moved, 0 dropped, 1 unchanged" in result.stderr  # ref 26 is the first
    shown = stdout_json(cli("refs", "show", "97", "-f", "json"))
    assert shown["key"] == "Ngata2025"  # the file's own key
    assert shown["authors"] == [
        {"family": "Ngata", "given": "Aroha Mere"},
        {"family": "Olsen", "given": "Per"},
    ]
    assert (shown["issue"], shown["pages"], shown["doi"]) == ("2", "10-20", "10.5555/new.2025")
    assert shown["raw"] == (
        "Ngata AM, Olsen P. Exosomes in a new reference. J Test Sci. 2025;3(2):10-20. https://doi.org/10.5555/new.2025."
    )


def test_a_printed_list_is_not_taken_for_a_file() -> None:
    assert detect_format("1. Smith J. A title. J Test. 2020;1:1-2.\n") is None
    assert detect_format("[1] Smith J. A title. J Test. 2020;1:1-2.\n") is None
    assert detect_format("TY  - JOUR\nTI  - A title\nER  - \n") == "ris"
    assert detect_format('[{"id": "a", "type": "article-journal", "title": "T"}]') == "csl-json"


def test_a_pubmed_medline_record_keeps_its_fields() -> None:
    text = (CORPUS / "pubmed-medline-biopython-4.nbib").read_text("utf-8")
    entries, problems = read_entries(text, "medline", "x.nbib")
    assert problems == [] and len(entries) == 4
    ref = entries[0].reference
    assert [(a.family, a.given) for a in ref.authors] == [
        ("Casbon", "James A"),
        ("Crooks", "Gavin E"),
        ("Saqi", "Mansoor A S"),
    ]
    assert (ref.title, ref.journal, ref.year, ref.volume, ref.pages, ref.doi) == (
        "A high level interface to SCOP and ASTRAL implemented in python",
        "BMC Bioinformatics",
        2006,
        "7",
        "10",
        "10.1186/1471-2105-7-10",
    )
    second = entries[1].reference  # a title wrapped over two lines
    assert second.title is not None and second.title.startswith(
        "GenomeDiagram: a python package for the visualization of large-scale genomic"
    )
    assert " data" in second.title.split("genomic", 1)[1]


def test_csl_json_of_odd_shapes_is_read_without_a_crash() -> None:
    text = (
        '[{"id": 1, "type": "article", "title": ["A listed title"], "container-title": ["J Test"],'
        ' "issued": "2021", "author": "nobody", "DOI": 12},'
        ' {"type": "article", "title": "No date", "issued": {"raw": "March 2019"}},'
        ' {"type": "article", "title": {"x": 1}}]'
    )
    entries, problems = read_entries(text, "csl-json", "odd.json")
    first, second, third = (e.reference for e in entries)
    assert (first.title, first.journal, first.year, first.doi, entries[0].key) == (
        "A listed title",
        "J Test",
        2021,
        None,
        "1",
    )
    assert second.year == 2019
    assert third.kind == "unparsed" and problems == ["odd.json:1: entry 3 kept unparsed: no title"]
