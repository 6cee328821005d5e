"""Changing a workspace's vocabularies: add, edit, remove, rename, import and export terms.

Every write holds the workspace lock, reads the vocabulary from its file (the record),
checks the result as the loader checks a file, then writes the workspace's own file
(db/vocab/NAME.toml) and the vocabulary's rows together (store.write_vocabulary_change).
Study files are rewritten with it only where claims must follow: a rename carries every
claim that uses the term to the new code, and an edit that drops a spelling rewrites a
study whose file still spells the term that way (with the code instead).

The file is written in one fixed layout: its header comment (everything above the first
[[term]]) as it was, then one [[term]] block per term with its keys in the order of
vocab.TERM_KEYS, so that every change is a small diff.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from exocli.errors import DataError, ExocliError, NotFoundError, UsageError
from exocli.evidence import Claim, Vocabularies
from exocli.records import claim_entry, toml_string, workspace_lock
from exocli.store import Change, load_vocabularies, write_vocabulary_change
from exocli.studies import Study, format_study, parse_study
from exocli.vocab import (
    CONTEXT_FIELDS,
    ONTOLOGY_ID,
    TERM_KEYS,
    VOCABS,
    Term,
    Vocabulary,
    check_parents,
    check_spellings,
    check_terms,
    parse_vocabulary_text,
    term_from_entry,
    term_key,
)
from exocli.workspace import Workspace

# The columns of a vocabulary as CSV (import and export); synonyms are separated by ';'.
CSV_COLUMNS = ("code", "label", "synonyms", "parent", "stem", "ontology_id")
EXPORT_FORMATS = ("toml", "csv", "tsv", "json")
SYNONYM_SEPARATOR = ";"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
USES_SHOWN = 10  # claims named in a refusal; the rest are counted


def check_name(name: str) -> str:
    if name not in VOCABS:
        raise UsageError(f"unknown vocabulary {name!r}; choose from {', '.join(VOCABS)}")
    return name


# --- the file layout --------------------------------------------------------------------------


def vocabulary_header(text: str) -> str:
    """Everything above the first [[term]] line (the file's header comment)."""
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.strip() == "[[term]]":
            return "".join(lines[:index])
    return text


def format_term(term: Term) -> str:
    lines = ["[[term]]", f"code = {toml_string(term.code)}", f"label = {toml_string(term.label)}"]
    if term.parent is not None:
        lines.append(f"parent = {toml_string(term.parent)}")
    if term.stem is not None:
        lines.append(f"stem = {'true' if term.stem else 'false'}")
    if term.ontology_id is not None:
        lines.append(f"ontology_id = {toml_string(term.ontology_id)}")
    if term.synonyms:
        lines.append("synonyms = [" + ", ".join(toml_string(s) for s in term.synonyms) + "]")
    return "\n".join(lines) + "\n"


def format_vocabulary(header: str, terms: Iterable[Term]) -> str:
    """The header comment as it was, then one [[term]] block per term, a blank line apart."""
    blocks = [format_term(term) for term in terms]
    if not blocks:
        return header if header.endswith("\n") or not header else header + "\n"
    head = header.rstrip("\n")
    return (head + "\n\n" if head else "") + "\n".join(blocks)


# --- reading the workspace's vocabulary ---------------------------------------------------------


@dataclass
class VocabFile:
    """One vocabulary as its file holds it: header, terms in order, and each term's line."""

    name: str
    path: Path  # the file read: the workspace's own, else the bundled one
    header: str
    terms: list[Term]
    lines: dict[str, int]

    def where(self, ws: Workspace, code: str) -> str:
        return f"{ws.relative(self.path)}:{self.lines.get(code, 0)}"

    @property
    def vocabulary(self) -> Vocabulary:
        return Vocabulary.from_terms(self.name, self.terms)


def read_vocab_file(ws: Workspace, name: str, for_write: bool = True) -> VocabFile:
    """The vocabulary's file, checked as the loader checks it; `for_write`: also refused when
    a term has a key exocli would drop when it rewrites the file."""
    path = ws.vocab_path(check_name(name))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{ws.relative(path)}: cannot be read ({exc})") from exc
    where = ws.relative(path)
    located = parse_vocabulary_text(text, where)
    check_terms([(term, f"{where}:{line}") for term, line in located])
    if for_write:
        _refuse_unknown_keys(text, where)
    return VocabFile(
        name, path, vocabulary_header(text), [t for t, _ in located], {t.code: n for t, n in located}
    )


def _refuse_unknown_keys(text: str, where: str) -> None:
    """A key exocli does not know would be lost when it rewrites the file: refuse instead."""
    import tomllib

    lines = [n for n, line in enumerate(text.splitlines(), 1) if line.strip() == "[[term]]"]
    for position, entry in enumerate(tomllib.loads(text).get("term", [])):
        unknown = [key for key in entry if key not in TERM_KEYS]
        if unknown:
            line = lines[position] if position < len(lines) else 0
            raise DataError(
                f"{where}:{line}: term {entry.get('code')!r} has a key exocli does not know"
                f" ({unknown[0]!r}) and would lose it when it rewrites the file; the keys are"
                f" {', '.join(TERM_KEYS)}"
            )


# --- what a command asks for -----------------------------------------------------------------------


@dataclass
class TermOptions:
    """The options of `vocab add` and `vocab edit` (None: not given)."""

    label: str | None = None
    synonyms: list[str] = field(default_factory=list)
    remove_synonyms: list[str] = field(default_factory=list)
    parent: str | None = None
    no_parent: bool = False
    stem: bool | None = None
    ontology_id: str | None = None
    no_ontology_id: bool = False


@dataclass
class VocabResult:
    """What a write did, for the command to say."""

    name: str
    path: str  # the vocabulary file written, relative to the workspace
    code: str = ""
    claims: list[int] = field(default_factory=list)  # claims whose study file was rewritten
    studies: list[str] = field(default_factory=list)  # study files rewritten
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _text_option(option: str, value: str) -> str:
    if not value.strip():
        raise UsageError(f"{option}: must not be empty")
    if _CONTROL.search(value):
        raise UsageError(f"{option} {value!r}: control characters are not allowed")
    return value


def _check_ontology_id(value: str) -> str:
    if not ONTOLOGY_ID.match(value):
        raise UsageError(
            f"--ontology-id {value!r}: not an ontology identifier; write PREFIX:ID, e.g. CL:0000134"
        )
    return value


def _noun(name: str) -> str:
    return f"{name} term"


def _check_code(ws: Workspace, file: VocabFile, option: str, code: str, own: str | None = None) -> None:
    """A new code: not another term's code, nor another term's spelling."""
    _text_option(f"{option} {code!r}" if code.strip() else option, code)
    if code in file.lines and code != own:
        raise DataError(
            f"{option} {code!r}: {file.name} already has a term with this code ({file.where(ws, code)})"
        )
    other = file.vocabulary.lookup(code)
    if other is not None and other != own:
        raise DataError(f"{option} {code!r}: already a spelling of {_noun(file.name)} {other!r}")


def _check_spelling(file: VocabFile, option: str, spelling: str, own: str) -> None:
    other = file.vocabulary.lookup(_text_option(option, spelling))
    if other is not None and other != own:
        raise DataError(f"{option} {spelling!r}: already a spelling of {_noun(file.name)} {other!r}")


def _parent_code(file: VocabFile, parent: str, code: str) -> str:
    """--parent as a code (any spelling of the parent term), refusing a cycle."""
    vocab = file.vocabulary
    found = vocab.lookup(_text_option("--parent", parent))
    if found is None:
        raise DataError(f"--parent {parent!r}: {vocab.unknown_message(parent)}")
    chain = [code]
    current: str | None = found
    while current is not None:
        if current in chain:
            cycle = " -> ".join([*chain[chain.index(current) :], current])
            raise DataError(f"--parent {parent!r}: parents would form a cycle: {cycle}")
        chain.append(current)
        term = vocab.terms.get(current)
        current = term.parent if term is not None else None
    return found


def _check_stem(name: str, options: TermOptions) -> None:
    if options.stem is not None and name != "sources":
        raise UsageError("--stem/--non-stem: only a sources term is a stem or non-stem cell source")


def _find(file: VocabFile, text: str, argument: str = "CODE") -> str:
    code = file.vocabulary.lookup(text)
    if code is None:
        raise NotFoundError(f"{argument} {text!r}: {file.vocabulary.unknown_message(text)}")
    return code


# --- add, edit, remove, rename -------------------------------------------------------------------


def add_term(
    ws: Workspace, conn: sqlite3.Connection, name: str, code: str, options: TermOptions
) -> VocabResult:
    check_name(name)
    with workspace_lock(ws):
        file = read_vocab_file(ws, name)
        term = _new_term(ws, file, code, options)
        result = _write(ws, conn, file, [*file.terms, term])
    result.code, result.added = code, [code]
    return result


def _new_term(ws: Workspace, file: VocabFile, code: str, options: TermOptions) -> Term:
    """The term `vocab add` would add to `file`, checked against it."""
    _check_stem(file.name, options)
    if options.label is None:
        raise UsageError("--label is needed for a new term")
    _check_code(ws, file, "CODE", code)
    _check_spelling(file, "--label", options.label, code)
    synonyms = _added_synonyms(file, code, options.label, [], options.synonyms)
    parent = _parent_code(file, options.parent, code) if options.parent is not None else None
    stem = options.stem
    if stem is None and parent is not None and file.name == "sources":
        stem = file.vocabulary.terms[parent].stem  # a child is what its parent is
    ontology_id = _check_ontology_id(options.ontology_id) if options.ontology_id else None
    return Term(code, options.label, tuple(synonyms), parent, stem, ontology_id)


@dataclass(frozen=True)
class NewTerm:
    """A term to add to vocabulary `vocab` in the same write as something else (a claim)."""

    vocab: str
    code: str
    options: TermOptions

    def as_command(self) -> list[str]:
        """The `exocli vocab add` words that add it on its own."""
        words = ["exocli", "vocab", "add", self.vocab, self.code]
        if self.options.label is not None:
            words += ["--label", self.options.label]
        for synonym in self.options.synonyms:
            words += ["--synonym", synonym]
        if self.options.parent is not None:
            words += ["--parent", self.options.parent]
        return words


@dataclass
class VocabPlan:
    """One vocabulary as it will be written: its terms, its file's text, and where it goes."""

    name: str
    vocabulary: Vocabulary
    text: str
    path: str  # relative to the workspace


def planned_additions(ws: Workspace, new_terms: Sequence[NewTerm]) -> list[VocabPlan]:
    """The vocabularies with `new_terms` added in order, each checked as `vocab add` checks it
    (against the file and the terms before it); nothing is written. The caller holds the lock
    and writes the plans with its own change (store.write_vocabulary_change)."""
    files: dict[str, VocabFile] = {}
    for new in new_terms:
        file = files.get(new.vocab) or read_vocab_file(ws, check_name(new.vocab))
        files[new.vocab] = _file_with(ws, file, [*file.terms, _new_term(ws, file, new.code, new.options)])
    return [
        VocabPlan(name, file.vocabulary, format_vocabulary(file.header, file.terms), _target(ws, name))
        for name, file in files.items()
    ]


def vocabularies_with(ws: Workspace, new_terms: Sequence[NewTerm]) -> tuple[Vocabularies, list[VocabPlan]]:
    """The workspace's vocabularies with `new_terms` added (checked; nothing written), and the
    plans that write them."""
    vocabs = load_vocabularies(ws)
    plans = planned_additions(ws, new_terms) if new_terms else []
    for plan in plans:
        vocabs = with_vocabulary(vocabs, plan.name, plan.vocabulary)
    return vocabs, plans


def _target(ws: Workspace, name: str) -> str:
    return ws.relative(ws.vocab_dir / f"{name}.toml")


def _file_with(ws: Workspace, file: VocabFile, terms: list[Term]) -> VocabFile:
    """`file` as it reads once written with `terms`, checked as the loader checks a file."""
    where = _target(ws, file.name)
    located = parse_vocabulary_text(format_vocabulary(file.header, terms), where)
    check_terms([(term, f"{where}:{line}") for term, line in located])
    return VocabFile(
        file.name, ws.vocab_dir / f"{file.name}.toml", file.header, terms, {t.code: n for t, n in located}
    )


def _added_synonyms(
    file: VocabFile, code: str, label: str, current: Sequence[str], new: Sequence[str]
) -> list[str]:
    synonyms = list(current)
    own = {term_key(s) for s in (code, label, *current)}
    for synonym in new:
        _check_spelling(file, "--synonym", synonym, code)
        if term_key(synonym) not in own:  # already a spelling of this term: nothing to add
            synonyms.append(synonym)
            own.add(term_key(synonym))
    return synonyms


def edit_term(
    ws: Workspace, conn: sqlite3.Connection, name: str, text: str, options: TermOptions
) -> VocabResult:
    check_name(name)
    _check_stem(name, options)
    if options.parent is not None and options.no_parent:
        raise UsageError("--parent and --no-parent go one at a time")
    if options.ontology_id is not None and options.no_ontology_id:
        raise UsageError("--ontology-id and --no-ontology-id go one at a time")
    with workspace_lock(ws):
        file = read_vocab_file(ws, name)
        code = _find(file, text)
        old = file.vocabulary.terms[code]
        label = old.label
        if options.label is not None:
            label = options.label
            _check_spelling(file, "--label", label, code)
        synonyms = list(old.synonyms)
        for synonym in options.remove_synonyms:
            match = [s for s in synonyms if term_key(s) == term_key(synonym)]
            if not match:
                raise DataError(f"--remove-synonym {synonym!r}: not a synonym of {_noun(name)} {code!r}")
            synonyms = [s for s in synonyms if s not in match]
        synonyms = _added_synonyms(file, code, label, synonyms, options.synonyms)
        parent = old.parent
        if options.no_parent:
            parent = None
        elif options.parent is not None:
            parent = _parent_code(file, options.parent, code)
        stem = old.stem if options.stem is None else options.stem
        ontology_id = old.ontology_id
        if options.no_ontology_id:
            ontology_id = None
        elif options.ontology_id is not None:
            ontology_id = _check_ontology_id(options.ontology_id)
        new = Term(code, label, tuple(synonyms), parent, stem, ontology_id)
        if new == old:
            raise DataError(f"{_noun(name)} {code!r} already has those values; nothing was changed")
        terms = [new if term.code == code else term for term in file.terms]
        result = _write(ws, conn, file, terms, touched={code})
    result.code, result.replaced = code, [code]
    return result


def remove_term(ws: Workspace, conn: sqlite3.Connection, name: str, text: str) -> VocabResult:
    check_name(name)
    with workspace_lock(ws):
        file = read_vocab_file(ws, name)
        code = _find(file, text)
        _refuse_in_use(conn, file, [code], "")
        children = [term.code for term in file.terms if term.parent == code]
        if children:
            raise DataError(
                f"{_noun(name)} {code!r} is the parent of {', '.join(children)}; give them another parent"
                f" first (`exocli vocab edit {name} CODE --parent ...` or --no-parent)"
            )
        result = _write(ws, conn, file, [term for term in file.terms if term.code != code])
    result.code, result.removed = code, [code]
    return result


def rename_term(ws: Workspace, conn: sqlite3.Connection, name: str, old_text: str, new: str) -> VocabResult:
    """A new code for a term; every claim that uses it is rewritten with the new code."""
    check_name(name)
    with workspace_lock(ws):
        file = read_vocab_file(ws, name)
        old = _find(file, old_text, "OLD")
        if new == old:
            raise DataError(f"NEW {new!r}: {_noun(name)} {old!r} already has this code; nothing was changed")
        _check_code(ws, file, "NEW", new, own=old)
        terms = []
        for term in file.terms:
            if term.code == old:
                term = replace(term, code=new)
            if term.parent == old:
                term = replace(term, parent=new)
            terms.append(term)
        result = _write(ws, conn, file, terms, touched={old}, renames={old: new})
    result.code = new
    return result


# --- import and export -----------------------------------------------------------------------


def import_terms(
    ws: Workspace, conn: sqlite3.Connection, name: str, path: Path, replace_all: bool = False
) -> VocabResult:
    """Terms from a TOML file (the vocabulary layout) or a CSV/TSV file (CSV_COLUMNS).

    A term whose code the vocabulary has replaces it where it stands; a new one goes at the
    end, in the file's order. `replace_all`: the file is the whole vocabulary (a term it lacks
    goes, refused while a claim uses it)."""
    check_name(name)
    located = read_term_file(path)
    if not located:
        raise DataError(f"{path}: no terms in this file")
    with workspace_lock(ws):
        file = read_vocab_file(ws, name)
        imported = {term.code: term for term, _ in located}
        # duplicates within the file, before anything else
        seen: dict[str, str] = {}
        for term, place in located:
            if term.code in seen:
                line = seen[term.code].rpartition(":")[2]
                raise DataError(f"{place}: code {term.code!r} repeats (first at line {line})")
            seen[term.code] = place
        if name != "sources":
            for term, place in located:
                if term.stem is not None:
                    raise DataError(
                        f"{place}: stem of {term.code!r}: only a sources term is stem or non-stem"
                    )
        kept = [] if replace_all else [term for term in file.terms if term.code not in imported]
        # spellings: the terms kept first, so that a clash is reported at the imported term
        check_spellings([(t, file.where(ws, t.code)) for t in kept] + [(t, p) for t, p in located])
        if replace_all:
            terms = [term for term, _ in located]
        else:
            terms = [imported.get(term.code, term) for term in file.terms]
            terms += [term for term, _ in located if term.code not in file.lines]
        # parents and cycles: the imported terms first, so that a cycle is reported at one of them
        check_parents([(t, p) for t, p in located] + [(t, file.where(ws, t.code)) for t in kept])
        old = file.vocabulary.terms
        gone = [code for code in old if code not in {t.code for t in terms}]
        if gone:
            _refuse_in_use(conn, file, gone, f"{path}: ")
        changed = [code for code, term in imported.items() if code in old and old[code] != term]
        result = VocabResult(name, ws.relative(ws.vocab_dir / f"{name}.toml"))
        result.added = [code for code in imported if code not in old]
        result.replaced = changed
        result.unchanged = [code for code in imported if code in old and code not in changed]
        result.removed = gone
        if result.added or result.replaced or result.removed:
            written = _write(ws, conn, file, terms, touched=set(changed))
            result.claims, result.studies = written.claims, written.studies
    return result


def read_term_file(path: Path) -> list[tuple[Term, str]]:
    """The terms of an import file, each with its `file:line`."""
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".csv", ".tsv"):
        raise UsageError(f"{path}: import a .toml file (the vocabulary layout) or a .csv or .tsv file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise DataError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read ({exc})") from exc
    if suffix == ".toml":
        return [(term, f"{path}:{line}") for term, line in parse_vocabulary_text(text, str(path))]
    return _csv_terms(text, str(path), "\t" if suffix == ".tsv" else ",")


