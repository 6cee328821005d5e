"""`exocli query` (filters, phrases, output formats) and `exocli stats`."""

from __future__ import annotations

import csv
import io
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from exocli import render
from exocli.query import CLAIM_COLUMNS
from helpers import (
    Invoke,
    claims_with_pathway_part,
    error_lines,
    resolver,
    shipped_claims,
    shipped_vocab,
    spelling_key,
    stdout_json,
)

FLAGSHIP = "anti-inflammatory miRNAs from UCMSC"
JSON_KEYS = {"id", "ref", "doi", "source", "cargo", "cargo_type", "effects", "pathways", "model"}


def code(vocab: str, text: str) -> str:
    return resolver(vocab)[spelling_key(text)]


def family(parent: str) -> set[str]:
    """The source code and every code below it, from sources.toml's `parent` fields."""
    terms = shipped_vocab("sources")
    found = {parent}
    while True:
        more = {c for c, t in terms.items() if t.get("parent") in found} - found
        if not more:
            return found
        found |= more


def query(cli: Invoke, *args: str) -> list[dict[str, Any]]:
    result = cli("query", *args, "-f", "json")
    if result.stdout == "":
        assert result.exit_code == 0, result.output
        assert "No claims match." in result.stderr
        return []
    return stdout_json(result)


def ids(claims: list[dict[str, Any]]) -> set[int]:
    return {c["id"] for c in claims}


def refs(claims: list[dict[str, Any]]) -> set[int]:
    return {c["ref"] for c in claims}


def expected_ids(predicate: Any) -> set[int]:
    return {c["id"] for c in shipped_claims() if predicate(c)}


# --- the flagship phrase -------------------------------------------------------------------


def test_flagship_phrase(cli: Invoke, workspace: Path) -> None:
    expected = expected_ids(
        lambda c: (
            code("sources", c["source"]) == "UCMSC"
            and code("cargo-types", c["cargo_type"]) == "miRNA"
            and "anti-inflammatory" in {code("effects", e) for e in c["effects"]}
        )
    )
    result = cli("query", FLAGSHIP, "-f", "json")
    found = stdout_json(result)
    assert ids(found) == expected
    assert refs(found) == {44, 48}
    assert result.stderr == "2 claims from 2 references\n"
    for claim in found:
        assert claim["source"] == "UCMSC" and claim["cargo_type"] == "miRNA"
        assert "anti-inflammatory" in claim["effects"]


def test_flagship_phrase_equals_the_flags(cli: Invoke, workspace: Path) -> None:
    flags = query(cli, "--source", "UCMSC", "--cargo-type", "miRNA", "--effect", "anti-inflammatory")
    assert query(cli, FLAGSHIP) == flags


def test_phrase_with_unknown_words_still_runs(cli: Invoke, workspace: Path) -> None:
    result = cli("query", FLAGSHIP + " in axolotls please", "-f", "json")
    assert result.exit_code == 0
    assert "Not understood in the phrase (ignored): axolotls please\n" in result.stderr
    assert refs(stdout_json(result)) == {44, 48}


def test_phrase_with_nothing_understood(cli: Invoke, workspace: Path) -> None:
    result = cli("query", "axolotl teapot")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Not understood in the phrase (ignored): axolotl teapot" in result.stderr
    assert error_lines(result) == [
        "Error: nothing in 'axolotl teapot' names a source, effect, cargo, pathway, model, injury or species;"
        " see `exocli vocab` or use --text for full-text search"
    ]


@pytest.mark.parametrize(
    ("phrase", "flags"),
    [
        ("miR-146a in rats", ["--cargo", "miR-146a", "--model", "rat"]),
        ("angiogenesis from NSC-derived exosomes", ["--effect", "angiogenesis", "--source", "NSC"]),
        ("BSCB repair by BMSC", ["--effect", "bscb-repair", "--source", "BMSC"]),
        ("TLR4 evidence", ["--pathway", "TLR4"]),
        ("clinical safety", ["--model", "clinical", "--effect", "safety"]),
    ],
)
def test_phrases_become_filters(cli: Invoke, workspace: Path, phrase: str, flags: list[str]) -> None:
    from_phrase = cli("query", phrase, "-f", "json")
    assert "Not understood" not in from_phrase.stderr
    found = stdout_json(from_phrase)
    assert found
    assert found == query(cli, *flags)


