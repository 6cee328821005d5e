"""LaTeX-safe text for BibTeX: specials escaped, non-ASCII as LaTeX commands, and braces
on exactly the title words whose capitals must survive a bibliography style."""

from __future__ import annotations

import re
import unicodedata

# Braces are written as \textbraceleft{} / \textbraceright{} so that the field's braces stay
# balanced: BibTeX counts { and } even after a backslash.
SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta", "η": "eta",
    "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi",
    "π": "pi", "ρ": "rho", "σ": "sigma", "ς": "varsigma", "τ": "tau", "υ": "upsilon", "φ": "phi",
    "χ": "chi", "ψ": "psi", "ω": "omega", "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda",
    "Ξ": "Xi", "Π": "Pi", "Σ": "Sigma", "Υ": "Upsilon", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega",
    "µ": "mu",
}  # fmt: skip
SYMBOLS = {
    "–": "--", "—": "---", "‐": "-", "‑": "-", "‒": "--", "‘": "`", "’": "'", "‚": ",", "“": "``",
    "”": "''", "„": ",,", "…": r"\ldots{}", "\u00a0": "~", "\u2009": r"\,", "\u202f": r"\,",
    "±": r"$\pm$", "×": r"$\times$", "÷": r"$\div$", "°": r"$^{\circ}$", "≤": r"$\leq$",
    "≥": r"$\geq$", "→": r"$\rightarrow$", "←": r"$\leftarrow$", "↑": r"$\uparrow$",
    "↓": r"$\downarrow$", "∼": r"$\sim$", "≈": r"$\approx$", "′": "'", "″": "''", "·": r"$\cdot$",
    "•": r"\textbullet{}", "®": r"\textregistered{}", "™": r"\texttrademark{}", "©": r"\copyright{}",
    "§": r"\S{}", "¶": r"\P{}", "†": r"\dag{}", "‡": r"\ddag{}", "€": r"\texteuro{}", "£": r"\pounds{}",
    "ß": r"{\ss}", "æ": r"{\ae}", "Æ": r"{\AE}", "œ": r"{\oe}", "Œ": r"{\OE}", "ø": r"{\o}",
    "Ø": r"{\O}", "ł": r"{\l}", "Ł": r"{\L}", "ı": r"{\i}", "ð": r"{\dh}", "þ": r"{\th}",
    "¹": r"$^{1}$", "²": r"$^{2}$", "³": r"$^{3}$", "⁺": r"$^{+}$", "⁻": r"$^{-}$",
    "₂": r"$_{2}$", "₃": r"$_{3}$", "¿": r"?`", "¡": r"!`",
}  # fmt: skip
ACCENTS = {
    "\u0301": "'", "\u0300": "`", "\u0302": "^", "\u0308": '"', "\u0303": "~", "\u0304": "=",
    "\u0307": ".", "\u030b": "H", "\u030c": "v", "\u0306": "u", "\u030a": "r", "\u0327": "c",
    "\u0328": "k", "\u0323": "d",
}  # fmt: skip


def _char(ch: str, unicode: bool) -> str:
    if ch in SPECIALS:
        return SPECIALS[ch]
    if ch.isascii():
        return ch if ch.isprintable() else " "
    if unicode:
        return ch if ch.isprintable() else " "
    if ch in GREEK:
        return f"$\\{GREEK[ch]}$"
    if ch in SYMBOLS:
        return SYMBOLS[ch]
    decomposed = unicodedata.normalize("NFD", ch)
    base, marks = decomposed[0], decomposed[1:]
    if base.isascii() and marks and all(mark in ACCENTS for mark in marks):
        text = "\\i" if base == "i" else base
        for mark in marks:
            command = ACCENTS[mark]
            text = f"\\{command}{{{text}}}"
        return "{" + text + "}"
    folded = unicodedata.normalize("NFKD", ch)
    if folded.isascii() and folded.isprintable():
        return "".join(_char(c, unicode) for c in folded)
    return "?"  # no LaTeX command for it: never let it break pdflatex


