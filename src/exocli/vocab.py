"""Controlled vocabularies: codes, labels, synonyms and (for sources) a hierarchy."""

from __future__ import annotations

import functools
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from exocli.errors import DataError

VOCABS = {
    "sources": "source",
    "effects": "effect",
    "cargo-types": "cargo type",
    "pathways": "pathway",
    "injuries": "injury/disease",
    "species": "species",
    "models": "model",
}
# The claim field each vocabulary of a claim's study context fills (a list of codes).
CONTEXT_FIELDS = {"injuries": "injury", "species": "species", "models": "model"}
# Vocabularies whose `parent` is a hierarchy queries follow (X includes every child of X).
HIERARCHIES = ("sources", "injuries", "models")


# The header comment of a vocabulary with no terms (`exocli init --vocab blank`).
BLANK_HEADERS = {
    "sources": (
        "# Exosome / EV sources: the cells (or other origins) a vesicle comes from.\n"
        "# `parent` builds the hierarchy used by queries (--source X includes every\n"
        "# child of X); `stem = false` marks a non-stem-cell source; `ontology_id` is\n"
        "# the term's Cell Ontology class (CL:...) where it has one.\n"
    ),
    "effects": (
        "# Effect categories a claim can report (e.g. neuroprotection, angiogenesis).\n"
        "# `ontology_id` is the term's Gene Ontology process (GO:...) where it has one.\n"
    ),
    "cargo-types": (
        "# What kind of molecule the claim credits with the effect (miRNA, protein, ...).\n"
        "# `ontology_id` is the term's Sequence Ontology class (SO:...) where it has one.\n"
    ),
    "pathways": (
        "# Canonical spellings of signalling molecules and pathway parts. A claim's\n"
        '# pathway such as "TLR4/NF-κB" is split at "/" into parts, and each part is\n'
        "# matched against these synonyms (case and spacing ignored). Parts not\n"
        "# listed here are kept as written.\n"
    ),
    "injuries": (
        "# Injuries and diseases a study treats (e.g. stroke, with ischaemic stroke below it).\n"
        "# `parent` builds the hierarchy used by queries (--injury X includes every child\n"
        "# of X); `ontology_id` is the term's Disease Ontology (DOID:...) or MeSH (MESH:...) id.\n"
    ),
    "species": (
        "# Species a study used (rat, mouse, human, ...); strains are synonyms of their species.\n"
        "# `ontology_id` is the species' NCBI Taxonomy id (NCBITaxon:...).\n"
    ),
    "models": (
        "# Study models: the system (in vivo, in vitro, clinical) and, below it, named models\n"
        "# (e.g. MCAO under in vivo, OGD under in vitro). --model X includes every child of X.\n"
    ),
}
HOW_TO_ADD = (
    "# Each term is a [[term]] block: code, label, and optionally parent, stem,\n"
    "# ontology_id and synonyms. Add terms with `exocli vocab add {name} CODE --label LABEL`\n"
    "# (see `exocli vocab add -h`), or import a file with `exocli vocab import {name} FILE`.\n"
)


def blank_vocabulary(name: str) -> str:
    """The text of a vocabulary file with no terms: its header comment alone."""
    header = BLANK_HEADERS.get(name, f"# {name}: the terms of this vocabulary.\n")
    return header + HOW_TO_ADD.format(name=name)


