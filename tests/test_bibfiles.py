"""`refs import` of bibliography files: BibTeX, RIS, CSL-JSON, CSL-YAML, MEDLINE and DOI lists,
told apart by content.

exocli's own exports must come back as the same references, and real files written by
other tools (tests/data/reference_lists/, each with its source) must import entry for entry.
"""

from __future__ import annotations

import datetime
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exocli.bibfiles import ONLY_DOI, FileEntry, detect_format, only_doi, read_entries
from exocli.errors import DataError
from exocli.export import Record, expand_pages, to_csl
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
        if p.suffix in (".bib", ".ris", ".json", ".nbib", ".yaml") and ".source" not in p.name
    )


@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: p.name)
def test_real_bibliography_files_read_entry_for_entry(path: Path) -> None:
    text = path.read_text(encoding="utf-8-sig")
    side = tomllib.loads(path.with_name(path.stem + ".source.toml").read_text("utf-8"))
    fmt = detect_format(text)
    suffixes = {".bib": "bibtex", ".ris": "ris", ".json": "csl-json", ".nbib": "medline", ".yaml": "csl-yaml"}
    assert fmt == suffixes[path.suffix]
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


# --- CSL-YAML and plain lists of DOIs ----------------------------------------------------------

PRINTED = sorted(
    p
    for p in CORPUS.glob("*")
    if p.suffix in (".txt", ".md") and p.name not in ("README.md", "plos-dois.txt")
)


@pytest.mark.parametrize("path", PRINTED, ids=lambda p: p.name)
def test_real_printed_lists_are_still_printed_lists(path: Path) -> None:
    assert detect_format(path.read_text("utf-8-sig")) is None


def test_each_format_is_told_by_its_content() -> None:
    item = "- id: a\n  type: article-journal\n  title: T\n"
    assert detect_format("---\ntitle: A review\nreferences:\n" + item + "---\n\nAs @a shows.\n") == "csl-yaml"
    assert detect_format("references:\n" + item) == "csl-yaml"
    assert detect_format("# exported\nreferences:\n\n  - id: a\n    title: T\n") == "csl-yaml"
    assert detect_format("references: [{id: a, title: T}]\n") == "csl-yaml"
    assert detect_format("nocite: '@*'\nreferences:\n- DOI: 10.1/x\n  author: [{family: A}]\n") == "csl-yaml"
    assert detect_format(item) == "csl-yaml"  # a bare list of items
    assert detect_format("10.1371/journal.pone.0005723\n\n# a comment\ndoi:10.1186/s13287-018-0774-8\n") == (
        "doi-list"
    )
    assert (
        detect_format("https://doi.org/10.1038/nrn2370  # the review\nDOI: 10.1/x.y\n") is None
    )  # 10.1/ is no DOI
    assert detect_format("https://doi.org/10.1038/nrn2370\nSmith J. A title. J Test. 2020;1:1-2.\n") is None
    # printed lists, also under a lowercase heading, and the other formats, as before
    assert detect_format("references:\n1. Smith J. A title. J Test. 2020;1:1-2.\n") is None
    assert (
        detect_format("references:\n- Smith J. A title. J Test. 2020;1:1-2.\n- WHO: A report. 2020.\n")
        is None
    )
    assert detect_format("- WHO: A report. 2020.\n- Smith J. A title. J Test. 2020;1:1-2.\n") is None
    # YAML, but not a bibliography (a pipeline's reference genomes)
    assert detect_format("references:\n  genome: refs/hg38.fa\n  mouse: refs/mm39.fa\n") is None
    assert detect_format("References:\n[1] Smith J. A title. J Test. 2020;1:1-2.\n") is None
    assert detect_format("---\ntitle: Notes\n---\n\n1. Smith J. A title. J Test. 2020;1:1-2.\n") is None
    assert detect_format("TY  - JOUR\nTI  - A title\nER  - \n") == "ris"
    assert detect_format("PMID- 1\nTI  - A title\n") == "medline"
    assert detect_format("@article{a,\n  title = {T}\n}\n") == "bibtex"
    assert detect_format('[{"id": "a", "type": "article-journal", "title": "T"}]') == "csl-json"
    assert detect_format("") is None and detect_format("# only a comment\n") is None


