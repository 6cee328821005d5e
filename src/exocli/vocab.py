"""Controlled vocabularies: codes, labels, synonyms and (for sources) a hierarchy."""

from __future__ import annotations

import functools
import re
import sqlite3
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from exocli.errors import DataError

VOCABS = {
    "sources": "source",
    "effects": "effect",
    "cargo-types": "cargo type",
    "pathways": "pathway",
}


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
    import tomllib

    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path}: {exc}") from exc
    except RecursionError as exc:
        raise DataError(f"{path}: nested too deeply to be a vocabulary") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read ({exc})") from exc
    header_lines = [n for n, line in enumerate(text.splitlines(), 1) if line.strip() == "[[term]]"]
    terms: list[Term] = []
    seen: dict[str, str] = {}
    code_lines: dict[str, int] = {}
    entries = data.get("term", [])
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise DataError(f"{path}: 'term' must be an array of tables ([[term]])")
    for position, entry in enumerate(entries):
        line = header_lines[position] if position < len(header_lines) else 0
        where = f"{path}:{line}"
        code, label = entry.get("code"), entry.get("label")
        if not isinstance(code, str) or not code.strip():
            raise DataError(f"{where}: term without a code")
        if code in code_lines:
            raise DataError(f"{where}: code {code!r} repeats (first at line {code_lines[code]})")
        code_lines[code] = line
        if not isinstance(label, str) or not label.strip():
            raise DataError(f"{where}: term {code!r} has no label")
        synonyms = entry.get("synonyms", [])
        if not isinstance(synonyms, list) or not all(isinstance(s, str) for s in synonyms):
            raise DataError(f"{where}: synonyms of {code!r} must be a list of strings")
        if any(_CONTROL.search(text) for text in (code, label, *synonyms)):
            raise DataError(f"{where}: term {code!r} holds a control character")
        parent_value = entry.get("parent")
        if parent_value is not None and not isinstance(parent_value, str):
            raise DataError(f"{where}: parent of {code!r} must be a code, not {parent_value!r}")
        for spelling in (code, label, *synonyms):
            key = term_key(spelling)
            if key in seen and seen[key] != code:
                raise DataError(f"{where}: {spelling!r} of {code!r} is already a spelling of {seen[key]!r}")
            seen[key] = code
        parent = entry.get("parent")
        stem = entry.get("stem")
        terms.append(Term(code, label, tuple(synonyms), parent, stem if isinstance(stem, bool) else None))
    codes = {term.code for term in terms}
    for position, term in enumerate(terms):
        if term.parent is not None and term.parent not in codes:
            line = header_lines[position] if position < len(header_lines) else 0
            raise DataError(f"{path}:{line}: parent {term.parent!r} of {term.code!r} is not a term")
    parents = {term.code: term.parent for term in terms}
    for term in terms:
        chain = [term.code]
        parent = term.parent
        while parent is not None:
            if parent in chain:
                cycle = " -> ".join([*chain[chain.index(parent) :], parent])
                raise DataError(f"{path}:{code_lines[term.code]}: parents form a cycle: {cycle}")
            chain.append(parent)
            parent = parents.get(parent)
    return Vocabulary.from_terms(name, terms)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def vocabulary_from_db(conn: sqlite3.Connection, name: str) -> Vocabulary:
    """The vocabulary as loaded into the database (no TOML parsing on the query path)."""
    synonyms: dict[str, list[str]] = {}
    for code, synonym in conn.execute(
        "SELECT code, synonym FROM vocab_synonyms WHERE vocab = ? ORDER BY rowid", (name,)
    ):
        synonyms.setdefault(code, []).append(synonym)
    terms = [
        Term(code, label, tuple(synonyms.get(code, ())), parent, None if stem is None else bool(stem))
        for code, label, parent, stem in conn.execute(
            "SELECT code, label, parent, stem FROM vocab_terms WHERE vocab = ? ORDER BY position",
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
        counts = {str(k): int(n) for k, n in conn.execute(_USAGE_SQL[vocab_name])}
        for term in vocab.terms.values():
            if vocab_name == "sources":
                count = sum(counts.get(code, 0) for code in vocab.descendants(term.code))
            elif vocab_name == "pathways":
                count = counts.get(term_key(term.code), 0)
            else:
                count = counts.get(term.code, 0)
            rows.append(
                {
                    "vocab": vocab_name,
                    "code": term.code,
                    "label": term.label + ("" if term.stem is not False else " (non-stem)"),
                    "parent": term.parent,
                    "synonyms": list(term.synonyms),
                    "claims": count,
                }
            )
    return rows