def test_phrase_and_flags_combine(cli: Invoke, workspace: Path) -> None:
    assert refs(query(cli, "miRNAs", "--source", "UCMSC", "--effect", "anti-inflammatory")) == {44, 48}


# --- filters ---------------------------------------------------------------------------------


def test_source_includes_children(cli: Invoke, workspace: Path) -> None:
    msc = family("MSC")
    assert msc == {"MSC", "BMSC", "UCMSC", "ADSC", "PMSC", "AMSC"}
    found = query(cli, "--source", "MSC")
    assert ids(found) == expected_ids(lambda c: c["source"] in msc)
    assert {c["source"] for c in found} == msc
    assert "NSC" not in {c["source"] for c in found}


def test_source_tree_root(cli: Invoke, workspace: Path) -> None:
    found = query(cli, "--source", "stem cells")
    assert ids(found) == expected_ids(lambda c: c["source"] in family("stem-cell"))
    assert "M2-microglia" not in {c["source"] for c in found}
    assert ids(query(cli, "--source", "non-stem")) == expected_ids(lambda c: c["source"] == "M2-microglia")


@pytest.mark.parametrize("spelling", ["hucmsc", "UCMSC", "HUC-MSC", "umbilical cord mesenchymal stem cells"])
def test_source_synonyms_and_case(cli: Invoke, workspace: Path, spelling: str) -> None:
    assert ids(query(cli, "--source", spelling)) == expected_ids(lambda c: c["source"] == "UCMSC")


def test_two_sources_are_or(cli: Invoke, workspace: Path) -> None:
    found = query(cli, "--source", "NSC", "--source", "DPSC")
    assert ids(found) == expected_ids(lambda c: c["source"] in ("NSC", "DPSC"))


def test_cargo_mirna_family(cli: Invoke, workspace: Path) -> None:
    found = query(cli, "--cargo", "miR-21")
    assert refs(found) == {53, 72, 93, 94, 95}
    cargos = {name for c in found for name in c["cargo"]}
    assert {"miR-21a-5p", "miR-21-5p", "miR-21"} <= cargos
    assert 45 not in refs(found)  # miR-216a-5p
    assert not cargos & {"miR-210", "miR-216a-5p", "miR-216a"}


@pytest.mark.parametrize(
    ("cargo", "expected_refs"),
    [
        ("miR-21-5p", {53, 72, 93, 94, 95}),
        ("microRNA-21", {53, 72, 93, 94, 95}),
        ("miR-21-3p", {93, 94, 95}),
        ("mmu-miR-21a-5p", {53, 72, 93, 94, 95}),
        ("hsa-miR-146a-5p", {43, 44, 58}),
        ("miR-146a-3p", {43, 58}),
        ("miR-216a", {45, 52}),
        ("miR-145-5p", {46, 69}),
        ("let-7", {70, 73}),
        ("let-7b", {73}),
        ("miR-17-92", {57}),
        ("circ-Wdfy3", {50}),
        ("VEGFA", {36}),
        ("berberine", {86}),
    ],
)
def test_cargo_lookups(cli: Invoke, workspace: Path, cargo: str, expected_refs: set[int]) -> None:
    assert refs(query(cli, "--cargo", cargo)) == expected_refs


def test_cargo_with_no_match_and_unknown_cargo(cli: Invoke, workspace: Path) -> None:
    assert query(cli, "--cargo", "miR-9999") == []
    result = cli("query", "--cargo", "circ-Wdfy")
    assert result.exit_code == 2
    assert error_lines(result) == ["Error: --cargo: unknown cargo 'circ-Wdfy'; did you mean circ-Wdfy3?"]


def test_pathway_spellings_agree(cli: Invoke, workspace: Path) -> None:
    expected = {c["id"] for c in claims_with_pathway_part("NF-κB")}
    assert len(expected) == 11
    for spelling in ("NF-kB", "NF-κB", "NF-kappaB", "nfkb", "NF-κB p65"):
        assert ids(query(cli, "--pathway", spelling)) == expected, spelling