def _fields(entry: FileEntry) -> tuple[Any, ...]:
    ref = entry.reference
    authors = [(a.family, a.given) for a in ref.authors]
    return (
        entry.key,
        ref.kind,
        ref.raw,
        authors,
        ref.title,
        ref.journal,
        ref.year,
        ref.volume,
        ref.issue,
        ref.pages,
        ref.doi,
        ref.url,
    )


def test_real_csl_yaml_files_keep_their_fields() -> None:
    quarto = (CORPUS / "quarto-ribbon-seals-references.yaml").read_text("utf-8")
    entries, problems = read_entries(quarto, "csl-yaml", "seals.yaml")
    assert problems == []
    first = entries[0]
    assert (first.key, first.line) == ("hindell2012", 3)  # the line of its `- id:`, under `---`
    assert _fields(first)[3:] == (
        [("Hindell", "Mark A."), ("Lydersen", "Christian"), ("Hop", "Haakon"), ("Kovacs", "Kit M.")],
        "Pre-Partum Diet of Adult Female Bearded Seals in Years of Contrasting Ice Conditions",
        "PLoS ONE",
        2012,  # issued: 2012-05-31, a date to YAML
        "7",
        "5",
        "e38307",
        "10.1371/journal.pone.0038307",
        None,  # the URL goes when there is a DOI
    )
    by_key = {e.key: e.reference for e in entries}
    assert by_key["urquía2019"].year == 2019  # issued: 2019-05, a string
    assert ("de Bruyn", "PJN") in [(a.family, a.given) for a in by_key["lübcker2016"].authors]
    fern = (CORPUS / "rmarkdown-fern-barcode-references.yaml").read_text("utf-8")
    entries, problems = read_entries(fern, "csl-yaml", "fern.yaml")
    assert problems == []
    by_key = {e.key: e.reference for e in entries}
    altschul = by_key["Altschul1997"]
    assert (altschul.year, altschul.journal, altschul.volume, altschul.pages, altschul.doi) == (
        1997,  # issued: [{year: 1997}]
        "Nucleic Acids Research",
        "25",
        "3389-3402",
        "10.1093/nar/25.17.3389",
    )
    assert by_key["Duffy2015"].title == (
        "Independent gametophytes of Hymenophyllum wrightii in North America: Not as rare as we thought"
    )  # <span class="nocase">*...*</span>: pandoc's Markdown, as plain text
    assert by_key["Chambers2017"].doi is None  # DOI: 10/f96g2d is a short DOI: its URL is kept
    assert by_key["Chambers2017"].url == "http://doi.wiley.com/10.3732/ajb.1600279"


def test_csl_yaml_dates_names_and_a_markdown_file() -> None:
    text = (
        "---\ntitle: A review\nreferences:\n"
        "- {id: a, type: article-journal, title: One, issued: [{year: 2020, month: 5}]}\n"
        "- {id: b, title: Two, issued: {date-parts: [[2021, 5]]}}\n"
        "- {id: c, title: Three, issued: 2022-05-01}\n"
        "- {id: d, title: Four, issued: {year: 2023}}\n"
        "- {id: e, title: Five, issued: '2024', author: [{family: No, given: On}]}\n"
        "- {id: f, title: 1984, volume: 7, issue: 2, page: 10}\n"
        "---\n\nAs @a and @b show.\n"
    )
    entries, problems = read_entries(text, detect_format(text) or "", "review.md")
    assert problems == []
    assert [e.reference.year for e in entries] == [2020, 2021, 2022, 2023, 2024, None]
    assert [e.line for e in entries] == [4, 5, 6, 7, 8, 9]
    assert [(a.family, a.given) for a in entries[4].reference.authors] == [("No", "On")]  # not false
    last = entries[5].reference
    assert (last.title, last.volume, last.issue, last.pages) == ("1984", "7", "2", "10")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("---\nreferences:\n- id: a\n  title: [unclosed\n- id: b\n---\n", "review.md:5: not valid YAML"),
        ("references:\n- id: a\n\ttitle: T\n", "review.md:3: not valid YAML"),
        ("references:\n- id: a\n  title: T\n- just text\n", "review.md:4: not a CSL item"),
        (
            "references:\n- id: a\n  title: !!python/object/apply:os.system [ls]\n",
            "review.md:3: not valid YAML",
        ),
    ],
)
def test_bad_csl_yaml_is_one_error_naming_its_line(text: str, error: str) -> None:
    assert detect_format(text) == "csl-yaml"
    with pytest.raises(DataError) as caught:
        read_entries(text, "csl-yaml", "review.md")
    assert str(caught.value).startswith(error), caught.value
    assert "\n" not in str(caught.value)


