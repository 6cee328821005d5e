"""Evidence queries: vocabulary-aware filters (and plain phrases) turned into indexed SQL."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from exocli.errors import UsageError
from exocli.fields import CLAIM_KEYS, MAX_INTEGER
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
TABLE_COLUMNS = ("id", "ref", "study", "source", "cargo", "pathways", "effects", "model")
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
    """Resolve every term through the vocabularies; unknown terms raise with suggestions.

    The most selective list filter (cargo, pathway, reference, text, effect: usually in that
    order) drives the query: its index gives the candidate claims, and every other filter
    is checked on those candidates by primary-key lookups.
    """
    where: list[tuple[str, list[Any]]] = []  # checks on the claim (and its reference) row
    source_codes: list[str] = []
    effect_codes: list[str] = []
    sets: list[tuple[int, str, list[Any], str, list[Any]]] = []  # (rank, driver, params, check, params)
    explanation: list[tuple[str, str]] = []

    def marks(values: Sequence[Any]) -> str:
        return ",".join("?" * len(values))

    if filters.sources:
        codes: list[str] = []
        for value in filters.sources:
            code = vocabs.sources.lookup(value)
            if code is None:
                raise _unknown(vocabs.sources, "--source", value)
            codes += [c for c in vocabs.sources.descendants(code) if c not in codes]
        where.append((f"c.source IN ({marks(codes)})", codes))
        source_codes = codes
        explanation.append(("source", " OR ".join(codes)))
    if filters.cargo_types:
        types = [_require(vocabs.cargo_types, "--cargo-type", v) for v in filters.cargo_types]
        where.append((f"c.cargo_type IN ({marks(types)})", types))
        explanation.append(("cargo type", " OR ".join(types)))
    if filters.effects:
        effects = [_require(vocabs.effects, "--effect", v) for v in filters.effects]
        effect_codes = effects
        sets.append(
            (
                4,
                f"SELECT claim_id AS id FROM claim_effects WHERE effect IN ({marks(effects)})",
                effects,
                "EXISTS (SELECT 1 FROM claim_effects e WHERE e.claim_id = c.id"
                f" AND e.effect IN ({marks(effects)}))",
                effects,
            )
        )
        explanation.append(("effect", " OR ".join(effects)))
    families: list[str] = []  # of the cargo filter, for the facet index
    if filters.cargos:
        clauses: list[str] = []
        cargo_params: list[Any] = []
        described = []
        for value in filters.cargos:
            mirna = parse_mirna(value)
            if mirna is not None:
                clauses.append(_mirna_clause(mirna, cargo_params))
                described.append(f"{mirna.name} (family {mirna.family}, compatible forms)")
                families.append(mirna.family)
                continue
            key = term_key(value)
            if not conn.execute("SELECT 1 FROM claim_cargos WHERE key = ? LIMIT 1", (key,)).fetchone():
                names = [r[0] for r in conn.execute("SELECT DISTINCT name FROM claim_cargos")]
                import difflib

                close = difflib.get_close_matches(value, names, n=3, cutoff=0.5)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise UsageError(f"--cargo: unknown cargo {value!r}{hint}")
            clauses.append("g.key = ?")
            cargo_params.append(key)
            families.append(key)
            described.append(value)
        any_cargo = " OR ".join(clauses)
        sets.append(
            (
                0,
                f"SELECT g.claim_id AS id FROM claim_cargos g WHERE {any_cargo}",
                cargo_params,
                f"EXISTS (SELECT 1 FROM claim_cargos g WHERE g.claim_id = c.id AND ({any_cargo}))",
                cargo_params,
            )
        )
        explanation.append(("cargo", " OR ".join(described)))
    if filters.pathways:
        # "TLR4/NF-κB" needs every part; two --pathway flags are OR.
        groups: list[list[str]] = []
        described = []
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
            groups.append(part_keys)
        firsts = [group[0] for group in groups]
        check = " OR ".join(
            "("
            + " AND ".join(
                "EXISTS (SELECT 1 FROM claim_pathway_parts p WHERE p.claim_id = c.id AND p.key = ?)"
                for _ in group
            )
            + ")"
            for group in groups
        )
        sets.append(
            (
                1,
                f"SELECT claim_id AS id FROM claim_pathway_parts WHERE key IN ({marks(firsts)})",
                firsts,
                f"({check})",
                [key for group in groups for key in group],
            )
        )
        explanation.append(("pathway", " OR ".join(described)))
    if filters.models:
        model_clauses = []
        model_params: list[Any] = []
        described = []
        for value in filters.models:
            column, values = _model_term(value)
            model_clauses.append(f"c.{column} IN ({marks(values)})")
            model_params.extend(values)
            described.append(f"{column} = {' OR '.join(values)}")
        where.append(("(" + " OR ".join(model_clauses) + ")", model_params))
        explanation.append(("model", " OR ".join(described)))
    if filters.refs:
        # a number past SQLite's range matches nothing (and cannot be bound as a parameter)
        numbers = [n for n in filters.refs if -MAX_INTEGER <= n <= MAX_INTEGER] or [0]
        sets.append(
            (
                2,
                "SELECT id FROM claims WHERE ref_id IN"
                f" (SELECT id FROM refs WHERE number IN ({marks(numbers)}))",
                numbers,
                f"r.number IN ({marks(numbers)})",
                numbers,
            )
        )
        explanation.append(("ref", " OR ".join(str(r) for r in numbers)))
    if filters.text:
        match = fts_query(filters.text)
        fts = "SELECT rowid AS id FROM claims_fts WHERE claims_fts MATCH ?"
        sets.append((3, fts, [match], f"c.id IN ({fts})", [match]))
        explanation.append(("text", match))
    if source_codes and effect_codes and families:
        # source x effect x cargo family: one range of the facet index gives the candidates
        facet_params = [*source_codes, *effect_codes, *families]
        sets.append(
            (
                -1,
                f"SELECT claim_id AS id FROM claim_facets WHERE source IN ({marks(source_codes)})"
                f" AND effect IN ({marks(effect_codes)}) AND family IN ({marks(families)})",
                facet_params,
                "1",
                [],
            )
        )
    params: list[Any] = []
    sql = (
        "FROM claims c LEFT JOIN refs r ON r.id = c.ref_id"
        " LEFT JOIN ref_authors a0 ON a0.ref_id = c.ref_id AND a0.position = 0"
    )
    if sets:
        sets.sort(key=lambda item: item[0])
        rank, driver, driver_params, check, check_params = sets.pop(0)
        if rank == 1:  # a pathway driver holds one part per axis: still check every part
            sets.append((rank, driver, driver_params, check, check_params))
        # CROSS JOIN keeps this order: the driver's candidates first, then their claim rows
        sql = (
            f"FROM (SELECT DISTINCT id FROM ({driver})) AS pick CROSS JOIN claims c"
            + sql[len("FROM claims c") :]
        )
        params += driver_params
        where.insert(0, ("c.id = pick.id", []))
    for _, _, _, check, check_params in sets:
        where.append((check, check_params))
    if where:
        sql += " WHERE " + " AND ".join(clause for clause, _ in where)
        for _, clause_params in where:
            params += clause_params
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


# Each list comes back joined by the unit separator from a correlated subquery: one SQL
# statement per query, each list an index lookup on (claim_id, position).
_LISTS_SQL = (
    "(SELECT group_concat(name, char(31)) FROM (SELECT name FROM claim_cargos WHERE claim_id = c.id"
    " ORDER BY position)) AS cargo_names,"
    " (SELECT group_concat(wording, char(31)) FROM (SELECT DISTINCT wording FROM claim_cargos"
    " WHERE claim_id = c.id ORDER BY position)) AS cargo_wordings,"
    " (SELECT group_concat(effect, char(31)) FROM (SELECT effect FROM claim_effects WHERE claim_id = c.id"
    " ORDER BY position)) AS effect_list,"
    " (SELECT group_concat(pathway, char(31)) FROM (SELECT pathway FROM claim_pathways WHERE claim_id = c.id"
    " ORDER BY position)) AS pathway_list,"
    " (SELECT group_concat(term, char(31)) FROM (SELECT term FROM claim_engineering WHERE claim_id = c.id"
    " ORDER BY position)) AS engineering_list,"
    " (SELECT group_concat(label, char(31)) FROM (SELECT label FROM ref_updates WHERE ref_id = c.ref_id"
    " ORDER BY type)) AS flag_list"
)


_CLAIM_FIELDS = (
    "section", "source", "source_wording", "cargo_type", "species", "model", "injury", "route", "dose",
    "outcome", "note", "added_by", "added_at",
)  # fmt: skip


def fetch_claims(
    conn: sqlite3.Connection, compiled: Compiled, sort: str = "ref", limit: int | None = None
) -> list[dict[str, Any]]:
    order = SORT_KEYS.get(sort)
    if order is None:
        raise UsageError(f"--sort must be one of {', '.join(SORT_KEYS)}, not {sort!r}")
    columns = ", ".join(f"c.{name}" for name in _CLAIM_FIELDS)
    sql = (
        f"SELECT c.id, r.number, r.year, r.doi, a0.family, {columns}, {_LISTS_SQL} "
        + compiled.sql
        + f" ORDER BY {order}"
    )
    params = list(compiled.params)
    if limit is not None:
        if limit < 1:
            raise UsageError("--limit must be at least 1")
        sql += " LIMIT ?"
        params.append(min(limit, MAX_INTEGER))  # a limit past every row is no limit
    cursor = conn.execute(sql, params)
    cursor.row_factory = None  # plain tuples: much cheaper than sqlite3.Row on big results
    return [_claim_dict(row) for row in cursor]


def _split(text: str | None) -> list[str]:
    # group_concat with the unit separator (claim text never holds control characters)
    return text.split("\x1f") if text else []


def _claim_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    claim_id, number, year, doi, first = row[:5]
    claim = dict(zip(_CLAIM_FIELDS, row[5:18], strict=True))
    cargo, wording, effects, pathways, engineering, flags = (_split(v) for v in row[18:24])
    return {
        "id": claim_id,
        "ref": number,
        "study": f"{first} {year}" if first and year else (first or ""),
        "year": year,
        "doi": doi,
        "section": claim["section"],
        "source": claim["source"],
        "source_wording": claim["source_wording"],
        "cargo_type": claim["cargo_type"],
        "cargo": cargo,
        "cargo_wording": wording,
        "engineering": engineering,
        "pathways": pathways,
        "effects": effects,
        "species": claim["species"],
        "model": claim["model"],
        "injury": claim["injury"],
        "route": claim["route"],
        "dose": claim["dose"],
        "outcome": claim["outcome"],
        "note": claim["note"],
        "added_by": claim["added_by"],
        "added_at": claim["added_at"],
        "flags": flags,
    }


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
