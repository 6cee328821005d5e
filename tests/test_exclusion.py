"""Exclusions: "angiogenesis but not ADSC" in phrases, --not-FIELD and -x/--exclude FIELD=TERM.

Every expected answer is computed here from the shipped study files (helpers.shipped_claims)
and vocabularies (helpers.shipped_vocab), never from exocli's own reading of them.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import (
    Invoke,
    claims_with_pathway_part,
    error_lines,
    shipped_claims,
    shipped_order,
    shipped_vocab,
    stdout_json,
)

Claim = dict[str, Any]
Predicate = Callable[[Claim], bool]

ALL_IDS = {c["id"] for c in shipped_claims()}
EXCLUSION_OPTIONS = {
    "--not-source",
    "--not-effect",
    "--not-cargo",
    "--not-cargo-type",
    "--not-pathway",
    "--not-model",
    "--exclude",
}


def family(code: str) -> set[str]:
    """A source and every source below it, from sources.toml's `parent` fields."""
    terms = shipped_vocab("sources")
    found = {code}
    while more := {c for c, t in terms.items() if t.get("parent") in found} - found:
        found |= more
    return found


def from_source(code: str) -> Predicate:
    codes = family(code)
    return lambda c: c["source"] in codes


def has_effect(code: str) -> Predicate:
    return lambda c: code in c["effects"]


def in_vitro(c: Claim) -> bool:
    return "in vitro" in c["model"]


def in_rats(c: Claim) -> bool:
    return "rat" in c["species"]


# miR-21 and the forms of the same family as the study files write them (miR-21a-5p, ...);
# never miR-210 or miR-216a-5p.
MIR_21 = re.compile(r"^(?:[a-z]{3}-)?miR-21[a-z]?(?:-[35]p)?$")


def names_mir_21(c: Claim) -> bool:
    return any(MIR_21.match(name) for name in c.get("cargo", []))


TLR4_NFKB = {x["id"] for x in claims_with_pathway_part("TLR4")} & {
    x["id"] for x in claims_with_pathway_part("NF-κB")
}


def with_tlr4_nfkb(c: Claim) -> bool:
    return c["id"] in TLR4_NFKB


def expected(*keep: Predicate, leave_out: tuple[Predicate, ...] = ()) -> set[int]:
    return {c["id"] for c in shipped_claims() if all(p(c) for p in keep) and not any(p(c) for p in leave_out)}


def run(cli: Invoke, *args: str) -> Any:
    result = cli("query", *args, "-f", "json")
    assert result.exit_code == 0, result.output
    if result.stdout == "":
        assert "No claims match." in result.stderr
        return []
    return stdout_json(result)


def ids(cli: Invoke, *args: str) -> set[int]:
    return {c["id"] for c in run(cli, *args)}


def explanation(cli: Invoke, *args: str) -> list[str]:
    """The --explain lines (stderr without the closing count)."""
    result = cli("query", *args, "--explain", "-f", "csv")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert re.fullmatch(r"\d+ claims? from \d+ references?|No claims match\.", lines[-1]), lines
    return lines[:-1]


# --- the bug of issue 15 -------------------------------------------------------------------


def test_angiogenesis_but_not_adsc(cli: Invoke, workspace: Path) -> None:
    adsc_angiogenesis = expected(has_effect("angiogenesis"), from_source("ADSC"))
    assert adsc_angiogenesis == {32}  # the ADSC claim the old reading returned alone
    result = cli("query", "angiogenesis but not ADSC", "-f", "json", "--explain")
    assert result.exit_code == 0, result.output
    found = {c["id"] for c in stdout_json(result)}
    assert found == expected(has_effect("angiogenesis"), leave_out=(from_source("ADSC"),))
    assert found == {10, 29, 30, 31}
    assert result.stderr.splitlines() == [
        "source: not ADSC",
        "effect: angiogenesis",
        "4 claims from 4 references",
    ]


# --- phrases ---------------------------------------------------------------------------------

