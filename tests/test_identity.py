"""References and claims keep their identity: renumber, insert, edit and merge without mislinking.

A claim cites a study (its file), not a number; the number is the study's place in
refs/order.txt. These tests check that by DOI, through every command that moves the list,
with real git for the two-branch merge, and against the format-1 record the project
shipped before (tests/data/format1/).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exocli.evidence import Claim
from exocli.reflists import parse_reference_list
from exocli.refparse import Author, ParsedReference
from exocli.studies import Study, format_study, parse_study
from exocli.upgrade import legacy_identities
from helpers import (
    FORMAT1,
    REVIEW_LIST,
    Invoke,
    copy_format1_workspace,
    error_lines,
    shipped_claims,
    shipped_order,
    shipped_reference_texts,
    stdout_json,
)

INSERTED = (
    "Smith J, Doe A. Exosomes from an inserted reference. J Test Sci. 2024;12:101-9."
    " https://doi.org/10.5555/inserted.2024.1."
)


def claim_dois(cli: Invoke) -> dict[int, str | None]:
    """{claim id: DOI of the paper it cites}, as exocli answers it."""
    return {row["id"]: row["doi"] for row in stdout_json(cli("query", "--format", "json"))}


def tree(root: Path) -> dict[str, str]:
    """{path: sha256} of every file of the record (refs/ and exocli.toml)."""
    files = [root / "exocli.toml", *sorted((root / "refs").rglob("*"))]
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.is_file()
    }


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}


def renumbered_list(insert_at: int, text: str = INSERTED) -> str:
    """The shipped list with `text` inserted as reference `insert_at`, the rest renumbered."""
    entries = list(shipped_reference_texts().values())
    entries.insert(insert_at - 1, text)
    return "".join(f"{n}. {entry}\n" for n, entry in enumerate(entries, 1))


# --- renumbering -----------------------------------------------------------------------------


def test_insert_and_renumber_keeps_every_claim_on_its_paper(cli: Invoke, workspace: Path) -> None:
    before = claim_dois(cli)
    assert len(before) == 55 and before[2] is not None
    files_before = tree(workspace)
    new_list = workspace.parent / "renumbered.txt"
    new_list.write_text(renumbered_list(3), encoding="utf-8")
    result = cli("refs", "import", str(new_list), "--replace")
    assert result.exit_code == 0, result.output
    assert "New: reference 3" in result.stderr
    assert "Moved: reference 17 is now 18 (its claims moved with it)" in result.stderr
    assert "1 new, 0 replaced, 94 moved, 0 dropped, 2 unchanged" in result.stderr
    assert claim_dois(cli) == before  # every claim, by DOI, on the same paper
    assert stdout_json(cli("refs", "show", "3", "-f", "json"))["doi"] == "10.5555/inserted.2024.1"
    # Only the list order and the new study's file changed: no study of the 96 was rewritten.
    assert changed(files_before, tree(workspace)) == {"refs/order.txt", "refs/studies/smith2024exosomes.toml"}


def test_dry_run_reports_and_writes_nothing(cli: Invoke, workspace: Path) -> None:
    files_before = tree(workspace)
    new_list = workspace.parent / "renumbered.txt"
    new_list.write_text(renumbered_list(1), encoding="utf-8")
    result = cli("refs", "import", str(new_list), "--replace", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Moved: reference 1 is now 2" in result.stderr
    assert "nothing was written (--dry-run)" in result.stderr
    assert tree(workspace) == files_before


def test_dropping_a_cited_reference_needs_drop_claims(cli: Invoke, workspace: Path) -> None:
    texts = shipped_reference_texts()
    del texts[17]  # Xing 2024: cited by claims 2 and 20
    new_list = workspace.parent / "dropped.txt"
    new_list.write_text("".join(f"{n}. {t}\n" for n, t in enumerate(texts.values(), 1)), encoding="utf-8")
    files_before = tree(workspace)
    refused = cli("refs", "import", str(new_list), "--replace")
    assert refused.exit_code == 1
    assert error_lines(refused) == [
        f"Error: {new_list}: reference 17 (Xing 2024) is cited by claims 2, 20, and is not in the new list;"
        " re-cite or remove those claims first (`exocli claims edit ID --ref N`, `exocli claims remove ID`),"
        " or pass --drop-claims to remove them with it; nothing was imported"
    ]
    assert tree(workspace) == files_before
    before = claim_dois(cli)
    result = cli("refs", "import", str(new_list), "--replace", "--drop-claims")
    assert result.exit_code == 0, result.output
    assert "Dropped: reference 17 (its claims 2, 20 removed)" in result.stderr
    after = claim_dois(cli)
    assert after == {i: doi for i, doi in before.items() if i not in (2, 20)}
    assert not (workspace / "refs" / "studies" / "xing2024effects.toml").exists()


def test_an_entry_matching_two_references_is_an_error(cli: Invoke, empty_workspace: Path) -> None:
    twice = "Lee K, Park S. Exosome repeat study. J Rep. 2021;4:1-5. https://doi.org/10.5555/twice."
    first = empty_workspace.parent / "first.txt"
    first.write_text(f"1. {twice}\n2. {twice.replace('repeat study', 'repeat study, again')}\n", "utf-8")
    assert cli("refs", "import", str(first)).exit_code == 0
    files_before = tree(empty_workspace)
    second = empty_workspace.parent / "second.txt"
    second.write_text(f"1. {twice.replace('Exosome repeat study', 'Exosome study, repeated')}\n", "utf-8")
    result = cli("refs", "import", str(second), "--replace")
    assert result.exit_code == 1
    assert error_lines(result) == [
        f"Error: {second}:1: entry 1 matches references 1 and 2 (same DOI, or same title, first author"
        " and year): which paper it is cannot be told; nothing was imported"
    ]
    assert tree(empty_workspace) == files_before


# --- one reference at a time -----------------------------------------------------------------


def test_refs_move_insert_and_remove_keep_claims_on_their_papers(cli: Invoke, workspace: Path) -> None:
    before = claim_dois(cli)
    moved = cli("refs", "move", "17", "--to", "1")
    assert moved.exit_code == 0, moved.output
    assert moved.stderr == "Moved reference 17 (xing2024effects) to 1; references 1-16 are now 2-17\n"
    assert claim_dois(cli) == before
    added = cli(
        "refs",
        "add",
        "--title",
        "Exosomes and a new reference",
        "--author",
        "Ngata, Aroha Mere",
        "--author",
        "Olsen, Per",
        "--journal",
        "J Test Sci",
        "--year",
        "2025",
        "--volume",
        "3",
        "--pages",
        "10-20",
        "--doi",
        "10.5555/added.2025",
        "--at",
        "2",
    )
    assert added.exit_code == 0, added.output
    assert added.stderr == "Added reference 2 (ngata2025exosomes); references 2-96 are now 3-97\n"
    shown = stdout_json(cli("refs", "show", "2", "-f", "json"))
    assert shown["authors"] == [
        {"family": "Ngata", "given": "Aroha Mere"},
        {"family": "Olsen", "given": "Per"},
    ]
    assert shown["doi"] == "10.5555/added.2025"
    assert claim_dois(cli) == before
    refused = cli("refs", "remove", "1")
    assert refused.exit_code == 1
    assert error_lines(refused) == [
        "Error: reference 1 (xing2024effects) is cited by claims 2, 20; re-cite them"
        " (`exocli claims edit ID --ref N`) or remove them first; nothing was removed"
    ]
    removed = cli("refs", "remove", "2")
    assert removed.exit_code == 0, removed.output
    assert removed.stderr == "Removed reference 2 (ngata2025exosomes); references 3-97 are now 2-96\n"
    assert claim_dois(cli) == before
    assert len(stdout_json(cli("refs", "list", "-f", "json"))) == 96


def test_refs_edit_prints_old_and_new_and_keeps_the_claims(cli: Invoke, workspace: Path) -> None:
    before = claim_dois(cli)
    files_before = tree(workspace)
    result = cli("refs", "edit", "17", "--year", "2023", "--pages", "1-12")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == "Edited reference 17 (xing2024effects):"
    assert "  year: 2024 -> 2023" in lines
    assert "  pages: (none) -> 1-12" in lines
    assert any(line.startswith("  text: Xing X, Xu P") for line in lines)
    assert changed(files_before, tree(workspace)) == {"refs/studies/xing2024effects.toml"}
    assert claim_dois(cli) == before
    shown = stdout_json(cli("refs", "show", "17", "-f", "json"))
    assert (shown["year"], shown["pages"]) == (2023, "1-12")
    assert "2023" in shown["raw"]


def test_claims_edit_ref_moves_the_claim_between_study_files(cli: Invoke, workspace: Path) -> None:
    files_before = tree(workspace)
    result = cli("claims", "edit", "2", "--ref", "10.1186/s12951-023-02255-w")  # ref 18, by DOI
    assert result.exit_code == 0, result.output
    assert result.stderr == "Edited claim 2:\n  ref: 17 -> 18\n"
    assert changed(files_before, tree(workspace)) == {
        "refs/studies/xing2024effects.toml",
        "refs/studies/guan2024m2.toml",
    }
    assert claim_dois(cli)[2] == "10.1186/s12951-023-02255-w"
    guan = tomllib.loads((workspace / "refs" / "studies" / "guan2024m2.toml").read_text("utf-8"))
    assert 2 in [c["id"] for c in guan["claim"]]


# --- claim ids ---------------------------------------------------------------------------------


def _added_id(result: Any) -> int:
    assert result.exit_code == 0, result.output
    found = re.search(r"Added claim (\d+) citing", result.stderr)
    assert found, result.stderr
    return int(found.group(1))


def test_claim_ids_are_random_short_and_never_reused(cli: Invoke, workspace: Path) -> None:
    args = ("add-study", "--doi", "10.1007/s12010-023-04836-9", "--source", "ADSC", "--yes", "--offline")
    first = _added_id(cli(*args, "--effect", "angiogenesis"))
    assert 10_000_000 <= first <= 99_999_999
    assert cli("claims", "remove", str(first), "--yes").exit_code == 0
    ids = {first}
    for effect in ("antioxidant", "autophagy", "anti-scarring"):
        ids.add(_added_id(cli(*args, "--effect", effect)))
    assert len(ids) == 4  # the removed id did not come back, and no two are the same
    assert cli("claims", "remove", "55", "--yes").exit_code == 0
    assert 55 not in claim_dois(cli)
    assert all(i not in ids for i in range(1, 56))  # new ids never meet the shipped 1..55


def test_claims_list_and_show(cli: Invoke, workspace: Path) -> None:
    listed = cli(
        "claims", "list", "--source", "UCMSC", "--effect", "anti-inflammatory", "--cargo-type", "miRNA"
    )
    assert listed.exit_code == 0, listed.output
    header = listed.stdout.splitlines()[0].split()
    assert header[:3] == ["ID", "Ref", "Study"]
    ids = [line.split()[0] for line in listed.stdout.splitlines()[2:]]
    assert ids == ["12", "16"]
    shown = cli("claims", "show", "12")
    assert shown.exit_code == 0, shown.output
    assert "ref:            44 (wang2023umbilical)" in shown.stdout
    assert "file:           refs/studies/wang2023umbilical.toml" in shown.stdout
    data = stdout_json(cli("claims", "show", "12", "-f", "json"))
    assert (data["id"], data["ref"], data["study"], data["cargo"]) == (
        12,
        44,
        "wang2023umbilical",
        ["miR-146a-5p"],
    )
    missing = cli("claims", "show", "99999999")
    assert missing.exit_code == 1
    assert error_lines(missing) == ["Error: no claim 99999999 in this workspace"]


def test_the_query_table_shows_the_claim_id(cli: Invoke, workspace: Path) -> None:
    result = cli("query", "anti-inflammatory miRNAs from UCMSC")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["ID", "Ref"]
    assert [line.split()[:2] for line in lines[2:4]] == [["12", "44"], ["16", "48"]]


# --- bad record text ----------------------------------------------------------------------------


def test_colliding_claim_ids_in_two_study_files(cli: Invoke, workspace: Path) -> None:
    path = workspace / "refs" / "studies" / "guan2024m2.toml"  # holds claim 3
    text = path.read_text("utf-8")
    path.write_text(text.replace("id = 3\n", "id = 1\n"), "utf-8")
    result = cli("query", "--source", "MSC")
    assert result.exit_code == 1
    assert error_lines(result) == [
        "Error: refs/studies/guan2024m2.toml: claim id 1 is also in refs/studies/soleimani2024intrathecal.toml"
        " (made on two branches?); give one of them another id by hand: any whole number no claim has"
    ]


def test_order_file_naming_a_missing_study(cli: Invoke, workspace: Path) -> None:
    order = workspace / "refs" / "order.txt"
    lines = order.read_text("utf-8").splitlines()
    lines.insert(5, "nosuch2020study")
    order.write_text("\n".join(lines) + "\n", "utf-8")
    result = cli("refs", "list")
    assert result.exit_code == 1
    assert error_lines(result) == [
        "Error: refs/order.txt:6: names study 'nosuch2020study', but refs/studies/nosuch2020study.toml does not exist"
    ]


def test_claims_of_a_study_the_list_does_not_name(cli: Invoke, workspace: Path) -> None:
    order = workspace / "refs" / "order.txt"
    order.write_text(order.read_text("utf-8").replace("xing2024effects\n", ""), "utf-8")
    result = cli("query")
    assert result.exit_code == 1
    assert error_lines(result) == [
        "Error: refs/studies/xing2024effects.toml: study 'xing2024effects' is not in refs/order.txt; add its key"
        " there (its place is its number) or remove the file"
    ]


def test_a_ref_inside_a_study_file_is_refused(cli: Invoke, workspace: Path) -> None:
    path = workspace / "refs" / "studies" / "guan2024m2.toml"
    path.write_text(path.read_text("utf-8").replace("id = 3\n", "id = 3\nref = 17\n"), "utf-8")
    result = cli("query")
    assert result.exit_code == 1
    line = path.read_text("utf-8").splitlines().index("ref = 17") + 1
    assert error_lines(result)[0].startswith(
        f"Error: refs/studies/guan2024m2.toml:{line}: claim 3: no 'ref' here"
    )


def test_a_hand_edit_is_picked_up(cli: Invoke, workspace: Path) -> None:
    assert cli("claims", "show", "3").exit_code == 0  # the database exists
    path = workspace / "refs" / "studies" / "guan2024m2.toml"
    path.write_text(path.read_text("utf-8").replace("species = []", 'species = ["rat"]', 1), "utf-8")
    shown = stdout_json(cli("claims", "show", "3", "-f", "json"))
    assert shown["species"] == ["rat"]
    rows = stdout_json(cli("query", "--ref", "18", "-f", "json"))
    assert [r["species"] for r in rows if r["id"] == 3] == [["rat"]]


def test_a_write_changes_rows_without_a_rebuild(
    cli: Invoke, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exocli import store

    assert cli("query", "--ref", "1").exit_code == 0  # built once
    files_before = tree(workspace)

    def no_rebuild(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a write must not rebuild the database")

    monkeypatch.setattr(store, "rebuild", no_rebuild)
    result = cli("claims", "edit", "12", "--species", "rat", "--dose", "100 µg")
    assert result.exit_code == 0, result.output
    assert changed(files_before, tree(workspace)) == {"refs/studies/wang2023umbilical.toml"}
    row = next(r for r in stdout_json(cli("query", "--ref", "44", "-f", "json")) if r["id"] == 12)
    assert (row["species"], row["dose"]) == (["rat"], "100 µg")
    conn = sqlite3.connect(workspace / "db" / "exocli.sqlite")
    try:
        assert conn.execute("SELECT COUNT(*) FROM source_files WHERE size < 0").fetchone()[0] == 0
    finally:
        conn.close()


# --- two co-authors, real git --------------------------------------------------------------------


def _git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.org",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.org",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(root.parent),
    }
    return subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, text=True, check=check)


@pytest.fixture
def repo(workspace: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    (workspace / ".gitignore").write_text("db/*.sqlite\ndb/*.sqlite-*\ndb/.write.*\n", "utf-8")
    _git(workspace, "init", "-q", "-b", "main")
    _git(workspace, "add", "-A")
    _git(workspace, "commit", "-q", "-m", "shipped record")
    return workspace


def test_two_coauthors_on_two_branches_merge_cleanly(cli: Invoke, repo: Path) -> None:
    _git(repo, "checkout", "-q", "-b", "ana")
    ana = _added_id(
        cli(
            "add-study",
            "--doi",
            "10.1186/s12951-022-01273-4",
            "--source",
            "DPSC",
            "--effect",
            "antioxidant",
            "--yes",
            "--offline",
            env={"EXOCLI_USER": "Ana"},
        )
    )
    assert cli("claims", "edit", "12", "--species", "rat").exit_code == 0
    _git(repo, "commit", "-q", "-am", "ana's claims")
    _git(repo, "checkout", "-q", "main")
    _git(repo, "checkout", "-q", "-b", "ben")
    ben = _added_id(
        cli(
            "add-study",
            "--doi",
            "10.1007/s12010-023-04836-9",
            "--source",
            "ADSC",
            "--effect",
            "angiogenesis",
            "--yes",
            "--offline",
            env={"EXOCLI_USER": "Ben"},
        )
    )
    assert cli("claims", "edit", "16", "--species", "mouse").exit_code == 0
    _git(repo, "commit", "-q", "-am", "ben's claims")
    assert ana != ben
    _git(repo, "checkout", "-q", "ana")
    merged = _git(repo, "merge", "-q", "--no-edit", "ben", check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    rows = {r["id"]: r for r in stdout_json(cli("query", "--format", "json"))}  # rebuilt after the merge
    assert len(rows) == 57
    assert rows[ana]["added_by"] == "Ana" and rows[ana]["doi"] == "10.1186/s12951-022-01273-4"
    assert rows[ben]["added_by"] == "Ben" and rows[ben]["doi"] == "10.1007/s12010-023-04836-9"
    assert (rows[12]["species"], rows[16]["species"]) == (["rat"], ["mouse"])


def test_the_same_claim_changed_on_two_branches_is_a_readable_conflict(cli: Invoke, repo: Path) -> None:
    _git(repo, "checkout", "-q", "-b", "ana")
    assert cli("claims", "edit", "12", "--species", "rat").exit_code == 0
    _git(repo, "commit", "-q", "-am", "ana")
    _git(repo, "checkout", "-q", "main")
    assert cli("claims", "edit", "12", "--species", "mouse").exit_code == 0
    _git(repo, "commit", "-q", "-am", "ben")
    merged = _git(repo, "merge", "--no-edit", "ana", check=False)
    assert merged.returncode != 0
    assert "CONFLICT (content): Merge conflict in refs/studies/wang2023umbilical.toml" in merged.stdout
    text = (repo / "refs" / "studies" / "wang2023umbilical.toml").read_text("utf-8")
    assert '<<<<<<< HEAD\nspecies = ["mouse"]\n=======\nspecies = ["rat"]\n>>>>>>> ana\n' in text
    result = cli("query")
    assert result.exit_code == 1 and error_lines(result)[0].startswith(
        "Error: refs/studies/wang2023umbilical.toml:"
    )


# --- format 1 converts with nothing lost --------------------------------------------------------


def _format1_record() -> tuple[list[ParsedReference], dict[int | None, str], list[dict[str, Any]]]:
    references = parse_reference_list(REVIEW_LIST.read_text("utf-8")).references
    keys: dict[str, str] = {}
    for line in (FORMAT1 / "refs" / "citekeys.tsv").read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            key, ident = line.split("\t")
            keys[ident] = key
    identities = legacy_identities(references)
    by_number = {n: keys[ident] for n, ident in identities.items()}
    with (FORMAT1 / "db" / "claims.toml").open("rb") as handle:
        claims = tomllib.load(handle)["claim"]
    return references, by_number, claims


def test_format1_workspace_converts_losslessly(
    cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_format1_workspace(tmp_path / "old")
    monkeypatch.setenv("EXOCLI_HOME", str(root))
    refused = cli("query")
    assert refused.exit_code == 1
    assert "run `exocli upgrade`" in error_lines(refused)[0]
    originals = {
        p: (root / p).read_bytes()
        for p in ("exocli.toml", "refs/review.txt", "refs/citekeys.tsv", "db/claims.toml")
    }
    result = cli("upgrade")
    assert result.exit_code == 0, result.output
    assert "96 references, 55 claims" in result.stderr
    references, keys, claims = _format1_record()
    listed = stdout_json(cli("refs", "list", "-f", "json"))
    assert len(listed) == 96
    for ref, row in zip(references, listed, strict=True):
        assert row["number"] == ref.number and row["key"] == keys[ref.number]
        assert row["raw"] == ref.raw and row["kind"] == ref.kind and row["et_al"] == ref.et_al
        assert row["authors"] == [{"family": a.family, "given": a.given} for a in ref.authors]
        for name in ("title", "journal", "year", "volume", "issue", "pages", "doi", "url", "problem"):
            assert row[name] == getattr(ref, name), (ref.number, name)
    rows = {r["id"]: r for r in stdout_json(cli("query", "--format", "json"))}
    assert sorted(rows) == sorted(c["id"] for c in claims)
    for claim in claims:
        row = rows[claim["id"]]
        for name, value in claim.items():
            actual = row["cargo_wording"] if name == "cargo" else row[name]
            assert actual == value, (claim["id"], name)
    # The converted workspace is the one the project ships, byte for byte.
    shipped = Path(__file__).resolve().parents[1]
    for path in sorted((shipped / "refs" / "studies").glob("*.toml")):
        assert (root / "refs" / "studies" / path.name).read_bytes() == path.read_bytes(), path.name
    assert (root / "refs" / "order.txt").read_bytes() == (shipped / "refs" / "order.txt").read_bytes()
    assert not (root / "db" / "claims.toml").exists() and not (root / "refs" / "review.txt").exists()
    backups = list((root / "db" / "backup").iterdir())
    assert len(backups) == 1
    for name, data in originals.items():
        assert (backups[0] / name).read_bytes() == data
    again = cli("upgrade")
    assert again.exit_code == 1 and "nothing to upgrade" in error_lines(again)[0]


def test_upgrade_refuses_a_claim_without_its_reference(
    cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_format1_workspace(tmp_path / "old")
    monkeypatch.setenv("EXOCLI_HOME", str(root))
    claims = root / "db" / "claims.toml"
    claims.write_text(claims.read_text("utf-8").replace("ref = 16\n", "ref = 500\n", 1), "utf-8")
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    result = cli("upgrade")
    assert result.exit_code == 1
    assert error_lines(result)[0].startswith("Error: db/claims.toml:6: claim 1: ref: reference 500 is not in")
    after = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and p.name != ".write.lock"}
    assert after == before  # nothing written (no database yet either)


def test_shipped_order_and_claims_match_the_format1_record() -> None:
    references, keys, claims = _format1_record()
    assert shipped_order() == [keys[ref.number] for ref in references]
    assert shipped_claims() == sorted(claims, key=lambda c: c["id"])


# --- study files round-trip ---------------------------------------------------------------------

_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(str.strip)


@given(
    raw=_text,
    title=st.none() | _text,
    authors=st.lists(st.tuples(_text.filter(lambda s: "," not in s), st.just("") | _text), max_size=4),
    year=st.none() | st.integers(1, 9999),
    note=st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=60),
    pathways=st.lists(_text, max_size=3),
)
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_study_files_round_trip(
    raw: str,
    title: str | None,
    authors: list[tuple[str, str]],
    year: int | None,
    note: str,
    pathways: list[str],
) -> None:
    from exocli.store import load_vocabularies
    from exocli.workspace import Workspace, load_config

    shipped = Path(__file__).resolve().parents[1]
    vocabs = load_vocabularies(Workspace(shipped, load_config(shipped)))
    authors = [(f.strip(), g.strip()) for f, g in authors if f.strip()]
    ref = ParsedReference(
        raw=raw,
        number=7,
        authors=[Author(f, g) for f, g in authors],
        title=title,
        year=year,
    )
    claim = Claim(
        id=12345678,
        ref=7,
        source="BMSC",
        cargo_type="none",
        effects=["angiogenesis"],
        note=note,
        pathways=pathways,
    )
    text = format_study(Study("key2020x", ref, [claim]))
    back = parse_study(text, "x.toml", "key2020x", 7, vocabs)
    assert back.reference == ref
    assert len(back.claims) == 1 and back.claims[0].note == note and back.claims[0].pathways == pathways
    assert tomllib.loads(text)["text"] == raw  # plain TOML readers agree
    assert json.dumps(tomllib.loads(text)["claim"][0]["note"]) == json.dumps(note)


def test_refs_edit_text_reads_the_fields_from_it(cli: Invoke, workspace: Path) -> None:
    before = claim_dois(cli)
    text = "Xing X, Xu P. Effects of ADSC-derived exosome LRRC75A-AS1 after SCI. Appl Biochem Biotechnol. 2024;196:1-9. https://doi.org/10.1007/s12010-023-04836-9."
    result = cli("refs", "edit", "xing2024effects", "--text", text)
    assert result.exit_code == 0, result.output
    assert "  volume: (none) -> 196" in result.stderr.splitlines()
    shown = stdout_json(cli("refs", "show", "17", "-f", "json"))
    assert (shown["raw"], shown["volume"], shown["pages"], shown["et_al"]) == (text, "196", "1-9", False)
    assert [a["family"] for a in shown["authors"]] == ["Xing", "Xu"]
    assert claim_dois(cli) == before
    same = cli("refs", "edit", "17", "--text", text)
    assert same.exit_code == 1
    assert error_lines(same) == ["Error: reference 17 already has those values; nothing was changed"]


def test_two_study_files_swapped_with_their_mtimes_are_noticed(cli: Invoke, workspace: Path) -> None:
    """The one-number check of every file's stats misses no swap (each term carries its name)."""
    assert cli("claims", "show", "3").exit_code == 0  # built
    a = workspace / "refs" / "studies" / "guan2024m2.toml"
    b = workspace / "refs" / "studies" / "xing2024effects.toml"
    text_a, text_b = a.read_text("utf-8"), b.read_text("utf-8")
    sa, sb = a.stat(), b.stat()
    a.write_text(text_b.replace("species = []", 'species = ["pig"]', 1), "utf-8")
    b.write_text(text_a, "utf-8")
    os.utime(a, ns=(sb.st_atime_ns, sb.st_mtime_ns))
    os.utime(b, ns=(sa.st_atime_ns, sa.st_mtime_ns))
    shown = stdout_json(cli("claims", "show", "2", "-f", "json"))
    assert (shown["study"], shown["species"]) == ("guan2024m2", ["pig"])