_TRUE = ("true", "yes", "1", "stem")
_FALSE = ("false", "no", "0", "non-stem")


def _csv_terms(text: str, source: str, delimiter: str) -> list[tuple[Term, str]]:
    from exocli.render import restore_cell

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        return []
    except csv.Error as exc:
        raise DataError(f"{source}:1: not valid CSV ({exc})") from exc
    unknown = [column for column in header if column not in CSV_COLUMNS]
    if unknown:
        raise DataError(
            f"{source}:1: unknown column {unknown[0]!r}; the columns are {', '.join(CSV_COLUMNS)}"
        )
    for needed in ("code", "label"):
        if needed not in header:
            raise DataError(f"{source}:1: no {needed!r} column; the columns are {', '.join(CSV_COLUMNS)}")
    located: list[tuple[Term, str]] = []
    line = reader.line_num
    while True:
        start = line + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DataError(f"{source}:{start}: not valid CSV ({exc})") from exc
        line = reader.line_num
        where = f"{source}:{start}"
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        if len(row) != len(header):
            raise DataError(f"{where}: {len(row)} fields, but the header has {len(header)}")
        cells = {column: restore_cell(cell.strip()) for column, cell in zip(header, row, strict=True)}
        entry: dict[str, object] = {"code": cells["code"], "label": cells["label"]}
        synonyms = [s.strip() for s in cells.get("synonyms", "").split(SYNONYM_SEPARATOR)]
        entry["synonyms"] = [s for s in synonyms if s]
        if cells.get("parent"):
            entry["parent"] = cells["parent"]
        if cells.get("ontology_id"):
            entry["ontology_id"] = cells["ontology_id"]
        stem = cells.get("stem", "").casefold()
        if stem in _TRUE:
            entry["stem"] = True
        elif stem in _FALSE:
            entry["stem"] = False
        elif stem:
            raise DataError(
                f"{where}: stem of {cells['code']!r} must be true or false, not {cells['stem']!r}"
            )
        located.append((term_from_entry(entry, where), where))
    return located