def test_pathway_axis_needs_every_part(cli: Invoke, workspace: Path) -> None:
    tlr4 = ids(query(cli, "--pathway", "TLR4"))
    nfkb = ids(query(cli, "--pathway", "NF-kB"))
    both = ids(query(cli, "--pathway", "TLR4/NF-κB"))
    assert tlr4 == {c["id"] for c in claims_with_pathway_part("TLR4")}
    assert both == tlr4 & nfkb
    assert both < nfkb
    assert refs(query(cli, "--pathway", "TLR4/NF-κB")) == {43, 44, 45, 46, 47, 52, 74}
    # order of parts does not matter
    assert ids(query(cli, "--pathway", "NF-κB/TLR4")) == both


def test_two_pathways_are_or(cli: Invoke, workspace: Path) -> None:
    axis = ids(query(cli, "--pathway", "TLR4/NF-κB"))
    ngf = ids(query(cli, "--pathway", "NGF/TrkA"))
    assert ngf == expected_ids(lambda c: c["ref"] == 69)
    assert ids(query(cli, "--pathway", "TLR4/NF-κB", "--pathway", "NGF/TrkA")) == axis | ngf


def test_unknown_pathway_part(cli: Invoke, workspace: Path) -> None:
    result = cli("query", "--pathway", "TLR9")
    assert result.exit_code == 2
    assert error_lines(result)[0].startswith("Error: --pathway: unknown pathway 'TLR9'")
    # a part not in the vocabulary but used by a claim is accepted as written
    assert refs(query(cli, "--pathway", "PELI1")) == {53}


def test_effects_or_within_and_across(cli: Invoke, workspace: Path) -> None:
    angio = ids(query(cli, "--effect", "angiogenesis"))
    bscb = ids(query(cli, "--effect", "BSCB repair"))
    assert angio == expected_ids(lambda c: "angiogenesis" in c["effects"])
    assert bscb == expected_ids(lambda c: "bscb-repair" in c["effects"])
    assert ids(query(cli, "--effect", "angiogenesis", "--effect", "bscb-repair")) == angio | bscb
    nsc = ids(query(cli, "--source", "NSC"))
    assert ids(query(cli, "--effect", "angiogenesis", "--source", "NSC")) == angio & nsc == {10}


def test_ref_filter(cli: Invoke, workspace: Path) -> None:
    assert [c["id"] for c in query(cli, "--ref", "44")] == [12]
    assert [c["id"] for c in query(cli, "--ref", "44", "--ref", "45")] == [12, 13]
    assert {c["id"] for c in query(cli, "--ref", "63")} == {31, 36}


def test_full_text(cli: Invoke, workspace: Path) -> None:
    assert refs(query(cli, "--text", "ferroptosis")) == {50, 64}
    assert refs(query(cli, "--text", "ferropt*")) == {50, 64}
    # several words are AND; titles of the cited references are searched too
    assert refs(query(cli, "--text", "hyperbaric oxygen")) == {87}
    assert refs(query(cli, "--text", "neutrophil")) == {54}
    assert query(cli, "--text", "xylophone") == []
    result = cli("query", "--text", "!!!")
    assert result.exit_code == 2
    assert error_lines(result) == ["Error: --text: give at least one word"]


@pytest.mark.parametrize(
    ("model", "predicate"),
    [
        ("rat", lambda c: c["species"] == ["rat"]),
        ("mice", lambda c: c["species"] == ["mouse"]),
        ("clinical", lambda c: c["model"] == ["clinical"]),
        ("in vivo", lambda c: "in vivo" in c["model"]),
        ("in vitro", lambda c: "in vitro" in c["model"]),
    ],
)
def test_model_filter(cli: Invoke, workspace: Path, model: str, predicate: Any) -> None:
    expected = expected_ids(predicate)
    assert expected
    assert ids(query(cli, "--model", model)) == expected


def test_unknown_model(cli: Invoke, workspace: Path) -> None:
    result = cli("query", "--model", "ratt")
    assert result.exit_code == 2
    assert error_lines(result)[0].startswith("Error: --model: unknown model 'ratt'; did you mean rat")


@pytest.mark.parametrize(
    ("option", "value", "hint"),
    [
        ("--source", "UCMCS", "did you mean UCMSC"),
        ("--effect", "angiogensis", "did you mean angiogenesis"),
        ("--cargo-type", "miRNAz", "did you mean miRNA"),
    ],
)
def test_unknown_term_is_a_usage_error(
    cli: Invoke, workspace: Path, option: str, value: str, hint: str
) -> None:
    result = cli("query", option, value)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = error_lines(result)
    assert len(lines) == 1
    assert lines[0].startswith(f"Error: {option}: unknown ")
    assert f"'{value}'; {hint}" in lines[0]


