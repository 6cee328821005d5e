"""`exocli refs list | show | import`."""

from __future__ import annotations

import csv
import io
import sqlite3
import tomllib
from pathlib import Path
from typing import Any

import pytest

from helpers import (
    REVIEW_LIST,
    Invoke,
    error_lines,
    shipped_order,
    shipped_reference_list,
    shipped_reference_texts,
    stdout_json,
)

REF_1 = (
    "Badhiwala JH, Wilson JR, Fehlings MG. Global burden of traumatic brain and spinal cord injury."
    " Lancet Neurol. 2019;18:24–5. https://doi.org/10.1016/S1474-4422(18)30444-7."
)
REF_2 = (
    "Goel A. Stem cell therapy in spinal cord injury: hollow promise or promising science?"
    " J Craniovertebral Junction Spine. 2016;7:121–6. https://doi.org/10.4103/0974-8237.181880."
)
GARBAGE = "this line is garbage and not a reference at all"
SMALL_LIST = f"1. {REF_1}\n2. {REF_2}\n3. {GARBAGE}\n"

LIST_HEADER = "number,kind,authors,year,title,journal,volume,issue,pages,doi,url,check"

# `refs import` ends with this line (a summary of what it did).
SUMMARY = (
    "Imported {total} references from {source}: {new} new, {replaced} replaced, {moved} moved,"
    " {dropped} dropped, {unchanged} unchanged, {unparsed} kept unparsed"
)


def summary(source: Path, total: int, **counts: int) -> str:
    values = dict.fromkeys(("new", "replaced", "moved", "dropped", "unchanged", "unparsed"), 0)
    values.update(counts)
    return SUMMARY.format(total=total, source=source, **values)


def db_count(root: Path, table: str) -> int:
    conn = sqlite3.connect(root / "db" / "exocli.sqlite")
    try:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # fixed names only
    finally:
        conn.close()


def record_files(root: Path) -> dict[str, bytes]:
    """Every file under refs/ (the order, the study files, anything left beside them), as bytes."""
    refs = root / "refs"
    return {str(p.relative_to(refs)): p.read_bytes() for p in sorted(refs.rglob("*")) if p.is_file()}


def read_order(root: Path) -> list[str | None]:
    """refs/order.txt read independently of exocli: keys in list order, None for a '-' line."""
    lines = (root / "refs" / "order.txt").read_text(encoding="utf-8").splitlines()
    keys = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return [None if key == "-" else key for key in keys]


def read_study(root: Path, key: str) -> dict[str, Any]:
    with (root / "refs" / "studies" / f"{key}.toml").open("rb") as handle:
        return tomllib.load(handle)


def written_list(root: Path) -> str:
    """The workspace's reference list as a numbered list (order.txt + each study's text)."""
    keys = read_order(root)
    assert sorted(p.stem for p in (root / "refs" / "studies").glob("*.toml")) == sorted(
        key for key in keys if key is not None
    )
    return "".join(f"{n}. {read_study(root, key)['text']}\n" for n, key in enumerate(keys, 1) if key)


# --- refs list ------------------------------------------------------------------------------


def test_list_json(cli: Invoke, workspace: Path) -> None:
    result = cli("refs", "list", "-f", "json")
    refs = stdout_json(result)
    assert len(refs) == 96
    assert [r["number"] for r in refs] == list(range(1, 97))
    first = refs[0]
    for key in (
        "number",
        "kind",
        "authors",
        "et_al",
        "title",
        "journal",
        "year",
        "volume",
        "pages",
        "doi",
        "url",
    ):
        assert key in first
    assert first["authors"][0] == {"family": "Badhiwala", "given": "J. H."}
    assert first["year"] == 2019 and isinstance(first["year"], int)
    assert first["doi"] == "10.1016/S1474-4422(18)30444-7"
    assert sum(1 for r in refs if r["doi"]) == 89
    assert refs[74]["kind"] == "web" and refs[74]["url"] == "https://clinicaltrials.gov/"
    assert result.stderr == "96 references, 89 with DOI\n"


def test_list_csv(cli: Invoke, workspace: Path) -> None:
    result = cli("refs", "list", "-f", "csv")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == LIST_HEADER
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 96
    assert rows[0]["authors"] == "Badhiwala, J. H.; Wilson, J. R.; Fehlings, M. G."
    assert rows[0]["pages"] == "24–5"
    assert rows[71]["journal"] == "Mol Med (Cambridge, Mass)"
    assert rows[2]["authors"].endswith("; et al.")
    assert rows[8]["doi"] == ""


