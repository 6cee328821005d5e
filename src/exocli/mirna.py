"""miRNA names the way miRBase writes them, and family matching.

"hsa-miR-146a-5p", "microRNA-216a-5p", "MiR-21", "miR146a" and "let-7b-5p" are
recognised; "miR-199a-3p/145-5p" is two miRNAs; "miR-17-92" is a cluster.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

# Species codes are three (sometimes four) lowercase letters: hsa-, mmu-, rno-, ...
_SPECIES = r"(?:[a-z]{3,4}-)?"
_MIR = re.compile(
    rf"^{_SPECIES}(?:micro\s*-?\s*rna|mirna|mir)\s*-?\s*(?P<number>\d+)(?P<letter>[a-z])?"
    r"(?:-(?P<paralog>\d+))?(?:-(?P<arm>[35]p))?$",
    re.IGNORECASE,
)
_LET = re.compile(
    rf"^{_SPECIES}let\s*-?\s*(?P<number>7)(?P<letter>[a-z])?(?:-(?P<paralog>\d+))?(?:-(?P<arm>[35]p))?$",
    re.IGNORECASE,
)
_CLUSTER = re.compile(
    rf"^{_SPECIES}(?:micro\s*-?\s*rna|mirna|mir)\s*-?\s*(?P<first>\d+)\s*[-~]\s*(?P<last>\d{{2,}})"
    r"(?:\s+cluster)?$",
    re.IGNORECASE,
)
_BARE_TAIL = re.compile(r"^(?P<number>\d+)(?P<letter>[a-z])?(?:-(?P<paralog>\d+))?(?:-(?P<arm>[35]p))?$")


@dataclass(frozen=True)
class MiRNA:
    """A parsed miRNA. `family` is "miR-21" or "let-7"; unset parts are None."""

    prefix: str  # "miR" or "let"
    number: str
    letter: str | None = None
    paralog: str | None = None
    arm: str | None = None
    cluster_end: str | None = None

    @property
    def family(self) -> str:
        if self.cluster_end:
            return f"{self.prefix}-{self.number}-{self.cluster_end}"
        return f"{self.prefix}-{self.number}"

    @property
    def name(self) -> str:
        if self.cluster_end:
            return f"{self.family} cluster"
        text = f"{self.prefix}-{self.number}{self.letter or ''}"
        if self.paralog:
            text += f"-{self.paralog}"
        if self.arm:
            text += f"-{self.arm}"
        return text

    def compatible(self, other: MiRNA) -> bool:
        """Same family, and no part that both name differs (miR-21 ~ miR-21a-5p; miR-125a !~ miR-125b)."""
        if self.family != other.family:
            return False
        return all(
            mine is None or theirs is None or mine == theirs
            for mine, theirs in (
                (self.letter, other.letter),
                (self.paralog, other.paralog),
                (self.arm, other.arm),
            )
        )


@functools.lru_cache(maxsize=65536)  # the same names recur across thousands of claims
def parse_mirna(text: str) -> MiRNA | None:
    value = " ".join(text.replace("\u2010", "-").replace("\u2011", "-").split())
    cluster = _CLUSTER.match(value)
    if cluster:
        return MiRNA("miR", cluster.group("first"), cluster_end=cluster.group("last"))
    for prefix, pattern in (("miR", _MIR), ("let", _LET)):
        match = pattern.match(value)
        if match:
            return MiRNA(
                prefix,
                match.group("number"),
                (match.group("letter") or "").lower() or None,
                match.group("paralog"),
                (match.group("arm") or "").lower() or None,
            )
    return None


def split_mirnas(text: str) -> list[str]:
    """'miR-199a-3p/145-5p' -> ['miR-199a-3p', 'miR-145-5p']; other text is returned as is."""
    parts = [part.strip() for part in text.split("/")]
    if len(parts) < 2 or parse_mirna(parts[0]) is None:
        return [text.strip()]
    first = parse_mirna(parts[0])
    assert first is not None
    names = [parts[0]]
    for part in parts[1:]:
        if parse_mirna(part):
            names.append(part)
        elif _BARE_TAIL.match(part):
            names.append(f"{first.prefix}-{part}")
        else:
            return [text.strip()]
    return names
