"""exocli.audit: the checks behind `exocli check`, on small synthetic workspaces and the shipped one."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from exocli.audit import (
    CHECKS,
    FINDING_KEYS,
    Finding,
    Report,
    run_checks,
)
from exocli.db import open_database
from exocli.mentions import find_mirnas, find_organs
from exocli.refparse import parse_reference
from exocli.studies import reference_entry
from exocli.workspace import init_workspace, open_workspace
from helpers import SHIPPED_VOCAB, copy_workspace


@dataclass
class Case:
    """One claim citing one reference, and the claim-vs-title finding expected (or None)."""

    title: str
    claim: dict[str, Any]
    expected: str | None
    evidence: list[str] = field(default_factory=list)  # substrings of the finding's evidence


def write_workspace(root: Path, references: list[str], claims: list[dict[str, Any]]) -> Path:
    """exocli.toml, the list order, one study file per reference (its claims in it), the vocabularies.

    Each reference is parsed as the review's numbered list would give it; a claim goes into the file
    of the study its "ref" names (a claim without one cannot be written: see test_integrity_findings).
    """
    (root / "refs" / "studies").mkdir(parents=True)
    (root / "db").mkdir()
    (root / "exocli.toml").write_text(
        '[workspace]\nname = "audit test"\nformat = 2\nreferences = "refs/order.txt"\n', encoding="utf-8"
    )
    keys = [f"study{n}" for n in range(1, len(references) + 1)]
    (root / "refs" / "order.txt").write_text("".join(f"{key}\n" for key in keys), encoding="utf-8")
    blocks: dict[int, list[str]] = {n: [] for n in range(1, len(references) + 1)}
    for claim in claims:
        entry = {
            "section": "Test",
            "source_wording": "",
            "cargo_type": "none",
            "cargo": [],
            "engineering": [],
            "pathways": [],
            "effects": ["anti-inflammatory"],
            "injury": "SCI",
            **claim,
        }
        number = entry.pop("ref")
        lines = ["[[claim]]"]
        for key, value in entry.items():
            if value is not None:
                lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
        blocks[number].append("\n".join(lines))
    for n, (key, text) in enumerate(zip(keys, references, strict=True), 1):
        fields = reference_entry(parse_reference(text, n))
        head = "\n".join(
            f"{name} = {json.dumps(value, ensure_ascii=False)}" for name, value in fields.items()
        )
        (root / "refs" / "studies" / f"{key}.toml").write_text(
            "\n\n".join([head, *blocks[n]]) + "\n", encoding="utf-8"
        )
    shutil.copytree(SHIPPED_VOCAB, root / "db" / "vocab")
    return root


def article(title: str, n: int, author: str = "Smith J", year: int = 2021, doi: bool = True) -> str:
    tail = f" https://doi.org/10.1000/test.{n}." if doi else ""
    return f"{author}, Doe A. {title}. J Neurotrauma. {year};{n}:1–10.{tail}"


@pytest.fixture
def open_conn() -> Iterator[Any]:
    opened: list[sqlite3.Connection] = []

    def opener(root: Path) -> sqlite3.Connection:
        conn = open_database(open_workspace(root))
        opened.append(conn)
        return conn

    yield opener
    for conn in opened:
        conn.close()


def by_claim(report: Report, checks: tuple[str, ...]) -> dict[int, list[Finding]]:
    found: dict[int, list[Finding]] = {}
    for finding in report.findings:
        if finding.check in checks and finding.claim is not None:
            found.setdefault(finding.claim, []).append(finding)
    return found


CLAIM_VS_TITLE = (
    "claim_source_vs_title",
    "claim_vesicle_vs_title",
    "claim_mirna_vs_title",
    "claim_injury_vs_title",
)

CASES = [
    # --- cell source: hierarchy-compatible titles are fine, other tissues are not
    Case(
        "Human umbilical cord mesenchymal stem cells derived exosomes promote recovery after spinal cord injury",
        {"source": "BMSC"},
        "claim_source_vs_title",
        ['title says "Human umbilical cord mesenchymal stem cells" (UCMSC)', "claim source BMSC"],
    ),
    Case(
        "Human placental mesenchymal stem cell-derived exosomes promote recovery after spinal cord injury",
        {"source": "MenSC"},
        "claim_source_vs_title",
        ['"placental mesenchymal stem cell" (PMSC)', "claim source MenSC"],
    ),
    Case(
        "Adipose-derived exosomes reduce inflammation after spinal cord injury",
        {"source": "BMSC"},
        "claim_source_vs_title",
        ['title says "Adipose-derived" (ADSC)'],
    ),
    Case(
        "Exosomes from hypoxic preconditioned mesenchymal stem cells repair spinal cord injury",
        {"source": "BMSC"},
        None,
    ),
    Case("MSC exosomes in spinal cord injury", {"source": "UCMSC"}, None),
    Case(
        "Intravenous administration of mesenchymal stem cell-derived exosome alleviates spinal cord injury",
        {"source": "AMSC"},
        None,
    ),
    Case(
        "Bone marrow and umbilical cord mesenchymal stem cell exosomes compared in spinal cord injury",
        {"source": "UCMSC"},
        None,
    ),
    Case(
        "IPSC-NSCs-derived exosomes improve motor function after spinal cord injury", {"source": "iPSC"}, None
    ),
    Case("Exosomes improve recovery after spinal cord injury", {"source": "BMSC"}, None),
    Case("Stem cell-derived exosomes for spinal cord injury", {"source": "DPSC"}, None),
    # --- vesicle source: non-stem or non-cell origins
    Case(
        "Bottom-up assembly of fully synthetic extracellular vesicles",
        {"source": "MSC", "injury": "not stated"},
        "claim_vesicle_vs_title",
        ['title says "fully synthetic extracellular vesicles" (synthetic vesicles)'],
    ),
    Case(
        "M2 microglia-derived exosome-loaded hydrogel for recovery after spinal cord injury",
        {"source": "BMSC"},
        "claim_vesicle_vs_title",
        ['title says "M2 microglia" (M2-microglia)'],
    ),
    Case(
        "M2 microglia-derived exosome-loaded hydrogel for recovery after spinal cord injury",
        {"source": "M2-microglia", "source_wording": "M2 microglia exosomes"},
        None,
    ),
    Case(
        "M2 microglia-derived exosome-loaded hydrogel for recovery after spinal cord injury",
        {"source": "M2-microglia", "source_wording": "stem cell-derived exosomes"},
        "claim_vesicle_vs_title",
        ['review wording "stem cell-derived exosomes" (stem-cell)'],
    ),
    # --- miRNA: family, letter, paralog and arm
    Case(
        "Exosomal miR-125b from MSCs alleviates spinal cord injury",
        {"source": "MSC", "cargo_type": "miRNA", "cargo": ["miR-125a"]},
        "claim_mirna_vs_title",
        ['title names "miR-125b" (miR-125b)', "claim cargo miR-125a: letter a vs b"],
    ),
    Case(
        "Umbilical mesenchymal stem cell exosomes act through the miR-146b/TLR4 pathway after spinal cord injury",
        {"source": "UCMSC", "cargo_type": "miRNA", "cargo": ["miR-146a-5p"]},
        "claim_mirna_vs_title",
        ["claim cargo miR-146a-5p: letter a vs b"],
    ),
    Case(
        "MSC exosomes carry miR-9-5p after spinal cord injury",
        {"source": "MSC", "cargo_type": "miRNA", "cargo": ["miR-124"]},
        "claim_mirna_vs_title",
        ["claim cargo miR-124: no miRNA of its family named"],
    ),
    Case(
        "Micro-RNA let-7b-5p from MSC vesicles promotes regrowth in spinal-cord-injured rats",
        {"source": "MSC", "cargo_type": "miRNA", "cargo": ["let-7a-5p"]},
        "claim_mirna_vs_title",
        ["claim cargo let-7a-5p: letter a vs b"],
    ),
    Case(
        "Mesenchymal stem cell EVs act via the microRNA-21-5p/FasL axis after spinal cord injury",
        {"source": "MSC", "cargo_type": "miRNA", "cargo": ["miR-21"]},
        None,
    ),
    Case(
        "MiR-21 derived from the exosomes of MSCs regulates neurons in spinal cord injury",
        {"source": "MSC", "cargo_type": "miRNA", "cargo": ["miR-21-5p"]},
        None,
    ),
    Case(
        "Extracellular vesicles of miR-146 modified bone marrow mesenchymal stem cells in spinal cord injury",
        {"source": "BMSC", "cargo_type": "miRNA", "cargo": ["miR-146a"]},
        None,
    ),
    Case(
        "Umbilical mesenchymal stem cell exosomes act through the miR-199a-3p/145-5p NGF/TrkA pathway in spinal cord injury",
        {"source": "UCMSC", "cargo_type": "miRNA", "cargo": ["miR-199a-3p", "miR-145-5p"]},
        None,
    ),
    Case(
        "Alleviation of spinal cord injury by MicroRNA 137-overexpressing bone marrow mesenchymal stem cell exosomes",
        {"source": "BMSC", "cargo_type": "miRNA", "cargo": ["miR-137"]},
        None,
    ),
    Case(
        "Exosomal miR-17-92 cluster from BMSCs alleviates apoptosis in spinal cord injury",
        {"source": "BMSC", "cargo_type": "miRNA", "cargo": ["miR-17-92"]},
        None,
    ),
    Case(
        "Enhanced spinal cord repair using induced pluripotent stem cell-derived exosomes loaded with miRNA",
        {"source": "iPSC", "cargo_type": "miRNA", "cargo": ["miR-23b", "miR-21-5p"]},
        None,
    ),
    # --- organ / injury
    Case(
        "Dental pulp stem cell-derived exosomes alleviate cerebral ischaemia-reperfusion injury",
        {"source": "DPSC", "injury": "SCI"},
        "claim_injury_vs_title",
        ['title says "cerebral ischaemia-reperfusion injury" (brain)', 'claim injury "SCI" (spinal cord)'],
    ),
    Case(
        "Dental pulp stem cell-derived exosomes alleviate cerebral ischaemia-reperfusion injury",
        {"source": "DPSC", "injury": "cerebral ischemia/reperfusion"},
        None,
    ),
    Case(
        "Mesenchymal stem cell exosomes protect the kidney after ischaemia-reperfusion",
        {"source": "MSC", "injury": "acute SCI"},
        "claim_injury_vs_title",
        ['title says "kidney" (kidney)'],
    ),
    Case(
        "Neural stem cell-derived extracellular vesicles: the light of central nervous system diseases",
        {"source": "NSC", "injury": "SCI"},
        None,
    ),
    Case(
        "Global burden of traumatic brain and spinal cord injury",
        {"source": "stem-cell", "injury": "SCI"},
        None,
    ),
    Case(
        "Dental pulp stem cell-derived exosomes alleviate cerebral ischaemia-reperfusion injury",
        {"source": "DPSC", "injury": "not stated", "model": "in vitro"},
        None,
    ),
]


@pytest.fixture(scope="module")
def cases_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    root = tmp_path_factory.mktemp("cases") / "ws"
    claims = [{"id": n, "ref": n, **case.claim} for n, case in enumerate(CASES, 1)]
    write_workspace(root, [article(case.title, n) for n, case in enumerate(CASES, 1)], claims)
    conn = open_database(open_workspace(root))
    try:
        return run_checks(conn)
    finally:
        conn.close()


@pytest.mark.parametrize("number", range(1, len(CASES) + 1), ids=lambda n: f"case{n}")
def test_claim_vs_title_rules(cases_report: Report, number: int) -> None:
    case = CASES[number - 1]
    findings = by_claim(cases_report, CLAIM_VS_TITLE).get(number, [])
    assert [f.check for f in findings] == ([case.expected] if case.expected else []), findings
    if case.expected:
        (finding,) = findings
        assert finding.severity == "warning"
        assert finding.ref == number
        for words in case.evidence:
            assert any(words in line for line in finding.evidence), (words, finding.evidence)


def test_mirna_partly_named_is_info(tmp_path: Path, open_conn: Any) -> None:
    title = "miR-21 delivered by hMSC-derived EVs regulates neurons in spinal cord injury"
    claims = [{"id": 1, "ref": 1, "source": "MSC", "cargo_type": "miRNA", "cargo": ["miR-21", "miR-19b"]}]
    report = run_checks(open_conn(write_workspace(tmp_path / "ws", [article(title, 1)], claims)))
    (finding,) = by_claim(report, ("claim_mirna_vs_title",))[1]
    assert finding.severity == "info"
    assert "miR-19b" in finding.message


@pytest.mark.parametrize(
    ("title", "injury", "expected"),
    [
        # one organ (the brain), another disease: a note
        ("Mesenchymal stem cell exosomes reduce amyloid plaques in Alzheimer's disease", "stroke", "AD"),
        # a kind of the claim's disease, or the claim's a kind of the title's: no finding
        ("Stem cell exosomes after intracerebral hemorrhage in rats", "stroke", None),
        ("Stem cell exosomes in stroke", "ICH", None),
        # no organ on the claim's side: the disease alone decides
        ("Exosomes attenuate spinal cord injury", "neuroinflammation", "SCI"),
        # an abbreviation counts only in capitals ("ms" in prose is not multiple sclerosis)
        ("Exosomes given within 30 ms of injury in AD mice", "MS", "AD"),
        ("Exosomes given within 30 ms of injury", "ALS", None),
    ],
)
def test_disease_vs_title(
    tmp_path: Path, open_conn: Any, title: str, injury: str, expected: str | None
) -> None:
    claims = [{"id": 1, "ref": 1, "source": "MSC", "injury": [injury]}]
    report = run_checks(open_conn(write_workspace(tmp_path / "ws", [article(title, 1)], claims)))
    findings = by_claim(report, ("claim_disease_vs_title", "claim_injury_vs_title")).get(1, [])
    if expected is None:
        assert findings == []
        return
    (finding,) = findings
    assert (finding.check, finding.severity) == ("claim_disease_vs_title", "info")
    assert finding.message == f"cited reference is about {expected}, the claim about {injury}"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("via miR-374-5p/STK-4 axis", ["miR-374-5p"]),
        ("through the miR-199a-3p/145-5p-mediated NGF/TrkA pathway", ["miR-199a-3p", "miR-145-5p"]),
        ("Exosomes from microRNA 146a overexpressed cells", ["miR-146a"]),
        ("by MicroRNA 137-overexpressing cells", ["miR-137"]),
        ("via an miR-219a-2-3p/YY1 mechanism", ["miR-219a-2-3p"]),
        ("miR-21 and miR-19b delivered by hMSC-derived EVs", ["miR-21", "miR-19b"]),
        ("Micro-RNA let-7a-5p derived from MSC EVs", ["let-7a-5p"]),
        ("Exosomal miR-17-92 cluster from BMSCs", ["miR-17-92 cluster"]),
        ("hsa-miR-146a-5p and miR146b", ["miR-146a-5p", "miR-146b"]),
        ("exosomes loaded with miRNA and microRNAs", []),
        ("miR-126-modified MSCs", ["miR-126"]),
    ],
)
def test_find_mirnas(text: str, names: list[str]) -> None:
    assert [m.mirna.name for m in find_mirnas(text)] == names


@pytest.mark.parametrize(
    ("text", "organs"),
    [
        ("alleviate cerebral ischaemia-reperfusion injury", ["brain"]),
        ("after spinal cord injury in rats", ["spinal cord"]),
        ("Bone marrow mesenchymal stem cells and umbilical cord blood", []),
        ("traumatic brain and spinal cord injury", ["brain", "spinal cord"]),
        ("blood-spinal cord barrier repair", ["spinal cord"]),
    ],
)
def test_find_organs(text: str, organs: list[str]) -> None:
    assert [m.code for m in find_organs(text)] == organs


def test_abstract_is_a_second_text(tmp_path: Path, open_conn: Any) -> None:
    titles = [
        "Exosomes improve recovery after spinal cord injury",  # silent title, abstract says UCMSC
        "Exosomes improve recovery after spinal cord injury",  # abstract agrees with the claim
        "Exosomes improve recovery after spinal cord injury",  # record is another paper: abstract ignored
    ]
    claims = [{"id": n, "ref": n, "source": "BMSC"} for n in (1, 2, 3)]
    conn = open_conn(
        write_workspace(tmp_path / "ws", [article(t, n) for n, t in enumerate(titles, 1)], claims)
    )
    abstracts = {
        1: "<jats:p>Human umbilical cord mesenchymal stem cells were cultured &amp; their exosomes given.</jats:p>",
        2: "<jats:p>Bone marrow mesenchymal stem cells were cultured.</jats:p>",
        3: "<jats:p>Adipose-derived stem cells were cultured.</jats:p>",
    }
    for n, abstract in abstracts.items():
        ref_id = conn.execute("SELECT id FROM refs WHERE number = ?", (n,)).fetchone()[0]
        doi = f"10.1000/test.{n}"
        message = json.dumps({"DOI": doi, "title": ["x"], "abstract": abstract})
        conn.execute(
            "INSERT INTO crossref_works (doi, status, fetched_at, message) VALUES (?, 'ok', '', ?)",
            (doi, message),
        )
        status, differences = (
            ("ok", []) if n < 3 else ("mismatch", ["title: the DOI's record is another paper ('x')"])
        )
        conn.execute(
            "INSERT INTO ref_resolution (ref_id, doi, method, status, differences) VALUES (?, ?, 'doi', ?, ?)",
            (ref_id, doi, status, json.dumps(differences)),
        )
    found = by_claim(run_checks(conn), CLAIM_VS_TITLE)
    assert set(found) == {1}
    (finding,) = found[1]
    assert finding.check == "claim_source_vs_title"
    assert 'abstract says "Human umbilical cord mesenchymal stem cells" (UCMSC)' in finding.evidence


# --------------------------------------------------------------------------- integrity


def test_integrity_findings(tmp_path: Path, open_conn: Any) -> None:
    refs = [
        article("Exosomes from bone marrow mesenchymal stem cells in spinal cord injury", 1),
        article("A review nobody cites for a claim", 2),
        # ref 1's DOI in other letters: each copy is its own study, `exocli check` reports it
        article("Another title entirely", 3).replace("10.1000/test.3", "10.1000/TEST.1"),
        article("Exosomes from bone marrow mesenchymal stem cells in spinal cord injury.", 4, doi=False),
        article("Exosomes from bone marrow mesenchymal stem cells in spinal cord injury", 5, year=2022),
    ]
    claims = [
        {"id": 1, "ref": 1, "source": "BMSC", "effects": ["anti-apoptosis", "angiogenesis"]},
        {"id": 2, "ref": 1, "source": "BMSC", "effects": ["angiogenesis", "anti-apoptosis"]},  # duplicate
        {"id": 3, "ref": 1, "source": "BMSC", "effects": ["angiogenesis"]},  # differs in effects
        {"id": 4, "ref": 3, "source": "MSC"},
        {"id": 5, "ref": 4, "source": "MSC"},
        {"id": 6, "ref": 5, "source": "MSC"},
        {"id": 7, "ref": 3, "source": "MSC", "effects": ["autophagy"]},  # loses its reference below
    ]
    conn = open_conn(write_workspace(tmp_path / "ws", refs, claims))
    assert conn.execute("SELECT doi FROM refs WHERE number = 3").fetchone()[0].casefold() == "10.1000/test.1"
    # A study file always cites its own study, so a claim without a reference (or terms a
    # vocabulary no longer has) can only come from the database itself: make them here.
    conn.execute("UPDATE claims SET ref_id = NULL WHERE id = 7")
    conn.execute("UPDATE claims SET source = 'XYZ' WHERE id = 4")
    conn.execute("UPDATE claim_effects SET effect = 'levitation' WHERE claim_id = 5")
    report = run_checks(conn)
    got = {(f.check, f.ref, f.claim): f for f in report.findings if f.check != "no_doi"}
    assert ("unused_reference", 2, None) in got
    assert got["unused_reference", 2, None].severity == "info"
    assert [k for k in got if k[0] == "unused_reference"] == [("unused_reference", 2, None)]
    dup_doi = got["duplicate_reference", 3, None]
    assert dup_doi.severity == "warning" and "same DOI" in dup_doi.message and "ref 1" in dup_doi.message
    dup_title = got["duplicate_reference", 4, None]
    assert "same title, first author and year" in dup_title.message
    assert ("duplicate_reference", 5, None) not in got  # another year: another paper
    dup_claim = got["duplicate_claim", 1, 2]
    assert dup_claim.severity == "warning" and "repeats claim 1" in dup_claim.message
    assert not [k for k in got if k[0] == "duplicate_claim" and k[2] != 2]
    invalid = {(k[2], f.message) for k, f in got.items() if k[0] == "invalid_term"}
    assert invalid == {
        (4, "source 'XYZ' is no longer in the sources vocabulary"),
        (5, "effects 'levitation' is no longer in the effects vocabulary"),
    }
    assert all(f.severity == "error" for k, f in got.items() if k[0] == "invalid_term")
    missing = got["missing_reference", None, 7]
    assert missing.severity == "error"
    assert report.exit_code(strict=False) == 1


def test_reference_checks_from_crossref_rows(tmp_path: Path, open_conn: Any) -> None:
    refs = [article(f"Paper number {n} about spinal cord injury", n) for n in range(1, 8)]
    refs.append(article("A paper the review gives without a DOI", 8, doi=False))
    refs.append("ClinicalTrials.gov. https://clinicaltrials.gov/.")
    claims = [{"id": n, "ref": n, "source": "MSC"} for n in range(1, 10)]
    conn = open_conn(write_workspace(tmp_path / "ws", refs, claims))
    ids = dict(conn.execute("SELECT number, id FROM refs").fetchall())
    rows = {
        1: ("ok", []),
        2: ("mismatch", ["title: the DOI's record is another paper ('Cardiac repair')"]),
        3: ("mismatch", ["journal: J Neurotrauma vs Neuroscience", "year: 2021 vs 2020"]),
        4: ("not_found", []),
        5: ("ok", []),
        6: ("ok", []),
    }
    for n, (status, differences) in rows.items():
        conn.execute(
            "INSERT INTO ref_resolution (ref_id, doi, method, status, differences) VALUES (?, ?, 'doi', ?, ?)",
            (ids[n], f"10.1000/test.{n}", status, json.dumps(differences)),
        )
    conn.execute(
        "INSERT INTO ref_resolution (ref_id, doi, method, status, differences, score)"
        " VALUES (?, '10.1000/found.8', 'bibliographic', 'ok', '[]', 0.93)",
        (ids[8],),
    )
    for n, kind, label in (
        (1, "retraction", "retracted"),
        (5, "correction", "corrected"),
        (6, "expression_of_concern", "expression of concern"),
    ):
        conn.execute(
            "INSERT INTO ref_updates (ref_id, relation, type, label, doi, date)"
            " VALUES (?, 'updated-by', ?, ?, '10.1000/notice', '2024-1-2')",
            (ids[n], kind, label),
        )
    report = run_checks(conn)
    got = {(f.check, f.ref): f for f in report.findings if f.claim is None}
    assert got["retraction", 1].severity == "error"
    assert "retracted" in got["retraction", 1].message
    assert "notice doi:10.1000/notice" in got["retraction", 1].evidence
    assert got["crossref_mismatch", 2].severity == "error"
    assert got["crossref_mismatch", 3].severity == "warning"
    assert "year: 2021 vs 2020" in got["crossref_mismatch", 3].evidence
    assert got["crossref_not_found", 4].severity == "warning"
    assert got["correction", 5].severity == "info"
    assert got["expression_of_concern", 6].severity == "warning"
    assert got["no_doi", 8].severity == "info"  # Crossref found its DOI
    assert any("doi:10.1000/found.8" in line for line in got["no_doi", 8].evidence)
    assert got["no_doi", 9].severity == "info"  # a web page
    unresolved = got["unresolved_doi", None]
    assert unresolved.severity == "info" and unresolved.evidence == ["ref 7: doi:10.1000/test.7"]
    assert any(line.startswith("1 references not resolved yet") for line in report.not_checked)
    assert report.exit_code(strict=False) == 1


def test_article_without_doi_or_match_is_a_warning(tmp_path: Path, open_conn: Any) -> None:
    refs = [article("Vascular dysfunctions following spinal cord injury", 1, doi=False)]
    report = run_checks(open_conn(write_workspace(tmp_path / "ws", refs, [])))
    (finding,) = [f for f in report.findings if f.check == "no_doi"]
    assert (finding.severity, finding.ref) == ("warning", 1)
    assert report.exit_code(strict=False) == 0
    assert report.exit_code(strict=True) == 1


# --------------------------------------------------------------------------- bad input


def test_empty_workspace_says_what_it_could_not_check(tmp_path: Path, open_conn: Any) -> None:
    ws = init_workspace(tmp_path / "empty")
    report = run_checks(open_conn(ws.root))
    assert report.findings == []
    assert any(line.startswith("no references") for line in report.not_checked)
    assert any(line.startswith("no claims") for line in report.not_checked)
    assert report.counts() == {"error": 0, "warning": 0, "info": 0}
    assert report.exit_code(strict=True) == 0


def test_references_without_claims(tmp_path: Path, open_conn: Any) -> None:
    refs = [article("Exosomes in spinal cord injury", 1)]
    report = run_checks(open_conn(write_workspace(tmp_path / "ws", refs, [])))
    assert {f.check for f in report.findings} == {"unresolved_doi"}
    assert any(line.startswith("no claims") for line in report.not_checked)


def test_claim_citing_a_web_page_is_not_compared(tmp_path: Path, open_conn: Any) -> None:
    refs = ["ClinicalTrials.gov. https://clinicaltrials.gov/."]
    claims = [{"id": 1, "ref": 1, "source": "BMSC"}]
    report = run_checks(open_conn(write_workspace(tmp_path / "ws", refs, claims)))
    assert not by_claim(report, CLAIM_VS_TITLE)
    assert any("claim 1 (ref 1, web)" in line for line in report.not_checked)


# --------------------------------------------------------------------------- shipped workspace


@pytest.fixture(scope="module")
def shipped_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    root = copy_workspace(tmp_path_factory.mktemp("shipped") / "ws")
    conn = open_database(open_workspace(root))
    try:
        return run_checks(conn)
    finally:
        conn.close()


def test_shipped_claim_vs_title_findings(shipped_report: Report) -> None:
    """Each verified by hand against the review text and the reference titles."""
    found = {(f.check, f.ref, f.claim) for f in shipped_report.findings if f.check in CLAIM_VS_TITLE}
    assert found == {
        # review: "miR-146a-5p-engineered ... hUCMSC-exosomes [44]"; title: miR-146b (letter a vs b)
        ("claim_mirna_vs_title", 44, 12),
        # review: "human menstrual blood stem cells ... hyperbaric oxygen [87]"; title: placental MSC
        ("claim_source_vs_title", 87, 55),
        # review: "BMSC-derived exosomes ... Wnt/β-catenin [92]"; title: human umbilical cord MSC
        ("claim_source_vs_title", 92, 37),
        # review: "stem cell-derived exosomes promote ... immune modulation [18]"; title: M2 microglia
        ("claim_vesicle_vs_title", 18, 3),
    }
    assert all(f.severity == "warning" for f in shipped_report.findings if f.check in CLAIM_VS_TITLE)


def test_shipped_no_false_alarms(shipped_report: Report) -> None:
    flagged_refs = {f.ref for f in shipped_report.findings if f.check in CLAIM_VS_TITLE}
    assert 52 not in flagged_refs  # claim BMSC, title "mesenchymal stem cells": MSC is BMSC's parent
    assert 54 not in flagged_refs  # claim AMSC, title "mesenchymal stem cell"
    assert 74 not in flagged_refs  # the claim records the cerebral injury itself
    assert 43 not in flagged_refs  # miR-146a vs title miR-146: compatible
    assert 93 not in flagged_refs  # miR-21 vs title microRNA-21-5p: compatible
    assert 69 not in flagged_refs  # miR-199a-3p/145-5p named in full


def test_shipped_severities_and_exit_code(shipped_report: Report) -> None:
    assert [f for f in shipped_report.findings if f.severity == "error"] == []
    warnings = {(f.check, f.ref) for f in shipped_report.findings if f.severity == "warning"}
    # The review gives five articles without a DOI, and nothing has been resolved yet.
    assert {w for w in warnings if w[0] == "no_doi"} == {("no_doi", n) for n in (9, 21, 22, 32, 82)}
    assert shipped_report.exit_code(strict=False) == 0
    assert shipped_report.exit_code(strict=True) == 1
    (unresolved,) = [f for f in shipped_report.findings if f.check == "unresolved_doi"]
    assert unresolved.message == "89 DOIs not checked against Crossref yet"
    assert len(unresolved.evidence) == 89
    assert any(line.startswith("89 references not resolved yet") for line in shipped_report.not_checked)
    unused = {f.ref for f in shipped_report.findings if f.check == "unused_reference"}
    assert 1 in unused and 89 in unused and 44 not in unused


# --------------------------------------------------------------------------- output shape


def test_json_is_stable(shipped_report: Report, tmp_path: Path) -> None:
    rows = [f.as_dict() for f in shipped_report.findings]
    assert rows and all(list(row) == list(FINDING_KEYS) for row in rows)
    assert FINDING_KEYS == ("severity", "check", "claim", "ref", "message", "evidence")
    assert all(row["check"] in CHECKS for row in rows)
    assert all(isinstance(row["evidence"], list) and row["evidence"] for row in rows)
    root = copy_workspace(tmp_path / "again")
    conn = open_database(open_workspace(root))
    try:
        again = run_checks(conn)
    finally:
        conn.close()
    assert json.dumps(again.as_dict()) == json.dumps(shipped_report.as_dict())
    assert list(shipped_report.as_dict()) == ["counts", "findings", "not_checked"]


def test_findings_are_sorted_by_severity_check_ref_claim() -> None:
    findings = [
        Finding("info", "unused_reference", None, 3, "m"),
        Finding("warning", "no_doi", None, 9, "m"),
        Finding("error", "missing_reference", 2, None, "m"),
        Finding("warning", "claim_source_vs_title", 5, 9, "m"),
        Finding("warning", "claim_source_vs_title", 4, 9, "m"),
        Finding("warning", "claim_source_vs_title", 7, 2, "m"),
    ]
    report = Report(findings)
    assert [(f.severity, f.check, f.ref, f.claim) for f in report.findings] == [
        ("error", "missing_reference", None, 2),
        ("warning", "claim_source_vs_title", 2, 7),
        ("warning", "claim_source_vs_title", 9, 4),
        ("warning", "claim_source_vs_title", 9, 5),
        ("warning", "no_doi", 9, None),
        ("info", "unused_reference", 3, None),
    ]
    assert report.counts() == {"error": 1, "warning": 4, "info": 1}


def test_check_command_exit_codes_and_json(workspace: Path, cli: Any) -> None:
    """The CLI: findings by severity on stdout, exit 0 with warnings, 1 with --strict or errors."""
    table = cli("check")
    assert table.exit_code == 0, table.output
    assert table.stdout.startswith("WARNINGS (9)")
    assert "claim_mirna_vs_title: [44] claim 12" in table.stdout
    assert table.stderr.strip().endswith("0 errors, 9 warnings, 50 notes")
    assert cli("check", "--strict").exit_code == 1
    data = json.loads(cli("check", "--format", "json").stdout)
    assert list(data) == ["counts", "findings", "not_checked"]
    assert data["counts"] == {"error": 0, "warning": 9, "info": 50}
    assert list(data["findings"][0]) == ["severity", "check", "claim", "ref", "message", "evidence"]
    with sqlite3.connect(workspace / "db" / "exocli.sqlite") as conn:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('exocli_writing', '1')")
        conn.execute("UPDATE claims SET source = 'XYZ' WHERE id = 1")
        conn.execute("DELETE FROM meta WHERE key = 'exocli_writing'")
    broken = cli("check")
    assert broken.exit_code == 1 and "invalid_term" in broken.stdout
    assert cli("check", "--format", "xml").exit_code == 2
