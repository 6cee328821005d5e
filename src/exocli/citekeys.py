"""Citation keys: made once per study (its file name, see studies.py), never silently changed.

A key is family name + year + first significant title word (liu2022dental); a key that is
taken gets a, b, c... Renumbering the list keeps every key: the key is the study's identity.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator

from exocli.errors import DataError
from exocli.refparse import ParsedReference

STOP_WORDS = frozenset(
    "a an the of on in and for to with by from at as is are via its into after using between "
    "toward towards through during under over versus vs new novel".split()
)


_LETTERS = str.maketrans({"ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "œ": "oe", "ł": "l", "Ł": "L", "đ": "d"})
_NOT_KEY_CHARACTER = re.compile(r"[^a-z0-9]")
_WORD_BREAK = re.compile(r"[\s\-/:]+")


def ascii_fold(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    return decomposed.encode("ascii", "ignore").decode("ascii")


def _word(text: str) -> str:
    return _NOT_KEY_CHARACTER.sub("", ascii_fold(text).lower())


def _significant_words(text: str) -> Iterator[str]:
    for piece in _WORD_BREAK.split(text):
        word = _word(piece)
        if word and word not in STOP_WORDS:
            yield word


def base_key(ref: ParsedReference) -> str:
    """family name + year + first significant title word: liu2022dental."""
    # only the words the key needs are folded (an import of 10,000 references makes as many keys)
    title_words = _significant_words(ref.title or ref.raw)
    who = _word(ref.first_author or "") or next(title_words, "ref")
    word = next((w for w in title_words if not w.isdigit()), "")
    key = f"{who}{ref.year or 'nd'}{word}"
    return key if key[0].isalpha() else f"ref{key}"


def letter_suffix(index: int) -> str:
    """a, b, ..., z, aa, ab, ..."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def check_new_key(taken: Iterable[str], new_key: str) -> None:
    """A key a study may be given: well formed, and no other study's (case-insensitively)."""
    from exocli.studies import check_key

    check_key(new_key)
    if any(key.casefold() == new_key.casefold() for key in taken):
        raise DataError(f"key {new_key!r} is already used by another reference")
