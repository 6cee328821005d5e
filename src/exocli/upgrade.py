"""`exocli upgrade`: a format-1 workspace converted to one file per study, nothing lost.

Format 1 kept the review's numbered list in one file, every claim in db/claims.toml
(citing a list number) and the citation keys in refs/citekeys.tsv (key per DOI or text
hash). The readers of that layout live here and nowhere else: every other command needs
the current record (Workspace.check_current).
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from exocli.errors import DataError, ExocliError
from exocli.evidence import Claim, Vocabularies, validate_claim
from exocli.fields import CLAIM_KEYS
from exocli.reflists import parse_reference_list
from exocli.refparse import ParsedReference, doi_key
from exocli.studies import KEY_PATTERN, Study, new_key
from exocli.workspace import CONFIG_NAME, DEFAULT_REFERENCES, RECORD_FORMAT, Workspace, check_config

_KEYS = frozenset(CLAIM_KEYS)
_JSON_STARTS = frozenset('"[-0123456789')


@dataclass
class UpgradeResult:
    references: int
    claims: int
    backup: Path
    renamed_keys: list[tuple[str, str]] = field(default_factory=list)  # (format-1 key, study key)
    removed: list[str] = field(default_factory=list)  # the format-1 files, now in the backup


def upgrade_workspace(ws: Workspace) -> UpgradeResult:
    """Convert the record under the workspace lock; text and database together, or neither."""
    from exocli.db import connect, database_path
    from exocli.records import workspace_lock
    from exocli.store import Snapshot, load_vocabularies, rebuild

    if ws.record_format >= RECORD_FORMAT:
        raise ExocliError(f"{ws.root} already keeps its record in format {RECORD_FORMAT}; nothing to upgrade")
    if database_path(ws) != ws.db_path:
        raise ExocliError(f"the workspace {ws.root} is read-only; upgrade a copy you can write to")
    with workspace_lock(ws):
        vocabs = load_vocabularies(ws)
        references = read_legacy_references(ws)
        numbers = {ref.number for ref in references if ref.number is not None}
        claims = load_legacy_claims(ws.legacy_claims_path, vocabs, numbers, ws)
        keys, renamed = study_keys(ws, references)
        studies = []
        for ref in sorted(references, key=lambda r: r.number or 0):
            cited = sorted((c for c in claims if c.ref == ref.number), key=lambda c: c.id)
            studies.append(Study(keys[ref.number], ref, cited))
        order: list[str | None] = [None] * max(numbers, default=0)
        for study in studies:
            assert study.number is not None
            order[study.number - 1] = study.key
        new_config_text = upgraded_config(ws)
        new_ws = Workspace(ws.root, tomllib.loads(new_config_text))
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        backup = ws.backup_dir / f"format-1-{stamp}"
        old_files = [
            path
            for path in (
                ws.root / CONFIG_NAME,
                ws.references_path,
                ws.legacy_citekeys_path,
                ws.legacy_claims_path,
            )
            if path.exists()
        ]
        texts: dict[Path, str | None] = {}
        for path in old_files:
            texts[backup / ws.relative(path)] = path.read_text(encoding="utf-8")
            texts[path] = None
        from exocli.store import Change

        texts.update(Change(studies={s.key: s for s in studies}, order=order).texts(new_ws))
        texts[ws.root / CONFIG_NAME] = new_config_text
        conn = connect(ws.db_path)
        try:
            rebuild(new_ws, conn, Snapshot(studies, vocabs), texts=texts, discard_external=False)
        finally:
            conn.close()
    removed = [ws.relative(p) for p in old_files if texts.get(p) is None]
    return UpgradeResult(len(studies), len(claims), backup, renamed, removed)


def upgraded_config(ws: Workspace) -> str:
    """exocli.toml with `format = 2` and the order file as `references` (comments kept)."""
    path = ws.root / CONFIG_NAME
    lines = path.read_text(encoding="utf-8").splitlines()
    out, section, placed = [], "", False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped
        key = stripped.split("=", 1)[0].strip() if "=" in stripped and not stripped.startswith("#") else ""
        if section == "[workspace]" and key == "format":
            continue
        if section == "[workspace]" and key == "references":
            out.append(f"format = {RECORD_FORMAT}")
            out.append(f'references = "{DEFAULT_REFERENCES}"')
            placed = True
            continue
        out.append(line)
    if not placed:  # check_config makes sure there is one
        raise ExocliError(f"{path}: no references = line in [workspace]")
    text = "\n".join(out) + "\n"
    check_config(ws.root, path, tomllib.loads(text))
    return text


def read_legacy_references(ws: Workspace) -> list[ParsedReference]:
    path = ws.references_path
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{ws.relative(path)}: cannot be read ({exc})") from exc
    if not text.strip():
        return []
    try:
        return parse_reference_list(text, ws.relative(path)).references
    except ValueError as exc:
        raise DataError(str(exc)) from exc


def study_keys(
    ws: Workspace, references: list[ParsedReference]
) -> tuple[dict[int | None, str], list[tuple[str, str]]]:
    """Every reference's key from refs/citekeys.tsv (new ones where it has none)."""
    stored = read_legacy_keys(ws)
    identities = legacy_identities(references)
    keys: dict[int | None, str] = {}
    renamed: list[tuple[str, str]] = []
    taken: list[str] = []
    for ref in sorted(references, key=lambda r: r.number or 0):
        key = stored.get(identities[ref.number])
        if key is not None and not KEY_PATTERN.match(key):
            # a format-1 key may hold ':', which is no part of a portable file name
            safe = re.sub(r"[^A-Za-z0-9_.\-]", "-", key)
            renamed.append((key, safe))
            key = safe
        if key is None or key.casefold() in {k.casefold() for k in taken}:
            key = new_key(ref, taken + list(stored.values()))
        keys[ref.number] = key
        taken.append(key)
    return keys, renamed