_TEXT = st.text(
    # CSL-YAML text is Markdown, where * < > and \ are markup; line breaks are not field text
    alphabet=st.characters(
        whitelist_categories=("L", "N", "Zs", "Pd", "Po", "Ps", "Pe"), blacklist_characters="*<>\\"
    ),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() != "")
_NUMBER = st.none() | st.from_regex(r"[0-9]{1,4}", fullmatch=True)
_RECORD = st.builds(
    Record,
    key=st.from_regex(r"[a-z][a-z0-9]{0,11}", fullmatch=True),
    kind=st.just("article"),
    number=st.none(),
    authors=st.lists(st.tuples(_TEXT, st.just("") | _TEXT), max_size=4),
    title=_TEXT,
    journal=st.none() | _TEXT,
    journal_short=st.none() | _TEXT,
    year=st.none() | st.integers(1500, 2999),
    volume=_NUMBER,
    issue=_NUMBER,
    pages=st.none() | st.from_regex(r"[0-9]{1,4}-[0-9]{1,4}|e[0-9]{1,5}", fullmatch=True),
    doi=st.none() | st.from_regex(r"10\.[0-9]{4,6}/[a-z0-9][a-z0-9.\-]{0,20}[a-z0-9]", fullmatch=True),
)


@given(
    records=st.lists(_RECORD, min_size=1, max_size=4, unique_by=lambda r: r.key),
    dates=st.sampled_from(["date-parts", "year-list", "yaml-date", "string"]),
    layout=st.sampled_from(["list", "references", "front-matter"]),
)
@settings(max_examples=150, deadline=None)
def test_exocli_csl_json_as_yaml_reads_back_the_same_fields(
    records: list[Record], dates: str, layout: str
) -> None:
    import yaml

    exported = to_csl(records)
    items = json.loads(exported)
    for item in items:  # the shapes CSL-YAML writers give a date
        year = (item.get("issued") or {}).get("date-parts", [[None]])[0][0]
        if year is not None and dates != "date-parts":
            item["issued"] = {
                "year-list": [{"year": year}],
                "yaml-date": datetime.date(year, 5, 1),
                "string": f"{year}-05",
            }[dates]
    body = yaml.safe_dump(items if layout == "list" else {"references": items}, allow_unicode=True)
    text = f"---\n{body}---\n\nText citing them.\n" if layout == "front-matter" else body
    assert detect_format(text) == "csl-yaml"
    from_yaml, problems = read_entries(text, "csl-yaml", "refs.yaml")
    from_json, _ = read_entries(exported, "csl-json", "refs.json")
    assert problems == []
    assert [_fields(e) for e in from_yaml] == [_fields(e) for e in from_json]
    assert [e.reference.year for e in from_yaml] == [r.year for r in records]


def test_a_doi_list_is_read_as_references_with_only_their_doi() -> None:
    text = (CORPUS / "plos-dois.txt").read_text("utf-8")
    entries, problems = read_entries(text, "doi-list", "plos-dois.txt")
    lines = text.splitlines()
    assert len(entries) == len(set(lines)) == 74
    # a repeated DOI is imported once, each repeat reported with its line
    assert problems == [
        f"plos-dois.txt:{n}: DOI {lines[n - 1]} repeats line {lines.index(lines[n - 1]) + 1}; imported once"
        for n in (4, 44, 46, 51, 54, 64)
    ]
    first = entries[0]
    assert (first.line, first.key, first.reference.number) == (1, "doi-10.1371-journal.pone.0005723", 1)
    ref = first.reference
    assert (ref.kind, ref.doi, ref.raw, ref.problem) == (
        "article",  # not unparsed: `exocli resolve` fills it in
        "10.1371/journal.pone.0005723",
        "https://doi.org/10.1371/journal.pone.0005723",
        ONLY_DOI,
    )
    assert only_doi(ref) and not (ref.title or ref.authors or ref.journal or ref.year)
    mixed = "doi:10.1186/S13287-018-0774-8\n\n# from the review\nhttps://doi.org/10.1186/s13287-018-0774-8 # again\n"
    entries, problems = read_entries(mixed, detect_format(mixed) or "", "mine.txt")
    assert [e.reference.doi for e in entries] == ["10.1186/S13287-018-0774-8"]
    assert problems == ["mine.txt:4: DOI 10.1186/s13287-018-0774-8 repeats line 1; imported once"]