def test_explain(cli: Invoke, workspace: Path) -> None:
    plain = cli("query", FLAGSHIP, "-f", "csv")
    explained = cli("query", FLAGSHIP, "-f", "csv", "--explain")
    assert explained.exit_code == 0
    assert explained.stdout == plain.stdout
    assert explained.stderr.splitlines()[:3] == [
        "source: UCMSC",
        "cargo type: miRNA",
        "effect: anti-inflammatory",
    ]
    msc = cli("query", "--source", "MSC", "--explain", "-f", "csv")
    assert "source: MSC OR BMSC OR UCMSC OR ADSC OR PMSC OR AMSC" in msc.stderr.splitlines()
    everything = cli("query", "--explain", "-f", "json")
    assert "filters: none (every claim)" in everything.stderr.splitlines()
    assert len(stdout_json(everything)) == 55


def test_empty_result(cli: Invoke, workspace: Path) -> None:
    result = cli("query", "--source", "ESC")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "No claims match.\n"


# --- output formats -------------------------------------------------------------------------


def test_json_format(cli: Invoke, workspace: Path) -> None:
    found = stdout_json(cli("query", "--ref", "69", "-f", "json"))
    assert isinstance(found, list) and len(found) == 1
    claim = found[0]
    assert set(claim) == set(CLAIM_COLUMNS)
    assert set(claim) >= JSON_KEYS
    assert claim["id"] == 43 and claim["ref"] == 69 and claim["year"] == 2021
    assert claim["doi"] == "10.1186/s13287-021-02148-5"
    assert claim["cargo"] == ["miR-199a-3p", "miR-145-5p"]
    assert claim["cargo_wording"] == ["miR-199a-3p", "miR-145-5p"]
    for key in ("cargo", "effects", "pathways", "engineering"):
        assert isinstance(claim[key], list)
    assert claim["pathways"] == ["NGF/TrkA"]
    assert claim["study"] == "Wang 2021"


def test_json_keeps_native_types(cli: Invoke, workspace: Path) -> None:
    found = stdout_json(cli("query", "--ref", "43", "-f", "json"))
    claim = found[0]
    assert claim["effects"] == ["anti-inflammatory"]
    assert claim["pathways"] == ["TLR4/NF-κB", "IRAK1/TRAF6/NF-κB p65"]
    assert isinstance(claim["ref"], int) and isinstance(claim["id"], int)


@pytest.mark.parametrize(("fmt", "delimiter"), [("csv", ","), ("tsv", "\t")])
def test_csv_and_tsv(cli: Invoke, workspace: Path, fmt: str, delimiter: str) -> None:
    result = cli("query", "--source", "UCMSC", "-f", fmt)
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout), delimiter=delimiter))
    assert tuple(rows[0]) == CLAIM_COLUMNS
    body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert {int(r["id"]) for r in body} == expected_ids(lambda c: c["source"] == "UCMSC")
    claim_43 = next(r for r in body if r["id"] == "43")
    assert claim_43["cargo"] == "miR-199a-3p; miR-145-5p"
    assert claim_43["doi"] == "10.1186/s13287-021-02148-5"
    claim_25 = next(r for r in body if r["id"] == "25")
    assert claim_25["effects"] == "immunomodulation; anti-inflammatory; functional-recovery"
    assert claim_25["outcome"] == "Iba1+ cells ~25–30% lower (gray and white matter)"


def test_markdown(cli: Invoke, workspace: Path) -> None:
    result = cli("query", "--source", "AMSC", "-f", "markdown", "--columns", "ref,cargo,effects")
    assert result.exit_code == 0
    # markdown is for people: the table's column labels, "-" for no cargo
    assert result.stdout.splitlines() == [
        "| Ref | Cargo | Effect |",
        "| --- | --- | --- |",
        "| 54 | miR-125a-3p | immunomodulation |",
        "| 55 | - | antioxidant; anti-inflammatory |",
    ]


def test_markdown_escapes_pipes(cli: Invoke, workspace: Path) -> None:
    study = workspace / "refs" / "studies" / "li2024exosomes.toml"  # reference 34
    text = study.read_text(encoding="utf-8")
    assert text.count('outcome = "Tsc2 up vs sham, p = 0.0298"') == 1
    study.write_text(
        text.replace('outcome = "Tsc2 up vs sham, p = 0.0298"', 'outcome = "a | b"'), encoding="utf-8"
    )
    result = cli("query", "--ref", "34", "-f", "markdown", "--columns", "ref,outcome")
    assert result.stdout.splitlines()[2] == "| 34 | a \\| b |"


