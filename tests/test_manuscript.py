"""Reading manuscripts: citation forms, sentence splitting, the four formats, real articles."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exocli.citations import AuthorYear, ListEntry, ReferenceIndex, expand_numbers, find_citations
from exocli.errors import DataError
from exocli.manuscript import read_manuscript, sentence_hash, split_sentences
from helpers import PROJECT, REVIEW, shipped_order

MANUSCRIPTS = PROJECT / "tests" / "data" / "manuscripts"
WRITTEN = ("spinal-review.md", "spinal-review.tex", "spinal-review-numbered.txt")


# --------------------------------------------------------------------------- citation forms


@pytest.mark.parametrize(
    ("text", "targets"),
    [
        ("shown before [12].", ["12"]),
        ("shown before [12, 13].", ["12", "13"]),
        ("shown before [12–15].", ["12", "13", "14", "15"]),
        ("shown before [3, 6, 10,11,12].", ["3", "6", "10", "11", "12"]),
        ("shown before [6, p. 3].", ["6"]),
        ("as reviewed [@wang2023umbilical].", ["@wang2023umbilical"]),
        ("as reviewed [@a; @b-c:2020].", ["@a", "@b-c:2020"]),
        ("as reviewed [see @key, p. 3].", ["@key"]),
        ("@wang2023umbilical showed it.", ["@wang2023umbilical"]),
        ("write to me@example.org today.", []),
        (r"as shown \cite{a,b}.", ["@a", "@b"]),
        (r"as shown \citep[p.~4]{a}.", ["@a"]),
        (r"\textcite{a} showed it.", ["@a"]),
        (r"as shown \autocite[see][p.~4]{a, b}.", ["@a", "@b"]),
        ("as shown (Wang et al., 2023).", ["Wang 2023"]),
        ("as shown (Wang et al. 2023; Li and Chen, 2020a, 2021).", ["Wang 2023", "Li 2020a", "Li 2021"]),
        ("as shown (Jaensch et al., 2001a,b).", ["Jaensch 2001a", "Jaensch 2001b"]),
        ("as shown (for review, see Larsen et al., 2016).", ["Larsen 2016"]),
        ("as shown (of the inner ear; Kettembeil et al., 1995).", ["Kettembeil 1995"]),
        ("Stronks et al. (2010) showed it.", ["Stronks 2010"]),
        ("Dodd and Capranica (1992) showed it.", ["Dodd 1992"]),
        ("in the year (Table 1, 2019) and (in 2019).", []),
    ],
)
def test_citation_forms(text: str, targets: list[str]) -> None:
    found = find_citations(text)
    assert [t for c in found for t in c.targets()] == targets
    for citation in found:  # each span is the citation as written
        assert text[citation.start : citation.end] == citation.words


@pytest.mark.parametrize(
    ("text", "parentheses", "targets"),
    [
        ("as shown (12).", True, ["12"]),
        ("as shown (3, 4) and (11-13).", True, ["3", "4", "11", "12", "13"]),
        ("as shown (12).", False, []),  # prose unless the manuscript cites this way
        ("catalogue numbers (300-25) and (315-02).", True, []),  # ranges go up, no leading zero
        ("doses (n = 5) were given.", True, []),
    ],
)
def test_numbers_in_parentheses(text: str, parentheses: bool, targets: list[str]) -> None:
    found = find_citations(text, parentheses=parentheses)
    assert [t for c in found for t in c.targets()] == targets


@given(st.lists(st.integers(1, 400), min_size=1, max_size=8))
def test_a_printed_number_list_gives_its_numbers(numbers: list[int]) -> None:
    text = "Shown before [" + ", ".join(map(str, numbers)) + "]."
    (citation,) = find_citations(text)
    assert citation.numbers == tuple(dict.fromkeys(numbers))


@given(st.integers(1, 300), st.integers(0, 150))
def test_a_range_expands(start: int, width: int) -> None:
    assert expand_numbers(f"{start}\u2013{start + width}") == tuple(range(start, start + width + 1))


@settings(max_examples=200)
@given(st.text(alphabet=st.sampled_from(list("ab [](),;@-–.12 xWang et al\\cite{}")), max_size=80))
def test_any_text_gives_citations_inside_it(text: str) -> None:
    for parentheses in (False, True):
        for citation in find_citations(text, parentheses=parentheses):
            assert 0 <= citation.start < citation.end <= len(text)
            assert text[citation.start : citation.end] == citation.words
        sentences = split_sentences(text, find_citations(text))
        assert all(s.text.strip() for s in sentences) or not text.strip()


def test_author_year_citations_resolve_to_the_list() -> None:
    index = ReferenceIndex(
        [
            ListEntry(1, 1, "wang2023a", "Wang", 2023),
            ListEntry(2, 2, "wang2023b", "Wang", 2023),
            ListEntry(3, 3, "muller2020", "Müller", 2020),
            ListEntry(4, 4, "bond2015", "Bond Allison", 2015),
        ]
    )
    (citation,) = find_citations("as shown (Muller et al., 2020; Wang 2023b; Bond 2015).")
    resolved = index.resolve(citation)
    assert resolved.ref_ids == [3, 2, 4] and not resolved.unknown
    (citation,) = find_citations("as shown (Wang et al., 2023; Smith, 1999).")
    resolved = index.resolve(citation)
    assert resolved.ambiguous == ["Wang 2023"] and resolved.unknown == ["Smith 1999"]
    assert AuthorYear("Wang", 2023, "a").label() == "Wang 2023a"


# --------------------------------------------------------------------------- sentences


@pytest.mark.parametrize(
    "text",
    [
        "Additionally, Ma et al. [35] found that axons were longer (p < 0.05). The next one starts.",
        "See Fig. 2 for details, e.g. the cells, i.e., the MSC, vs. controls [4]. The next one starts.",
        "It was shown by Huang et al. [63], as in Fig. 3. The next one starts.",
    ],
)
def test_abbreviations_do_not_end_a_sentence(text: str) -> None:
    sentences = split_sentences(text, find_citations(text))
    assert [s.text.split()[:3] for s in sentences][1] == ["The", "next", "one"]
    assert len(sentences) == 2


def test_citations_after_the_full_stop_join_their_sentence() -> None:
    text = "It reduced glial scar formation. [85]. In the latest study, it was loaded [86]."
    first, second = split_sentences(text, find_citations(text))
    assert first.text.endswith("[85].") and [c.numbers for c in first.citations] == [(85,)]
    assert second.text.startswith("In the latest")


def test_a_sentence_may_start_with_a_gene_or_a_citation() -> None:
    text = "It aids repair [32]. miR-374-5p regulates autophagy [32]. @zhong2020neural reported it."
    sentences = split_sentences(text, find_citations(text))
    assert [s.text.split()[0] for s in sentences] == ["It", "miR-374-5p", "@zhong2020neural"]


def test_the_hash_ignores_spacing_only() -> None:
    assert sentence_hash("A  b\nc.") == sentence_hash("A b c.")
    assert sentence_hash("A b c.") != sentence_hash("A b d.")
    assert re.fullmatch(r"[0-9a-f]{16}", sentence_hash("x"))


# --------------------------------------------------------------------------- formats


def test_the_shipped_review() -> None:
    manuscript = read_manuscript(REVIEW)
    citing = list(manuscript.citing_sentences())
    assert manuscript.format == "text"
    assert len(citing) == 92
    sections = {p.section for p, _ in citing}
    assert {"Introduction", "Targeting key inflammatory pathways", "DPSC-derived exosomes"} <= sections
    # the reference list is not prose: reading stops at its heading
    assert all("doiorg" not in s.text for _, s in citing)
    ma = next(s for _, s in citing if "Ma et al." in s.text)
    assert ma.text.startswith("Additionally, Ma et al. [35] found") and ma.text.endswith("mechanism.")


def _written_targets(name: str) -> list[list[str]]:
    """Each citing sentence's targets as study keys (numbers mapped through refs/order.txt)."""
    keys = shipped_order()
    manuscript = read_manuscript(MANUSCRIPTS / name)
    found = []
    for _, sentence in manuscript.citing_sentences():
        targets = []
        for citation in sentence.citations:
            targets += [keys[n - 1] if n <= len(keys) else str(n) for n in citation.numbers]
            targets += list(citation.keys)
        found.append(targets)
    return found