def export_terms(ws: Workspace, name: str, fmt: str) -> str:
    """The vocabulary as TOML (its file's layout), CSV/TSV (CSV_COLUMNS) or JSON."""
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"--format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
    file = read_vocab_file(ws, name, for_write=False)
    if fmt == "toml":
        return format_vocabulary(file.header, file.terms)
    if fmt == "json":
        rows = [{key: _json_value(term, key) for key in TERM_KEYS} for term in file.terms]
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    from exocli.render import write_rows

    for term in file.terms:
        for synonym in term.synonyms:
            if SYNONYM_SEPARATOR in synonym:
                raise DataError(
                    f"{file.where(ws, term.code)}: synonym {synonym!r} of {term.code!r} holds"
                    f" {SYNONYM_SEPARATOR!r}, which separates synonyms in CSV; export as toml or json"
                )
    buffer = io.StringIO()
    rows = [
        {
            "code": term.code,
            "label": term.label,
            "synonyms": SYNONYM_SEPARATOR.join(term.synonyms),
            "parent": term.parent,
            "stem": None if term.stem is None else ("true" if term.stem else "false"),
            "ontology_id": term.ontology_id,
        }
        for term in file.terms
    ]
    write_rows(CSV_COLUMNS, rows, fmt, stream=buffer)
    return buffer.getvalue()