def test_list_tsv(cli: Invoke, workspace: Path) -> None:
    result = cli("refs", "list", "-f", "tsv")
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout), delimiter="\t"))
    assert rows[0] == LIST_HEADER.split(",")
    assert len(rows) == 97
    assert all(len(row) == len(rows[0]) for row in rows)
    assert rows[44][0] == "44" and rows[44][9] == "10.1016/j.bbrep.2023.101497"


def test_list_markdown(cli: Invoke, workspace: Path) -> None:
    result = cli("refs", "list", "-f", "markdown")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "| " + " | ".join(LIST_HEADER.split(",")) + " |"
    assert lines[1] == "|" + "|".join(" --- " for _ in LIST_HEADER.split(",")) + "|"
    assert len(lines) == 98
    assert lines[2].startswith("| 1 | article | Badhiwala, J. H.;")


def test_list_table(cli: Invoke, workspace: Path) -> None:
    result = cli("refs", "list")
    assert result.exit_code == 0
    out = result.stdout
    for header in ("#", "First author", "Year", "Title", "Journal", "DOI / URL"):
        assert header in out
    assert "Badhiwala" in out and "10.1016/S1474-4422(18)30444-7" in out
    assert "https://clinicaltrials.gov/" in out  # web entries show their URL
    assert "\x1b[" not in out
    assert result.stderr == "96 references, 89 with DOI\n"


@pytest.mark.parametrize(
    "args", [["refs", "list", "--format", "xml"], ["refs", "show", "1", "--format", "csv"]]
)
def test_bad_format_is_a_usage_error(cli: Invoke, workspace: Path, args: list[str]) -> None:
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert error_lines(result) and "--format must be one of" in error_lines(result)[0]


# --- refs show ------------------------------------------------------------------------------


def test_show_number(cli: Invoke, workspace: Path) -> None:
    result = cli("refs", "show", "44")
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith("Number:     44\nKind:       article\n")
    assert (
        "Title:      Umbilical mesenchymal stem cell-derived exosomes promote spinal cord functional recovery"
        " through the miR-146b/TLR4 -mediated NF-κB p65 signaling pathway in rats\n"
    ) in out
    assert "DOI:        10.1016/j.bbrep.2023.101497\n" in out
    assert "Claims citing it: 1\n" in out
    assert "  #12 UCMSC exosomes; miRNA: miR-146a-5p; effects: anti-inflammatory\n" in out
    assert "      pathways: TLR4/NF-κB\n" in out


def test_show_reference_with_several_claims(cli: Invoke, workspace: Path) -> None:
    out = cli("refs", "show", "33").stdout
    assert "Claims citing it: 2\n" in out
    assert "#6 NSC exosomes" in out and "#8 NSC exosomes" in out


@pytest.mark.parametrize(
    "ident",
    [
        "10.1016/j.bbrep.2023.101497",
        "https://doi.org/10.1016/j.bbrep.2023.101497",
        "doi:10.1016/j.bbrep.2023.101497",
        "10.1016/J.BBREP.2023.101497",
        "https://doiorg.publicaciones.saludcastillayleon.es/10.1016/j.bbrep.2023.101497.",
    ],
)
def test_show_by_doi_forms(cli: Invoke, workspace: Path, ident: str) -> None:
    by_number = cli("refs", "show", "44")
    by_doi = cli("refs", "show", ident)
    assert by_doi.exit_code == 0
    assert by_doi.stdout == by_number.stdout


def test_show_json(cli: Invoke, workspace: Path) -> None:
    data = stdout_json(cli("refs", "show", "47", "-f", "json"))
    assert data["number"] == 47
    assert data["doi"] == "10.1177/09603271211003311"
    assert [c["id"] for c in data["claims"]] == [15]
    assert data["claims"][0]["cargo"] == []
    assert data["claims"][0]["pathways"] == ["TLR4/NF-κB"]


@pytest.mark.parametrize("ident", ["999", "10.1000/not-in-the-list", "nonsense"])
def test_show_unknown(cli: Invoke, workspace: Path, ident: str) -> None:
    result = cli("refs", "show", ident)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: no reference '{ident}' in this workspace (give a number, DOI or key)\n"