def test_the_written_review_reads_alike_in_markdown_and_latex() -> None:
    markdown, latex = (_written_targets(name) for name in WRITTEN[:2])
    assert len(markdown) == 44
    assert markdown == latex


def test_the_numbered_copy_cites_the_same_papers() -> None:
    markdown, numbered = _written_targets(WRITTEN[0]), _written_targets(WRITTEN[2])
    # "(77)" in a manuscript that cites in brackets is read as prose: one sentence fewer
    assert len(numbered) == 43
    unknown = {"chen2023menstrual": "97"}
    flat = [sorted(unknown.get(t, t) for t in targets) for targets in markdown]
    assert all(sorted(targets) in flat for targets in numbered)


def _sidecars() -> list[tuple[Path, dict[str, object]]]:
    found = []
    for sidecar in sorted(MANUSCRIPTS.glob("*.source.toml")):
        meta = tomllib.loads(sidecar.read_text("utf-8"))
        stem = sidecar.name.removesuffix(".source.toml")
        for path in sorted(MANUSCRIPTS.glob(stem + "*")):
            if path.suffix in (".md", ".tex", ".txt") and not path.name.endswith(".refs.txt"):
                found.append((path, meta))
    return found


@pytest.mark.parametrize(("path", "meta"), _sidecars(), ids=lambda v: v.name if isinstance(v, Path) else "")
def test_hand_checked_sentences(path: Path, meta: dict[str, object]) -> None:
    """Each sidecar's [[expected]] sentences: found, with exactly the citations checked by hand."""
    manuscript = read_manuscript(path)
    citing = [s for _, s in manuscript.citing_sentences()]
    order = shipped_order()
    expected = meta.get("expected", [])
    assert isinstance(expected, list) and expected
    for item in expected:
        start, cites = item["sentence_start"], item["cites"]
        hits = [s for s in citing if start in " ".join(s.text.split())]
        if not cites:  # a negative case: "(Table 1, References 1)" cites nothing
            assert not hits, (path.name, start)
            continue
        assert hits, (path.name, start)
        got = [t.lstrip("@") for c in hits[0].citations for t in c.targets()]
        if path.name == "spinal-review-numbered.txt":
            got = [order[int(t) - 1] if t.isdigit() and int(t) <= len(order) else t for t in got]
        assert sorted(got) == sorted(str(c) for c in cites), (path.name, start)