def _json_value(term: Term, key: str) -> object:
    value = getattr(term, key)
    return list(value) if key == "synonyms" else value


# --- the write ----------------------------------------------------------------------------------


# Claims that use a term: (claim id, reference number, study key), by the term's code(s).
_USES_SQL = {
    "sources": "SELECT c.id, r.number, r.citekey FROM claims c JOIN refs r ON r.id = c.ref_id"
    " WHERE c.source = ?",
    "cargo-types": "SELECT c.id, r.number, r.citekey FROM claims c JOIN refs r ON r.id = c.ref_id"
    " WHERE c.cargo_type = ?",
    "effects": "SELECT c.id, r.number, r.citekey FROM claim_effects e JOIN claims c ON c.id = e.claim_id"
    " JOIN refs r ON r.id = c.ref_id WHERE e.effect = ?",
    "pathways": "SELECT c.id, r.number, r.citekey FROM claim_pathway_parts p"
    " JOIN claims c ON c.id = p.claim_id JOIN refs r ON r.id = c.ref_id WHERE p.key = ?",
    **{
        name: "SELECT c.id, r.number, r.citekey FROM claim_terms t JOIN claims c ON c.id = t.claim_id"
        f" JOIN refs r ON r.id = c.ref_id WHERE t.vocab = '{name}' AND t.code = ?"  # fixed names
        for name in CONTEXT_FIELDS
    },
}


