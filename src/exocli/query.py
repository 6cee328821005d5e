"""Evidence queries: vocabulary-aware filters (and plain phrases) turned into indexed SQL."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple

from exocli.errors import UsageError
from exocli.fields import CLAIM_KEYS, MAX_INTEGER, NOT_STATED, STATUSES
from exocli.mirna import MiRNA, parse_mirna
from exocli.vocab import VOCABS, Vocabulary, term_key, vocabulary_from_db

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
    "ontology_ids",
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
        "but",
    ]
)


# The filters that take vocabulary terms: Filters field -> the field's name in `--explain`,
# in `-x/--exclude FIELD=TERM` and (as --FIELD / --not-FIELD) in the options.
TERM_FIELDS = {
    "sources": "source",
    "effects": "effect",
    "cargos": "cargo",
    "cargo_types": "cargo-type",
    "pathways": "pathway",
    "models": "model",
    "injuries": "injury",
    "species": "species",
}
# The study-context filters: Filters field -> (vocabulary, its claim_terms rows' vocab).
CONTEXT_FILTERS = {"injuries": "injuries", "species": "species", "models": "models"}


@dataclass
class Filters:
    """What the user asked for; each list is OR, the lists combine with AND.

    The not_ lists are exclusions: a claim that has any term of one is left out.
    """

    sources: list[str] = field(default_factory=list)
    effects: list[str] = field(default_factory=list)
    cargos: list[str] = field(default_factory=list)
    cargo_types: list[str] = field(default_factory=list)
    pathways: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    injuries: list[str] = field(default_factory=list)
    species: list[str] = field(default_factory=list)
    refs: list[int] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    not_sources: list[str] = field(default_factory=list)
    not_effects: list[str] = field(default_factory=list)
    not_cargos: list[str] = field(default_factory=list)
    not_cargo_types: list[str] = field(default_factory=list)
    not_pathways: list[str] = field(default_factory=list)
    not_models: list[str] = field(default_factory=list)
    not_injuries: list[str] = field(default_factory=list)
    not_species: list[str] = field(default_factory=list)

    def merge(self, other: Filters) -> Filters:
        return Filters(
            **{
                item.name: getattr(self, item.name)
                + [v for v in getattr(other, item.name) if v not in getattr(self, item.name)]
                for item in fields(self)
            }
        )

    def describe(self) -> list[tuple[str, str]]:
        labels = (
            ("source", self.sources),
            ("effect", self.effects),
            ("cargo", self.cargos),
            ("cargo type", self.cargo_types),
            ("pathway", self.pathways),
            ("model", self.models),
            ("injury", self.injuries),
            ("species", self.species),
            ("ref", [str(r) for r in self.refs]),
            ("text", self.text),
        )
        described = [(name, " OR ".join(values)) for name, values in labels if values]
        for name, label in TERM_FIELDS.items():
            excluded = getattr(self, f"not_{name}")
            if excluded:
                described.append((label.replace("-", " "), _negated(excluded)))
        return described

    def is_empty(self) -> bool:
        return not any(v for _, v in self.describe())


EXPLAIN_TERMS = 16  # a term with more narrower terms than this is explained as "A OR B ... (N more)"
EXPLAIN_SHOWN = 12


def alternatives(values: Sequence[str]) -> str:
    """`--explain` of what a filter matches: every term, or, for a term of a large hierarchy
    (an ontology's), the first ones and how many more, so that one line stays readable."""
    if len(values) <= EXPLAIN_TERMS:
        return " OR ".join(values)
    return " OR ".join(values[:EXPLAIN_SHOWN]) + f" OR ... ({len(values) - EXPLAIN_SHOWN} more)"


def _negated(described: Sequence[str]) -> str:
    """`--explain` for an exclusion: "not ADSC", "not (ADSC OR BMSC)"."""
    if len(described) == 1 and " OR " not in described[0]:
        return f"not {described[0]}"
    return f"not ({alternatives(described)})"


class Vocabs(NamedTuple):
    # NamedTuple rather than dataclass: cheaper to define on the path of every query
    sources: Vocabulary
    effects: Vocabulary
    cargo_types: Vocabulary
    pathways: Vocabulary
    injuries: Vocabulary
    species: Vocabulary
    models: Vocabulary

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> Vocabs:
        return cls(*(vocabulary_from_db(conn, n) for n in VOCABS))


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


def compile_filters(
    conn: sqlite3.Connection, filters: Filters, vocabs: Vocabs, statuses: Sequence[str] = ("curated",)
) -> Compiled:
    """Resolve every term through the vocabularies; unknown terms raise with suggestions.

    `statuses`: the claims it may return; curated ones unless drafts (or rejected drafts)
    are asked for.

    The most selective list filter (cargo, pathway, reference, text, effect: usually in that
    order) drives the query: its index gives the candidate claims, and every other filter
    is checked on those candidates by primary-key lookups. Exclusions never drive: each is
    one more check on the candidates (a NOT IN on the claim row, or a NOT EXISTS on a link
    table by its primary key), so they add no scan of their own.
    """
    where: list[tuple[str, list[Any]]] = []  # checks on the claim (and its reference) row
    source_codes: list[str] = []
    effect_codes: list[str] = []
    sets: list[tuple[int, str, list[Any], str, list[Any]]] = []  # (rank, driver, params, check, params)
    exclusions: list[tuple[str, list[Any]]] = []  # checked last, on the candidates
    explanation: list[tuple[str, str]] = []

    if filters.sources:
        codes = _source_codes(vocabs, "--source", filters.sources)
        where.append((f"c.source IN ({_marks(codes)})", codes))
        source_codes = codes
        explanation.append(("source", alternatives(codes)))
    if filters.not_sources:
        codes = _source_codes(vocabs, "--not-source", filters.not_sources)
        exclusions.append((f"c.source NOT IN ({_marks(codes)})", codes))
        explanation.append(("source", _negated(codes)))
    if filters.cargo_types:
        types = _codes(vocabs.cargo_types, "--cargo-type", filters.cargo_types)
        where.append((f"c.cargo_type IN ({_marks(types)})", types))
        explanation.append(("cargo type", alternatives(types)))
    if filters.not_cargo_types:
        types = _codes(vocabs.cargo_types, "--not-cargo-type", filters.not_cargo_types)
        exclusions.append((f"c.cargo_type NOT IN ({_marks(types)})", types))
        explanation.append(("cargo type", _negated(types)))
    if filters.effects:
        effects = _codes(vocabs.effects, "--effect", filters.effects)
        effect_codes = effects
        sets.append(
            (
                4,
                f"SELECT claim_id AS id FROM claim_effects WHERE effect IN ({_marks(effects)})",
                effects,
                _EFFECT_CHECK.format(_marks(effects)),
                effects,
            )
        )
        explanation.append(("effect", alternatives(effects)))
    if filters.not_effects:
        effects = _codes(vocabs.effects, "--not-effect", filters.not_effects)
        exclusions.append((f"NOT {_EFFECT_CHECK.format(_marks(effects))}", effects))
        explanation.append(("effect", _negated(effects)))
    families: list[str] = []  # of the cargo filter, for the facet index
    if filters.cargos:
        cargo = _cargo_match(conn, "--cargo", filters.cargos)
        families = cargo.families
        sets.append(
            (
                0,
                f"SELECT g.claim_id AS id FROM claim_cargos g WHERE {cargo.clause}",
                cargo.params,
                _CARGO_CHECK.format(cargo.clause),
                cargo.params,
            )
        )
        explanation.append(("cargo", " OR ".join(cargo.described)))
    if filters.not_cargos:
        cargo = _cargo_match(conn, "--not-cargo", filters.not_cargos)
        exclusions.append((f"NOT {_CARGO_CHECK.format(cargo.clause)}", cargo.params))
        explanation.append(("cargo", _negated(cargo.described)))
    if filters.pathways:
        # "TLR4/NF-κB" needs every part; two --pathway flags are OR.
        groups, described = _pathway_groups(conn, vocabs, "--pathway", filters.pathways)
        firsts = [group[0] for group in groups]
        sets.append(
            (
                1,
                f"SELECT claim_id AS id FROM claim_pathway_parts WHERE key IN ({_marks(firsts)})",
                firsts,
                _pathway_check(groups),
                [key for group in groups for key in group],
            )
        )
        explanation.append(("pathway", alternatives(described)))
    if filters.not_pathways:
        groups, described = _pathway_groups(conn, vocabs, "--not-pathway", filters.not_pathways)
        exclusions.append((f"NOT {_pathway_check(groups)}", [key for group in groups for key in group]))
        explanation.append(("pathway", _negated(described)))
    for name in ("models", "injuries", "species"):
        label = TERM_FIELDS[name]
        for values, option, excluded in (
            (getattr(filters, name), f"--{label}", False),
            (getattr(filters, f"not_{name}"), f"--not-{label}", True),
        ):
            if not values:
                continue
            clause, context_params, described = _context_match(vocabs, name, option, values)
            if excluded:
                exclusions.append((f"NOT {clause}", context_params))
                explanation.append((label, _negated(described)))
            else:
                where.append((clause, context_params))
                explanation.append((label, alternatives(described)))
    if filters.refs:
        # a number past SQLite's range matches nothing (and cannot be bound as a parameter)
        numbers = [n for n in filters.refs if -MAX_INTEGER <= n <= MAX_INTEGER] or [0]
        sets.append(
            (
                2,
                "SELECT id FROM claims WHERE ref_id IN"
                f" (SELECT id FROM refs WHERE number IN ({_marks(numbers)}))",
                numbers,
                f"r.number IN ({_marks(numbers)})",
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
                f"SELECT claim_id AS id FROM claim_facets WHERE source IN ({_marks(source_codes)})"
                f" AND effect IN ({_marks(effect_codes)}) AND family IN ({_marks(families)})",
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
    where += exclusions
    unknown_status = [s for s in statuses if s not in STATUSES]
    if unknown_status:
        raise UsageError(f"unknown claim status {unknown_status[0]!r}; choose from {', '.join(STATUSES)}")
    if tuple(statuses) != STATUSES:
        where.append((f"c.status IN ({_marks(statuses)})", list(statuses)))
    if where:
        sql += " WHERE " + " AND ".join(clause for clause, _ in where)
        for _, clause_params in where:
            params += clause_params
    return Compiled(sql, params, explanation)


# A claim's link rows, found by its primary key (claim_id, ...): the checks on a candidate.
_EFFECT_CHECK = "EXISTS (SELECT 1 FROM claim_effects e WHERE e.claim_id = c.id AND e.effect IN ({}))"
_CARGO_CHECK = "EXISTS (SELECT 1 FROM claim_cargos g WHERE g.claim_id = c.id AND ({}))"
_PART_CHECK = "EXISTS (SELECT 1 FROM claim_pathway_parts p WHERE p.claim_id = c.id AND p.key = ?)"


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


def _codes(vocab: Vocabulary, option: str, values: Sequence[str]) -> list[str]:
    return [_require(vocab, option, value) for value in values]


def _source_codes(vocabs: Vocabs, option: str, values: Sequence[str]) -> list[str]:
    """Each source with every source below it: MSC is MSC, BMSC, UCMSC, ..."""
    codes: list[str] = []
    for value in values:
        code = _require(vocabs.sources, option, value)
        codes += [c for c in vocabs.sources.descendants(code) if c not in codes]
    return codes


class CargoMatch(NamedTuple):
    clause: str  # on claim_cargos g: any of the cargos
    params: list[Any]
    described: list[str]
    families: list[str]  # for the facet index


def _cargo_match(conn: sqlite3.Connection, option: str, values: Sequence[str]) -> CargoMatch:
    clauses: list[str] = []
    params: list[Any] = []
    described: list[str] = []
    families: list[str] = []
    for value in values:
        mirna = parse_mirna(value)
        if mirna is not None:
            clauses.append(_mirna_clause(mirna, params))
            described.append(f"{mirna.name} (family {mirna.family}, compatible forms)")
            families.append(mirna.family)
            continue
        key = term_key(value)
        if not conn.execute("SELECT 1 FROM claim_cargos WHERE key = ? LIMIT 1", (key,)).fetchone():
            names = [r[0] for r in conn.execute("SELECT DISTINCT name FROM claim_cargos")]
            import difflib

            close = difflib.get_close_matches(value, names, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UsageError(f"{option}: unknown cargo {value!r}{hint}")
        clauses.append("g.key = ?")
        params.append(key)
        families.append(key)
        described.append(value)
    return CargoMatch(" OR ".join(clauses), params, described, families)


def _pathway_groups(
    conn: sqlite3.Connection, vocabs: Vocabs, option: str, values: Sequence[str]
) -> tuple[list[list[str]], list[str]]:
    """Each value's part keys ("TLR4/NF-κB" -> two), and each value as described ("TLR4/NF-κB")."""
    groups: list[list[str]] = []
    described: list[str] = []
    for value in values:
        part_keys = []
        parts = []
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
                raise _unknown(vocabs.pathways, option, part, known)
            part_keys.append(key)
            parts.append(code or part)
        if not part_keys:
            raise UsageError(f"{option}: {value!r} names no pathway")
        groups.append(part_keys)
        described.append("/".join(parts))
    return groups, described


def _pathway_check(groups: Sequence[Sequence[str]]) -> str:
    """Any of the groups, each with every one of its parts."""
    check = " OR ".join("(" + " AND ".join(_PART_CHECK for _ in group) + ")" for group in groups)
    return f"({check})"


_TERM_CHECK = (
    "EXISTS (SELECT 1 FROM claim_terms t WHERE t.claim_id = c.id AND t.vocab = ? AND t.code IN ({}))"
)


def _context_match(
    vocabs: Vocabs, name: str, option: str, values: Sequence[str]
) -> tuple[str, list[Any], list[str]]:
    """Any of the values, each with every term below it (stroke: ischaemic stroke, ICH, ...).

    A --model value may name a species: the model vocabulary covers the whole study model,
    and `--model rat` has always meant rats."""
    clauses: list[str] = []
    params: list[Any] = []
    described: list[str] = []
    for value in values:
        vocab_name = CONTEXT_FILTERS[name]
        vocab: Vocabulary = getattr(vocabs, vocab_name)
        code = vocab.lookup(value)
        if code is None and name == "models" and vocabs.species.lookup(value) is not None:
            vocab_name, vocab, code = "species", vocabs.species, vocabs.species.lookup(value)
        if code is None:
            extra = list(vocabs.species.terms) if name == "models" else []
            raise _unknown(vocab, option, value, extra)
        codes = vocab.descendants(code)
        clauses.append(_TERM_CHECK.format(_marks(codes)))
        params += [vocab_name, *codes]
        shown = alternatives(codes)
        described.append(f"species {shown}" if vocab_name == "species" and name == "models" else shown)
    return "(" + " OR ".join(clauses) + ")", params, described


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
    "outcome", "note", "added_by", "added_at", "status", "manuscript", "paragraph", "sentence",
    "sentence_hash", "assignment", "from_context", "flag",
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
    claims = [_claim_dict(row) for row in cursor]
    if claims:
        ids = ontology_ids(conn)
        for claim in claims:
            claim["ontology_ids"] = claim_ontology_ids(claim, ids)
    return claims


# claim field -> the vocabulary its terms come from, in the order ontology_ids lists them
_TERM_VOCABS = (
    ("source", "sources"),
    ("cargo_type", "cargo-types"),
    ("effects", "effects"),
    ("injury", "injuries"),
    ("species", "species"),
    ("model", "models"),
)


def ontology_ids(conn: sqlite3.Connection) -> dict[tuple[str, str], str]:
    """(vocabulary, code) -> ontology id, for every term that has one."""
    return {
        (vocab, code): oid
        for vocab, code, oid in conn.execute(
            "SELECT vocab, code, ontology_id FROM vocab_terms WHERE ontology_id IS NOT NULL"
        )
    }


def claim_ontology_ids(claim: dict[str, Any], ids: dict[tuple[str, str], str]) -> dict[str, str]:
    """{term: ontology id} for the claim's terms that have one (source, cargo type, effects,
    injuries, species, models): CL, SO, GO, DOID/MeSH, NCBITaxon as the vocabularies give."""
    found: dict[str, str] = {}
    for key, vocab in _TERM_VOCABS:
        value = claim[key]
        for code in value if isinstance(value, list) else [value]:
            oid = ids.get((vocab, code))
            if oid is not None:
                found.setdefault(code, oid)
    return found


def _split(text: str | None) -> list[str]:
    # group_concat with the unit separator (claim text never holds control characters)
    return text.split("\x1f") if text else []


def _claim_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    claim_id, number, year, doi, first = row[:5]
    end = 5 + len(_CLAIM_FIELDS)
    claim = dict(zip(_CLAIM_FIELDS, row[5:end], strict=True))
    cargo, wording, effects, pathways, engineering, flags = (_split(v) for v in row[end : end + 6])
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
        "species": _context_list(claim["species"]),
        "model": _context_list(claim["model"]),
        "injury": _context_list(claim["injury"]),
        "route": claim["route"],
        "dose": claim["dose"],
        "outcome": claim["outcome"],
        "note": claim["note"],
        "added_by": claim["added_by"],
        "added_at": claim["added_at"],
        "flags": flags,
        "status": claim["status"],
        "location": draft_location(claim),
        "manuscript": claim["manuscript"],
        "paragraph": claim["paragraph"],
        "sentence": claim["sentence"],
        "sentence_hash": claim["sentence_hash"],
        "assignment": claim["assignment"],
        "from_context": claim["from_context"].split("; ") if claim["from_context"] else [],
        "flag": claim["flag"],
    }


def draft_location(claim: Mapping[str, Any]) -> str:
    """'review.md paragraph 12 sentence 3' for a claim read from a manuscript, else ''."""
    if not claim.get("manuscript"):
        return ""
    return f"{claim['manuscript']} paragraph {claim['paragraph']} sentence {claim['sentence']}"


def _context_list(text: str) -> list[str]:
    """The claims table's text of a study-context list (store.context_text) as the list."""
    return [] if text == NOT_STATED else text.split("; ")


def model_label(claim: dict[str, Any]) -> str:
    """Species and models in one cell: "rat, in vivo, MCAO"."""
    return ", ".join([*claim["species"], *claim["model"]]) or NOT_STATED


class PhraseResult(NamedTuple):
    filters: Filters
    unknown: list[str]


def parse_phrase(conn: sqlite3.Connection, phrase: str, vocabs: Vocabs) -> PhraseResult:
    """'anti-inflammatory miRNAs from UCMSC' -> effect, cargo type and source filters.

    Longest runs of words are matched first against sources, effects, cargo types, models,
    pathways, miRNA names and known cargo names. Words left over are returned as unknown.

    A negation ("not", "no", "without", "excluding", "except", "other than", ...) turns the
    term right after it into an exclusion. The exclusion runs on over "or" ("not ADSC or
    BMSC") and over "and" or a comma to a term of the same field ("excluding ADSC and
    BMSC"); any other term is an inclusion again ("not ADSC and angiogenesis"). An unknown
    word after a negation is an error, as an unknown term after --not-source is.
    """
    words = re.findall(r"[^\s,;]+", phrase.replace("’", "'"))
    words = [w.strip("\"'.?!()") for w in words]
    words = [w for w in words if w]
    filters = Filters()
    unknown: list[str] = []
    words_at = _PhraseWords(conn, words, vocabs)
    cue: str | None = None  # a negation still waiting for its term
    scope: str | None = None  # the field of the exclusion that the next term may continue
    joined = False  # "or" since the last excluded term
    index = 0
    while index < len(words):
        # a term of several words first ("not stated" is a cargo type), then a negation
        found = words_at.term(index, smallest=2)
        if found is None:
            size = _negation_at(words, index)
            if size:
                cue, scope = " ".join(words[index : index + size]), None
                index += size
                continue
            found = words_at.term(index, smallest=1)
        if found is not None:
            kind, value, size = found
            if cue is not None or (scope is not None and (joined or kind == scope)):
                target, scope = getattr(filters, f"not_{kind}"), kind
            else:
                target, scope = getattr(filters, kind), None
            if value not in target:
                target.append(value)
            cue, joined = None, False
            index += size
            continue
        word = words[index]
        index += 1
        if word.lower() == "or" and scope is not None:
            joined = True
        elif word.lower() in STOP_WORDS:
            continue
        elif cue is not None:
            raise _unknown_after(words_at, cue, word)
        else:
            unknown.append(word)
            scope = None
    if cue is not None:
        raise UsageError(f"phrase: nothing after {cue!r} to leave out")
    return PhraseResult(filters, unknown)


# Phrase words that make the term after them an exclusion; pairs are looked for first.
NEGATIONS = frozenset(
    [
        ("other", "than"),
        ("rather", "than"),
        ("apart", "from"),
        ("aside", "from"),
        ("not",),
        ("no",),
        ("neither",),
        ("nor",),
        ("without",),
        ("w/o",),
        ("excluding",),
        ("exclude",),
        ("except",),
        ("excepting",),
    ]
)


def _negation_at(words: Sequence[str], index: int) -> int:
    """How many words of a negation start at `index` (0: none)."""
    for size in (2, 1):
        if tuple(w.lower() for w in words[index : index + size]) in NEGATIONS:
            return size
    return 0


class _PhraseWords:
    """Runs of a phrase's words read as terms (the known cargo names fetched once, if needed)."""

    def __init__(self, conn: sqlite3.Connection, words: Sequence[str], vocabs: Vocabs) -> None:
        self.conn, self.words, self.vocabs = conn, words, vocabs
        self._cargo_keys: set[str] | None = None

    def cargo_keys(self) -> set[str]:
        if self._cargo_keys is None:
            self._cargo_keys = {r[0] for r in self.conn.execute("SELECT DISTINCT key FROM claim_cargos")}
        return self._cargo_keys

    def term(self, index: int, smallest: int) -> tuple[str, str, int] | None:
        """(Filters field, value, words used) for the longest run from `index`, or None."""
        for size in range(min(8, len(self.words) - index), smallest - 1, -1):
            chunk = " ".join(self.words[index : index + size])
            kind_value = _classify(chunk, self.vocabs)
            if kind_value is None and size == 1 and term_key(chunk) in self.cargo_keys():
                kind_value = ("cargos", chunk)
            if kind_value is not None:
                return (*kind_value, size)
        return None


def _unknown_after(words: _PhraseWords, cue: str, word: str) -> UsageError:
    """The error for a word after a negation that names no term, with the closest terms."""
    import difflib

    spellings: dict[str, str] = {}
    for vocab in words.vocabs:
        for term in vocab.terms.values():
            for spelling in (term.code, term.label, *term.synonyms):
                spellings.setdefault(term_key(spelling), term.code)
    for (name,) in words.conn.execute("SELECT DISTINCT name FROM claim_cargos"):
        spellings.setdefault(term_key(name), name)
    # closest first; among equally close, the vocabularies' order (sources first), not
    # difflib's reverse-alphabetical tie-break
    matcher = difflib.SequenceMatcher(b=term_key(word))
    scored = []
    for position, key in enumerate(spellings):
        matcher.set_seq1(key)
        if matcher.real_quick_ratio() >= 0.6 and matcher.quick_ratio() >= 0.6 and matcher.ratio() >= 0.6:
            scored.append((-matcher.ratio(), position, key))
    suggestions = list(dict.fromkeys(spellings[key] for _, _, key in sorted(scored)))[:3]
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
    return UsageError(f"phrase: unknown term {word!r} after {cue!r}{hint}")


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
            ("injuries", vocabs.injuries),
            ("species", vocabs.species),
            ("models", vocabs.models),
        ):
            code = vocab.lookup(candidate)
            if code is not None:
                return kind, code
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
