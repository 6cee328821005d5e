"""Evidence queries: vocabulary-aware filters (and plain phrases) turned into indexed SQL."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from exocli.errors import UsageError
from exocli.fields import CLAIM_KEYS
from exocli.mirna import MiRNA, parse_mirna
from exocli.vocab import Vocabulary, term_key, vocabulary_from_db

# The study model is a small closed vocabulary over three claim fields.
MODEL_TERMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "rat": ("species", ("rat",)),
    "rats": ("species", ("rat",)),
    "mouse": ("species", ("mouse",)),
    "mice": ("species", ("mouse",)),
    "human": ("species", ("human",)),
    "patients": ("model", ("clinical",)),
    "clinical": ("model", ("clinical",)),
    "invivo": ("model", ("in vivo", "in vivo and in vitro")),
    "invitro": ("model", ("in vitro", "in vivo and in vitro")),
    "animal": ("model", ("in vivo", "in vivo and in vitro")),
}
SORT_KEYS = {
    "id": "c.id",
    "ref": "r.number IS NULL, r.number, c.id",
    "year": "r.year IS NULL, r.year, r.number, c.id",
    "source": "c.source, r.number, c.id",
    "cargo-type": "c.cargo_type, r.number, c.id",
}
# `query --format csv|json` columns: the text record's keys (cargo also normalised), plus
# what is derived from the cited reference. `import` reads the same columns back.
CLAIM_COLUMNS = (
    "id",
    "ref",
    "study",
    "year",
    "doi",
    *(name for key in CLAIM_KEYS[2:] for name in (("cargo", "cargo_wording") if key == "cargo" else (key,))),
    "flags",
)
TABLE_COLUMNS = ("ref", "study", "source", "cargo", "pathways", "effects", "model")
STOP_WORDS = frozenset(
    [
        "a",
        "all",
        "an",
        "and",
        "any",
        "are",
        "about",
        "derived",
        "do",
        "does",
        "everything",
        "evidence",
        "exosome",
        "exosomes",
        "ev",
        "evs",
        "extracellular",
        "vesicles",
        "vesicle",
        "find",
        "for",
        "from",
        "give",
        "in",
        "is",
        "list",
        "me",
        "of",
        "on",
        "or",
        "show",
        "showing",
        "shown",
        "studies",
        "study",
        "that",
        "the",
        "them",
        "what",
        "where",
        "which",
        "with",
        "claims",
        "claim",
        "by",
    ]
)


@dataclass
class Filters:
    """What the user asked for; each list is OR, the lists combine with AND."""

    sources: list[str] = field(default_factory=list)
    effects: list[str] = field(default_factory=list)
    cargos: list[str] = field(default_factory=list)
    cargo_types: list[str] = field(default_factory=list)
    pathways: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    refs: list[int] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def merge(self, other: Filters) -> Filters:
        return Filters(
            *(
                getattr(self, name) + [v for v in getattr(other, name) if v not in getattr(self, name)]
                for name in (
                    "sources",
                    "effects",
                    "cargos",
                    "cargo_types",
                    "pathways",
                    "models",
                    "refs",
                    "text",
                )
            )
        )

    def describe(self) -> list[tuple[str, str]]:
        labels = (
            ("source", self.sources),
            ("effect", self.effects),
            ("cargo", self.cargos),
            ("cargo type", self.cargo_types),
            ("pathway", self.pathways),
            ("model", self.models),
            ("ref", [str(r) for r in self.refs]),
            ("text", self.text),
        )
        return [(name, " OR ".join(values)) for name, values in labels if values]

    def is_empty(self) -> bool:
        return not any(v for _, v in self.describe())


class Vocabs(NamedTuple):
    # NamedTuple rather than dataclass: cheaper to define on the path of every query
    sources: Vocabulary
    effects: Vocabulary
    cargo_types: Vocabulary
    pathways: Vocabulary

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> Vocabs:
        return cls(*(vocabulary_from_db(conn, n) for n in ("sources", "effects", "cargo-types", "pathways")))


def _unknown(vocab: Vocabulary, option: str, value: str, extra: Sequence[str] = ()) -> UsageError:
    suggestions = vocab.suggest(value)
    if not suggestions and extra:
        import difflib

        suggestions = difflib.get_close_matches(value, list(extra), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
    return UsageError(f"{option}: unknown {vocab.noun} {value!r}{hint}")


class Compiled(NamedTuple):
    sql: str
    params: list[Any]
    explanation: list[tuple[str, str]]


def compile_filters(conn: sqlite3.Connection, filters: Filters, vocabs: Vocabs) -> Compiled:
    """Resolve every term through the vocabularies; unknown terms raise with suggestions."""
    where: list[str] = []
    params: list[Any] = []
    explanation: list[tuple[str, str]] = []

    def in_list(column: str, values: Sequence[Any]) -> None:
        where.append(f"{column} IN ({','.join('?' * len(values))})")
        params.extend(values)

    if filters.sources:
        codes: list[str] = []
        for value in filters.sources:
            code = vocabs.sources.lookup(value)
            if code is None:
                raise _unknown(vocabs.sources, "--source", value)
            codes += [c for c in vocabs.sources.descendants(code) if c not in codes]
        in_list("c.source", codes)
        explanation.append(("source", " OR ".join(codes)))
    if filters.cargo_types:
        types = [_require(vocabs.cargo_types, "--cargo-type", v) for v in filters.cargo_types]
        in_list("c.cargo_type", types)
        explanation.append(("cargo type", " OR ".join(types)))
    if filters.effects:
        effects = [_require(vocabs.effects, "--effect", v) for v in filters.effects]
        marks = ",".join("?" * len(effects))
        where.append(
            f"EXISTS (SELECT 1 FROM claim_effects e WHERE e.claim_id = c.id AND e.effect IN ({marks}))"
        )
        params.extend(effects)
        explanation.append(("effect", " OR ".join(effects)))
    if filters.cargos:
        clauses, described = [], []
        for value in filters.cargos:
            mirna = parse_mirna(value)
            if mirna is not None:
                clauses.append(_mirna_clause(mirna, params))
                described.append(f"{mirna.name} (family {mirna.family}, compatible forms)")
                continue
            key = term_key(value)
            if not conn.execute("SELECT 1 FROM claim_cargos WHERE key = ? LIMIT 1", (key,)).fetchone():
                names = [r[0] for r in conn.execute("SELECT DISTINCT name FROM claim_cargos")]
                import difflib

                close = difflib.get_close_matches(value, names, n=3, cutoff=0.5)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise UsageError(f"--cargo: unknown cargo {value!r}{hint}")
            clauses.append("g.key = ?")
            params.append(key)
            described.append(value)
        where.append(
            "EXISTS (SELECT 1 FROM claim_cargos g WHERE g.claim_id = c.id AND (" + " OR ".join(clauses) + "))"
        )
        explanation.append(("cargo", " OR ".join(described)))
    if filters.pathways:
        # "TLR4/NF-κB" needs every part; two --pathway flags are OR.
        groups, described = [], []
        for value in filters.pathways:
            part_keys = []
            for part in (p.strip() for p in value.split("/")):
                if not part:
                    continue
                code = vocabs.pathways.lookup(part)
                key = term_key(code or part)
                if (
                    code is None
                    and not conn.execute(
                        "SELECT 1 FROM claim_pathway_parts WHERE key = ? LIMIT 1", (key,)
                    ).fetchone()
                ):
                    known = [r[0] for r in conn.execute("SELECT DISTINCT part FROM claim_pathway_parts")]
                    raise _unknown(vocabs.pathways, "--pathway", part, known)
                part_keys.append(key)
                described.append(code or part)
            groups.append(
                " AND ".join(
                    "EXISTS (SELECT 1 FROM claim_pathway_parts p WHERE p.claim_id = c.id AND p.key = ?)"
                    for _ in part_keys
                )
            )
            params.extend(part_keys)
        where.append("(" + " OR ".join(f"({g})" for g in groups) + ")")
        explanation.append(("pathway", " OR ".join(described)))
    if filters.models:
        clauses = []
        described = []
        for value in filters.models:
            column, values = _model_term(value)
            clauses.append(f"c.{column} IN ({','.join('?' * len(values))})")
            params.extend(values)
            described.append(f"{column} = {' OR '.join(values)}")
        where.append("(" + " OR ".join(clauses) + ")")
        explanation.append(("model", " OR ".join(described)))
    if filters.refs:
        in_list("r.number", filters.refs)
        explanation.append(("ref", " OR ".join(str(r) for r in filters.refs)))
    if filters.text:
        match = fts_query(filters.text)
        where.append("c.id IN (SELECT rowid FROM claims_fts WHERE claims_fts MATCH ?)")
        params.append(match)
        explanation.append(("text", match))
    sql = "FROM claims c LEFT JOIN refs r ON r.id = c.ref_id"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return Compiled(sql, params, explanation)


def _require(vocab: Vocabulary, option: str, value: str) -> str:
    code = vocab.lookup(value)
    if code is None:
        raise _unknown(vocab, option, value)
    return code


def _mirna_clause(mirna: MiRNA, params: list[Any]) -> str:
    clause = "(g.family = ?"
    params.append(mirna.family)
    for column, value in (("letter", mirna.letter), ("paralog", mirna.paralog), ("arm", mirna.arm)):
        if value is not None:
            clause += f" AND (g.{column} IS NULL OR g.{column} = ?)"
            params.append(value)
    return clause + ")"


def _model_term(value: str) -> tuple[str, tuple[str, ...]]:
    key = term_key(value)
    if key in MODEL_TERMS:
        return MODEL_TERMS[key]
    import difflib

    close = difflib.get_close_matches(key, list(MODEL_TERMS), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    known = "rat, mouse, human, clinical, in vivo, in vitro"
    raise UsageError(f"--model: unknown model {value!r}{hint} (known: {known})")


def fts_query(words: Sequence[str]) -> str:
    """User words become quoted FTS5 terms (AND); a trailing * keeps prefix search."""
    terms = []
    for chunk in words:
        for word in re.findall(r"[\w\-]+\*?", chunk):
            star = word.endswith("*")
            word = word.rstrip("*").replace('"', "")
            if word:
                terms.append(f'"{word}"' + ("*" if star else ""))
    if not terms:
        raise UsageError("--text: give at least one word")
    return " ".join(terms)


def fetch_claims(
    conn: sqlite3.Connection, compiled: Compiled, sort: str = "ref", limit: int | None = None
) -> list[dict[str, Any]]:
    order = SORT_KEYS.get(sort)
    if order is None:
        raise UsageError(f"--sort must be one of {', '.join(SORT_KEYS)}, not {sort!r}")
    sql = (
        "SELECT c.*, r.number AS ref_number, r.year AS ref_year, r.doi AS ref_doi, r.url AS ref_url,"
        " (SELECT family FROM ref_authors a WHERE a.ref_id = r.id ORDER BY position LIMIT 1)"
        " AS first_author " + compiled.sql + f" ORDER BY {order}"
    )
    params = list(compiled.params)
    if limit is not None:
        if limit < 1:
            raise UsageError("--limit must be at least 1")
        sql += " LIMIT ?"
        params.append(limit)
    rows = conn.execute(sql, params).fetchall()
    return attach_lists(conn, rows)


def attach_lists(conn: sqlite3.Connection, rows: Sequence[sqlite3.Row]) -> list[dict[str, Any]]:
    """Claim rows with their lists (cargo, effects, pathways, engineering) filled in."""
    claims: dict[int, dict[str, Any]] = {}
    for row in rows:
        first = row["first_author"]
        year = row["ref_year"]
        claims[row["id"]] = {
            "id": row["id"],
            "ref": row["ref_number"],
            "study": f"{first} {year}" if first and year else (first or ""),
            "year": year,
            "doi": row["ref_doi"],
            "section": row["section"],
            "source": row["source"],
            "source_wording": row["source_wording"],
            "cargo": [],
            "cargo_wording": [],
            "cargo_type": row["cargo_type"],
            "engineering": [],
            "pathways": [],
            "effects": [],
            "species": row["species"],
            "model": row["model"],
            "injury": row["injury"],
            "route": row["route"],
            "dose": row["dose"],
            "outcome": row["outcome"],
            "note": row["note"],
            "added_by": row["added_by"],
            "added_at": row["added_at"],
        }
    flags: dict[int, list[str]] = {}
    ref_numbers = sorted({c["ref"] for c in claims.values() if c["ref"] is not None})
    for start in range(0, len(ref_numbers), 900):
        chunk = ref_numbers[start : start + 900]
        for number, label in conn.execute(
            "SELECT r.number, u.label FROM ref_updates u JOIN refs r ON r.id = u.ref_id"
            f" WHERE r.number IN ({','.join('?' * len(chunk))}) ORDER BY u.type",
            chunk,
        ):
            flags.setdefault(number, []).append(label)
    for claim in claims.values():
        claim["flags"] = flags.get(claim["ref"], [])
    ids = list(claims)
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        marks = ",".join("?" * len(chunk))
        for claim_id, wording, name in conn.execute(
            f"SELECT claim_id, wording, name FROM claim_cargos WHERE claim_id IN ({marks})"
            " ORDER BY claim_id, position",
            chunk,
        ):
            claim = claims[claim_id]
            claim["cargo"].append(name)
            if not claim["cargo_wording"] or claim["cargo_wording"][-1] != wording:
                claim["cargo_wording"].append(wording)
        for table, column, key in (
            ("claim_effects", "effect", "effects"),
            ("claim_pathways", "pathway", "pathways"),
            ("claim_engineering", "term", "engineering"),
        ):
            for claim_id, value in conn.execute(
                f"SELECT claim_id, {column} FROM {table} WHERE claim_id IN ({marks})"  # fixed names
                " ORDER BY claim_id, position",
                chunk,
            ):
                claims[claim_id][key].append(value)
    return list(claims.values())


def model_label(claim: dict[str, Any]) -> str:
    parts = [p for p in (claim["species"], claim["model"]) if p and p != "not stated"]
    return ", ".join(parts) or "not stated"


class PhraseResult(NamedTuple):
    filters: Filters
    unknown: list[str]


def parse_phrase(conn: sqlite3.Connection, phrase: str, vocabs: Vocabs) -> PhraseResult:
    """'anti-inflammatory miRNAs from UCMSC' -> effect, cargo type and source filters.

    Longest runs of words are matched first against sources, effects, cargo types, models,
    pathways, miRNA names and known cargo names. Words left over are returned as unknown.
    """
    words = re.findall(r"[^\s,;]+", phrase.replace("’", "'"))
    words = [w.strip("\"'.?!()") for w in words]
    words = [w for w in words if w]
    filters = Filters()
    unknown: list[str] = []
    index = 0
    known_cargo: set[str] | None = None
    while index < len(words):
        matched = False
        for size in range(min(8, len(words) - index), 0, -1):
            chunk = " ".join(words[index : index + size])
            kind_value = _classify(chunk, vocabs)
            if kind_value is None and size == 1:
                if known_cargo is None:
                    known_cargo = {r[0] for r in conn.execute("SELECT DISTINCT key FROM claim_cargos")}
                if term_key(chunk) in known_cargo:
                    kind_value = ("cargos", chunk)
            if kind_value is not None:
                kind, value = kind_value
                target = getattr(filters, kind)
                if value not in target:
                    target.append(value)
                index += size
                matched = True
                break
        if not matched:
            word = words[index]
            if word.lower() not in STOP_WORDS:
                unknown.append(word)
            index += 1
    return PhraseResult(filters, unknown)


def _classify(chunk: str, vocabs: Vocabs) -> tuple[str, str] | None:
    candidates = [chunk]
    lowered = chunk.lower()
    for suffix in ("-derived", " derived", "-exos", "-exo", "-evs", "-ev", "s"):
        if lowered.endswith(suffix) and len(chunk) > len(suffix) + 1:
            candidates.append(chunk[: -len(suffix)])
    for candidate in candidates:
        for kind, vocab in (
            ("sources", vocabs.sources),
            ("effects", vocabs.effects),
            ("cargo_types", vocabs.cargo_types),
        ):
            code = vocab.lookup(candidate)
            if code is not None:
                return kind, code
        if term_key(candidate) in MODEL_TERMS:
            return "models", candidate
        code = vocabs.pathways.lookup(candidate)
        if code is not None:
            return "pathways", code
        parts = [p for p in candidate.split("/") if p]
        if len(parts) > 1 and all(vocabs.pathways.lookup(p) for p in parts):
            return "pathways", "/".join(str(vocabs.pathways.lookup(p)) for p in parts)
        mirna = parse_mirna(candidate)
        if mirna is not None:
            return "cargos", mirna.name
    return None