def legacy_identities(references: list[ParsedReference]) -> dict[int | None, str]:
    """Format 1's identity per number: doi:DOI, else text:HASH; a repeat gets '#2', '#3'..."""
    seen: dict[str, int] = {}
    out: dict[int | None, str] = {}
    for ref in sorted(references, key=lambda r: r.number or 0):
        if ref.doi:
            ident = f"doi:{doi_key(ref.doi)}"
        else:
            ident = "text:" + hashlib.sha256(" ".join(ref.raw.split()).encode()).hexdigest()[:16]
        seen[ident] = seen.get(ident, 0) + 1
        out[ref.number] = ident if seen[ident] == 1 else f"{ident}#{seen[ident]}"
    return out


def read_legacy_keys(ws: Workspace) -> dict[str, str]:
    """{identity: key} from refs/citekeys.tsv (file line numbers in errors)."""
    path = ws.legacy_citekeys_path
    keys: dict[str, str] = {}
    if not path.exists():
        return keys
    seen: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        key, _, ident = line.partition("\t")
        if not ident or not re.match(r"^[A-Za-z][A-Za-z0-9_:.\-]{0,63}$", key):
            raise DataError(f"{ws.relative(path)}:{number}: expected 'key<TAB>identity', got {line[:60]!r}")
        if key.casefold() in seen:
            raise DataError(f"{ws.relative(path)}:{number}: key {key!r} repeats line {seen[key.casefold()]}")
        seen[key.casefold()] = number
        keys[ident] = key
    return keys


def read_legacy_claims_text(text: str, path: Path) -> dict[str, Any]:
    """db/claims.toml: exocli's own layout through json (fast), anything else via tomllib."""
    blocks: list[str] = []
    fields: list[str] = []
    fast = True
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        if line == "[[claim]]":
            if fields or blocks:
                blocks.append("{" + ",".join(fields) + "}")
            fields = []
            continue
        key, separator, value = line.partition(" = ")
        if not separator or key not in _KEYS or not value or value[0] not in _JSON_STARTS:
            fast = False
            break
        fields.append(f'"{key}":{value}')
    if fast:
        if fields:
            blocks.append("{" + ",".join(fields) + "}")
        try:
            claims = json.loads("[" + ",".join(blocks) + "]")
        except (json.JSONDecodeError, RecursionError):
            claims = None
        if isinstance(claims, list):
            return {"claim": claims}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path}: {exc}") from exc
    except RecursionError as exc:
        raise DataError(f"{path}: nested too deeply to be a claims file") from exc


def load_legacy_claims(path: Path, vocabs: Vocabularies, numbers: set[int], ws: Workspace) -> list[Claim]:
    """Every claim of db/claims.toml, validated; each must cite a reference of the list."""
    if not path.exists():
        return []
    where = ws.relative(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{where}: cannot be read ({exc})") from exc
    entries = read_legacy_claims_text(text, path).get("claim", [])
    if not isinstance(entries, list):
        raise DataError(f"{where}: 'claim' must be an array of tables ([[claim]])")
    headers = [n for n, line in enumerate(text.splitlines(), 1) if line.strip() == "[[claim]]"]
    claims: list[Claim] = []
    seen: dict[int, int] = {}
    for position, entry in enumerate(entries):
        line = headers[position] if position < len(headers) else 0
        try:
            claim = validate_claim(entry, vocabs, numbers, record=True)
            if claim.ref is None:
                raise DataError("ref: the claim cites no reference; a study file needs one")
        except DataError as exc:
            raise DataError(
                f"{where}:{line}: claim {entry.get('id', '?')}: {exc}; fix it there, then upgrade"
            ) from exc
        if claim.id in seen:
            raise DataError(f"{where}:{line}: claim id {claim.id} repeats (first at line {seen[claim.id]})")
        seen[claim.id] = line
        claims.append(claim)
    return claims