def test_importing_the_same_list_twice_changes_nothing(cli: Invoke, empty_workspace: Path) -> None:
    twice = "Lee K, Park S. Exosome repeat study. J Rep. 2021;4:1-5. https://doi.org/10.5555/twice."
    listed = empty_workspace.parent / "list.txt"
    listed.write_text(f"1. {twice}\n2. {INSERTED}\n3. {twice}\n", "utf-8")
    assert cli("refs", "import", str(listed)).exit_code == 0
    files_before = tree(empty_workspace)
    for args in (("refs", "import", str(listed)), ("refs", "import", str(listed), "--replace")):
        result = cli(*args)
        assert result.exit_code == 0, result.output
        assert "0 new, 0 replaced, 0 moved, 0 dropped, 3 unchanged" in result.stderr
    assert tree(empty_workspace) == files_before


def test_a_git_conflict_left_in_a_study_file_is_named(cli: Invoke, workspace: Path) -> None:
    path = workspace / "refs" / "studies" / "guan2024m2.toml"
    lines = path.read_text("utf-8").splitlines()
    at = lines.index("species = []")
    lines[at : at + 1] = [
        "<<<<<<< HEAD",
        'species = ["rat"]',
        "=======",
        'species = ["mouse"]',
        ">>>>>>> ana",
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    result = cli("query")
    assert result.exit_code == 1
    assert error_lines(result) == [
        f"Error: refs/studies/guan2024m2.toml:{at + 1}: a git merge conflict is left in the file; keep one"
        " side, delete the <<<<<<< ======= >>>>>>> lines, then run the command again"
    ]


def test_refs_edit_of_a_web_page_needs_the_whole_entry(cli: Invoke, workspace: Path) -> None:
    """A web page takes --year, --title, --url and --author alone; other fields need --text."""
    web = next(r for r in stdout_json(cli("refs", "list", "-f", "json")) if r["kind"] == "web")
    files_before = tree(workspace)
    result = cli("refs", "edit", str(web["number"]), "--journal", "Example")
    assert result.exit_code == 2
    assert f"reference {web['number']} is a web page: give the whole entry" in result.stderr
    assert tree(workspace) == files_before
    dated = cli("refs", "edit", str(web["number"]), "--year", "2025")
    assert dated.exit_code == 0, dated.output
    after = next(r for r in stdout_json(cli("refs", "list", "-f", "json")) if r["number"] == web["number"])
    assert (after["kind"], after["year"]) == ("web", 2025)