def term_uses(conn: sqlite3.Connection, name: str, codes: Iterable[str]) -> list[tuple[int, int | None, str]]:
    """(claim id, reference number, study key) of every claim that uses one of `codes`."""
    found: dict[int, tuple[int, int | None, str]] = {}
    for code in codes:
        value = term_key(code) if name == "pathways" else code
        for claim_id, number, key in conn.execute(_USES_SQL[name], (value,)):
            found[int(claim_id)] = (int(claim_id), number, str(key))
    return sorted(found.values(), key=lambda use: (use[1] or 0, use[0]))


def _refuse_in_use(conn: sqlite3.Connection, file: VocabFile, codes: Sequence[str], prefix: str) -> None:
    for code in codes:
        uses = term_uses(conn, file.name, [code])
        if not uses:
            continue
        shown = ", ".join(f"{claim_id} (ref {number})" for claim_id, number, _ in uses[:USES_SHOWN])
        more = f" and {len(uses) - USES_SHOWN} more" if len(uses) > USES_SHOWN else ""
        field_option = {
            "sources": "--source",
            "effects": "--effect",
            "cargo-types": "--cargo-type",
            **{name: f"--{key}" for name, key in CONTEXT_FIELDS.items()},
        }
        fix = (
            f"edit them first (`exocli claims edit ID {field_option[file.name]} ...`)"
            if file.name in field_option
            else "edit their pathways first (`exocli claims edit ID --pathway ...`)"
        )
        count = f"{len(uses)} claim{'s' if len(uses) != 1 else ''}"
        raise ExocliError(
            f"{prefix}{_noun(file.name)} {code!r} is used by {count}: {shown}{more}; {fix} or rename"
            f" the term (`exocli vocab rename {file.name} {code} NEW`)"
        )