def test_upper_case_field_names_as_jabref_writes_them() -> None:
    # JabRef and some exports write AUTHOR = {...}: the authors must not be lost.
    text = (
        "@Article{Kalluri2020,\n  AUTHOR = {Kalluri, Raghu and LeBleu, Valerie S.},\n"
        "  TITLE = {The biology, function, and biomedical applications of exosomes},\n"
        "  JOURNAL = {Science},\n  YEAR = {2020},\n  VOLUME = {367},\n  DOI = {10.1126/science.aau6977},\n}\n"
    )
    entries, problems = read_entries(text, "bibtex", "jabref.bib")
    assert problems == []
    ref = entries[0].reference
    assert [(a.family, a.given) for a in ref.authors] == [("Kalluri", "Raghu"), ("LeBleu", "Valerie S.")]
    assert (ref.title, ref.journal, ref.year, ref.doi) == (
        "The biology, function, and biomedical applications of exosomes",
        "Science",
        2020,
        "10.1126/science.aau6977",
    )
    assert entries[0].key == "Kalluri2020"


def test_latex_is_decoded_fast_and_like_pylatexenc() -> None:
    from bibtexparser.middlewares import LatexDecodingMiddleware

    from exocli.bibfiles import _common_latex, _plain_latex

    slow = LatexDecodingMiddleware()
    for text in [
        'G{\\"o}del',
        "\\v{s}koda",
        "\\c{C}elik",
        "Caf\\'e",
        "{\\O}stergaard",
        'M\\"{u}ller',
        "A \\& B",
        '\\AA{}ngstr\\"om',
        "{\\L}\\'od\\'z",
        "\\textit{in vivo}",
        "Stra{\\ss}e",
        "\\u{g}",
        "\\'{\\i}",
        "{DNA} repair in {E. coli}",
        "123--130",
    ]:
        assert _plain_latex(_common_latex(text)) == slow._transform_python_value_string(text)[0], text
    # where exocli differs on purpose: a bare % or & is kept (pylatexenc drops or blanks them)
    assert _plain_latex("50% of A & B") == "50% of A & B"


@pytest.mark.parametrize(
    ("names", "split"),
    [
        ("Núñez, Minh R. and Øystein Wang", [("Núñez", "Minh R."), ("Wang", "Øystein")]),
        ("van der Berg, Jan and Jan de Groot", [("van der Berg", "Jan"), ("de Groot", "Jan")]),
        ("Smith, Jr., John and D.~E. Knuth", [("Smith Jr.", "John"), ("Knuth", "D. E.")]),
        # LaTeX accents in braces, as JabRef and Better BibTeX write them
        ('G{\\"o}del, Kurt and Ana{\\"\\i}s Adams', [("Gödel", "Kurt"), ("Adams", "Anaïs")]),
        ("{\\c S}ahin, Ay{\\c{s}}e and {\\AA}sa Berg", [("Şahin", "Ayşe"), ("Berg", "Åsa")]),
        # braced whole: a body stays one name; a person's name in braces is still a person
        (
            "{World Health Organization} and {The {ENCODE} Project Consortium}",
            [("World Health Organization", ""), ("The ENCODE Project Consortium", "")],
        ),
        ("{Austin, Claire C} and {Joachim Schöpfel}", [("Austin", "Claire C"), ("Schöpfel", "Joachim")]),
        # biblatex's extended name format
        (
            "Roorda, Dirk and family=Heuvel, given=Charles, prefix=van den, useprefix=false",
            [("Roorda", "Dirk"), ("van den Heuvel", "Charles")],
        ),
        ("Lamport, Leslie and others", [("Lamport", "Leslie")]),
        # a person braced whole keeps a particle; a body's joining word keeps it whole
        (
            "{Ludwig van Beethoven} and {Centers for Disease Control}",
            [("van Beethoven", "Ludwig"), ("Centers for Disease Control", "")],
        ),
        ("family=Smith, given=John, suffix=Jr.", [("Smith Jr.", "John")]),
    ],
)
def test_bibtex_names_are_split_as_bibtex_splits_them(names: str, split: list[tuple[str, str]]) -> None:
    from exocli.bibfiles import read_entries

    text = f"@article{{k, author = {{{names}}}, title = {{T}}, journal = {{J}}, year = 2020}}\n"
    entries, _ = read_entries(text, "bibtex", "names.bib")
    assert [(a.family, a.given) for a in entries[0].reference.authors] == split