# --- refs import ----------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_import_into_empty_workspace(cli: Invoke, empty_workspace: Path, tmp_path: Path) -> None:
    source = write(tmp_path / "small.txt", SMALL_LIST)
    result = cli("refs", "import", str(source))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert warnings == [
        f"Warning: {source}:3: reference 3 kept unparsed (no 'Journal. Year' part): {GARBAGE}"
    ]
    assert result.stderr.splitlines()[-4:] == [
        "New: reference 1",
        "New: reference 2",
        "New: reference 3",
        summary(source, 3, new=3, unparsed=1),
    ]
    assert written_list(empty_workspace) == SMALL_LIST
    keys = [key for key in read_order(empty_workspace) if key is not None]
    assert len(keys) == 3 == len(read_order(empty_workspace))
    assert read_study(empty_workspace, keys[0])["doi"] == "10.1016/S1474-4422(18)30444-7"
    assert read_study(empty_workspace, keys[2])["kind"] == "unparsed"
    refs = stdout_json(cli("refs", "list", "-f", "json"))
    assert [(r["number"], r["kind"]) for r in refs] == [(1, "article"), (2, "article"), (3, "unparsed")]
    assert refs[0]["doi"] == "10.1016/S1474-4422(18)30444-7"
    assert refs[1]["title"].endswith("promising science?")
    assert refs[2]["raw"] == GARBAGE and refs[2]["problem"]
    assert [r["key"] for r in refs] == keys  # a study's key is its file's name


def test_reimport_is_unchanged(cli: Invoke, empty_workspace: Path, tmp_path: Path) -> None:
    source = write(tmp_path / "small.txt", SMALL_LIST)
    assert cli("refs", "import", str(source)).exit_code == 0
    before = record_files(empty_workspace)
    again = cli("refs", "import", str(source))
    assert again.exit_code == 0
    assert again.stderr.splitlines()[-1] == summary(source, 3, unchanged=3, unparsed=1)
    assert "New:" not in again.stderr and "Moved:" not in again.stderr and "Dropped:" not in again.stderr
    assert record_files(empty_workspace) == before


def test_import_merges_new_numbers(cli: Invoke, empty_workspace: Path, tmp_path: Path) -> None:
    assert cli("refs", "import", str(write(tmp_path / "a.txt", f"2. {REF_2}\n"))).exit_code == 0
    b = write(tmp_path / "b.txt", f"1. {REF_1}\n")
    result = cli("refs", "import", str(b))
    assert result.exit_code == 0
    assert result.stderr.splitlines() == ["New: reference 1", summary(b, 1, new=1)]
    assert written_list(empty_workspace) == f"1. {REF_1}\n2. {REF_2}\n"


def test_conflicting_number_without_replace_changes_nothing(
    cli: Invoke, empty_workspace: Path, tmp_path: Path
) -> None:
    assert cli("refs", "import", str(write(tmp_path / "small.txt", SMALL_LIST))).exit_code == 0
    before = record_files(empty_workspace)
    other = write(tmp_path / "other.txt", "2. Lin M. A different study. Stem Cell Res Ther. 2025;16:182.\n")
    result = cli("refs", "import", str(other))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {other}:1: reference 2 differs from the workspace's reference 2;"
        " use --replace to replace the whole list (`exocli refs edit` changes one reference)\n"
    )
    assert record_files(empty_workspace) == before
    assert stdout_json(cli("refs", "list", "-f", "json"))[1]["title"].startswith("Stem cell therapy")

    replaced = cli("refs", "import", "--replace", str(other))
    assert replaced.exit_code == 0
    # another paper under number 2: a new reference, and the old three are dropped (no claims cite them)
    assert replaced.stderr.splitlines() == [
        "New: reference 2",
        "Dropped: reference 1 (cited by no claim)",
        "Dropped: reference 2 (cited by no claim)",
        "Dropped: reference 3 (cited by no claim)",
        summary(other, 1, new=1, dropped=3),
    ]
    assert written_list(empty_workspace) == "2. Lin M. A different study. Stem Cell Res Ther. 2025;16:182.\n"
    assert read_order(empty_workspace)[0] is None  # number 1 is kept free
    assert [r["number"] for r in stdout_json(cli("refs", "list", "-f", "json"))] == [2]


