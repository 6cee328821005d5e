"""Citation keys: made once per reference, kept in refs/citekeys.tsv, never silently changed.

A key belongs to a reference's identity (its DOI, else its text), not to its number, so
renumbering the list keeps every key. Collisions get a, b, c... in reference-number order.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence

from exocli.errors import DataError, UsageError
from exocli.refparse import ParsedReference, doi_key
from exocli.workspace import Workspace

STOP_WORDS = frozenset(
    "a an the of on in and for to with by from at as is are via its into after using between "
    "toward towards through during under over versus vs new novel".split()
)
KEY_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_:.\-]{0,63}$")
HEADER = "# exocli citation keys: key<TAB>identity (doi:DOI or text:HASH of the reference)\n"


def ascii_fold(text: str) -> str:
    text = text.replace("ß", "ss").replace("ø", "o").replace("Ø", "O").replace("æ", "ae").replace("œ", "oe")
    text = text.replace("ł", "l").replace("Ł", "L").replace("đ", "d")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isascii())


def identity(ref: ParsedReference) -> str:
    if ref.doi:
        return f"doi:{doi_key(ref.doi)}"
    return "text:" + hashlib.sha256(" ".join(ref.raw.split()).encode()).hexdigest()[:16]


def identities(references: Sequence[ParsedReference]) -> dict[int | None, str]:
    """Identity per reference number; a repeated DOI or text gets '#2', '#3'... (the audit reports it)."""
    seen: dict[str, int] = {}
    out: dict[int | None, str] = {}
    for ref in sorted(references, key=lambda r: r.number or 0):
        ident = identity(ref)
        seen[ident] = seen.get(ident, 0) + 1
        out[ref.number] = ident if seen[ident] == 1 else f"{ident}#{seen[ident]}"
    return out


def _word(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", ascii_fold(text).lower())


def base_key(ref: ParsedReference) -> str:
    """family name + year + first significant title word: liu2022dental."""
    title_words = [_word(w) for w in re.split(r"[\s\-/:]+", ref.title or ref.raw)]
    title_words = [w for w in title_words if w and w not in STOP_WORDS]
    who = _word(ref.first_author or "") or (title_words.pop(0) if title_words else "ref")
    word = next((w for w in title_words if not w.isdigit()), "")
    key = f"{who}{ref.year or 'nd'}{word}"
    return key if key[0].isalpha() else f"ref{key}"


def read_keys(ws: Workspace) -> dict[str, str]:
    """{identity: key} from refs/citekeys.tsv (file line numbers in errors)."""
    path = ws.citekeys_path
    keys: dict[str, str] = {}
    if not path.exists():
        return keys
    seen: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        key, _, ident = line.partition("\t")
        if not ident or not KEY_PATTERN.match(key):
            raise DataError(f"{ws.relative(path)}:{number}: expected 'key<TAB>identity', got {line[:60]!r}")
        if key.casefold() in seen:
            raise DataError(f"{ws.relative(path)}:{number}: key {key!r} repeats line {seen[key.casefold()]}")
        seen[key.casefold()] = number
        keys[ident] = key
    return keys


def assign_keys(references: Sequence[ParsedReference], existing: dict[str, str]) -> dict[str, str]:
    """Keep every stored key; give each reference without one a new, unique key."""
    keys = dict(existing)
    taken = {key.casefold() for key in keys.values()}
    idents = identities(references)
    for ref in sorted(references, key=lambda r: r.number or 0):
        ident = idents[ref.number]
        if ident in keys:
            continue
        base = base_key(ref)
        candidate, suffix = base, 0
        while candidate.casefold() in taken:
            candidate = base + _suffix(suffix)
            suffix += 1
        keys[ident] = candidate
        taken.add(candidate.casefold())
    return keys


def _suffix(index: int) -> str:
    """a, b, ..., z, aa, ab, ..."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def format_keys(keys: dict[str, str], references: Iterable[ParsedReference]) -> str:
    """One line per key, in reference-number order (keys of removed references are kept last)."""
    order = {ident: number or 0 for number, ident in identities(list(references)).items()}
    items = sorted(keys.items(), key=lambda item: (item[0] not in order, order.get(item[0], 0), item[1]))
    return HEADER + "".join(f"{key}\t{ident}\n" for ident, key in items)


def check_new_key(keys: dict[str, str], ident: str, new_key: str) -> None:
    if not KEY_PATTERN.match(new_key):
        raise UsageError(
            f"{new_key!r} is not a usable key (a letter, then letters, digits or _ : . -; at most 64)"
        )
    for other_ident, key in keys.items():
        if other_ident != ident and key.casefold() == new_key.casefold():
            raise DataError(f"key {new_key!r} is already used by another reference")
