"""The spelling matcher under the mention finder: a spelling is found as whole words, spaces
and hyphens between them alike, a plural "s"/"es" allowed, never inside a longer word."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from exocli.mentions import _SEPARATORS, Spellings, _squeezed

SPELLINGS = ("rat", "MSC", "stem cell", "cell", "es", "MCAO", "NF-κB")
WORD = "[A-Za-z0-9]"
SEPARATOR = "[" + "".join(re.escape(ch) for ch in sorted(_SEPARATORS)) + "]*"


def reference(text: str, spelling: str, ignore_case: bool) -> set[tuple[int, int]]:
    """(start, stop) of every place the rule allows, by a regular expression tried at each
    place: the spelling's characters with any separators between, a word boundary before,
    then nothing, "s" or "es" (the first that ends a word)."""
    squeezed = "".join(ch for ch in spelling if ch not in _SEPARATORS)
    body = SEPARATOR.join(re.escape(ch) for ch in squeezed)
    ending = rf"(?:(?!{WORD})|[sS](?!{WORD})|[eE][sS](?!{WORD}))"
    flags = re.IGNORECASE | re.ASCII if ignore_case else 0  # "ſ" is not an "s" here
    pattern = re.compile(rf"(?<!{WORD}){body}{ending}", flags)
    found = set()
    for start in range(len(text)):
        if text[start] in _SEPARATORS:
            continue
        match = pattern.match(text, start)
        if match:
            found.add((start, match.end()))
    return found


TEXT = st.lists(
    st.sampled_from([*SPELLINGS, "s", "es", "S", "x", "κ", "é", "1", " ", "-", "\u2013", "_", ".", "(", "ſ"]),
    max_size=14,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=TEXT, ignore_case=st.booleans())
def test_spellings_are_found_as_whole_words(text: str, ignore_case: bool) -> None:
    spellings = Spellings()
    for index, spelling in enumerate(SPELLINGS):
        spellings.add_spelling(f"t{index}", spelling, re.IGNORECASE if ignore_case else 0)
    _squeezed.cache_clear()
    found = {(start, stop, code) for start, _, stop, code in spellings._spelled(text)}
    expected = {
        (start, stop, f"t{index}")
        for index, spelling in enumerate(SPELLINGS)
        for start, stop in reference(text, spelling, ignore_case)
    }
    assert found == expected