PHRASES: list[tuple[str, set[int], list[str]]] = [
    ("excluding iPSC", expected(leave_out=(from_source("iPSC"),)), ["--not-source", "iPSC"]),
    ("not in vitro", expected(leave_out=(in_vitro,)), ["--not-model", "in vitro"]),
    ("without BMSC", expected(leave_out=(from_source("BMSC"),)), ["-x", "source=BMSC"]),
    ("except NSC", expected(leave_out=(from_source("NSC"),)), ["--not-source", "NSC"]),
    ("except for NSC", expected(leave_out=(from_source("NSC"),)), ["--not-source", "NSC"]),
    ("other than UCMSC", expected(leave_out=(from_source("UCMSC"),)), ["--not-source", "UCMSC"]),
    ("no miR-21", expected(leave_out=(names_mir_21,)), ["--not-cargo", "miR-21"]),
    ("not MSC", expected(leave_out=(from_source("MSC"),)), ["--not-source", "MSC"]),
    (
        "not ADSC or BMSC",
        expected(leave_out=(from_source("ADSC"), from_source("BMSC"))),
        ["-x", "source=ADSC", "-x", "source=BMSC"],
    ),
    (
        "neither ADSC nor BMSC",
        expected(leave_out=(from_source("ADSC"), from_source("BMSC"))),
        ["--not-source", "ADSC", "--not-source", "BMSC"],
    ),
    (
        "excluding ADSC and BMSC",
        expected(leave_out=(from_source("ADSC"), from_source("BMSC"))),
        ["--not-source", "ADSC", "--not-source", "BMSC"],
    ),
    (
        "excluding ADSC, BMSC",
        expected(leave_out=(from_source("ADSC"), from_source("BMSC"))),
        ["--not-source", "ADSC", "--not-source", "BMSC"],
    ),
    # "and" carries an exclusion only to a term of the same field
    (
        "anti-inflammatory but not BMSC and miRNAs",
        expected(
            has_effect("anti-inflammatory"),
            lambda c: c["cargo_type"] == "miRNA",
            leave_out=(from_source("BMSC"),),
        ),
        ["--effect", "anti-inflammatory", "--cargo-type", "miRNA", "--not-source", "BMSC"],
    ),
    (
        "MSC but not ADSC",
        expected(from_source("MSC"), leave_out=(from_source("ADSC"),)),
        ["--source", "MSC", "--not-source", "ADSC"],
    ),
    (
        "anti-inflammatory without TLR4/NF-κB",
        expected(has_effect("anti-inflammatory"), leave_out=(with_tlr4_nfkb,)),
        ["--effect", "anti-inflammatory", "--not-pathway", "TLR4/NF-kB"],
    ),
    (
        "miRNAs not in rats",
        expected(lambda c: c["cargo_type"] == "miRNA", leave_out=(in_rats,)),
        ["--cargo-type", "miRNA", "-x", "model=rat"],
    ),
    (
        "not anti-inflammatory",
        expected(leave_out=(has_effect("anti-inflammatory"),)),
        ["--not-effect", "anti-inflammatory"],
    ),
    (
        "no lncRNA or circRNA",
        expected(leave_out=(lambda c: c["cargo_type"] in ("lncRNA", "circRNA"),)),
        ["-x", "cargo-type=lncRNA", "--not-cargo-type", "circRNA"],
    ),
]


@pytest.mark.parametrize(("phrase", "answer", "flags"), PHRASES, ids=[p[0] for p in PHRASES])
def test_phrase_exclusions(
    cli: Invoke, workspace: Path, phrase: str, answer: set[int], flags: list[str]
) -> None:
    assert answer and answer < ALL_IDS  # each case leaves something out, and keeps something
    result = cli("query", phrase, "-f", "json")
    assert result.exit_code == 0, result.output
    assert "Not understood" not in result.stderr
    assert {c["id"] for c in stdout_json(result)} == answer
    assert ids(cli, *flags) == answer


def test_multiword_terms_starting_with_not_keep_their_meaning(cli: Invoke, workspace: Path) -> None:
    # "not stated" is a spelling of the cargo type "none" (no cargo named), as before exclusions
    assert ids(cli, "not stated") == expected(lambda c: c["cargo_type"] == "none")
    assert explanation(cli, "not stated") == ["cargo type: none"]


# --- --explain -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "lines"),
    [
        (["excluding iPSC"], ["source: not (iPSC OR iPSC-NSC)"]),
        (
            ["not in vitro"],
            [
                "model: not (in vitro OR OGD OR LPS stimulation OR H2O2 injury OR glutamate excitotoxicity OR scratch injury)"
            ],
        ),
        (["no miR-21"], ["cargo: not miR-21 (family miR-21, compatible forms)"]),
        (["not ADSC or BMSC"], ["source: not (ADSC OR BMSC)"]),
        (
            ["--source", "MSC", "--not-source", "ADSC"],
            ["source: MSC OR BMSC OR UCMSC OR ADSC OR PMSC OR AMSC", "source: not ADSC"],
        ),
        (
            ["-x", "pathway=TLR4/NF-kB", "-x", "effect=angiogenesis"],
            ["effect: not angiogenesis", "pathway: not TLR4/NF-κB"],
        ),
        (
            ["--not-cargo-type", "whole exosome", "--not-model", "rat", "--not-model", "clinical"],
            ["cargo type: not none", "model: not (species rat OR clinical)"],
        ),
        (
            ["miRNAs from UCMSC but not in vitro", "--not-effect", "safety"],
            [
                "source: UCMSC",
                "cargo type: miRNA",
                "effect: not safety",
                "model: not (in vitro OR OGD OR LPS stimulation OR H2O2 injury OR glutamate excitotoxicity OR scratch injury)",
            ],
        ),
    ],
)
def test_explain_shows_exclusions(cli: Invoke, workspace: Path, args: list[str], lines: list[str]) -> None:
    assert explanation(cli, *args) == lines


