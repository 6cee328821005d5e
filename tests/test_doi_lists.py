"""A plain list of DOIs into a new workspace: `refs import` keeps each paper by its DOI alone,
then `exocli resolve` fills in its fields from Crossref (a local stand-in, as in test_crossref)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import test_crossref as base
from exocli.bibfiles import ONLY_DOI
from exocli.refparse import Author, ParsedReference
from helpers import PROJECT, Invoke, stdout_json
from test_crossref import FakeCrossref, work_message

# the loopback Crossref stand-in, shared with test_crossref.py
crossref = base.crossref

DOI_LIST = PROJECT / "tests" / "data" / "reference_lists" / "plos-dois.txt"
DOIS = list(dict.fromkeys(DOI_LIST.read_text("utf-8").split()))  # 74 distinct, in the list's order
MISSING = DOIS[5]  # a DOI Crossref does not know


def paper(index: int, doi: str) -> ParsedReference:
    """What the stand-in's record of one DOI says."""
    return ParsedReference(
        raw="",
        title=f"Exosome study number {index} in mice",
        authors=[Author(f"Family{chr(97 + index % 26)}", "Ann Marie"), Author("Second", "Bo")],
        journal="PLoS One",
        year=2000 + index % 20,
        volume=str(index),
        issue="3",
        pages=f"e{1000 + index}",
        doi=doi,
    )


PAPERS = {doi: paper(i, doi) for i, doi in enumerate(DOIS)}


@pytest.fixture
def home(empty_workspace: Path, crossref: FakeCrossref, monkeypatch: pytest.MonkeyPatch) -> Path:
    for doi, ref in PAPERS.items():
        crossref.set_work(doi, None if doi == MISSING else work_message(ref))
    monkeypatch.setenv("EXOCLI_CROSSREF_URL", crossref.url)
    monkeypatch.setenv("EXOCLI_MAILTO", "curator@example.org")
    monkeypatch.setenv("EXOCLI_CROSSREF_BACKOFF", "0.01")
    monkeypatch.setenv("EXOCLI_CROSSREF_TIMEOUT", "2")
    return empty_workspace