def _write(
    ws: Workspace,
    conn: sqlite3.Connection,
    file: VocabFile,
    terms: list[Term],
    touched: set[str] | None = None,
    renames: Mapping[str, str] | None = None,
) -> VocabResult:
    """Write the vocabulary `terms` and the studies whose claims must follow: those whose
    claims a rename changes, and those whose file spells a touched term in a way the new
    vocabulary no longer knows (written with the code instead)."""
    where = _target(ws, file.name)
    text = format_vocabulary(file.header, terms)
    vocab = _file_with(ws, file, terms).vocabulary  # what is written reads back, and checks out
    old_vocabs = load_vocabularies(ws)
    new_vocabs = with_vocabulary(old_vocabs, file.name, vocab)
    change = Change()
    result = VocabResult(file.name, where)
    renames = dict(renames or {})
    uses = term_uses(conn, file.name, touched or ())
    for key, number in sorted({(key, number) for _, number, key in uses}, key=lambda kn: kn[1] or 0):
        path = ws.study_path(key)
        try:
            study_text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"{ws.relative(path)}: cannot be read ({exc})") from exc
        before = parse_study(study_text, ws.relative(path), key, number, old_vocabs)
        after = Study(key, before.reference, [_renamed(c, file.name, renames) for c in before.claims])
        moved = [
            b.id for b, a in zip(before.claims, after.claims, strict=True) if claim_entry(b) != claim_entry(a)
        ]
        if not moved:
            if renames:
                continue  # its claims spell the term by a synonym it keeps
            try:
                parse_study(study_text, ws.relative(path), key, number, new_vocabs)
                continue  # the file still reads the same: nothing to rewrite
            except DataError:
                moved = [claim_id for claim_id, _, study in uses if study == key]  # spelt as it no longer is
        parse_study(format_study(after), ws.relative(path), key, number, new_vocabs)  # must read back
        change.studies[key], change.before[key] = after, before
        result.studies.append(ws.relative(path))
        result.claims += moved
    plan = VocabPlan(file.name, vocab, text, where)
    write_vocabulary_change(ws, conn, [plan], change, new_vocabs.pathways)
    return result


