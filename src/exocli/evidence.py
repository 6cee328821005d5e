"""Evidence claims: what one claim holds, and its validation against the vocabularies."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from exocli.errors import DataError
from exocli.fields import (
    CLAIM_KEYS,
    CONTEXT_KEYS,
    DRAFT_KEYS,
    LIST_KEYS,
    MAX_INTEGER,
    NOT_STATED,
    RECORD_KEYS,
    REQUIRED_KEYS,
    STATUSES,
)
from exocli.mirna import parse_mirna, split_mirnas
from exocli.vocab import Vocabulary, term_key

TEXT_KEYS = tuple(k for k in CLAIM_KEYS if k not in LIST_KEYS and k not in ("id", "ref"))


@dataclass
class Cargo:
    wording: str
    name: str
    family: str | None = None
    letter: str | None = None
    paralog: str | None = None
    arm: str | None = None

    @property
    def key(self) -> str:
        return term_key(self.name)


@dataclass
class PathwayPart:
    part: str  # canonical spelling when the vocabulary knows it
    key: str


@dataclass
class Claim:
    id: int
    ref: int | None
    source: str
    cargo_type: str
    effects: list[str]
    section: str = ""
    source_wording: str = ""
    cargo: list[Cargo] = field(default_factory=list)
    engineering: list[str] = field(default_factory=list)
    pathways: list[str] = field(default_factory=list)
    species: list[str] = field(default_factory=list)
    model: list[str] = field(default_factory=list)
    injury: list[str] = field(default_factory=list)
    route: str = NOT_STATED
    dose: str = NOT_STATED
    outcome: str = NOT_STATED
    note: str = ""
    added_by: str = ""
    added_at: str = ""
    status: str = "curated"
    manuscript: str = ""
    paragraph: int | None = None
    sentence: int | None = None
    sentence_hash: str = ""
    assignment: str = ""
    from_context: list[str] = field(default_factory=list)
    flag: str = ""

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"

    def pathway_parts(self, pathways: Vocabulary) -> list[PathwayPart]:
        return pathway_parts(self.pathways, pathways)


def make_cargo(wording: str) -> list[Cargo]:
    """One written cargo can name several miRNAs ('miR-199a-3p/145-5p')."""
    cargos = []
    for piece in split_mirnas(wording):
        mirna = parse_mirna(piece)
        if mirna is None:
            cargos.append(Cargo(wording=wording, name=piece.strip()))
        else:
            cargos.append(Cargo(wording, mirna.name, mirna.family, mirna.letter, mirna.paralog, mirna.arm))
    return cargos


def pathway_parts(pathways: Sequence[str], vocab: Vocabulary) -> list[PathwayPart]:
    """Split 'TLR4/NF-κB' into searchable parts; miRNAs in an axis belong to cargo, not here."""
    parts: dict[str, PathwayPart] = {}
    for axis in pathways:
        for piece in axis.split("/"):
            piece = piece.strip()
            if not piece or parse_mirna(piece) is not None:
                continue
            code = vocab.lookup(piece)
            canonical = code if code is not None else piece
            parts.setdefault(term_key(canonical), PathwayPart(canonical, term_key(canonical)))
    return list(parts.values())


@dataclass
class Vocabularies:
    sources: Vocabulary
    effects: Vocabulary
    cargo_types: Vocabulary
    pathways: Vocabulary
    injuries: Vocabulary
    species: Vocabulary
    models: Vocabulary

    def by_name(self, name: str) -> Vocabulary:
        vocab: Vocabulary = getattr(self, name.replace("-", "_"))
        return vocab

    def for_field(self, key: str) -> Vocabulary:
        """The vocabulary of a study-context field (species, model, injury)."""
        return self.by_name(CONTEXT_VOCABS[key])


# claim field -> the vocabulary its codes come from
CONTEXT_VOCABS = {"species": "species", "model": "models", "injury": "injuries"}
# What a record written before models were a vocabulary may hold, and the models it means.
_LEGACY_MODELS = {"in vivo and in vitro": ["in vivo", "in vitro"]}


def validate_claim(
    entry: Mapping[str, Any], vocabs: Vocabularies, ref_numbers: set[int] | None, record: bool = False
) -> Claim:
    """Check one claim record and return it with codes normalised. Raises DataError(field: reason).

    `record`: the entry is read from the workspace's record, which may hold species, model or
    injury as the free text of before they were vocabularies (see legacy_context). Anything
    else (an import, a command's options) gives terms: a text is `;`-separated terms, as in a
    CSV cell, and an unknown one is refused."""
    unknown = [key for key in entry if key not in RECORD_KEYS]
    if unknown:
        raise DataError(f"unknown field {unknown[0]!r}")
    for key in REQUIRED_KEYS:
        if key not in entry:
            raise DataError(f"missing field {key!r}")
    claim_id = entry["id"]
    if not isinstance(claim_id, int) or isinstance(claim_id, bool) or not 1 <= claim_id <= MAX_INTEGER:
        raise DataError(f"id: must be a positive whole number (at most {MAX_INTEGER}), got {claim_id!r}")
    ref = entry.get("ref")
    if ref is not None:
        if not isinstance(ref, int) or isinstance(ref, bool) or not 1 <= ref <= MAX_INTEGER:
            raise DataError(f"ref: must be a reference number, got {ref!r}")
        if ref_numbers is not None and ref not in ref_numbers:
            raise DataError(f"ref: reference {ref} is not in the reference list")
    for key in TEXT_KEYS:
        if key in entry and not isinstance(entry[key], str):
            raise DataError(f"{key}: must be text, got {entry[key]!r}")
        if key in entry and _CONTROL.search(entry[key]):
            raise DataError(f"{key}: control characters are not allowed")
    if record and any(isinstance(entry.get(key), str) for key in CONTEXT_KEYS):
        entry = legacy_context(entry, vocabs)
    context = {key: _context_codes(vocabs, key, entry.get(key, [])) for key in CONTEXT_KEYS}
    for key in LIST_KEYS:
        if key in CONTEXT_KEYS:
            continue
        value = entry.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise DataError(f"{key}: must be a list of non-empty strings")
        if any(_CONTROL.search(v) for v in value):
            raise DataError(f"{key}: control characters are not allowed")
    source = _code(vocabs.sources, "source", entry["source"])
    cargo_type = _code(vocabs.cargo_types, "cargo_type", entry["cargo_type"])
    effects = []
    for effect in entry["effects"]:
        code = _code(vocabs.effects, "effects", effect)
        if code not in effects:
            effects.append(code)
    if not effects:
        raise DataError("effects: at least one effect is needed")
    cargo = [item for wording in entry.get("cargo", []) for item in make_cargo(wording)]
    drafted = _draft_fields(entry)
    return Claim(
        id=claim_id,
        ref=ref,
        source=source,
        cargo_type=cargo_type,
        effects=effects,
        cargo=cargo,
        engineering=list(entry.get("engineering", [])),
        pathways=list(entry.get("pathways", [])),
        species=context["species"],
        model=context["model"],
        injury=context["injury"],
        **{key: entry[key] for key in TEXT_KEYS if key in entry and key not in ("source", "cargo_type")},
        **drafted,
    )


def _draft_fields(entry: Mapping[str, Any]) -> dict[str, Any]:
    """status, and where a draft was read (see fields.DRAFT_KEYS); CSV cells come as text."""
    found: dict[str, Any] = {}
    for key in DRAFT_KEYS:
        value = entry.get(key)
        if value is None or value == "" or value == []:
            continue
        if key in ("paragraph", "sentence"):
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_INTEGER:
                raise DataError(f"{key}: must be a positive whole number, got {value!r}")
        elif key == "from_context":
            if isinstance(value, str):
                value = [v.strip() for v in value.split(";") if v.strip()]
            if not isinstance(value, list) or not all(isinstance(v, str) and v in CLAIM_KEYS for v in value):
                raise DataError(f"from_context: must be a list of claim fields, got {value!r}")
        else:
            if not isinstance(value, str):
                raise DataError(f"{key}: must be text, got {value!r}")
            if _CONTROL.search(value):
                raise DataError(f"{key}: control characters are not allowed")
            if key == "status" and value not in STATUSES:
                raise DataError(f"status: must be one of {', '.join(STATUSES)}, not {value!r}")
            if key == "sentence_hash" and not re.fullmatch(r"[0-9a-f]{16}", value):
                raise DataError(f"sentence_hash: must be 16 hexadecimal digits, got {value!r}")
        found[key] = value
    return found


def legacy_context(entry: Mapping[str, Any], vocabs: Vocabularies) -> dict[str, Any]:
    """A claim written before species, model and injury were vocabularies, where one holds
    free text (`injury = "complete subacute SCI"`): the terms it names become the list, and
    text that is not wholly terms is kept, word for word, at the end of the note."""
    converted = dict(entry)
    kept: list[str] = []
    for key in CONTEXT_KEYS:
        value = entry.get(key)
        if not isinstance(value, str):
            continue
        vocab = vocabs.for_field(key)
        codes: list[str] = []
        for part in (p.strip() for p in value.split(";")):
            if not part or term_key(part) == term_key(NOT_STATED):
                continue
            whole = vocab.lookup(part)
            legacy = _LEGACY_MODELS.get(part.casefold()) if key == "model" else None
            if legacy is not None:
                found = legacy
            elif whole is not None:
                found = [whole]
            else:
                found = named_terms(part, vocab)
                kept.append(f"{key} as first recorded: {part}")
            codes += [code for code in found if code not in codes]
        converted[key] = codes
    if kept:
        note = str(entry.get("note", "")).strip()
        converted["note"] = " ".join([note, *(f"[{k}]" for k in kept)]).strip()
    return converted


def named_terms(text: str, vocab: Vocabulary) -> list[str]:
    """The terms a free text names as whole runs of its words, longest first."""
    words = re.findall(r"[^\s,()]+", text)
    codes: list[str] = []
    index = 0
    while index < len(words):
        for size in range(min(6, len(words) - index), 0, -1):
            code = vocab.lookup(" ".join(words[index : index + size]))
            if code is not None:
                if code not in codes:
                    codes.append(code)
                index += size
                break
        else:
            index += 1
    return codes


def _context_codes(vocabs: Vocabularies, key: str, value: Any) -> list[str]:
    """A study-context field as codes: a list of terms, or (as records before lists held,
    and CSV cells) one text, `;`-separated; "not stated" or nothing is the empty list."""
    if isinstance(value, str):
        if _CONTROL.search(value):
            raise DataError(f"{key}: control characters are not allowed")
        items = [part.strip() for part in value.split(";")]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = [v.strip() for v in value]
    else:
        raise DataError(f"{key}: must be a list of terms, got {value!r}")
    vocab = vocabs.for_field(key)
    codes: list[str] = []
    for item in items:
        if not item or term_key(item) == term_key(NOT_STATED):
            continue
        if _CONTROL.search(item):
            raise DataError(f"{key}: control characters are not allowed")
        legacy = _LEGACY_MODELS.get(item.casefold()) if key == "model" else None
        for text in legacy or [item]:
            code = vocab.lookup(text)
            if code is None:
                hint = f"; add it with `exocli vocab add {vocab.name} CODE --label LABEL`"
                raise DataError(f"{key}: {vocab.unknown_message(text)}{hint}")
            if code not in codes:
                codes.append(code)
    return codes


def _code(vocab: Vocabulary, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise DataError(f"{key}: must be text, got {value!r}")
    code = vocab.lookup(value)
    if code is None:
        raise DataError(f"{key}: {vocab.unknown_message(value)}")
    return code


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