def test_a_doi_list_imports_and_resolve_fills_in_its_references(home: Path, cli: Invoke) -> None:
    result = cli("refs", "import", str(DOI_LIST))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "74 new, 0 replaced, 0 moved, 0 dropped, 0 unchanged, 0 kept unparsed" in result.stderr
    # a repeated DOI is imported once; each repeat is a warning with its line
    repeats = [line for line in result.stderr.splitlines() if "repeats line" in line]
    assert [line.split(":")[2] for line in repeats] == ["4", "44", "46", "51", "54", "64"]
    assert all(line.startswith("Warning: ") and "imported once" in line for line in repeats)
    assert "Next: `exocli resolve` fills in the authors, title, journal and year" in result.stderr
    listed = stdout_json(cli("refs", "list", "-f", "json"))
    assert [r["doi"] for r in listed] == DOIS
    assert {(r["kind"], r["title"], r["year"], r["problem"], r["check"]) for r in listed} == {
        ("article", None, None, ONLY_DOI, "unchecked")
    }
    assert listed[0]["key"] == "doi-10.1371-journal.pone.0005723"

    # a study that a claim cites keeps its key when it is filled in
    claim = cli(
        "add-study", "--doi", DOIS[1], "--source", "UCMSC", "--effect", "angiogenesis", "--offline", "--yes"
    )
    assert claim.exit_code == 0, claim.output
    assert "citing reference 2 (doi-10.1371-journal.pmed.1000431)" in claim.stderr

    resolved = cli("resolve")
    assert resolved.exit_code == 0, resolved.output
    assert f"[6] {MISSING}: not in Crossref" in resolved.stdout
    assert "[1] 10.1371/journal.pone.0005723: fetched" in resolved.stdout
    assert "Resolved 74 (73 fetched, 1 not_found)" in resolved.stderr
    assert "Filled in 73 references from Crossref (they had only their DOI)" in resolved.stderr
    listed = stdout_json(cli("refs", "list", "-f", "json"))
    assert [r["doi"] for r in listed] == DOIS
    for ref in listed:
        if ref["doi"] == MISSING:  # nothing to fill it from: it keeps only its DOI
            assert (ref["title"], ref["problem"], ref["check"]) == (None, ONLY_DOI, "not_found")
            continue
        want = PAPERS[ref["doi"]]
        assert ref["authors"] == [{"family": a.family, "given": a.given} for a in want.authors]
        assert (ref["kind"], ref["title"], ref["journal"], ref["year"]) == (
            "article",
            want.title,
            want.journal,
            want.year,
        )
        assert (ref["volume"], ref["issue"], ref["pages"], ref["problem"]) == (
            want.volume,
            want.issue,
            want.pages,
            None,
        )
        assert ref["check"] == "ok", ref  # the filled-in reference is what its record says
        assert ref["raw"].startswith(f"{want.authors[0].family} AM, Second B. {want.title}. PLoS One.")
    keys = [r["key"] for r in listed]
    assert keys[1] == "doi-10.1371-journal.pmed.1000431"  # cited by a claim: kept
    assert keys[5] == "doi-" + MISSING.replace("/", "-")  # not filled in: kept
    assert keys[0] == f"familya{PAPERS[DOIS[0]].year}exosome"  # the usual key, now that it has fields
    # the text is the record: each study file holds its fields, the order its new keys
    stored = tomllib.loads((home / "refs" / "studies" / f"{keys[0]}.toml").read_text("utf-8"))
    assert (stored["title"], stored["doi"], stored["kind"]) == (PAPERS[DOIS[0]].title, DOIS[0], "article")
    assert not (home / "refs" / "studies" / "doi-10.1371-journal.pone.0005723.toml").exists()
    order = [
        line for line in (home / "refs" / "order.txt").read_text("utf-8").splitlines() if line[:1] != "#"
    ]
    assert order == keys
    cited = stdout_json(cli("refs", "show", "2", "-f", "json"))
    assert cited["title"] == PAPERS[DOIS[1]].title and len(cited["claims"]) == 1

    again = cli("resolve")
    assert again.exit_code == 0, again.output
    assert "Resolved 0 (nothing to do)" in again.stderr and "Filled in" not in again.stderr
    rebuilt = cli("rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert stdout_json(cli("refs", "list", "-f", "json")) == listed
    reimport = cli("refs", "import", str(DOI_LIST))
    assert "0 new, 0 replaced, 0 moved, 0 dropped, 74 unchanged" in reimport.stderr
    assert "Next:" not in reimport.stderr


def test_resolve_offline_fills_in_nothing(home: Path, cli: Invoke, tmp_path: Path) -> None:
    short = tmp_path / "two.txt"
    short.write_text(f"# two papers\n{DOIS[0]}\nhttps://doi.org/{DOIS[2]}\n", "utf-8")
    assert cli("refs", "import", str(short)).exit_code == 0
    offline = cli("resolve", "--offline")
    assert offline.exit_code == 0, offline.output
    assert f"[1] {DOIS[0]}: not checked (no stored record)" in offline.stdout
    assert "Filled in" not in offline.stderr
    assert [r["title"] for r in stdout_json(cli("refs", "list", "-f", "json"))] == [None, None]
    assert cli("resolve", "2").exit_code == 0  # one of them
    titles = [r["title"] for r in stdout_json(cli("refs", "list", "-f", "json"))]
    assert titles == [None, PAPERS[DOIS[2]].title]


def test_papers_the_workspace_has_keep_their_fields(workspace: Path, cli: Invoke, tmp_path: Path) -> None:
    shipped = stdout_json(cli("refs", "list", "-f", "json"))
    dois = [r["doi"] for r in shipped if r["doi"]]
    merged = tmp_path / "three.txt"
    merged.write_text(f"{dois[2]}\ndoi:{dois[0].upper()}\n10.5555/new.2025\n", "utf-8")
    result = cli("refs", "import", str(merged))
    assert "1 new, 0 replaced, 0 moved, 0 dropped, 2 unchanged" in result.stderr, result.output
    listed = stdout_json(cli("refs", "list", "-f", "json"))
    assert listed[:96] == shipped
    assert (listed[96]["doi"], listed[96]["title"], listed[96]["problem"]) == (
        "10.5555/new.2025",
        None,
        ONLY_DOI,
    )
    # --replace takes the list's order and membership; a known paper moves with its fields
    reordered = tmp_path / "reordered.txt"
    reordered.write_text("\n".join(reversed(dois)) + "\n", "utf-8")
    plan = cli("refs", "import", str(reordered), "--replace", "--drop-claims", "--dry-run")
    assert plan.exit_code == 0, plan.output
    assert f"Would import {len(dois)} references" in plan.stderr
    assert " 0 replaced," in plan.stderr and f"{97 - len(dois)} dropped" in plan.stderr
    assert "Next:" not in plan.stderr  # nothing new: nothing to resolve
