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


def title(text: str, unicode: bool = False) -> str:
    """A title with braces on the tokens whose case must be kept, and no more."""
    parts = re.split(r"(\s+)", " ".join(text.split()))
    out = []
    first = True
    for part in parts:
        if not part or part.isspace():
            out.append(part)
            continue
        core = part.strip("().,:;!?\"'[]")
        if core and needs_protection(core, first):
            start = part.index(core)
            end = start + len(core)
            out.append(
                escape(part[:start], unicode)
                + "{"
                + escape(core, unicode)
                + "}"
                + escape(part[end:], unicode)
            )
        else:
            out.append(escape(part, unicode))
        first = False
    return "".join(out)
