"""Reference numbers as a command line writes them: `43,44,40-45`.

Light on purpose (no import beyond the standard library and exocli.errors): the option type
of every command that takes reference numbers parses its value with this before the command
runs.
"""

from __future__ import annotations

import re

from exocli.errors import UsageError

MAX_RANGE = 100_000  # a slip (1-99999999) must never become a list that fills the memory

MAX_NUMBER = 10**9  # beyond any list; also beyond what a query may bind

_RANGE = re.compile(r"(\d+)\s*[-–]\s*(\d+)", re.ASCII)  # 40-45, also with the en dash a paper prints


def parse_ref_list(text: str | None) -> list[int]:
    """`43,44,40-45` -> [43, 44, 40, 41, 42, 45]: each number once, in the order first given.

    A piece that is not a number or a range, a range that runs backwards, a number below 1 or
    a value with no number at all is a UsageError that names the piece.
    """
    if text is None:
        return []
    numbers: dict[int, None] = {}
    for raw in text.split(","):
        piece = raw.strip()
        if not piece:
            continue  # `43,,44` and a trailing comma are only untidy
        span = _RANGE.fullmatch(piece)
        if span:
            low, high = int(span[1]), int(span[2])
            if low < 1:
                raise UsageError(f"{piece!r}: reference numbers start at 1")
            if high < low:
                raise UsageError(f"{piece!r} runs backwards (write {high}-{low})")
            if high > MAX_NUMBER:
                raise UsageError(f"{piece!r}: {high} is too large to be a reference number")
            if high - low >= MAX_RANGE:
                raise UsageError(f"the range {piece!r} spans more than {MAX_RANGE} references")
            numbers.update(dict.fromkeys(range(low, high + 1)))
        elif piece.isascii() and piece.isdigit():
            number = int(piece)
            if number < 1:
                raise UsageError(f"{piece!r}: reference numbers start at 1")
            if number > MAX_NUMBER:
                raise UsageError(f"{piece!r} is too large to be a reference number")
            numbers[number] = None
        else:
            raise UsageError(f"{piece!r} is not a reference number (write e.g. 43,44 or 40-45)")
    if not numbers:
        raise UsageError(f"{text!r} holds no reference number (write e.g. 43,44 or 40-45)")
    return list(numbers)
