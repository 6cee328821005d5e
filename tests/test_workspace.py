"""Finding, creating and keeping up to date a workspace and its database."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer.main

from exocli.cli import app
from exocli.workspace import HOW_TO_GET_ONE, bundled_vocab_dir, find_workspace
from helpers import (
    Invoke,
    copy_format1_workspace,
    copy_workspace,
    error_lines,
    shipped_order,
    stdout_json,
)

VOCAB_FILES = sorted(
    f"{name}.toml"
    for name in ("sources", "effects", "cargo-types", "pathways", "injuries", "species", "models")
)

# Every command, with arguments that would be valid inside a workspace.
COMMANDS = {
    ("rebuild",): [],
    ("resolve",): ["--offline"],
    ("vocab", "list"): [],
    ("vocab", "add"): ["effects", "anti-senescence", "--label", "Anti-senescence"],
    ("vocab", "edit"): ["effects", "safety", "--synonym", "well tolerated"],
    ("vocab", "remove"): ["sources", "ESC"],
    ("vocab", "rename"): ["sources", "ESC", "hESC"],
    ("vocab", "import"): ["effects", "terms.csv"],
    ("vocab", "export"): ["effects"],
    ("query",): ["--source", "MSC"],
    ("stats",): [],
    ("refs", "import"): ["list.txt"],
    ("refs", "list"): [],
    ("refs", "show"): ["1"],
    ("refs", "add"): ["--title", "A title", "--author", "Lin, Mei", "--journal", "J", "--year", "2025"],
    ("refs", "edit"): ["1", "--title", "Another title"],
    ("refs", "remove"): ["1"],
    ("refs", "move"): ["1", "--to", "2"],
    ("add-study",): ["--doi", "10.1000/x", "--source", "MSC", "--effect", "safety", "--offline", "--yes"],
    ("claims", "edit"): ["1", "--note", "checked"],
    ("claims", "remove"): ["1", "--yes"],
    ("claims", "list"): ["--source", "MSC"],
    ("claims", "show"): ["1"],
    ("claims", "accept"): ["1"],
    ("claims", "reject"): ["--all"],
    ("claims", "review"): [],
    ("extract",): ["list.txt"],
    ("search", "add"): ["sci", "exosomes spinal cord", "--since", "2025-01-01"],
    ("search", "list"): [],
    ("search", "run"): ["sci"],
    ("search", "remove"): ["sci"],
    ("candidates", "list"): [],
    ("candidates", "show"): ["10.1000/x"],
    ("candidates", "accept"): ["10.1000/x"],
    ("candidates", "reject"): ["10.1000/x", "--reason", "off topic"],
    ("candidates", "defer"): ["10.1000/x"],
    ("import",): ["list.txt"],
    ("sync",): ["--keep", "text"],
    ("refs", "rekey"): ["1", "badhiwala2019"],
    ("export",): ["bib", "--all"],
    ("table",): ["--source", "MSC"],
    ("check",): [],
    ("upgrade",): [],
}


def registered_commands() -> set[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()

    def walk(group: Any, prefix: tuple[str, ...]) -> None:
        # through list_commands/get_command: the top-level group loads commands lazily
        for name in group.list_commands(None):
            sub = group.get_command(None, name)
            if hasattr(sub, "list_commands"):
                walk(sub, (*prefix, name))
            else:
                found.add((*prefix, name))

    walk(typer.main.get_command(app), ())
    return found


def ref_count(result: object) -> int:
    return len(stdout_json(result))


def study_file(root: Path, number: int) -> Path:
    """The study file of reference `number` in a copy of the shipped workspace."""
    return root / "refs" / "studies" / f"{shipped_order()[number - 1]}.toml"


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# --- finding the workspace -----------------------------------------------------------------


def test_every_command_is_covered_here() -> None:
    assert registered_commands() - {("init",), ("completion",)} == set(COMMANDS)  # no workspace


@pytest.mark.parametrize("command", sorted(COMMANDS), ids=" ".join)
def test_outside_any_workspace_every_command_says_one_line(cli: Invoke, command: tuple[str, ...]) -> None:
    (Path.cwd() / "list.txt").write_text("1. Goel A. Title. J. 2016.\n", encoding="utf-8")
    result = cli(*command, *COMMANDS[command])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: no exocli workspace here ({Path.cwd()}); {HOW_TO_GET_ONE}\n"
    assert result.stderr.rstrip().endswith("`exocli init DIR`")
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", sorted(set(COMMANDS) - {("upgrade",)}), ids=" ".join)
def test_a_format1_workspace_asks_for_upgrade(
    cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    root = copy_format1_workspace(tmp_path / "old")
    monkeypatch.setenv("EXOCLI_HOME", str(root))
    monkeypatch.chdir(root)
    (root / "list.txt").write_text("1. Goel A. Title. J. 2016.\n", encoding="utf-8")
    before = tree(root)
    result = cli(*command, *COMMANDS[command])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: {root / 'exocli.toml'}: this workspace keeps its record in the format-1 layout"
        " (refs/review.txt, db/claims.toml); run `exocli upgrade` to convert it to one file per study"
        " (a backup is kept)\n"
    )
    assert tree(root) == before


def test_found_by_home_option(cli: Invoke, tmp_path: Path) -> None:
    root = copy_workspace(tmp_path / "elsewhere")
    result = cli("--home", str(root), "refs", "list", "-f", "json")
    assert ref_count(result) == 96
    assert (root / "db" / "exocli.sqlite").exists()


def test_home_option_wins_over_environment(
    cli: Invoke, tmp_path: Path, empty_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = copy_workspace(tmp_path / "full")
    assert ref_count(cli("refs", "list", "-f", "json")) == 0  # EXOCLI_HOME = empty workspace
    assert ref_count(cli("--home", str(full), "refs", "list", "-f", "json")) == 96


def test_found_by_environment(cli: Invoke, workspace: Path) -> None:
    assert ref_count(cli("refs", "list", "-f", "json")) == 96
    assert (workspace / "db" / "exocli.sqlite").exists()


def test_environment_wins_over_current_folder(
    cli: Invoke, tmp_path: Path, empty_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = copy_workspace(tmp_path / "full")
    monkeypatch.chdir(full)
    assert ref_count(cli("refs", "list", "-f", "json")) == 0


@pytest.mark.parametrize("subfolder", [".", "refs", "db/vocab"])
def test_found_by_walking_up(
    cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, subfolder: str
) -> None:
    root = copy_workspace(tmp_path / "walk")
    monkeypatch.chdir(root / subfolder)
    assert ref_count(cli("refs", "list", "-f", "json")) == 96
    assert find_workspace().root == root.resolve()


def test_home_that_is_not_a_workspace(cli: Invoke, tmp_path: Path) -> None:
    result = cli("--home", str(tmp_path), "stats")
    assert result.exit_code == 1
    assert error_lines(result) == [
        f"Error: {tmp_path.resolve()} is not an exocli workspace (no exocli.toml); {HOW_TO_GET_ONE}"
    ]


def test_broken_config_is_one_error_line(cli: Invoke, workspace: Path) -> None:
    (workspace / "exocli.toml").write_text("[workspace\nname = ", encoding="utf-8")
    result = cli("stats")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"Error: {workspace / 'exocli.toml'}: not a valid exocli.toml")


def test_version(cli: Invoke) -> None:
    from exocli import __version__

    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout == f"exocli {__version__}\n"


# --- init -------------------------------------------------------------------------------


def test_init_creates_a_workspace(cli: Invoke, tmp_path: Path) -> None:
    root = tmp_path / "new" / "review"
    result = cli("init", str(root))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(f"Created workspace {root}")
    assert (root / "exocli.toml").is_file()
    assert (root / "refs").is_dir()
    order = (root / "refs" / "order.txt").read_text(encoding="utf-8")
    assert order and all(line.startswith("#") for line in order.splitlines())  # a header, no study
    assert (root / "refs" / "studies").is_dir()
    assert list((root / "refs" / "studies").iterdir()) == []
    assert sorted(p.name for p in (root / "db" / "vocab").iterdir()) == VOCAB_FILES
    for name in VOCAB_FILES:
        assert (root / "db" / "vocab" / name).read_bytes() == (bundled_vocab_dir() / name).read_bytes()
    for gone in ("refs/review.txt", "refs/references.txt", "refs/citekeys.tsv", "db/claims.toml"):
        assert not (root / gone).exists(), gone
    with (root / "exocli.toml").open("rb") as handle:
        config = tomllib.load(handle)
    assert config["workspace"]["name"] == "review"
    assert config["workspace"]["format"] == 2
    assert config["workspace"]["references"] == "refs/order.txt"
    # The database is built at once (git-ignored), empty: the first command need not build it.
    with contextlib.closing(sqlite3.connect(root / "db" / "exocli.sqlite")) as conn:
        assert conn.execute("SELECT count(*) FROM refs").fetchone() == (0,)
    assert (root / ".gitignore").read_text(encoding="utf-8").startswith("db/*.sqlite\n")


def test_init_with_a_name_that_needs_quoting(cli: Invoke, tmp_path: Path) -> None:
    root = tmp_path / "named"
    assert cli("init", str(root), "--name", 'My "SCI" review \\ 2025').exit_code == 0
    with (root / "exocli.toml").open("rb") as handle:
        assert tomllib.load(handle)["workspace"]["name"] == 'My "SCI" review \\ 2025'


def test_new_workspace_is_usable_and_empty(cli: Invoke, empty_workspace: Path) -> None:
    assert stdout_json(cli("refs", "list", "-f", "json")) == []
    result = cli("query", "--source", "MSC")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No claims match." in result.stderr
    assert (empty_workspace / "db" / "exocli.sqlite").exists()


def test_init_twice_fails_cleanly(cli: Invoke, empty_workspace: Path) -> None:
    order = empty_workspace / "refs" / "order.txt"
    order.write_text("# my own notes\n", encoding="utf-8")
    config = (empty_workspace / "exocli.toml").read_bytes()
    result = cli("init", str(empty_workspace))
    assert result.exit_code == 1
    assert error_lines(result) == [f"Error: {empty_workspace} is already an exocli workspace"]
    assert len(result.stderr.splitlines()) == 1
    assert order.read_text(encoding="utf-8") == "# my own notes\n"
    assert (empty_workspace / "exocli.toml").read_bytes() == config


def test_init_on_a_file_fails(cli: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "a-file"
    target.write_text("x", encoding="utf-8")
    result = cli("init", str(target))
    assert result.exit_code == 1
    assert error_lines(result) == [f"Error: {target} exists and is not a folder"]
    assert target.read_text(encoding="utf-8") == "x"


# --- the database follows the text ------------------------------------------------------


def test_fresh_copy_builds_its_database_on_first_use(cli: Invoke, workspace: Path) -> None:
    db = workspace / "db" / "exocli.sqlite"
    assert not db.exists()
    result = cli("query", "--ref", "44", "-f", "json")
    assert [c["id"] for c in stdout_json(result)] == [12]
    assert db.exists()
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT COUNT(*) FROM refs").fetchone()[0] == 96
        assert conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 55
    finally:
        conn.close()


def test_no_rebuild_when_nothing_changed(
    cli: Invoke, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("stats").exit_code == 0

    def must_not_rebuild(*args: object, **kwargs: object) -> None:
        raise AssertionError("rebuilt although no text changed")

    monkeypatch.setattr("exocli.store.rebuild", must_not_rebuild)
    assert cli("stats").exit_code == 0
    # new modification times but the same bytes (a fresh clone, `touch`): still no rebuild
    study = study_file(workspace, 44)
    name = str(study.relative_to(workspace))

    def recorded() -> tuple[int, int, str]:
        conn = sqlite3.connect(workspace / "db" / "exocli.sqlite")
        try:
            row = conn.execute("SELECT size, mtime_ns, sha256 FROM source_files WHERE path = ?", (name,))
            return tuple(row.fetchone())
        finally:
            conn.close()

    size, _, sha256 = recorded()
    study.write_bytes(study.read_bytes())
    stat = study.stat()
    os.utime(study, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert cli("stats").exit_code == 0
    # the same hash, so the new stats are remembered (the next command need not hash it again)
    assert recorded() == (size, stat.st_mtime_ns + 5_000_000_000, sha256)
    assert cli("stats").exit_code == 0


def test_editing_claims_rebuilds(cli: Invoke, workspace: Path) -> None:
    claims = study_file(workspace, 44)
    old_note = (
        'note = "Wang et al.; engineered hUCMSC exosomes gave TLR4/NF-κB suppression comparable to ref 43."'
    )
    new_note = 'note = "Edited by a curator: checked against the full text."'
    before = cli("refs", "show", "44")
    assert "engineered hUCMSC exosomes" in before.stdout
    text = claims.read_text(encoding="utf-8")
    assert text.count(old_note) == 1
    claims.write_text(text.replace(old_note, new_note), encoding="utf-8")
    after = cli("refs", "show", "44")
    assert after.exit_code == 0
    assert "note: Edited by a curator: checked against the full text." in after.stdout
    assert "engineered hUCMSC exosomes" not in after.stdout


def test_editing_a_vocabulary_rebuilds(cli: Invoke, workspace: Path) -> None:
    assert cli("query", "--source", "cord-blood MSC").exit_code == 2
    sources = workspace / "db" / "vocab" / "sources.toml"
    text = sources.read_text(encoding="utf-8")
    sources.write_text(
        text.replace('synonyms = ["UCMSCs", ', 'synonyms = ["cord-blood MSC", "UCMSCs", '), "utf-8"
    )
    result = cli("query", "--source", "cord-blood MSC", "-f", "json")
    assert {c["ref"] for c in stdout_json(result)} == {19, 44, 48, 49, 56, 69, 77}


def test_editing_a_study_file_rebuilds(cli: Invoke, workspace: Path) -> None:
    study = study_file(workspace, 1)
    assert "Global burden" in cli("refs", "show", "1").stdout
    text = study.read_text(encoding="utf-8")
    assert text.count("Global burden") == 2  # the printed entry and the title field
    study.write_text(text.replace("Global burden", "Worldwide burden"), encoding="utf-8")
    shown = cli("refs", "show", "1")
    assert "Title:      Worldwide burden of traumatic brain and spinal cord injury" in shown.stdout
    assert "Global burden" not in shown.stdout


def test_editing_the_list_order_rebuilds(cli: Invoke, workspace: Path) -> None:
    order = workspace / "refs" / "order.txt"
    first, second = shipped_order()[:2]
    assert "Global burden" in cli("refs", "show", "1").stdout
    text = order.read_text(encoding="utf-8")
    order.write_text(text.replace(f"{first}\n{second}\n", f"{second}\n{first}\n", 1), encoding="utf-8")
    assert "Global burden" in cli("refs", "show", "2").stdout
    assert "Global burden" not in cli("refs", "show", "1").stdout
    assert stdout_json(cli("refs", "show", "1", "-f", "json"))["key"] == second


def test_corrupt_database_gives_one_clear_error_and_rebuild_fixes_it(cli: Invoke, workspace: Path) -> None:
    assert cli("stats").exit_code == 0
    db = workspace / "db" / "exocli.sqlite"
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.write_bytes(b"this is not a database\x00\xff" * 400)
    for args in (["stats"], ["query", "--source", "MSC"], ["refs", "list"]):
        result = cli(*args)
        assert result.exit_code == 1, args
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith(f"Error: database {db} cannot be read")
        assert "exocli rebuild" in lines[0]
    rebuilt = cli("rebuild")
    assert rebuilt.exit_code == 0
    assert rebuilt.stderr == "Rebuilt db/exocli.sqlite: 96 references, 55 claims\n"
    assert ref_count(cli("refs", "list", "-f", "json")) == 96


def test_rebuild_from_scratch(cli: Invoke, workspace: Path) -> None:
    result = cli("rebuild")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "Rebuilt db/exocli.sqlite: 96 references, 55 claims\n"
    assert len(stdout_json(cli("query", "--source", "stem-cell", "-f", "json"))) == 54


def test_rebuild_with_bad_text_keeps_the_old_database(cli: Invoke, workspace: Path) -> None:
    assert cli("rebuild").exit_code == 0
    claims = study_file(workspace, 44)
    good = claims.read_text(encoding="utf-8")
    claims.write_text(good + "\n[[claim]]\nid = 999\n", encoding="utf-8")
    result = cli("rebuild")
    assert result.exit_code == 1
    assert len(error_lines(result)) == 1
    where = f"{claims.relative_to(workspace)}:{len(good.splitlines()) + 2}"  # the [[claim]] line
    assert error_lines(result) == [f"Error: {where}: claim 999: missing field 'source'"]
    db = sqlite3.connect(workspace / "db" / "exocli.sqlite")
    try:
        assert db.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 55
    finally:
        db.close()
    claims.write_text(good, encoding="utf-8")
    assert len(stdout_json(cli("query", "--source", "stem-cell", "-f", "json"))) == 54


def test_duplicate_doi_in_the_reference_text_keeps_the_workspace_usable(cli: Invoke, workspace: Path) -> None:
    # Before the fix this was reported as "database ... cannot be read (UNIQUE constraint
    # failed: refs.citekey); run `exocli rebuild`", and `exocli rebuild` failed the same way.
    assert cli("stats").exit_code == 0
    study = study_file(workspace, 2)
    _, claims = (study.read_text(encoding="utf-8") + "\n").split("\n\n", 1)  # keep its claims, if any
    study.write_text(
        "text = 'Hwang J, Jang S. Role of exosomes. Int J Mol Sci. 2023. https://doi.org/10.1016/S1474-4422(18)30444-7.'\n"
        'kind = "article"\n'
        'authors = ["Hwang, J.", "Jang, S."]\n'
        'title = "Role of exosomes"\n'
        'journal = "Int J Mol Sci"\n'
        "year = 2023\n"
        'doi = "10.1016/S1474-4422(18)30444-7"\n\n' + claims,
        encoding="utf-8",
    )
    for args in (["stats"], ["rebuild"], ["query", "--ref", "44", "-f", "json"]):
        result = cli(*args)
        assert result.exit_code == 0, (args, result.stderr)
        assert "cannot be read" not in result.stderr
    shown = cli("refs", "show", "2")
    assert "Title:      Role of exosomes\n" in shown.stdout
    assert "DOI:        10.1016/S1474-4422(18)30444-7\n" in shown.stdout