def test_explain_goes_to_stderr_only(cli: Invoke, workspace: Path) -> None:
    plain = cli("query", "angiogenesis but not ADSC", "-f", "csv")
    explained = cli("query", "angiogenesis but not ADSC", "-f", "csv", "--explain")
    assert explained.stdout == plain.stdout
    assert "source: not ADSC" not in explained.stdout
    assert "source: not ADSC" in explained.stderr.splitlines()


# --- flag forms ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "option", "term", "leave_out"),
    [
        ("source", "--not-source", "MSC", from_source("MSC")),
        ("effect", "--not-effect", "BSCB repair", has_effect("bscb-repair")),
        ("cargo", "--not-cargo", "miR-21-5p", names_mir_21),
        ("cargo-type", "--not-cargo-type", "microRNA", lambda c: c["cargo_type"] == "miRNA"),
        ("pathway", "--not-pathway", "NF-κB/TLR4", with_tlr4_nfkb),
        ("model", "--not-model", "in vivo", lambda c: "in vivo" in c["model"]),
    ],
)
def test_not_option_and_exclude_agree(
    cli: Invoke, workspace: Path, field: str, option: str, term: str, leave_out: Predicate
) -> None:
    answer = expected(leave_out=(leave_out,))
    assert answer and answer < ALL_IDS
    assert ids(cli, option, term) == answer
    assert ids(cli, "-x", f"{field}={term}") == answer
    assert ids(cli, "--exclude", f"{field}={term}") == answer


@pytest.mark.parametrize("spelling", ["cargo_type", "Cargo-Type", "cargo types", "cargo-types"])
def test_exclude_field_spellings(cli: Invoke, workspace: Path, spelling: str) -> None:
    assert ids(cli, "-x", f"{spelling}=miRNA") == expected(leave_out=(lambda c: c["cargo_type"] == "miRNA",))


def test_exclusions_and_inclusions_combine(cli: Invoke, workspace: Path) -> None:
    answer = expected(
        from_source("MSC"),
        has_effect("anti-inflammatory"),
        leave_out=(from_source("BMSC"), from_source("UCMSC"), names_mir_21),
    )
    assert answer
    found = ids(
        cli,
        "anti-inflammatory",
        "-s",
        "MSC",
        "-x",
        "source=BMSC",
        "--not-source",
        "UCMSC",
        "-x",
        "cargo=miR-21",
    )
    assert found == answer
    # the same term included and excluded: nothing
    assert ids(cli, "--source", "ADSC", "--not-source", "ADSC") == set()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ADSC", "'ADSC' is not FIELD=TERM (e.g. source=ADSC)"),
        ("source=", "'source=' is not FIELD=TERM (e.g. source=ADSC)"),
        (
            "souce=ADSC",
            "'souce' is not a field to exclude; did you mean source?"
            " FIELD is one of source, effect, cargo, cargo-type, pathway, model, injury, species",
        ),
        (
            "ref=44",
            "'ref' is not a field to exclude; FIELD is one of source, effect, cargo, cargo-type, pathway, model, injury, species",
        ),
    ],
)
def test_bad_exclude_value(cli: Invoke, workspace: Path, value: str, message: str) -> None:
    result = cli("query", "-x", value)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert error_lines(result) == [f"Error: Invalid value for '--exclude' / '-x': {message}"]


# --- unknown excluded terms: the did-you-mean of an inclusion ------------------------------


