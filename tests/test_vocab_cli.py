"""`exocli vocab list|add|edit|remove|rename|import|export`, ontology ids and `init --vocab`."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import tomllib
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from helpers import Invoke, error_lines, shipped_claims, shipped_studies, stdout_json

VOCABS = ("sources", "effects", "cargo-types", "pathways")


def tree(root: Path) -> dict[str, bytes]:
    """Every text file of the record (config, order, studies, vocabularies)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in (".toml", ".txt")
    }


def line_of(path: Path, code: str) -> int:
    """The line of the [[term]] header of `code` in a vocabulary file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    at = lines.index(f'code = "{code}"')
    assert lines[at - 1] == "[[term]]"
    return at  # the header is the line before, counted from 1


def claim_ids(result: Any) -> set[int]:
    return {claim["id"] for claim in stdout_json(result)}


def ids_with(test: Any) -> set[int]:
    return {claim["id"] for claim in shipped_claims() if test(claim)}


def vocab_rows(cli: Invoke, name: str) -> dict[str, dict[str, Any]]:
    return {row["code"]: row for row in stdout_json(cli("vocab", "list", name, "-f", "json"))}


def db_rows(root: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(root / "db" / "exocli.sqlite")) as conn:
        return [tuple(row) for row in conn.execute(sql)]


@pytest.fixture
def no_rebuild(cli: Invoke, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The database built; from then on, a command that finds it out of date with the text fails."""
    assert cli("vocab", "list").exit_code == 0
    monkeypatch.setattr("exocli.store.rebuild", _refuse_rebuild)


# --- list ---------------------------------------------------------------------------------------