def pdflatex_unsafe(text: str) -> list[str]:
    """The characters of UTF-8 text that pdflatex cannot set with its default input
    encoding: those exocli otherwise writes as math or cannot write (κ, β, ₂, CJK)."""
    found = set()
    for ch in set(text):
        if ch.isascii() or not ch.isprintable():
            continue
        written = _char(ch, unicode=False)
        if written.startswith("$") or written == "?":
            found.add(ch)
    return sorted(found)


_PLAIN = re.compile(r"[ -~]*")  # printable ASCII
_SPECIAL = re.compile(r"[\\{}&%$#_~^]")


def escape(text: str, unicode: bool = False) -> str:
    """Text safe in a BibTeX field or LaTeX paragraph (braces balanced, no active specials)."""
    clean = " ".join(text.split())
    if _PLAIN.fullmatch(clean) and not _SPECIAL.search(clean):
        return clean  # most words of most titles: nothing to do
    clean = unicodedata.normalize("NFC", clean)
    return "".join(_char(ch, unicode) for ch in clean)


_LETTERS = re.compile(r"[^\W\d_]")


def needs_protection(word: str, first: bool) -> bool:
    """Capitals a style must not lowercase: miR-146a, TLR4, NF-κB, BMSC, SCI, T (cells)."""
    letters = _LETTERS.findall(word)
    if not letters:
        return False
    if any(ch.isupper() for ch in letters[1:]):
        return True
    if any(ch.isdigit() for ch in word) and any(ch.isupper() for ch in letters):
        return True  # M1, P65, IL6
    return len(letters) == 1 and letters[0].isupper() and not first and len(word.strip("().,:;")) == 1


# Words title case leaves in lower case (a lower-case word of four letters or more that is
# not one of these means the title is in sentence case).
_SMALL_WORDS = frozenset(
    "with from into onto upon over than that this versus via without within among after before"
    " during under between through".split()
)


def is_title_case(words: list[str]) -> bool:
    """Every word of four letters or more but small ones starts with a capital: "Global
    Burden of Traumatic Brain Injury", as Crossref often gives titles. Lists print sentence
    case, where most such words are lower case."""
    long_words = [w.strip("().,:;!?\"'[]") for w in words[1:] if len(_LETTERS.findall(w)) >= 4]
    if len(long_words) < 2:
        return False
    return not any(w[:1].islower() and w.casefold() not in _SMALL_WORDS for w in long_words)


def title(text: str, unicode: bool = False, names: bool = False) -> str:
    """A title with braces on the tokens whose case must be kept, and no more.

    Acronyms and words with inner capitals or digits always (TLR4, NF-κB, miR-146b, M1). In
    a title written in sentence case, also every capitalised word but the first, as Better
    BibTeX does: those are proper nouns ("Wnt/β-catenin", "Wharton's jelly", "World Health
    Organization", "Geneva") that a style lowercasing titles must not touch. A title written
    in title case gets no more than the first rule, or a sentence-case style could not work.
    `names`: the title is a name (a web page's, an organisation's), capitals kept throughout."""
    words = title_words(text)
    sentence_case = names or not is_title_case([b + c + a for b, c, a, _ in words if c or b.strip()])
    out = []
    for before, core, after, first in words:
        if before.isspace():
            out.append(before)
            continue
        letters = _LETTERS.findall(core)
        proper = (
            sentence_case and not first and bool(letters) and letters[0].isupper() and core[0] == letters[0]
        )
        if core and (needs_protection(core, first) or proper):
            out.append(escape(before, unicode) + "{" + escape(core, unicode) + "}" + escape(after, unicode))
        else:
            out.append(escape(before + core + after, unicode))
    return "".join(out)


def title_words(text: str) -> list[tuple[str, str, str, bool]]:
    """A title cut for case protection (latex.title, export.csl_title): (before, core, after,
    first) per part, where `core` is a word without its punctuation and `first` marks the
    title's first word; a space is ("  ", "", "", False)."""
    out = []
    first = True
    for part in re.split(r"(\s+)", " ".join(text.split())):
        if not part or part.isspace():
            out.append((part, "", "", False))
            continue
        core = part.strip("().,:;!?\"'[]")
        if not core:
            out.append((part, "", "", False))
        else:
            start = part.index(core)
            out.append((part[:start], core, part[start + len(core) :], first))
        first = False
    return out