@pytest.mark.parametrize(
    ("field", "term", "start"),
    [
        ("source", "UCMCS", "unknown source 'UCMCS'; did you mean UCMSC"),
        ("effect", "angiogensis", "unknown effect 'angiogensis'; did you mean angiogenesis"),
        ("cargo", "circ-Wdfy", "unknown cargo 'circ-Wdfy'; did you mean circ-Wdfy3?"),
        ("cargo-type", "miRNAz", "unknown cargo type 'miRNAz'; did you mean miRNA"),
        ("pathway", "TLR9", "unknown pathway 'TLR9'"),
        ("model", "ratt", "unknown model 'ratt'; did you mean rat"),
    ],
)
def test_unknown_excluded_term(cli: Invoke, workspace: Path, field: str, term: str, start: str) -> None:
    """The error of the inclusion, word for word, naming --not-FIELD (for -x FIELD=TERM too)."""
    included = error_lines(cli("query", f"--{field}", term))
    assert len(included) == 1 and included[0].startswith(f"Error: --{field}: {start}")
    message = included[0].replace(f"Error: --{field}: ", f"Error: --not-{field}: ", 1)
    for args in (
        [f"--not-{field}", term],
        ["-x", f"{field}={term}"],
        ["angiogenesis", "-x", f"{field}={term}"],
    ):
        result = cli("query", *args)
        assert result.exit_code == 2
        assert result.stdout == ""
        assert error_lines(result) == [message]


@pytest.mark.parametrize(
    ("phrase", "message"),
    [
        ("angiogenesis but not ADSCC", "Error: phrase: unknown term 'ADSCC' after 'not'; did you mean ADSC, AMSC, DPSC?"),
        ("excluding angiogensis", "Error: phrase: unknown term 'angiogensis' after 'excluding'; did you mean angiogenesis, neuroregeneration?"),
        ("other than xylophones", "Error: phrase: unknown term 'xylophones' after 'other than'"),
        ("angiogenesis but not", "Error: phrase: nothing after 'not' to leave out"),
        ("BMSC without the", "Error: phrase: nothing after 'without' to leave out"),
    ],
)  # fmt: skip
def test_unknown_term_after_a_negation(cli: Invoke, workspace: Path, phrase: str, message: str) -> None:
    result = cli("query", phrase)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert error_lines(result) == [message]


# --- exclusion is the complement of inclusion ----------------------------------------------


@pytest.mark.parametrize("source", list(shipped_vocab("sources")))
def test_source_exclusion_complements_inclusion(cli: Invoke, workspace: Path, source: str) -> None:
    included = ids(cli, "--source", source)
    excluded = ids(cli, "--exclude", f"source={source}")
    assert included == expected(from_source(source))
    assert included | excluded == ALL_IDS
    assert not included & excluded


@pytest.mark.parametrize("effect", list(shipped_vocab("effects")))
def test_effect_exclusion_complements_inclusion(cli: Invoke, workspace: Path, effect: str) -> None:
    included = ids(cli, "--effect", effect)
    excluded = ids(cli, "-x", f"effect={effect}")
    assert included | excluded == ALL_IDS
    assert not included & excluded


# --- in-process: any mix of inclusions and exclusions --------------------------------------

SOURCES = sorted(shipped_vocab("sources"))
EFFECTS = sorted(shipped_vocab("effects"))
CARGO_TYPES = sorted(shipped_vocab("cargo-types"))
MODELS = {
    "rat": lambda c: c["species"] == ["rat"],
    "mouse": lambda c: c["species"] == ["mouse"],
    "clinical": lambda c: c["model"] == ["clinical"],
    "in vivo": lambda c: "in vivo" in c["model"],
    "in vitro": in_vitro,
}


@pytest.fixture
def conn(workspace: Path) -> Iterator[sqlite3.Connection]:
    from exocli.db import open_database
    from exocli.workspace import open_workspace

    connection = open_database(open_workspace(workspace))
    yield connection
    connection.close()