def test_table(cli: Invoke, workspace: Path) -> None:
    result = cli("query", FLAGSHIP)
    assert result.exit_code == 0
    out = result.stdout
    assert out.split()[:8] == ["ID", "Ref", "Study", "Source", "Cargo", "Pathway", "Effect", "Model"]
    assert "Wang 2023" in out and "miR-146a-5p" in out and "miR-138-5p" in out
    assert out.endswith(
        "References:\n  [44] 10.1016/j.bbrep.2023.101497\n  [48] 10.3389/fbioe.2023.1216878\n"
    )
    assert "\x1b[" not in out
    assert result.stderr == "2 claims from 2 references\n"


def test_table_marks_missing_cargo_and_doi(cli: Invoke, workspace: Path) -> None:
    out = cli("query", "--ref", "32", "--ref", "47").stdout
    assert "  [32] (no DOI)\n" in out
    assert "  [47] 10.1177/09603271211003311\n" in out
    row = next(line for line in out.splitlines() if line.split()[:2] == ["15", "47"])
    assert row.split()[5] == "-"  # claim 15 (ID, Ref, Study "Fan 2021", Source, Cargo) names no cargo


def test_columns(cli: Invoke, workspace: Path) -> None:
    result = cli("query", "--source", "UCMSC", "--columns", "ref,study", "-f", "csv")
    lines = result.stdout.splitlines()
    assert lines[0] == "ref,study"
    assert "44,Wang 2023" in lines
    found = stdout_json(cli("query", "--ref", "44", "--columns", "id, cargo", "-f", "json"))
    assert found == [{"id": 12, "cargo": ["miR-146a-5p"]}]
    table = cli("query", "--ref", "44", "--columns", "ref,note")
    assert "Ref" in table.stdout and "comparable to ref 43" in table.stdout and "Study" not in table.stdout


def test_bad_column(cli: Invoke, workspace: Path) -> None:
    result = cli("query", "--source", "UCMSC", "--columns", "ref,bogus")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert error_lines(result)[0].startswith("Error: --columns: unknown column 'bogus'; choose from id, ref,")