def test_a_paper_the_workspace_has_under_another_number_changes_nothing(
    cli: Invoke, empty_workspace: Path, tmp_path: Path
) -> None:
    """Merged by identity: the same DOI printed differently, at another number, is reference 1."""
    assert cli("refs", "import", str(write(tmp_path / "a.txt", f"1. {REF_1}\n"))).exit_code == 0
    before = record_files(empty_workspace)
    twin = REF_1.replace("https://doi.org/10.1016/S1474-4422(18)30444-7", "doi:10.1016/s1474-4422(18)30444-7")
    source = write(tmp_path / "b.txt", f"5. {twin}\n")
    result = cli("refs", "import", str(source))
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        f"Warning: {source}:1: entry 5 is reference 1 already (same DOI, or same title, first author and"
        " year); it keeps its number (--replace renumbers)",
        f"Warning: {source}:1: entry 5 is reference 1, printed differently; the workspace's text is kept"
        " (`exocli refs edit 1`, or --replace, takes the new one)",
        summary(source, 1, unchanged=1),
    ]
    assert record_files(empty_workspace) == before
    assert [r["number"] for r in stdout_json(cli("refs", "list", "-f", "json"))] == [1]


def test_a_list_naming_one_paper_twice_keeps_both_copies(
    cli: Invoke, empty_workspace: Path, tmp_path: Path
) -> None:
    """A review that lists a paper twice keeps both entries (each its number); a warning says so."""
    twin = REF_1.replace("https://doi.org/10.1016/S1474-4422(18)30444-7", "doi:10.1016/s1474-4422(18)30444-7")
    source = write(tmp_path / "twice.txt", f"1. {REF_1}\n5. {twin}\n")
    result = cli("refs", "import", str(source))
    assert result.exit_code == 0
    assert (
        f"Warning: {source}: reference 5 repeats the DOI of reference 1 (10.1016/s1474-4422(18)30444-7)"
        in result.stderr.splitlines()
    )
    assert result.stderr.splitlines()[-1] == summary(source, 2, new=2)
    assert [r["number"] for r in stdout_json(cli("refs", "list", "-f", "json"))] == [1, 5]
    assert written_list(empty_workspace) == f"1. {REF_1}\n5. {twin}\n"
    again = cli("refs", "import", str(source))  # a second import of the same file changes nothing
    assert again.exit_code == 0 and again.stderr.splitlines()[-1] == summary(source, 2, unchanged=2)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.txt", None, "{path}: no such file"),
        ("latin1.txt", "1. Müller A. Title. J. 2016.\n".encode("latin-1"), "{path}: not UTF-8 text"),
        (
            "prose.txt",
            "Hello reader,\nthis file is a letter.\n",
            "{path}: does not look like a reference list (none of its 1 entries reads as a reference)",
        ),
        ("comments.txt", "# nothing but a comment\n\n", "{path}: no references found"),
        (
            "numbers.txt",
            "1. The cat sat on 3 mats.\n2. There were 12 dogs.\n3. And 40 birds flew by.\n",
            "{path}: does not look like a reference list (none of its 3 entries reads as a reference)",
        ),
    ],
)
def test_bad_import_files_change_nothing(
    cli: Invoke,
    empty_workspace: Path,
    tmp_path: Path,
    name: str,
    content: bytes | str | None,
    message: str,
) -> None:
    assert cli("refs", "import", str(write(tmp_path / "good.txt", SMALL_LIST))).exit_code == 0
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        write(path, content)
    before = record_files(empty_workspace)
    result = cli("refs", "import", str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("Error: " + message.format(path=path))
    assert record_files(empty_workspace) == before  # same files, same bytes: no temporary files left
    assert len(stdout_json(cli("refs", "list", "-f", "json"))) == 3


def test_replace_that_drops_a_cited_reference_is_refused(
    cli: Invoke, workspace: Path, tmp_path: Path
) -> None:
    before = record_files(workspace)
    assert cli("refs", "list", "-f", "json").exit_code == 0
    two = write(tmp_path / "two.txt", "".join(shipped_reference_list().splitlines(True)[:2]))
    result = cli("refs", "import", "--replace", str(two))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: ")
    assert f"{two}: reference 16 (Soleimani 2024) is cited by claim 1" in lines[0]
    assert "nothing was imported" in lines[0]
    assert record_files(workspace) == before
    assert db_count(workspace, "refs") == 96
    assert db_count(workspace, "claims") == 55
    assert len(stdout_json(cli("refs", "list", "-f", "json"))) == 96


def test_import_of_the_review_into_empty_workspace(cli: Invoke, empty_workspace: Path) -> None:
    result = cli("refs", "import", str(REVIEW_LIST))
    assert result.exit_code == 0
    assert result.stderr.splitlines()[-1] == summary(REVIEW_LIST, 96, new=96)
    assert result.stderr.splitlines()[:-1] == [f"New: reference {n}" for n in range(1, 97)]
    assert "Warning" not in result.stderr
    assert written_list(empty_workspace) == REVIEW_LIST.read_text(encoding="utf-8")
    refs = stdout_json(cli("refs", "list", "-f", "json"))
    assert len(refs) == 96 and sum(1 for r in refs if r["doi"]) == 89


def test_replace_with_duplicate_dois_warns_and_keeps_the_workspace_usable(
    cli: Invoke, empty_workspace: Path, tmp_path: Path
) -> None:
    # Before the fix the list was written and every later command failed with
    # "database ... cannot be read (UNIQUE constraint failed: refs.citekey)".
    assert cli("refs", "import", str(write(tmp_path / "a.txt", SMALL_LIST))).exit_code == 0
    doi = "https://doi.org/10.4103/0974-8237.181880."
    text = f"1. Goel A. First title. Spine J. 2016;7:121–6. {doi}\n2. Lin M. Second title. Spine J. 2017;8:1–6. {doi}\n"
    twins = write(tmp_path / "twins.txt", text)
    result = cli("refs", "import", "--replace", str(twins))
    # entry 1 matches reference 2 by DOI and entry 2 matches it too; no claim cites it, so which
    # entry is that paper does not matter: the second is a new study (a repeated DOI is kept)
    assert result.exit_code == 0, result.stderr
    assert (
        f"Warning: {twins}: reference 2 repeats the DOI of reference 1 (10.4103/0974-8237.181880)"
        in result.stderr.splitlines()
    )
    assert written_list(empty_workspace) == text
    for args in (["stats"], ["refs", "show", "2"], ["rebuild"]):
        after = cli(*args)
        assert after.exit_code == 0, (args, after.stderr)
        assert "cannot be read" not in after.stderr
    assert [r["title"] for r in stdout_json(cli("refs", "list", "-f", "json"))] == [
        "First title",
        "Second title",
    ]


def _claim_papers(cli: Invoke) -> dict[int, str]:
    """claim id -> the DOI (else the title) of the paper it cites, as exocli reports it."""
    claims = stdout_json(cli("query", "--format", "json", "--sort", "id"))
    refs = {r["number"]: r for r in stdout_json(cli("refs", "list", "-f", "json"))}
    return {c["id"]: refs[c["ref"]]["doi"] or refs[c["ref"]]["title"] for c in claims if c["ref"] is not None}


def test_a_renumbered_list_keeps_every_claim_on_its_paper(
    cli: Invoke, workspace: Path, tmp_path: Path
) -> None:
    before = _claim_papers(cli)
    files_before = record_files(workspace)
    bodies = list(shipped_reference_texts().values())
    inserted = "Newman A, Old B. A study inserted at three. Exp Neurol. 2026;300:1-9. doi:10.5555/inserted.3"
    bodies.insert(2, inserted)
    renumbered = write(tmp_path / "renumbered.txt", "".join(f"{n}. {b}\n" for n, b in enumerate(bodies, 1)))
    result = cli("refs", "import", "--replace", str(renumbered))
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[-1] == summary(renumbered, 97, new=1, moved=94, unchanged=2)
    assert lines[:-1] == [
        *(f"Moved: reference {n} is now {n + 1} (its claims moved with it)" for n in range(3, 97)),
        "New: reference 3",
    ]
    assert _claim_papers(cli) == before  # every claim on the same paper, by DOI
    # The list moved; the studies (and the claims in them) did not: only the order and the
    # new study's file were written.
    order = read_order(workspace)
    old_order = shipped_order()
    assert order[:2] + order[3:] == old_order
    new_key = order[2]
    assert new_key is not None and read_study(workspace, new_key)["text"] == inserted
    after = record_files(workspace)
    assert set(after) == set(files_before) | {f"studies/{new_key}.toml"}
    assert {name: after[name] for name in files_before if name != "order.txt"} == {
        name: data for name, data in files_before.items() if name != "order.txt"
    }
    # claim 2 followed Xing 2024 from 17 to 18 (claim 1 followed Soleimani 2024 from 16 to 17)
    assert old_order[16] == "xing2024effects" and order[17] == "xing2024effects"
    assert 2 in [c["id"] for c in read_study(workspace, "xing2024effects")["claim"]]
    assert 2 in [c["id"] for c in stdout_json(cli("query", "--ref", "18", "--format", "json"))]
    assert 1 in [c["id"] for c in stdout_json(cli("query", "--ref", "17", "--format", "json"))]
    assert cli("rebuild").exit_code == 0
    assert _claim_papers(cli) == before


def test_an_entry_matching_two_cited_references_is_refused(
    cli: Invoke, workspace: Path, tmp_path: Path
) -> None:
    refs = {r["number"]: r for r in stdout_json(cli("refs", "list", "-f", "json"))}
    # the workspace gives references 16 and 17 one DOI (a copying slip); both are cited
    study = workspace / "refs" / "studies" / f"{refs[17]['key']}.toml"
    text = study.read_text(encoding="utf-8")
    assert text.count(refs[17]["doi"]) == 2  # the printed entry and the doi field
    study.write_text(text.replace(refs[17]["doi"], refs[16]["doi"]), encoding="utf-8")
    cited = stdout_json(cli("query", "--ref", "16", "--ref", "17", "--format", "json", "--sort", "id"))
    assert [c["id"] for c in cited] == [1, 2, 20]
    original = record_files(workspace)
    # The same list again: each entry is the copy with its own number and text; nothing moves.
    again = write(tmp_path / "again.txt", written_list(workspace))
    assert again.read_text(encoding="utf-8").count(refs[16]["doi"]) == 2
    same = cli("refs", "import", "--replace", str(again))
    assert same.exit_code == 0, same.output
    assert "0 new, 0 replaced, 0 moved, 0 dropped, 96 unchanged" in same.stderr
    assert record_files(workspace) == original
    # Renumbered (a reference inserted at 1): entry 17 could be either paper.
    lines = [line.split(". ", 1)[1] for line in written_list(workspace).splitlines()]
    inserted = "Smith J. An inserted study. J Test. 2024;1:1-2. https://doi.org/10.5555/inserted.1."
    renumbered = write(
        tmp_path / "renumbered.txt", "".join(f"{n}. {t}\n" for n, t in enumerate([inserted, *lines], 1))
    )
    result = cli("refs", "import", "--replace", str(renumbered))
    assert result.exit_code == 1
    [line] = error_lines(result)
    assert line == (
        f"Error: {renumbered}:17: entry 17 matches references 16 and 17 (same DOI, or same title,"
        " first author and year): which paper it is cannot be told; nothing was imported"
    )
    assert record_files(workspace) == original
    assert db_count(workspace, "refs") == 96


def test_dry_run_prints_every_entry_as_read_and_writes_nothing(
    cli: Invoke, empty_workspace: Path, tmp_path: Path
) -> None:
    path = write(tmp_path / "list.txt", SMALL_LIST)
    before = record_files(empty_workspace)
    result = cli("refs", "import", str(path), "--dry-run", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "number,kind,first_author,authors,year,title,journal,doi,problem",
        "1,article,Badhiwala,3,2019,Global burden of traumatic brain and spinal cord injury,Lancet Neurol,"
        "10.1016/S1474-4422(18)30444-7,",
        "2,article,Goel,1,2016,Stem cell therapy in spinal cord injury: hollow promise or promising science?,"
        "J Craniovertebral Junction Spine,10.4103/0974-8237.181880,",
        "3,unparsed,,0,,,,,no 'Journal. Year' part",
    ]
    assert result.stderr.splitlines()[-1] == (
        summary(path, 3, new=3, unparsed=1).replace("Imported", "Would import")
        + "; nothing was written (--dry-run)"
    )
    assert record_files(empty_workspace) == before


def test_a_hard_list_is_imported_with_its_unreadable_entries_kept(
    cli: Invoke, empty_workspace: Path, tmp_path: Path
) -> None:
    path = write(tmp_path / "mostly.txt", f"1. {REF_1}\n2. Then 12 dogs came.\n3. And 40 birds flew by.\n")
    result = cli("refs", "import", str(path))
    assert result.exit_code == 0, result.stderr
    assert f"Warning: {path}:2: reference 2 kept unparsed (no 'Journal. Year' part): Then 12 dogs came." in (
        result.stderr
    )
    assert result.stderr.splitlines()[-1] == summary(path, 3, new=3, unparsed=2)
    listed = stdout_json(cli("refs", "list", "--format", "json"))
    assert [(r["number"], r["kind"]) for r in listed] == [(1, "article"), (2, "unparsed"), (3, "unparsed")]