def some(values: list[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(values), max_size=2, unique=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sources=some(SOURCES),
    effects=some(EFFECTS),
    not_sources=some(SOURCES),
    not_effects=some(EFFECTS),
    not_cargo_types=some(CARGO_TYPES),
    not_models=some(sorted(MODELS)),
)
def test_any_mix_matches_the_study_files(
    conn: sqlite3.Connection,
    sources: list[str],
    effects: list[str],
    not_sources: list[str],
    not_effects: list[str],
    not_cargo_types: list[str],
    not_models: list[str],
) -> None:
    from exocli import query as q

    filters = q.Filters(
        sources=sources,
        effects=effects,
        not_sources=not_sources,
        not_effects=not_effects,
        not_cargo_types=not_cargo_types,
        not_models=not_models,
    )
    found = {c["id"] for c in q.fetch_claims(conn, q.compile_filters(conn, filters, q.Vocabs.load(conn)))}
    keep: list[Predicate] = []
    if sources:
        codes = set().union(*(family(s) for s in sources))
        keep.append(lambda c: c["source"] in codes)
    if effects:
        keep.append(lambda c: bool(set(effects) & set(c["effects"])))
    leave_out: list[Predicate] = [from_source(s) for s in not_sources]
    leave_out += [has_effect(e) for e in not_effects]
    leave_out += [lambda c, t=t: c["cargo_type"] == t for t in not_cargo_types]
    leave_out += [MODELS[m] for m in not_models]
    assert found == expected(*keep, leave_out=tuple(leave_out))


def test_exclusions_never_drive_the_query(conn: sqlite3.Connection) -> None:
    """The facet index still gives the candidates; each exclusion is a lookup by primary key."""
    from exocli import query as q

    vocabs = q.Vocabs.load(conn)
    selective = q.Filters(sources=["UCMSC"], effects=["anti-inflammatory"], cargos=["miR-216a-5p"])
    excluding = q.Filters(
        sources=["UCMSC"],
        effects=["anti-inflammatory"],
        cargos=["miR-216a-5p"],
        not_sources=["ADSC"],
        not_effects=["angiogenesis"],
        not_cargos=["miR-21"],
        not_cargo_types=["protein"],
        not_pathways=["TLR4/NF-κB"],
        not_models=["in vitro"],
    )
    plain, compiled = q.compile_filters(conn, selective, vocabs), q.compile_filters(conn, excluding, vocabs)
    driver = plain.sql.split(") AS pick")[0]
    assert driver.startswith("FROM (SELECT DISTINCT id FROM (SELECT claim_id AS id FROM claim_facets")
    assert compiled.sql.startswith(driver + ") AS pick CROSS JOIN claims c")
    for value in ("UCMSC", "ADSC", "angiogenesis", "miR-21", "protein", "TLR4", "in vitro"):
        assert value not in compiled.sql  # every value is a bound parameter
    plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN SELECT c.id " + compiled.sql, compiled.params)]
    assert not [step for step in plan if step.startswith("SCAN") and step != "SCAN pick"], plan
    assert compiled.sql.count("NOT EXISTS") == 2  # effect and cargo
    assert "c.source NOT IN (?)" in compiled.sql and "c.cargo_type NOT IN (?)" in compiled.sql


# --- every command with the query filters --------------------------------------------------


def filter_commands() -> list[Any]:
    """Every command that takes the shared claim filters (its phrase argument marks them)."""
    import typer

    from exocli.cli import app

    group = typer.main.get_command(app)
    ctx = typer.Context(group)
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        subcommands = (
            [command.get_command(ctx, n) for n in command.list_commands(ctx)]
            if hasattr(command, "list_commands")
            else [command]
        )
        for sub in subcommands:
            if any(p.name == "phrase" for p in sub.params):
                found.append(sub)
    return found


def test_every_filter_command_takes_the_exclusions() -> None:
    commands = filter_commands()
    assert sorted(c.name for c in commands) == ["export", "list", "query", "table"]
    for command in commands:
        options = {o for p in command.params for o in getattr(p, "opts", [])}
        assert EXCLUSION_OPTIONS | {"-x"} <= options, command.name


def test_claims_list_table_and_export_exclude(cli: Invoke, workspace: Path) -> None:
    answer = expected(has_effect("angiogenesis"), leave_out=(from_source("ADSC"),))
    numbers = {c["ref"] for c in shipped_claims() if c["id"] in answer}
    listed = cli("claims", "list", "angiogenesis but not ADSC", "-f", "json")
    assert {c["id"] for c in stdout_json(listed)} == answer
    listed = cli("claims", "list", "--effect", "angiogenesis", "-x", "source=ADSC", "-f", "json")
    assert {c["id"] for c in stdout_json(listed)} == answer

    table = cli("table", "-e", "angiogenesis", "--not-source", "ADSC", "-f", "csv")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split(",")[:2] == ["source", "effect"]
    assert "ADSC" not in {line.split(",")[0] for line in lines[1:]}
    assert table.stderr == f"{len(answer)} claims citing {len(numbers)} references\n"

    keys = {shipped_order()[n - 1] for n in numbers}
    exported = cli("export", "csl-json", "angiogenesis", "-x", "source=ADSC")
    assert exported.exit_code == 0, exported.output
    assert {item["id"] for item in json.loads(exported.stdout)} == keys
    # exclusions alone are a selection too
    everything_but = cli("export", "csl-json", "--not-source", "stem-cell")
    non_stem = {
        shipped_order()[c["ref"] - 1]
        for c in shipped_claims()
        if c["id"] in expected(leave_out=(from_source("stem-cell"),))
    }
    assert {item["id"] for item in json.loads(everything_but.stdout)} == non_stem