def test_sort_and_limit(cli: Invoke, workspace: Path) -> None:
    by_year = query(cli, "--source", "UCMSC", "--sort", "year")
    years = [c["year"] for c in by_year]
    assert years == sorted(years) and years[0] == 2019
    by_id = query(cli, "--source", "MSC", "--sort", "id")
    assert [c["id"] for c in by_id] == sorted(c["id"] for c in by_id)
    by_ref = query(cli, "--source", "MSC")
    assert [c["ref"] for c in by_ref] == sorted(c["ref"] for c in by_ref)
    limited = query(cli, "--source", "MSC", "--limit", "2")
    assert limited == by_ref[:2]
    by_source = query(cli, "--sort", "source")
    order = [c["source"] for c in by_source]
    assert order == sorted(order)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--limit", "0"], "Error: --limit must be at least 1"),
        (["--sort", "bogus"], "Error: --sort must be one of id, ref, year, source, cargo-type, not 'bogus'"),
        (["--format", "xml"], "Error: --format must be one of table, csv, tsv, json, markdown, not 'xml'"),
    ],
)
def test_bad_options(cli: Invoke, workspace: Path, args: list[str], message: str) -> None:
    result = cli("query", "--source", "MSC", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert error_lines(result) == [message]


@pytest.mark.parametrize("env", [{}, {"NO_COLOR": "1"}, {"FORCE_COLOR": "1", "TERM": "xterm-256color"}])
@pytest.mark.parametrize("args", [["query", FLAGSHIP], ["stats"], ["refs", "list"], ["vocab", "sources"]])
def test_piped_output_has_no_escape_codes(
    cli: Invoke, workspace: Path, env: dict[str, str], args: list[str]
) -> None:
    result = cli(*args, env=env)
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout
    assert "\x1b" not in result.stderr


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def render_claims_on_terminal(monkeypatch: pytest.MonkeyPatch) -> str:
    claims = [
        {
            "id": 1,
            "ref": 44,
            "study": "Wang 2023",
            "doi": "10.1016/j.bbrep.2023.101497",
            "source": "UCMSC",
            "cargo": ["miR-146a-5p"],
            "pathways": ["TLR4/NF-κB"],
            "effects": ["anti-inflammatory"],
            "species": "not stated",
            "model": "not stated",
        }
    ]
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setenv("TERM", "xterm-256color")
    render.write_claims(claims, "table")
    monkeypatch.undo()
    return terminal.getvalue()


def test_terminal_output_is_styled_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    # Shows the fake terminal is taken for one (so the NO_COLOR test below can fail).
    assert "\x1b[" in render_claims_on_terminal(monkeypatch)


def test_no_color_on_a_terminal_has_no_escape_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    out = render_claims_on_terminal(monkeypatch)
    assert "Wang 2023" in out
    assert "\x1b[" not in out


# --- stats ---------------------------------------------------------------------------------


def effect_codes() -> list[str]:
    return list(shipped_vocab("effects"))


def source_codes() -> list[str]:
    return list(shipped_vocab("sources"))


def test_stats_csv(cli: Invoke, workspace: Path) -> None:
    result = cli("stats", "-f", "csv")
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["source", *effect_codes(), "total"]
    table = {row[0]: dict(zip(rows[0][1:], map(int, row[1:]), strict=True)) for row in rows[1:]}
    assert list(table) == source_codes()  # every source, in vocabulary order, gaps included
    claims = shipped_claims()
    for source in source_codes():
        mine = [c for c in claims if c["source"] == source]
        assert table[source]["total"] == len(mine), source
        for effect in effect_codes():
            assert table[source][effect] == sum(effect in c["effects"] for c in mine), (source, effect)
    assert table["UCMSC"]["anti-inflammatory"] == 4
    assert table["ESC"]["total"] == 0


def test_stats_json(cli: Invoke, workspace: Path) -> None:
    data = stdout_json(cli("stats", "-f", "json"))
    assert set(data) == {"by", "sources", "effects", "counts", "claims_per_source"}
    assert data["by"] == "source"
    assert data["sources"] == source_codes()
    assert data["effects"] == effect_codes()
    assert data["counts"]["UCMSC"]["anti-inflammatory"] == 4
    assert data["counts"]["UCMSC"]["safety"] == 1
    assert data["claims_per_source"]["BMSC"] == sum(1 for c in shipped_claims() if c["source"] == "BMSC")
    assert sum(data["claims_per_source"].values()) == 55


def test_stats_table(cli: Invoke, workspace: Path) -> None:
    result = cli("stats")
    assert result.exit_code == 0
    assert "Claims per source x effect" in result.stdout
    # a pipe gets the plain table: aligned columns split by two spaces
    row = next(line for line in result.stdout.splitlines() if line.startswith("UCMSC "))
    cells = row.split()
    ucmsc = [c for c in shipped_claims() if c["source"] == "UCMSC"]
    counts = [sum(effect in c["effects"] for c in ucmsc) for effect in effect_codes()]
    # empty cells are marked with a dot on a table
    assert cells == ["UCMSC", *(str(n) if n else "·" for n in counts), str(len(ucmsc))]


def test_stats_markdown(cli: Invoke, workspace: Path) -> None:
    lines = cli("stats", "-f", "markdown").stdout.splitlines()
    assert lines[0] == "| " + " | ".join(["source", *effect_codes(), "total"]) + " |"
    assert len(lines) == 2 + len(source_codes())


def test_stats_plot_needs_png_or_svg(cli: Invoke, workspace: Path, tmp_path: Path) -> None:
    target = tmp_path / "x.txt"
    result = cli("stats", "--plot", str(target))
    assert result.exit_code == 2
    assert error_lines(result) == [f"Error: --plot: {target} must end in .png or .svg"]
    assert not target.exists()


def test_stats_bad_plot_name_prints_no_data(cli: Invoke, workspace: Path, tmp_path: Path) -> None:
    result = cli("stats", "-f", "csv", "--plot", str(tmp_path / "x.txt"))
    assert result.exit_code == 2
    assert result.stdout == ""


# --- regression guards for bugs this suite found (fixed in src) -----------------------


def test_phrase_with_a_pathway_axis(cli: Invoke, workspace: Path) -> None:
    result = cli("query", "TLR4/NF-κB", "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert "Not understood" not in result.stderr
    assert stdout_json(result) == query(cli, "--pathway", "TLR4/NF-κB")


def test_phrase_with_a_six_word_source_synonym(cli: Invoke, workspace: Path) -> None:
    result = cli(
        "query", "exosomes from human umbilical cord mesenchymal stem cells", "-f", "json", "--explain"
    )
    assert result.exit_code == 0
    assert "model:" not in result.stderr
    assert ids(stdout_json(result)) == expected_ids(lambda c: c["source"] == "UCMSC")


def test_usage_error_shows_the_subcommand_usage(cli: Invoke, workspace: Path) -> None:
    result = cli("query", "--source", "UCMCS")
    assert result.exit_code == 2
    assert re.match(r"Usage: \S+ query \[OPTIONS\]", result.stderr.splitlines()[0])
    assert re.search(r"Try '\S+ query --help' for help\.", result.stderr)


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_stats_plot_draws_the_matrix(cli: Invoke, workspace: Path, tmp_path: Path, suffix: str) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / f"gap{suffix}"
    result = cli("stats", "--plot", str(target))
    assert result.exit_code == 0, result.output
    assert f"Wrote {target}" in result.stderr
    data = target.read_bytes()
    if suffix == ".png":
        assert data.startswith(b"\x89PNG")
    else:
        assert b"<svg" in data and b"UCMSC" in data and b"anti-inflammatory" in data


def test_terminal_gets_the_rich_table(cli: Invoke, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal the table is drawn by rich (boxes); in a pipe it is plain text."""
    import io

    from exocli.render import write_rows

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("NO_COLOR", "1")
    screen = Terminal()
    write_rows(("ref", "cargo"), [{"ref": 44, "cargo": "miR-146a-5p"}], "table", stream=screen)
    assert "┃" in screen.getvalue() and "miR-146a-5p" in screen.getvalue()
    pipe = io.StringIO()
    write_rows(("ref", "cargo"), [{"ref": 44, "cargo": "miR-146a-5p"}], "table", stream=pipe)
    assert pipe.getvalue() == "ref  cargo\n---  -----------\n44   miR-146a-5p\n"


@pytest.mark.parametrize(
    ("source", "effect", "cargo"),
    [
        ("MSC", "anti-inflammatory", "miR-146a"),
        ("BMSC", "anti-inflammatory", "miR-216a-5p"),
        ("stem-cell", "anti-apoptosis", "miR-21"),
        ("iPSC", "anti-pyroptosis", "let-7b"),
        ("ADSC", "anti-inflammatory", "circ-Wdfy3"),
    ],
)
def test_source_effect_cargo_through_the_facet_index(
    cli: Invoke, workspace: Path, source: str, effect: str, cargo: str
) -> None:
    """The facet index drives these queries; the answer equals each filter applied alone."""
    combined = ids(query(cli, "--source", source, "--effect", effect, "--cargo", cargo))
    alone = (
        ids(query(cli, "--source", source))
        & ids(query(cli, "--effect", effect))
        & ids(query(cli, "--cargo", cargo))
    )
    assert combined == alone and combined


def test_explain_shortens_the_terms_of_a_large_hierarchy(empty_workspace: Path, cli: Any) -> None:
    """An ontology-sized vocabulary: --explain names the first terms and counts the rest."""
    from exocli.query import EXPLAIN_SHOWN, alternatives

    rows = ["code,label,parent"] + [f"CT{n:02d},Cell type {n},MSC" for n in range(1, 21)]
    (empty_workspace / "cell-types.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = cli("vocab", "import", "sources", str(empty_workspace / "cell-types.csv"))
    assert result.exit_code == 0, result.stderr
    explained = cli("query", "--source", "MSC", "--explain")
    assert explained.exit_code == 0, explained.stderr
    (line,) = [ln for ln in explained.stderr.splitlines() if ln.startswith("source: ")]
    assert line.startswith("source: MSC OR ") and line.endswith("more)")
    assert line.count(" OR ") == EXPLAIN_SHOWN  # 12 shown, then "... (N more)"
    more = int(line.rsplit("(", 1)[1].split()[0])
    assert more >= 1 + 20 - EXPLAIN_SHOWN  # MSC, its 20 new children (and its shipped ones)
    assert alternatives(["A", "B"]) == "A OR B"
    assert alternatives([str(n) for n in range(20)]).endswith("11 OR ... (8 more)")