def with_vocabulary(vocabs: Vocabularies, name: str, vocab: Vocabulary) -> Vocabularies:
    return replace(vocabs, **{name.replace("-", "_"): vocab})


def _renamed(claim: Claim, name: str, renames: Mapping[str, str]) -> Claim:
    """The claim with each renamed code of vocabulary `name` replaced by its new code."""
    if not renames:
        return claim
    if name == "sources":
        return replace(claim, source=renames.get(claim.source, claim.source))
    if name == "cargo-types":
        return replace(claim, cargo_type=renames.get(claim.cargo_type, claim.cargo_type))
    if name == "effects":
        return replace(claim, effects=[renames.get(effect, effect) for effect in claim.effects])
    if name == "injuries":
        return replace(claim, injury=[renames.get(code, code) for code in claim.injury])
    if name == "species":
        return replace(claim, species=[renames.get(code, code) for code in claim.species])
    if name == "models":
        return replace(claim, model=[renames.get(code, code) for code in claim.model])
    # pathways: an axis's part written as the old code becomes the new code; other
    # spellings of the term (its synonyms) stay as written
    keys = {term_key(old): new for old, new in renames.items()}
    pathways = [
        "/".join(keys.get(term_key(part), part) for part in axis.split("/")) for axis in claim.pathways
    ]
    return replace(claim, pathways=pathways)