def test_list_shows_ontology_ids_in_json_and_csv(cli: Invoke, workspace: Path) -> None:
    sources = vocab_rows(cli, "sources")
    assert sources["MSC"]["ontology_id"] == "CL:0000134"
    assert sources["NSC"]["ontology_id"] == "CL:0000047"
    assert sources["PMSC"]["ontology_id"] is None  # CL has no placental MSC class: none is guessed
    result = cli("vocab", "list", "effects", "-f", "csv")
    rows = {row["code"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    assert list(rows["angiogenesis"]) == [
        "vocab",
        "code",
        "label",
        "parent",
        "synonyms",
        "ontology_id",
        "claims",
    ]
    assert rows["angiogenesis"]["ontology_id"] == "GO:0001525"
    assert rows["neuroprotection"]["ontology_id"] == "GO:1901215"
    assert rows["safety"]["ontology_id"] == ""
    # `exocli vocab NAME` still lists, as `vocab list NAME` does
    assert cli("vocab", "effects", "-f", "csv").stdout == result.stdout


def test_every_shipped_ontology_id_is_a_compact_identifier_of_its_ontology() -> None:
    from exocli.workspace import bundled_vocab_dir

    prefixes = {"sources": "CL:", "effects": "GO:", "cargo-types": "SO:", "pathways": "HGNC:"}
    for name in VOCABS:
        path = bundled_vocab_dir() / f"{name}.toml"
        text = path.read_text(encoding="utf-8")
        ids = [t["ontology_id"] for t in tomllib.loads(text)["term"] if "ontology_id" in t]
        assert all(i.startswith(prefixes[name]) and i[len(prefixes[name]) :].isdigit() for i in ids), name
        assert len(ids) == len(set(ids)), name
        if ids:  # the ontology and the release (or date) the identifiers were checked against
            header = text.split("[[term]]")[0]
            assert "Ontology" in header and re.search(r"\b20\d\d-\d\d-\d\d\b", header), name


def test_a_misspelt_subcommand_names_the_closest(cli: Invoke, workspace: Path) -> None:
    result = cli("vocab", "ad", "sources", "X")
    assert result.exit_code == 2
    assert error_lines(result) == ["Error: no such command 'ad'; did you mean add?"]


# --- add and edit ---------------------------------------------------------------------------------


def test_add_writes_one_block_at_the_end_and_the_rows_with_it(
    cli: Invoke, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = workspace / "db" / "vocab" / "sources.toml"
    before = path.read_text(encoding="utf-8")
    assert cli("vocab", "list").exit_code == 0  # the database is built
    monkeypatch.setattr("exocli.store.rebuild", _refuse_rebuild)
    result = cli(
        "vocab", "add", "sources", "SMMSC", "--label", "Synovial membrane mesenchymal stem cell",
        "--synonym", "synovial MSC", "--synonym", "SM-MSC", "--synonym", "synovial membrane MSC",
        "--parent", "mesenchymal stem cells",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stderr == "Added sources term 'SMMSC' to db/vocab/sources.toml\n"
    assert result.stdout == ""
    assert path.read_text(encoding="utf-8") == before + (
        "\n[[term]]\n"
        'code = "SMMSC"\n'
        'label = "Synovial membrane mesenchymal stem cell"\n'
        'parent = "MSC"\n'  # the parent given by any of its spellings, written as its code
        "stem = true\n"  # as its parent is
        'synonyms = ["synovial MSC", "synovial membrane MSC"]\n'  # SM-MSC spells the code already
    )
    # the rows were written with the file: no rebuild, and the term is known at once
    row = vocab_rows(cli, "sources")["SMMSC"]
    assert (
        row["parent"] == "MSC"
        and row["synonyms"] == ["synovial MSC", "synovial membrane MSC"]
        and row["claims"] == 0
    )
    assert cli("query", "--source", "synovial MSC").exit_code == 0
    recorded = dict(db_rows(workspace, "SELECT path, sha256 FROM source_files"))
    import hashlib

    assert recorded["db/vocab/sources.toml"] == hashlib.sha256(path.read_bytes()).hexdigest()


def _refuse_rebuild(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the database was rebuilt: the write left it out of date with the text")


def test_edit_changes_only_the_term_s_lines(cli: Invoke, workspace: Path, no_rebuild: None) -> None:
    path = workspace / "db" / "vocab" / "effects.toml"
    before = path.read_text(encoding="utf-8").splitlines()
    result = cli(
        "vocab", "edit", "effects", "safety", "--synonym", "well tolerated", "--remove-synonym", "safe",
        "--label", "Safety and tolerability", "--ontology-id", "GO:0000001",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stderr == "Edited effects term 'safety' in db/vocab/effects.toml\n"
    after = path.read_text(encoding="utf-8").splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=False) if a != b]
    at = line_of(path, "safety")
    assert after[at - 1 : at + 4] == [
        "[[term]]",
        'code = "safety"',
        'label = "Safety and tolerability"',
        'ontology_id = "GO:0000001"',
        'synonyms = ["tolerability", "adverse events", "well tolerated"]',
    ]
    assert len(after) == len(before) + 1 and len(changed) <= 3  # the term's block, nothing else
    row = vocab_rows(cli, "effects")["safety"]
    assert row["label"] == "Safety and tolerability" and row["ontology_id"] == "GO:0000001"
    assert claim_ids(cli("query", "--effect", "well tolerated", "-f", "json")) == ids_with(
        lambda c: "safety" in c["effects"]
    )
    assert cli("query", "--effect", "safe").exit_code == 2  # no longer a spelling of it
    cleared = cli("vocab", "edit", "effects", "safety", "--no-ontology-id")
    assert cleared.exit_code == 0 and vocab_rows(cli, "effects")["safety"]["ontology_id"] is None


def test_an_edit_that_drops_a_spelling_rewrites_the_study_files_that_use_it(
    cli: Invoke, workspace: Path
) -> None:
    study = workspace / "refs" / "studies" / "wang2023umbilical.toml"
    text = study.read_text(encoding="utf-8")
    study.write_text(text.replace('source = "UCMSC"', 'source = "hUCMSC"'), encoding="utf-8")  # by hand
    assert cli("query", "--ref", "44", "-f", "json").exit_code == 0  # reads (and builds) as UCMSC
    result = cli("vocab", "edit", "sources", "UCMSC", "--remove-synonym", "hUCMSC")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "Rewrote refs/studies/wang2023umbilical.toml: its claims now name the term by its code",
        "Edited sources term 'UCMSC' in db/vocab/sources.toml",
    ]
    assert study.read_text(encoding="utf-8") == text  # the code again, the rest as it was
    assert claim_ids(cli("query", "--source", "UCMSC", "-f", "json")) == ids_with(
        lambda c: c["source"] == "UCMSC"
    )
    assert cli("query", "--source", "hUCMSC").exit_code == 2


# --- refusals ------------------------------------------------------------------------------------


def refused(cli: Invoke, root: Path, *args: str) -> list[str]:
    """Run a command that must be refused; nothing of the record may change."""
    assert cli("vocab", "list").exit_code == 0
    before = tree(root)
    rows = db_rows(root, "SELECT vocab, code, label, parent, ontology_id FROM vocab_terms ORDER BY 1, 2")
    result = cli(*args)
    assert result.exit_code in (1, 2), result.output
    assert result.stdout == ""
    assert tree(root) == before
    assert (
        db_rows(root, "SELECT vocab, code, label, parent, ontology_id FROM vocab_terms ORDER BY 1, 2") == rows
    )
    lines = error_lines(result)
    assert len(lines) == 1 and len(result.stderr.strip().splitlines()) in (1, 4)  # a usage error has 4
    return lines


def test_duplicate_code_is_refused(cli: Invoke, workspace: Path) -> None:
    line = line_of(workspace / "db" / "vocab" / "sources.toml", "MSC")
    assert refused(cli, workspace, "vocab", "add", "sources", "MSC", "--label", "Another MSC") == [
        f"Error: CODE 'MSC': sources already has a term with this code (db/vocab/sources.toml:{line})"
    ]
    assert refused(cli, workspace, "vocab", "add", "sources", "MSCs", "--label", "Many MSC") == [
        "Error: CODE 'MSCs': already a spelling of sources term 'MSC'"
    ]
    line = line_of(workspace / "db" / "vocab" / "sources.toml", "BMSC")
    assert refused(cli, workspace, "vocab", "rename", "sources", "UCMSC", "BMSC") == [
        f"Error: NEW 'BMSC': sources already has a term with this code (db/vocab/sources.toml:{line})"
    ]


def test_synonym_of_two_terms_is_refused(cli: Invoke, workspace: Path) -> None:
    add = ("vocab", "add", "sources", "CBMSC", "--label", "Cord blood MSC", "--synonym", "hUCMSC")
    assert refused(cli, workspace, *add) == [
        "Error: --synonym 'hUCMSC': already a spelling of sources term 'UCMSC'"
    ]
    edit = ("vocab", "edit", "effects", "angiogenesis", "--synonym", "anti-apoptotic")
    assert refused(cli, workspace, *edit) == [
        "Error: --synonym 'anti-apoptotic': already a spelling of effects term 'anti-apoptosis'"
    ]
    label = ("vocab", "edit", "effects", "safety", "--label", "Angiogenic")
    assert refused(cli, workspace, *label) == [
        "Error: --label 'Angiogenic': already a spelling of effects term 'angiogenesis'"
    ]


def test_parent_cycle_is_refused(cli: Invoke, workspace: Path) -> None:
    assert refused(cli, workspace, "vocab", "edit", "sources", "MSC", "--parent", "BMSC") == [
        "Error: --parent 'BMSC': parents would form a cycle: MSC -> BMSC -> MSC"
    ]
    assert refused(cli, workspace, "vocab", "edit", "sources", "stem-cell", "--parent", "iPSC-NSC") == [
        "Error: --parent 'iPSC-NSC': parents would form a cycle: stem-cell -> iPSC-NSC -> iPSC -> stem-cell"
    ]
    assert refused(cli, workspace, "vocab", "edit", "sources", "MSC", "--parent", "MSC") == [
        "Error: --parent 'MSC': parents would form a cycle: MSC -> MSC"
    ]


def test_remove_of_a_term_in_use_names_its_claims(cli: Invoke, workspace: Path) -> None:
    assert refused(cli, workspace, "vocab", "remove", "effects", "safety") == [
        "Error: effects term 'safety' is used by 1 claim: 50 (ref 77); edit them first"
        " (`exocli claims edit ID --effect ...`) or rename the term (`exocli vocab rename effects safety NEW`)"
    ]
    uses = sorted((c["ref"], c["id"]) for c in shipped_claims() if "bscb-repair" in c["effects"])
    shown = ", ".join(f"{i} (ref {r})" for r, i in uses)
    assert refused(cli, workspace, "vocab", "remove", "effects", "BSCB") == [
        f"Error: effects term 'bscb-repair' is used by {len(uses)} claims: {shown}; edit them first"
        " (`exocli claims edit ID --effect ...`) or rename the term (`exocli vocab rename effects bscb-repair NEW`)"
    ]
    assert refused(cli, workspace, "vocab", "remove", "sources", "non-stem") == [
        "Error: sources term 'non-stem' is the parent of M2-microglia; give them another parent first"
        " (`exocli vocab edit sources CODE --parent ...` or --no-parent)"
    ]


def test_bad_values_are_refused(cli: Invoke, workspace: Path) -> None:
    assert refused(cli, workspace, "vocab", "edit", "effects", "safety", "--ontology-id", "GO 0001") == [
        "Error: --ontology-id 'GO 0001': not an ontology identifier; write PREFIX:ID, e.g. CL:0000134"
    ]
    assert refused(cli, workspace, "vocab", "edit", "effects", "safety", "--stem") == [
        "Error: --stem/--non-stem: only a sources term is a stem or non-stem cell source"
    ]
    assert refused(cli, workspace, "vocab", "edit", "effects", "angiogensis", "--label", "x") == [
        "Error: CODE 'angiogensis': unknown effect 'angiogensis'; did you mean angiogenesis, neuroregeneration?"
    ]
    assert refused(cli, workspace, "vocab", "add", "nonsense", "x", "--label", "x") == [
        "Error: unknown vocabulary 'nonsense'; choose from sources, effects, cargo-types, pathways, injuries, species, models"
    ]
    assert refused(cli, workspace, "vocab", "edit", "effects", "safety", "--label", "Safety") == [
        "Error: effects term 'safety' already has those values; nothing was changed"
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "dup.csv",
            "code,label\nA,Alpha\nB,Beta\nA,Again\n",
            "dup.csv:4: code 'A' repeats (first at line 2)",
        ),
        (
            "clash.csv",
            "code,label,synonyms\nA,Alpha,\nB,Beta,one;ALPHA\n",
            "clash.csv:3: 'ALPHA' of 'B' is already a spelling of 'A'",
        ),
        (
            "workspace-clash.csv",
            "code,label,synonyms\nCBMSC,Cord blood MSC,hUCMSC\n",
            "workspace-clash.csv:2: 'hUCMSC' of 'CBMSC' is already a spelling of 'UCMSC'",
        ),
        (
            "cycle.csv",
            "code,label,parent\nA,Alpha,B\nB,Beta,A\n",
            "cycle.csv:2: parents form a cycle: A -> B -> A",
        ),
        (
            "workspace-cycle.csv",
            "code,label,parent\nMSC,Mesenchymal stem cell,UCMSC\n",
            "workspace-cycle.csv:2: parents form a cycle: MSC -> UCMSC -> MSC",
        ),
        (
            "short.csv",
            "code,label,synonyms\nA,Alpha,x\nB,Beta\n",
            "short.csv:3: 2 fields, but the header has 3",
        ),
        (
            "column.csv",
            "code,label,colour\nA,Alpha,red\n",
            "column.csv:1: unknown column 'colour'; the columns are code, label, synonyms, parent, stem, ontology_id",
        ),
        (
            "stem.csv",
            "code,label,stem\nA,Alpha,perhaps\n",
            "stem.csv:2: stem of 'A' must be true or false, not 'perhaps'",
        ),
        ("nolabel.csv", "code,label\nA,\n", "nolabel.csv:2: term 'A' has no label"),
        (
            "parent.csv",
            "code,label,parent\nA,Alpha,Nowhere\n",
            "parent.csv:2: parent 'Nowhere' of 'A' is not a term",
        ),
        (
            "dup.toml",
            '# terms\n\n[[term]]\ncode = "A"\nlabel = "A"\n\n[[term]]\ncode = "A"\nlabel = "B"\n',
            "dup.toml:7: code 'A' repeats (first at line 3)",
        ),
        (
            "cycle.toml",
            '[[term]]\ncode = "A"\nlabel = "A"\nparent = "B"\n\n[[term]]\ncode = "B"\nlabel = "B"\nparent = "A"\n',
            "cycle.toml:1: parents form a cycle: A -> B -> A",
        ),
        (
            "ontology.toml",
            '[[term]]\ncode = "A"\nlabel = "A"\nontology_id = "CL 134"\n',
            "ontology.toml:1: ontology_id of 'A' must be PREFIX:ID (e.g. CL:0000134), not 'CL 134'",
        ),
        (
            "clash.toml",
            '[[term]]\ncode = "A"\nlabel = "A"\n\n[[term]]\ncode = "B"\nlabel = "B"\nsynonyms = ["a"]\n',
            "clash.toml:5: 'a' of 'B' is already a spelling of 'A'",
        ),
    ],
)
def test_a_bad_import_file_is_refused_with_its_line(
    cli: Invoke, workspace: Path, name: str, content: str, message: str
) -> None:
    path = workspace.parent / name
    path.write_text(content, encoding="utf-8")
    assert refused(cli, workspace, "vocab", "import", "sources", str(path)) == [
        f"Error: {workspace.parent}/{message}"
    ]


def test_import_replace_refuses_to_drop_a_term_in_use(cli: Invoke, workspace: Path) -> None:
    path = workspace.parent / "few.csv"
    path.write_text("code,label\nMSC,Mesenchymal stem cell\n", encoding="utf-8")
    [line] = refused(cli, workspace, "vocab", "import", "sources", str(path), "--replace")
    assert line.startswith(
        f"Error: {path}: sources term 'stem-cell' is used by 1 claim: 52 (ref 81); edit them first"
    )


# --- rename ------------------------------------------------------------------------------------


def test_rename_carries_its_claims_in_one_write(cli: Invoke, workspace: Path, no_rebuild: None) -> None:
    expected = ids_with(lambda c: "bscb-repair" in c["effects"])
    before = tree(workspace)
    result = cli("vocab", "rename", "effects", "bscb-repair", "barrier-repair")
    assert result.exit_code == 0, result.output
    studies = {
        key
        for key, study in shipped_studies().items()
        if any("bscb-repair" in c["effects"] for c in study.get("claim", []))
    }
    assert result.stderr == (
        f"Renamed effects term 'bscb-repair' to 'barrier-repair' in db/vocab/effects.toml; {len(expected)} claims"
        f" in {len(studies)} study files rewritten with it\n"
    )
    after = tree(workspace)
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {"db/vocab/effects.toml", *(f"refs/studies/{key}.toml" for key in studies)}
    for key in studies:  # each study file: only the effects lines of its claims
        old = before[f"refs/studies/{key}.toml"].decode().splitlines()
        new = after[f"refs/studies/{key}.toml"].decode().splitlines()
        diff = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
        assert diff and all(
            a.startswith("effects = ") and b == a.replace('"bscb-repair"', '"barrier-repair"')
            for a, b in diff
        )
    assert claim_ids(cli("query", "--effect", "barrier-repair", "-f", "json")) == expected
    assert claim_ids(cli("query", "--effect", "BSCB repair", "-f", "json")) == expected  # synonyms kept
    assert "bscb-repair" not in vocab_rows(
        cli, "effects"
    )  # the code is gone (its synonym "BSCB repair" stays)
    assert all(
        "barrier-repair" in c["effects"]
        for c in stdout_json(cli("claims", "list", "--effect", "BSCB", "-f", "json"))
    )
    assert vocab_rows(cli, "effects")["barrier-repair"]["claims"] == len(expected)


def test_rename_of_a_parent_carries_its_children_and_their_claims(cli: Invoke, workspace: Path) -> None:
    family = ids_with(lambda c: c["source"] in ("MSC", "BMSC", "UCMSC", "ADSC", "PMSC", "AMSC"))
    result = cli("vocab", "rename", "sources", "MSC", "MSC-any")
    assert result.exit_code == 0, result.output
    rows = vocab_rows(cli, "sources")
    assert rows["BMSC"]["parent"] == rows["UCMSC"]["parent"] == "MSC-any"
    assert claim_ids(cli("query", "--source", "MSC-any", "-f", "json")) == family
    assert claim_ids(cli("query", "--source", "mesenchymal stem cells", "-f", "json")) == family
    text = (workspace / "db" / "vocab" / "sources.toml").read_text(encoding="utf-8")
    assert 'parent = "MSC"\n' not in text and text.count('parent = "MSC-any"\n') == 5


def test_rename_of_a_pathway_part_rewrites_the_axes_that_name_it(cli: Invoke, workspace: Path) -> None:
    before = claim_ids(cli("query", "--pathway", "NF-κB", "-f", "json"))
    result = cli("vocab", "rename", "pathways", "NF-κB", "NFKB")
    assert result.exit_code == 0, result.output
    assert claim_ids(cli("query", "--pathway", "NFKB", "-f", "json")) == before
    assert claim_ids(cli("query", "--pathway", "NF-kB p65", "-f", "json")) == before  # a synonym it keeps
    study = (workspace / "refs" / "studies" / "wang2023umbilical.toml").read_text(encoding="utf-8")
    assert 'pathways = ["TLR4/NFKB"]' in study
    parts = db_rows(workspace, "SELECT DISTINCT part FROM claim_pathway_parts WHERE part LIKE 'NF%'")
    assert parts == [("NFKB",)]


# --- import and export ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "toml", "tsv"])
def test_import_and_export_round_trip(cli: Invoke, workspace: Path, tmp_path: Path, fmt: str) -> None:
    blank = tmp_path / "blank"
    assert cli("init", str(blank), "--vocab", "blank").exit_code == 0
    for name in VOCABS:
        exported = tmp_path / f"{name}.{fmt}"
        result = cli("vocab", "export", name, "-f", fmt, "-o", str(exported))
        assert result.exit_code == 0 and result.stderr == f"Wrote {exported}\n"
        imported = cli("vocab", "import", name, str(exported), "--home", str(blank))
        assert imported.exit_code == 0, imported.output
        count = len(vocab_rows(cli, name))
        assert imported.stderr.endswith(f"{count} new, 0 replaced, 0 unchanged, 0 removed\n")
        again = cli("vocab", "export", name, "-f", fmt, "--home", str(blank)).stdout
        text = exported.read_text(encoding="utf-8")
        if fmt == "toml":  # the blank workspace's file keeps its own header comment
            again, text = again[again.index("\n[[term]]\n") :], text[text.index("\n[[term]]\n") :]
        assert again == text
        shipped = stdout_json(cli("vocab", "export", name, "-f", "json"))
        assert stdout_json(cli("vocab", "export", name, "-f", "json", "--home", str(blank))) == shipped
        # the same file twice changes nothing
        twice = cli("vocab", "import", name, str(exported), "--home", str(blank))
        assert twice.exit_code == 0 and "nothing was changed" in twice.stderr
    # the TOML export is the file's layout: the shipped file itself, header and all
    toml = cli("vocab", "export", "sources")
    assert toml.stdout == (workspace / "db" / "vocab" / "sources.toml").read_text(encoding="utf-8")


def test_export_formats(cli: Invoke, workspace: Path) -> None:
    data = stdout_json(cli("vocab", "export", "sources", "-f", "json"))
    msc = next(term for term in data if term["code"] == "MSC")
    assert list(msc) == ["code", "label", "parent", "stem", "ontology_id", "synonyms"]
    assert msc["ontology_id"] == "CL:0000134" and msc["stem"] is True and "MSCs" in msc["synonyms"]
    rows = list(csv.DictReader(io.StringIO(cli("vocab", "export", "sources", "-f", "csv").stdout)))
    assert list(rows[0]) == ["code", "label", "synonyms", "parent", "stem", "ontology_id"]
    bmsc = next(row for row in rows if row["code"] == "BMSC")
    assert (
        bmsc["parent"] == "MSC"
        and bmsc["stem"] == "true"
        and bmsc["synonyms"].split(";")[:2] == ["BMSCs", "BM-MSC"]
    )
    refused_format = cli("vocab", "export", "sources", "-f", "yaml")
    assert refused_format.exit_code == 2
    assert error_lines(refused_format) == ["Error: --format must be one of toml, csv, tsv, json, not 'yaml'"]
    own = cli("vocab", "export", "sources", "-o", str(workspace / "db" / "vocab" / "effects.toml"))
    assert own.exit_code == 1
    assert error_lines(own) == [
        f"Error: -o {workspace / 'db' / 'vocab' / 'effects.toml'}: that is the workspace's own"
        " db/vocab/effects.toml; write elsewhere"
    ]


def test_import_merges_by_code(cli: Invoke, workspace: Path, no_rebuild: None) -> None:
    path = workspace.parent / "more.csv"
    path.write_text(
        "code,label,synonyms,parent,stem,ontology_id\n"
        "UCMSC,Umbilical cord MSC,UCMSCs;hUCMSC;WJ-MSC,MSC,true,CL:0002569\n"
        "SMMSC,Synovial membrane MSC,synovial MSC,MSC,,\n"
        "ESC,Embryonic stem cell,ESCs;embryonic stem cell;embryonic stem cells,stem-cell,true,CL:0002322\n",
        encoding="utf-8",
    )
    result = cli("vocab", "import", "sources", str(path))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == (
        f"Imported sources terms from {path} into db/vocab/sources.toml: 1 new, 1 replaced, 1 unchanged, 0 removed"
    )
    rows = vocab_rows(cli, "sources")
    assert list(rows)[-1] == "SMMSC" and rows["SMMSC"]["parent"] == "MSC"
    assert (
        rows["UCMSC"]["synonyms"] == ["UCMSCs", "hUCMSC", "WJ-MSC"]
        and rows["UCMSC"]["label"] == "Umbilical cord MSC"
    )
    assert claim_ids(cli("query", "--source", "WJ-MSC", "-f", "json")) == ids_with(
        lambda c: c["source"] == "UCMSC"
    )


def test_a_workspace_without_its_own_vocabulary_file_gets_one(cli: Invoke, workspace: Path) -> None:
    from exocli.workspace import bundled_vocab_dir

    own = workspace / "db" / "vocab" / "effects.toml"
    own.unlink()  # read from the bundled file
    assert cli("query", "--effect", "safety").exit_code == 0
    bundled = (bundled_vocab_dir() / "effects.toml").read_text(encoding="utf-8")
    result = cli("vocab", "add", "effects", "anti-senescence", "--label", "Anti-senescence")
    assert result.exit_code == 0, result.output
    assert (
        own.read_text(encoding="utf-8")
        == bundled + '\n[[term]]\ncode = "anti-senescence"\nlabel = "Anti-senescence"\n'
    )
    assert (bundled_vocab_dir() / "effects.toml").read_text(encoding="utf-8") == bundled  # untouched
    recorded = {row[0] for row in db_rows(workspace, "SELECT path FROM source_files")}
    assert "db/vocab/effects.toml" in recorded and str(bundled_vocab_dir() / "effects.toml") not in recorded
    import exocli.store

    original = exocli.store.rebuild
    try:
        exocli.store.rebuild = _refuse_rebuild  # type: ignore[assignment]
        assert "anti-senescence" in vocab_rows(cli, "effects")
    finally:
        exocli.store.rebuild = original  # type: ignore[assignment]


# --- init --vocab ---------------------------------------------------------------------------------


def test_init_blank_then_a_field_of_one_s_own(
    cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "stroke"
    assert cli("init", str(root), "--vocab", "blank").exit_code == 0
    for name in VOCABS:
        text = (root / "db" / "vocab" / f"{name}.toml").read_text(encoding="utf-8")
        assert text.startswith("# ") and "[[term]]" not in text.replace("[[term]] block", "")
        assert tomllib.loads(text) == {}
    monkeypatch.setenv("EXOCLI_HOME", str(root))
    assert stdout_json(cli("vocab", "list", "-f", "json")) == []
    steps = [
        ("vocab", "add", "sources", "MSC", "--label", "Mesenchymal stem cell", "--synonym", "MSCs",
         "--stem", "--ontology-id", "CL:0000134"),
        ("vocab", "add", "sources", "SMMSC", "--label", "Synovial membrane mesenchymal stem cell",
         "--synonym", "synovial MSC", "--parent", "MSC"),
        ("vocab", "add", "effects", "neuroprotection", "--label", "Neuroprotection",
         "--synonym", "neuroprotective", "--ontology-id", "GO:1901215"),
        ("vocab", "add", "cargo-types", "miRNA", "--label", "microRNA", "--ontology-id", "SO:0000276"),
    ]  # fmt: skip
    for step in steps:
        result = cli(*step)
        assert result.exit_code == 0, result.output
    added = cli(
        "add-study", "--title", "Synovial MSC exosomes protect neurons after ischemic stroke",
        "--author", "Nakamura, Kenji", "--year", "2024", "--journal", "Stroke",
        "--source", "synovial MSC", "--effect", "neuroprotective", "--cargo", "miR-21-5p",
        "--cargo-type", "miRNA", "--offline", "--yes",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    [claim] = stdout_json(cli("query", "--source", "SMMSC", "-f", "json"))
    assert claim["source"] == "SMMSC" and claim["effects"] == ["neuroprotection"]
    assert claim_ids(cli("query", "--source", "MSC", "-f", "json")) == {claim["id"]}  # the parent includes it
    assert claim_ids(cli("query", "neuroprotective miRNAs from synovial MSC", "-f", "json")) == {claim["id"]}
    rows = vocab_rows(cli, "sources")
    assert (
        rows["SMMSC"]["claims"] == 1
        and rows["MSC"]["claims"] == 1
        and rows["MSC"]["ontology_id"] == "CL:0000134"
    )
    study = next((root / "refs" / "studies").glob("*.toml")).read_text(encoding="utf-8")
    assert 'source = "SMMSC"' in study


def test_init_vocab_exosome_is_the_default_and_another_is_refused(cli: Invoke, tmp_path: Path) -> None:
    from exocli.workspace import bundled_vocab_dir

    assert cli("init", str(tmp_path / "a"), "--vocab", "exosome").exit_code == 0
    for name in VOCABS:
        own = (tmp_path / "a" / "db" / "vocab" / f"{name}.toml").read_bytes()
        assert own == (bundled_vocab_dir() / f"{name}.toml").read_bytes()
    bad = cli("init", str(tmp_path / "b"), "--vocab", "stroke")
    assert bad.exit_code == 2 and error_lines(bad) == [
        "Error: --vocab must be exosome or blank, not 'stroke'"
    ]
    assert not (tmp_path / "b").exists()


def test_default_terms_are_not_spinal_cord_only() -> None:
    from exocli.vocab import load_vocabulary_file
    from exocli.workspace import bundled_vocab_dir

    effects = load_vocabulary_file("effects", bundled_vocab_dir() / "effects.toml")
    assert effects.lookup("neuroprotective") == effects.lookup("neuroprotection") == "neuroprotection"
    assert effects.lookup("blood-brain barrier") == effects.lookup("BSCB") == "bscb-repair"
    assert effects.lookup("BBB") is None  # in spinal cord injury, "BBB" is the locomotor score
    assert "spinal" not in effects.terms["bscb-repair"].label.replace("blood-spinal cord", "")


# --- a real process ---------------------------------------------------------------------------------


def test_vocab_commands_in_a_real_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("EXOCLI_HOME", "NO_COLOR")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "exocli", *args],
            capture_output=True, text=True, encoding="utf-8", env=env, cwd=tmp_path, timeout=120, check=False,
        )  # fmt: skip

    assert run("init", "ws", "--vocab", "blank").returncode == 0
    added = run("vocab", "add", "effects", "neuroprotection", "--label", "Neuroprotection", "--home", "ws")
    assert (added.returncode, added.stdout, added.stderr) == (
        0, "", "Added effects term 'neuroprotection' to db/vocab/effects.toml\n"
    )  # fmt: skip
    again = run("--home", "ws", "vocab", "add", "effects", "neuroprotection", "--label", "Again")
    assert again.returncode == 1 and again.stdout == ""
    assert again.stderr == (
        "Error: CODE 'neuroprotection': effects already has a term with this code (db/vocab/effects.toml:7)\n"
    )
    listed = run("-f", "json", "vocab", "list", "effects", "--home", "ws")
    assert listed.returncode == 0, listed.stderr
    assert [row["code"] for row in json.loads(listed.stdout)] == ["neuroprotection"]
    exported = run("vocab", "export", "effects", "-f", "csv", "--home", "ws")
    assert (
        exported.stdout
        == "code,label,synonyms,parent,stem,ontology_id\nneuroprotection,Neuroprotection,,,,\n"
    )