@given(
    st.lists(
        st.tuples(
            st.from_regex(r"[A-Z][a-z]{1,8}(-[A-Z][a-z]{1,6})?", fullmatch=True),
            st.from_regex(r"([A-Z][a-z]{0,7}\.?)( [A-Z]\.)?", fullmatch=True),
            st.booleans(),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_plain_names_split_as_bibtexparser_splits_them(people: list[tuple[str, str, bool]]) -> None:
    """The fast path for plain names gives what bibtexparser's own splitter gives."""
    from bibtexparser.middlewares.names import parse_single_name_into_parts, split_multiple_persons_names

    from exocli.bibfiles import _bibtex_names

    names = " and ".join(f"{f}, {g}" if comma else f"{g} {f}" for f, g, comma in people)
    expected = []
    for name in split_multiple_persons_names(names):
        parts = parse_single_name_into_parts(name)
        expected.append((" ".join([*parts.von, *parts.last, *parts.jr]), " ".join(parts.first)))
    assert _bibtex_names(names) == expected


_NAME_TOKENS = [
    "and",
    "AnD",
    "an",
    "d",
    " ",
    "\t",
    "\n",
    "{",
    "}",
    "Li",
    "x,",
    "~",
    "\u00a0",
    "\\",
    '\\"',
    "\\{",
]


@given(st.lists(st.sampled_from(_NAME_TOKENS), max_size=24).map("".join))
def test_braced_name_lists_split_as_bibtexparser_splits_them(names: str) -> None:
    """exocli's own " and " splitter for lists with braces: bibtexparser's answer, always."""
    from bibtexparser.middlewares.names import split_multiple_persons_names

    from exocli.bibfiles import _split_persons

    assert _split_persons(names) == split_multiple_persons_names(names)


@pytest.mark.parametrize(
    "names",
    [
        "{World Health Organization} and Smith, John",
        "{Simon and Schuster} and {Barnes and Noble}",
        "Smith, J.  and\t{van der Berg}, A and Li, Q",
        "van {der} Berg, A and}{ and x",
        "{Xi} and {Yu} and",
        'Smith and \\"Ozt\\"urk, A',
    ],
)
def test_real_braced_name_lists_split_as_bibtexparser_splits_them(names: str) -> None:
    from bibtexparser.middlewares.names import split_multiple_persons_names

    from exocli.bibfiles import _split_persons

    assert _split_persons(names) == split_multiple_persons_names(names)


_ENCLOSING_TOKENS = ["{", "}", '"', "\\", "a", " ", "#", "x y", "\\{", "\\}", '\\"', "{b}", "  "]


@given(st.lists(st.sampled_from(_ENCLOSING_TOKENS), max_size=16).map("".join))
def test_enclosing_is_stripped_as_bibtexparser_strips_it(value: str) -> None:
    """A field's enclosing braces or quotes go as bibtexparser's RemoveEnclosingMiddleware
    takes them off (exocli strips only the fields it reads, when no @string needs resolving)."""
    from bibtexparser.middlewares.enclosing import RemoveEnclosingMiddleware

    from exocli.bibfiles import unenclosed

    assert unenclosed(value) == RemoveEnclosingMiddleware._strip_enclosing(value)[0]


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.bib")), ids=lambda p: p.name)
def test_a_bib_without_macros_reads_as_with_bibtexparsers_whole_stack(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path (no middleware; only the fields read are unenclosed) against bibtexparser's
    default stack on every field, on each real file: the same references."""
    from exocli import bibfiles

    text = path.read_text(encoding="utf-8-sig")
    fast = bibfiles._bibtex_items(text, path.name)
    monkeypatch.setattr(bibfiles, "_BIBTEX_STRING", bibfiles.re.compile(r"|"))  # as if macros
    assert bibfiles._bibtex_items(text, path.name) == fast