def test_real_articles_cite_as_counted_by_hand() -> None:
    """The three real article bodies: citing sentences within 10% of the hand count."""
    for path, meta in _sidecars():
        approx = meta.get("citing_sentences_approx")
        if isinstance(approx, int):
            found = len(list(read_manuscript(path).citing_sentences()))
            assert abs(found - approx) <= approx // 10, (path.name, found, approx)


def test_markdown_reader(tmp_path: Path) -> None:
    path = tmp_path / "m.md"
    path.write_text(
        "---\ntitle: x\n---\n\n# Results\n\n## Angiogenesis\n\nIt *worked* well [@a].\nStill the same"
        " paragraph [@b].\n\n```\ncode [@c]\n```\n\n# References\n\n::: {#refs}\n:::\n",
        "utf-8",
    )
    manuscript = read_manuscript(path)
    (paragraph,) = manuscript.paragraphs
    assert paragraph.section == "Results > Angiogenesis"
    assert [s.text for s in paragraph.sentences] == ["It worked well [@a].", "Still the same paragraph [@b]."]


def test_latex_reader(tmp_path: Path) -> None:
    path = tmp_path / "m.tex"
    path.write_text(
        "\\documentclass{article}\n\\begin{document}\n\\section{Intro}\n% a comment [99]\n"
        "MSC exosomes (\\textit{in vivo}) helped, $p < 0.05$ \\cite{a,b}.\n\n"
        "\\begin{figure}\\caption{not prose \\cite{z}}\\end{figure}\n"
        "\\subsection{More}\nSecond paragraph \\citep[p.~4]{c}.\n\\bibliography{refs}\n\\end{document}\n",
        "utf-8",
    )
    manuscript = read_manuscript(path)
    first, second = manuscript.paragraphs
    assert first.section == "Intro" and second.section == "Intro > More"
    assert first.text == "MSC exosomes (in vivo) helped, p < 0.05 \\cite{a,b}."
    assert [c.keys for c in first.citations] == [("a", "b")]
    assert [c.keys for c in second.citations] == [("c",)]


def test_docx_reader_reads_superscripts_and_brackets(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Results", level=1)
    paragraph = document.add_paragraph("Exosomes from BMSC reduced inflammation")
    paragraph.add_run("12,13").font.superscript = True
    paragraph.add_run(". A second sentence cites [14].")
    paragraph = document.add_paragraph("Water at 20 m")
    paragraph.add_run("2").font.superscript = False
    path = tmp_path / "m.docx"
    document.save(str(path))
    manuscript = read_manuscript(path)
    assert manuscript.format == "docx"
    first = manuscript.paragraphs[0]
    assert first.section == "Results"
    assert [c.numbers for s in first.sentences for c in s.citations] == [(12, 13), (14,)]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.txt", "no paragraphs"),
        (b"\x00\x01\x02binary", "blob.txt", "a binary file"),
        (b"\xff\xfe caf\xe9", "latin.txt", "not UTF-8"),
        (b"PK\x03\x04 not really a zip", "broken.docx", "not a readable .docx"),
    ],
)
def test_bad_manuscripts_are_refused_with_a_reason(
    tmp_path: Path, content: bytes, name: str, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=message) as caught:
        read_manuscript(path)
    assert name in str(caught.value)


def test_a_missing_manuscript(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such manuscript file"):
        read_manuscript(tmp_path / "absent.md")