@functools.lru_cache(maxsize=65536)
def term_key(text: str) -> str:
    """Case, width, spacing, hyphens and underscores do not matter when matching a term."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s\-_‐‑–—.]+", "", folded)


@dataclass(frozen=True)
class Term:
    code: str
    label: str
    synonyms: tuple[str, ...] = ()
    parent: str | None = None
    stem: bool | None = None
    ontology_id: str | None = None  # e.g. CL:0000134 (Cell Ontology), GO:0001525, SO:0000276


# The keys of a [[term]] block, in the order exocli writes them.
TERM_KEYS = ("code", "label", "parent", "stem", "ontology_id", "synonyms")
# An ontology identifier is a compact URI: PREFIX:LOCAL_ID (CL:0000134, DOID:0080015, MESH:D020521).
ONTOLOGY_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*:[A-Za-z0-9][A-Za-z0-9_.\-]*$")


@dataclass
class Vocabulary:
    name: str
    terms: dict[str, Term] = field(default_factory=dict)
    _index: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_terms(cls, name: str, terms: Iterable[Term]) -> Vocabulary:
        vocab = cls(name)
        for term in terms:
            vocab.terms[term.code] = term
        for term in vocab.terms.values():
            for spelling in (term.code, term.label, *term.synonyms):
                vocab._index.setdefault(term_key(spelling), term.code)
        return vocab

    @property
    def noun(self) -> str:
        return VOCABS.get(self.name, self.name)

    def lookup(self, text: str) -> str | None:
        """The code for a code, label or synonym; None when unknown."""
        return self._index.get(term_key(text))

    def require(self, text: str) -> str:
        code = self.lookup(text)
        if code is None:
            raise DataError(self.unknown_message(text))
        return code

    def unknown_message(self, text: str) -> str:
        message = f"unknown {self.noun} {text!r}"
        suggestions = self.suggest(text)
        if suggestions:
            message += f"; did you mean {', '.join(suggestions)}?"
        return message

    def suggest(self, text: str, limit: int = 3) -> list[str]:
        import difflib

        spellings: dict[str, str] = {}
        for term in self.terms.values():
            for spelling in (term.code, term.label, *term.synonyms):
                spellings.setdefault(term_key(spelling), term.code)
        close = difflib.get_close_matches(term_key(text), list(spellings), n=12, cutoff=0.6)
        codes: list[str] = []
        for key in close:
            if spellings[key] not in codes:
                codes.append(spellings[key])
        return codes[:limit]

    def descendants(self, code: str) -> list[str]:
        """The code itself and every term below it in the hierarchy."""
        found = [code]
        for current in found:
            found.extend(
                term.code for term in self.terms.values() if term.parent == current and term.code not in found
            )
        return found

    def ancestors(self, code: str) -> list[str]:
        chain = []
        current = self.terms.get(code)
        while current is not None and current.parent and current.parent not in chain:
            chain.append(current.parent)
            current = self.terms.get(current.parent)
        return chain


def load_vocabulary_file(name: str, path: Path) -> Vocabulary:
    """Read one vocabulary TOML file, checking codes, parents and synonym clashes."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read ({exc})") from exc
    located = parse_vocabulary_text(text, str(path))
    check_terms([(term, f"{path}:{line}") for term, line in located])
    return Vocabulary.from_terms(name, [term for term, _ in located])


def parse_vocabulary_text(text: str, source: str) -> list[tuple[Term, int]]:
    """The terms of a vocabulary file's text, each with the line of its [[term]] header.

    Each term is checked on its own here (a code, a label, lists of strings, no control
    characters); `check_terms` checks them against each other."""
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{source}: {exc}") from exc
    except RecursionError as exc:
        raise DataError(f"{source}: nested too deeply to be a vocabulary") from exc
    header_lines = [n for n, line in enumerate(text.splitlines(), 1) if line.strip() == "[[term]]"]
    entries = data.get("term", [])
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise DataError(f"{source}: 'term' must be an array of tables ([[term]])")
    located: list[tuple[Term, int]] = []
    for position, entry in enumerate(entries):
        line = header_lines[position] if position < len(header_lines) else 0
        located.append((term_from_entry(entry, f"{source}:{line}"), line))
    return located


def term_from_entry(entry: dict[str, object], where: str) -> Term:
    """One [[term]] table as a Term; `where` (file:line) starts the message of a bad one."""
    code, label = entry.get("code"), entry.get("label")
    if not isinstance(code, str) or not code.strip():
        raise DataError(f"{where}: term without a code")
    if not isinstance(label, str) or not label.strip():
        raise DataError(f"{where}: term {code!r} has no label")
    synonyms = entry.get("synonyms", [])
    if not isinstance(synonyms, list) or not all(isinstance(s, str) for s in synonyms):
        raise DataError(f"{where}: synonyms of {code!r} must be a list of strings")
    parent = entry.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise DataError(f"{where}: parent of {code!r} must be a code, not {parent!r}")
    stem = entry.get("stem")
    if stem is not None and not isinstance(stem, bool):
        raise DataError(f"{where}: stem of {code!r} must be true or false, not {stem!r}")
    ontology_id = entry.get("ontology_id")
    if ontology_id is not None and (not isinstance(ontology_id, str) or not ONTOLOGY_ID.match(ontology_id)):
        raise DataError(
            f"{where}: ontology_id of {code!r} must be PREFIX:ID (e.g. CL:0000134), not {ontology_id!r}"
        )
    if any(_CONTROL.search(text) for text in (code, label, parent or "", *synonyms)):
        raise DataError(f"{where}: term {code!r} holds a control character")
    return Term(code, label, tuple(synonyms), parent, stem, ontology_id)


def check_terms(located: Sequence[tuple[Term, str]]) -> None:
    """Terms checked against each other, each with where it comes from (`file:line`, or the
    option that gave it): a repeated code, a spelling of two terms, a parent that is not a
    term, and parents that form a cycle are each refused with its place."""
    check_spellings(located)
    check_parents(located)


def check_spellings(located: Sequence[tuple[Term, str]]) -> None:
    """No code twice, and no spelling (code, label, synonym) of two terms: the later term is
    the one refused."""
    seen: dict[str, str] = {}
    where_of: dict[str, str] = {}
    for term, where in located:
        if term.code in where_of:
            first, here = where_of[term.code].rpartition(":"), where.rpartition(":")
            same_file = first[0] == here[0] and first[2].isdigit()
            first_at = f"line {first[2]}" if same_file else where_of[term.code]
            raise DataError(f"{where}: code {term.code!r} repeats (first at {first_at})")
        where_of[term.code] = where
        for spelling in (term.code, term.label, *term.synonyms):
            key = term_key(spelling)
            if key in seen and seen[key] != term.code:
                raise DataError(
                    f"{where}: {spelling!r} of {term.code!r} is already a spelling of {seen[key]!r}"
                )
            seen[key] = term.code


def check_parents(located: Sequence[tuple[Term, str]]) -> None:
    """Every parent is a term, and no chain of parents comes back to where it started (a
    cycle is reported at the first term, in the order given, that leads into it)."""
    codes = {term.code for term, _ in located}
    for term, where in located:
        if term.parent is not None and term.parent not in codes:
            raise DataError(f"{where}: parent {term.parent!r} of {term.code!r} is not a term")
    parents = {term.code: term.parent for term, _ in located}
    for term, where in located:
        chain = [term.code]
        parent = term.parent
        while parent is not None:
            if parent in chain:
                cycle = " -> ".join([*chain[chain.index(parent) :], parent])
                raise DataError(f"{where}: parents form a cycle: {cycle}")
            chain.append(parent)
            parent = parents.get(parent)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def vocabulary_from_db(conn: sqlite3.Connection, name: str) -> Vocabulary:
    """The vocabulary as loaded into the database (no TOML parsing on the query path)."""
    synonyms: dict[str, list[str]] = {}
    for code, synonym in conn.execute(
        "SELECT code, synonym FROM vocab_synonyms WHERE vocab = ? ORDER BY rowid", (name,)
    ):
        synonyms.setdefault(code, []).append(synonym)
    terms = [
        Term(
            code,
            label,
            tuple(synonyms.get(code, ())),
            parent,
            None if stem is None else bool(stem),
            ontology_id,
        )
        for code, label, parent, stem, ontology_id in conn.execute(
            "SELECT code, label, parent, stem, ontology_id FROM vocab_terms WHERE vocab = ? ORDER BY position",
            (name,),
        )
    ]
    return Vocabulary.from_terms(name, terms)


_USAGE_SQL = {
    "sources": "SELECT source, COUNT(*) FROM claims GROUP BY source",
    "effects": "SELECT effect, COUNT(*) FROM claim_effects GROUP BY effect",
    "cargo-types": "SELECT cargo_type, COUNT(*) FROM claims GROUP BY cargo_type",
    "pathways": "SELECT key, COUNT(*) FROM claim_pathway_parts GROUP BY key",
}


def vocabulary_rows(conn: sqlite3.Connection, name: str | None = None) -> list[dict[str, object]]:
    """Terms with synonyms and claim counts (sources count their children too)."""
    if name is not None and name not in VOCABS:
        from exocli.errors import UsageError

        raise UsageError(f"unknown vocabulary {name!r}; choose from {', '.join(VOCABS)}")
    rows: list[dict[str, object]] = []
    for vocab_name in [name] if name else list(VOCABS):
        vocab = vocabulary_from_db(conn, vocab_name)
        if vocab_name in CONTEXT_FIELDS:
            # a claim may list a term and its child (in vivo, MCAO): count claims, not rows
            claims_of: dict[str, set[int]] = {}
            for code, claim_id in conn.execute(
                "SELECT code, claim_id FROM claim_terms WHERE vocab = ?", (vocab_name,)
            ):
                claims_of.setdefault(code, set()).add(claim_id)
            for term in vocab.terms.values():
                below = set().union(*(claims_of.get(c, set()) for c in vocab.descendants(term.code)))
                rows.append(_vocabulary_row(vocab_name, term, len(below)))
            continue
        counts = {str(k): int(n) for k, n in conn.execute(_USAGE_SQL[vocab_name])}
        for term in vocab.terms.values():
            if vocab_name in HIERARCHIES:
                count = sum(counts.get(code, 0) for code in vocab.descendants(term.code))
            elif vocab_name == "pathways":
                count = counts.get(term_key(term.code), 0)
            else:
                count = counts.get(term.code, 0)
            rows.append(_vocabulary_row(vocab_name, term, count))
    return rows


def _vocabulary_row(vocab_name: str, term: Term, count: int) -> dict[str, object]:
    return {
        "vocab": vocab_name,
        "code": term.code,
        "label": term.label + ("" if term.stem is not False else " (non-stem)"),
        "parent": term.parent,
        "synonyms": list(term.synonyms),
        "ontology_id": term.ontology_id,
        "claims": count,
    }
