"""Mentions: the vocabulary terms, miRNAs, organs and vesicle origins a free text names.

One finder for every command that reads prose: `check` (claims against the titles and
abstracts of the papers they cite), `extract` (draft claims from a manuscript's citing
sentences) and `check --manuscript` (citing sentences against the papers they cite).
Every finder returns where each mention starts and the words as written, so a caller can
say which words on each side disagree."""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from exocli.mirna import MiRNA, parse_mirna, split_mirnas
from exocli.vocab import Vocabulary

_DASHES = str.maketrans({ch: "-" for ch in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"})
_SEP = r"[\s\-]*"
_BEFORE = r"(?<![A-Za-z0-9])"
_AFTER = r"(?![A-Za-z0-9])"


def _clean(text: str) -> str:
    """Same length as the input (so spans stay valid); dashes become '-'."""
    return text.translate(_DASHES)


def strip_markup(text: str) -> str:
    """Crossref abstracts are JATS XML: drop the tags, unescape entities, fold spaces."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def spelling_pattern(spelling: str) -> str:
    """'bone marrow MSC' -> a regex where spaces and hyphens are interchangeable (plural allowed)."""
    tokens = [t for t in re.split(r"[\s\-_\u2010-\u2015]+", spelling.strip()) if t]
    return _BEFORE + _SEP.join(re.escape(t) for t in tokens) + r"(?:s|es)?" + _AFTER


@dataclass(frozen=True)
class Mention:
    code: str
    words: str  # the matched words, as written
    start: int
    where: str = "title"  # title | abstract

    def describe(self) -> str:
        return f'{self.where} says "{self.words}" ({self.code})'


def leftmost_longest(text: str, patterns: Sequence[tuple[str, re.Pattern[str]]], where: str) -> list[Mention]:
    """Non-overlapping matches: at each place the longest wins ('neural stem cell-derived' is NSC)."""
    text = _clean(text)
    candidates = [
        (m.start(), -(m.end() - m.start()), m.end(), code)
        for code, pattern in patterns
        for m in pattern.finditer(text)
        if m.end() > m.start()
    ]
    return _longest_first(text, candidates, where)


_NEEDLE = re.compile(r"[^\W_]{2,}|[^\W_]")
_SEPARATORS = frozenset(" \t\n\r\f\v-_\u00a0\u2010\u2011\u2012\u2013\u2014\u2015\u2212")


# What continues a word: a spelling matches only where none is next to it. (A set: this is
# asked for every place a spelling is found.)
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


_DROP_SEPARATORS = str.maketrans(dict.fromkeys(_SEPARATORS))
_KEPT_RUN = re.compile("[^" + "".join(sorted(re.escape(ch) for ch in _SEPARATORS)) + "]+")


class _Squeezed:
    """A text without its spaces and hyphens (as a spelling is matched: "stem cell",
    "stem-cell" and "stemcell" alike), in its own case and in lower case, with the place
    of each kept character in the text (worked out when a spelling is found)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.cased = text.translate(_DROP_SEPARATORS)
        lower = self.cased.lower()
        # a character whose lower case is longer ("İ") keeps its own, so places stay valid
        self.lower = (
            lower
            if len(lower) == len(self.cased)
            else "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in self.cased)
        )
        self._where: list[int] | None = None

    @property
    def where(self) -> list[int]:
        if self._where is None:
            where: list[int] = []
            for run in _KEPT_RUN.finditer(self.text):  # a word at a time, not a character
                where.extend(range(run.start(), run.end()))
            self._where = where
        return self._where


@functools.lru_cache(maxsize=64)
def _squeezed(text: str) -> _Squeezed:
    """Every matcher reads the same sentence: squeeze it once."""
    return _Squeezed(text)


def _squeeze(spelling: str) -> str:
    return "".join(ch for ch in spelling if ch not in _SEPARATORS)


class Spellings:
    """Spellings of terms, and the few patterns that are not plain spellings.

    A plain spelling is matched as words (spaces and hyphens between them alike, a plural
    "s"/"es" allowed, never inside a longer word) in the text without its separators. All of
    a vocabulary's spellings are found in one pass (an Aho-Corasick automaton, pyahocorasick):
    no regular expression to compile for each of its hundreds of spellings, and no search
    per spelling. The other patterns are compiled the first time their words occur."""

    def __init__(self) -> None:
        self._spellings: list[tuple[str, str, bool]] = []  # code, squeezed spelling, ignore case
        self._automata: dict[bool, Any] | None = None  # ignore case -> automaton (built when first used)
        self._items: list[tuple[str, str, int, tuple[str, ...]]] = []  # code, regex, flags, needles
        self._compiled: dict[int, re.Pattern[str]] = {}

    def add(self, code: str, regex: str, flags: int = re.IGNORECASE, needles: Sequence[str] = ()) -> None:
        self._items.append((code, regex, flags, tuple(n.casefold() for n in needles if n)))

    def add_spelling(self, code: str, spelling: str, flags: int = re.IGNORECASE) -> None:
        squeezed = _squeeze(spelling.strip())
        if squeezed:
            ignore_case = bool(flags & re.IGNORECASE)
            self._spellings.append((code, squeezed.lower() if ignore_case else squeezed, ignore_case))
            self._automata = None

    def extend(self, other: Spellings) -> None:
        self._spellings += other._spellings
        self._items += other._items
        self._automata = None

    def _automaton(self) -> dict[bool, Any]:
        """Per case rule, an automaton from each spelling to (its length, the codes it spells)."""
        if self._automata is None:
            import ahocorasick

            codes: dict[bool, dict[str, list[str]]] = {True: {}, False: {}}
            for code, spelling, ignore_case in self._spellings:
                codes[ignore_case].setdefault(spelling, []).append(code)
            self._automata = {}
            for ignore_case, table in codes.items():
                if table:
                    automaton = ahocorasick.Automaton()
                    for spelling, spelled in table.items():
                        automaton.add_word(spelling, (len(spelling), tuple(spelled)))
                    automaton.make_automaton()
                    self._automata[ignore_case] = automaton
        return self._automata

    def _spelled(self, text: str) -> list[tuple[int, int, int, str]]:
        squeezed = _squeezed(text)
        where, size = squeezed.where, len(text)
        found: list[tuple[int, int, int, str]] = []
        for ignore_case, automaton in self._automaton().items():
            haystack = squeezed.lower if ignore_case else squeezed.cased
            for last, (length, codes) in automaton.iter(haystack):
                start = where[last - length + 1]
                if start and text[start - 1] in _WORD_CHARS:
                    continue  # inside a longer word
                stop = where[last] + 1
                if stop < size and text[stop] in _WORD_CHARS:  # a plural ("s", "es"), or no word end
                    if text[stop] in "sS" and (stop + 1 >= size or text[stop + 1] not in _WORD_CHARS):
                        stop += 1
                    elif text[stop : stop + 2].lower() == "es" and (
                        stop + 2 >= size or text[stop + 2] not in _WORD_CHARS
                    ):
                        stop += 2
                    else:
                        continue
                found += [(start, start - stop, stop, code) for code in codes]
        return found

    def candidates(self, text: str) -> list[tuple[str, re.Pattern[str]]]:
        folded = text.casefold()
        found: list[tuple[str, re.Pattern[str]]] = []
        for index, (code, regex, flags, needles) in enumerate(self._items):
            if all(needle in folded for needle in needles):
                pattern = self._compiled.get(index)
                if pattern is None:
                    pattern = self._compiled[index] = re.compile(regex, flags)
                found.append((code, pattern))
        return found

    def find(self, text: str, where: str) -> list[Mention]:
        text = _clean(text)
        found = self._spelled(text)
        found += [
            (m.start(), -(m.end() - m.start()), m.end(), code)
            for code, pattern in self.candidates(text)
            for m in pattern.finditer(text)
            if m.end() > m.start()
        ]
        return _longest_first(text, found, where)


def _longest_first(text: str, candidates: list[tuple[int, int, int, str]], where: str) -> list[Mention]:
    found: list[Mention] = []
    taken_until = -1
    for start, _, end, code in sorted(candidates):
        if start < taken_until:
            continue
        found.append(Mention(code, text[start:end].strip(" -"), start, where))
        taken_until = end
    return found


# Title spellings the sources vocabulary lacks. Only for codes the vocabulary has; the
# vocabulary's own synonyms come first. Ambiguous words ("bone marrow-derived" alone also
# names macrophages) are left out on purpose.
EXTRA_SOURCE_SPELLINGS: dict[str, tuple[str, ...]] = {
    "BMSC": (
        "bone marrow-derived MSC",
        "bone marrow-derived mesenchymal stromal cell",
        "bone marrow mesenchymal stromal cell",
        "bone marrow stromal cell",
        "bone marrow-derived stem cell",
        "bone mesenchymal stromal cell",
    ),
    "UCMSC": (
        "umbilical cord-derived mesenchymal stem cell",
        "umbilical cord-derived mesenchymal stromal cell",
        "umbilical cord mesenchymal stromal cell",
        "umbilical cord-derived MSC",
        "Wharton's jelly mesenchymal stem cell",
        "Wharton's jelly-derived mesenchymal stem cell",
    ),
    "ADSC": (
        "adipose-derived",
        "adipose tissue-derived",
        "adipose stem cell",
        "adipose-derived stromal cell",
        "adipose mesenchymal stem cell",
    ),
    "PMSC": ("placenta-derived", "placental-derived", "placental stem cell"),
    "AMSC": ("amnion-derived mesenchymal stem cell", "amniotic membrane mesenchymal stem cell"),
    "MenSC": ("menstrual blood-derived", "menstrual blood", "endometrial stem cell"),
    "DPSC": ("dental pulp", "stem cells from human exfoliated deciduous teeth"),
    "iPSC-NSC": ("iPSC-derived neural progenitor cell", "iPSC-NSC-derived"),
    "ESC": ("embryonic stem cell-derived",),
}
# Vesicle origins that are not cells the sources vocabulary lists. They sit under the
# vocabulary's "non-stem" term when it has one; each is compatible only with itself.
VESICLE_ORIGINS: dict[str, tuple[str, ...]] = {
    "synthetic vesicles": (
        "fully synthetic extracellular vesicle",
        "synthetic extracellular vesicle",
        "synthetic exosome",
        "artificial exosome",
        "artificial extracellular vesicle",
        "exosome-mimetic",
        "biomimetic nanovesicle",
    ),
    "plant-derived vesicles": ("plant-derived", "plant exosome-like nanoparticle"),
    "milk-derived vesicles": ("milk-derived", "milk exosome"),
    "serum/plasma-derived vesicles": ("serum-derived", "plasma-derived", "serum exosome", "plasma exosome"),
    "platelet-derived vesicles": ("platelet-derived", "platelet exosome"),
    "macrophage-derived vesicles": ("macrophage-derived", "M2 macrophage-derived", "M2 macrophage exosome"),
    "neuron-derived vesicles": ("neuron-derived", "neuronal exosome"),
    "Schwann cell-derived vesicles": ("Schwann cell-derived", "Schwann cell exosome"),
    "astrocyte-derived vesicles": ("astrocyte-derived", "astrocytic exosome"),
    "tumour-derived vesicles": ("tumour-derived", "tumor-derived", "cancer cell-derived"),
    "bacterial vesicles": ("bacterial outer membrane vesicle", "bacterial extracellular vesicle"),
}
# Not every stem-cell relation is a parent link in the shipped hierarchy.
EXTRA_COMPATIBLE = frozenset({frozenset({"iPSC-NSC", "NSC"})})


class SourceMatcher:
    """Cell sources named in free text, and whether two sources can describe the same cells."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        self.origins = set(VESICLE_ORIGINS)
        spellings: dict[str, set[str]] = {}
        for term in vocab.terms.values():
            label = re.sub(r"\s*\([^)]*\)", "", term.label)
            for spelling in (term.code, label, *term.synonyms):
                spellings.setdefault(term.code, set()).add(spelling)
        for code, extra in EXTRA_SOURCE_SPELLINGS.items():
            if code in vocab.terms:
                spellings[code].update(extra)
        for name, extra in VESICLE_ORIGINS.items():
            spellings[name] = set(extra)
        self.spellings = Spellings()
        for code, group in spellings.items():
            for spelling in sorted(group):
                if spelling.strip():
                    self.spellings.add_spelling(code, spelling)

    def find(self, text: str, where: str = "title") -> list[Mention]:
        return self.spellings.find(text, where)

    def lineage(self, code: str) -> list[str]:
        if code in self.origins:
            return [code, *(["non-stem"] if "non-stem" in self.vocab.terms else [])]
        return [code, *self.vocab.ancestors(code)]

    def compatible(self, a: str, b: str) -> bool:
        """Same source, or one is a kind of the other (MSC ~ BMSC; UCMSC !~ BMSC)."""
        if a == b or frozenset({a, b}) in EXTRA_COMPATIBLE:
            return True
        return a in self.lineage(b) or b in self.lineage(a)

    def is_stem(self, code: str) -> bool:
        if code in self.origins:
            return False
        for current in self.lineage(code):
            term = self.vocab.terms.get(current)
            if term is not None and term.stem is not None:
                return term.stem
        return True

    def label(self, code: str) -> str:
        term = self.vocab.terms.get(code)
        return term.label if term is not None else code


# miRNA mentions: miR-21, hsa-miR-146a-5p, microRNA-216a-5p, MicroRNA 137, miR146a,
# let-7b-5p, miR-199a-3p/145-5p (two), miR-17-92 cluster.
_MIR_TAIL = r"\d+[a-z]?(?:-\d+)?(?:-[35]p)?"
_MIRNA_MENTION = re.compile(
    _BEFORE + r"(?:(?:hsa|mmu|rno)-)?"
    r"(?:(?:micro[\s-]?rna|mirna|mir)[\s-]?\d+(?:~\d+)?[a-z]?(?:-\d+)?(?:-[35]p)?"
    rf"(?:/(?:(?:micro[\s-]?rna|mirna|mir)-?)?{_MIR_TAIL})*(?:\s+cluster)?"
    r"|let-?7[a-z]?(?:-\d+)?(?:-[35]p)?)" + _AFTER,
    re.IGNORECASE,
)


@dataclass(frozen=True)
class MiRNAMention:
    mirna: MiRNA
    words: str
    where: str = "title"
    start: int = 0


def find_mirnas(text: str, where: str = "title") -> list[MiRNAMention]:
    """Every miRNA a text names, parsed ('miR-199a-3p/145-5p' gives two)."""
    found: list[MiRNAMention] = []
    for match in _MIRNA_MENTION.finditer(_clean(text)):
        words = match.group(0)
        for piece in split_mirnas(re.sub(r"\s+cluster$", "", words, flags=re.IGNORECASE)):
            mirna = parse_mirna(piece)
            if mirna is not None:
                found.append(MiRNAMention(mirna, words, where, match.start()))
    return found


def mirnas_compatible(a: MiRNA, b: MiRNA) -> bool:
    """MiRNA.compatible, plus a cluster and one of its named ends (miR-17-92 ~ miR-17)."""
    if a.cluster_end or b.cluster_end:
        cluster, other = (a, b) if a.cluster_end else (b, a)
        if other.cluster_end:
            return cluster.family == other.family
        return other.prefix == cluster.prefix and other.number in (cluster.number, cluster.cluster_end)
    return a.compatible(b)


def mirna_difference(claim: MiRNA, named: MiRNA) -> str:
    if claim.family != named.family:
        return f"family {claim.family} vs {named.family}"
    parts = [
        f"{what} {mine} vs {theirs}"
        for what, mine, theirs in (
            ("letter", claim.letter, named.letter),
            ("paralog", claim.paralog, named.paralog),
            ("arm", claim.arm, named.arm),
        )
        if mine is not None and theirs is not None and mine != theirs
    ]
    return ", ".join(parts)


# Organs and injuries. A parent covers its children (a title about the CNS fits a claim
# about the spinal cord). Patterns avoid source words: "bone marrow", "umbilical cord".
ORGAN_PARENTS = {"brain": "CNS", "spinal cord": "CNS", "eye": "CNS"}
ORGAN_PATTERNS: dict[str, tuple[str, ...]] = {
    "spinal cord": (
        r"spinal[\s-]*cord[\s-]*injur(?:y|ies|ed)",
        r"spinal[\s-]*cords?",
        r"SCI",
        r"myelopathy",
        r"spinal",
    ),
    "brain": (
        r"cerebral[\s-]+ischa?emi(?:a|c)(?:[\s/-]*reperfusion)?(?:[\s-]+injur(?:y|ies))?",
        r"(?:traumatic[\s-]+)?brain[\s-]+injur(?:y|ies)",
        r"TBI",
        r"(?:(?:ischa?emic|ha?emorrhagic)[\s-]+)?stroke",
        r"(?:intracerebral|subarachnoid)[\s-]+ha?emorrhage",
        r"middle[\s-]+cerebral[\s-]+artery[\s-]+occlusion",
        r"MCAO",
        r"Alzheimer(?:'s)?(?:[\s-]+disease)?",
        r"Parkinson(?:'s)?(?:[\s-]+disease)?",
        r"hippocamp(?:us|al)",
        r"brain",
        r"cerebral",
    ),
    "CNS": (r"central[\s-]+nervous[\s-]+system", r"CNS"),
    "peripheral nerve": (r"peripheral[\s-]+nerves?", r"sciatic[\s-]+nerves?", r"facial[\s-]+nerves?"),
    "eye": (r"retina[a-z]*", r"optic[\s-]+nerves?", r"glaucoma", r"cornea[l]?"),
    "heart": (r"myocardial(?:[\s-]+infarction)?", r"cardiac", r"heart", r"cardiomyocytes?"),
    "lung": (r"lungs?", r"pulmonary", r"acute[\s-]+respiratory[\s-]+distress"),
    "liver": (r"liver", r"hepatic[\s-]+(?:injury|fibrosis|failure)", r"hepatitis", r"cirrhosis"),
    "kidney": (r"kidneys?", r"renal", r"nephropathy"),
    "skin": (r"skin", r"cutaneous", r"diabetic[\s-]+wounds?"),
    "bone/joint": (
        r"osteoarthritis",
        r"bone[\s-]+(?:defects?|loss|fractures?)",
        r"fractures?",
        r"osteoporo(?:sis|tic)",
        r"cartilage",
    ),
    "intervertebral disc": (r"intervertebral[\s-]+discs?",),
    "muscle": (r"skeletal[\s-]+muscles?", r"muscle[\s-]+injur(?:y|ies)"),
    "intestine": (r"colitis", r"intestin(?:e|al)", r"bowel"),
}
_ORGANS = Spellings()  # compiled when first needed: importing this module compiles nothing
for _organ, _patterns in ORGAN_PATTERNS.items():
    for _pattern in _patterns:
        _ORGANS.add(_organ, _BEFORE + _pattern + _AFTER, re.IGNORECASE)


class TermMatcher:
    """Terms of any vocabulary (injuries and diseases, here) named in free text.

    Spellings are matched as words, spaces and hyphens alike; a short all-capital
    abbreviation (MS, AD, SCI) only in capitals, so "ms" or "ad" in prose is not one."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        self.spellings = Spellings()
        for term in vocab.terms.values():
            label = re.sub(r"\s*\([^)]*\)", "", term.label)
            for spelling in sorted({term.code, label, *term.synonyms}):
                if len(spelling.strip()) < 2:
                    continue
                flags = 0 if _ABBREVIATION.match(spelling) else re.IGNORECASE
                self.spellings.add_spelling(term.code, spelling, flags)

    def find(self, text: str, where: str = "title") -> list[Mention]:
        return self.spellings.find(text, where)

    def compatible(self, a: str, b: str) -> bool:
        """The same term, or one is a kind of the other (stroke ~ ICH; SCI !~ TBI)."""
        return a == b or a in self.vocab.ancestors(b) or b in self.vocab.ancestors(a)


_ABBREVIATION = re.compile(r"^[A-Z0-9][A-Z0-9/-]{1,5}$")


def find_organs(text: str, where: str = "title") -> list[Mention]:
    return _ORGANS.find(text, where)


def organs_compatible(a: str, b: str) -> bool:
    def chain(organ: str) -> list[str]:
        found = [organ]
        while found[-1] in ORGAN_PARENTS:
            found.append(ORGAN_PARENTS[found[-1]])
        return found

    return a in chain(b) or b in chain(a)


# --------------------------------------------------------------------------- every field at once

# Verbs that turn "X" into "anti-X": "reduced neuronal apoptosis" states anti-apoptosis.
_LESSENING = (
    r"(?:inhibit|reduc|suppress|attenuat|alleviat|prevent|decreas|mitigat|block|lower|dampen|curb"
    r"|diminish|ameliorat|counteract|protect\w*\s+against|limit)\w*"
)
_STEM_SUFFIXES = re.compile(r"(?:atory|ation|ative|ant|otic|osis|osis|ic|y|s)$")
# Routes of administration (claims keep the route as text; no vocabulary holds them).
ROUTE_PATTERNS: dict[str, tuple[str, ...]] = {
    "intravenous": (r"intravenous(?:ly)?", r"i\.v\.", r"tail[\s-]+vein"),
    "intrathecal": (r"intrathecal(?:ly)?",),
    "intranasal": (r"intranasal(?:ly)?", r"nasal\s+administration"),
    "intraperitoneal": (r"intraperitoneal(?:ly)?", r"i\.p\."),
    "intraspinal": (r"intraspinal(?:ly)?", r"intralesional(?:ly)?", r"intraparenchymal"),
    "subcutaneous": (r"subcutaneous(?:ly)?",),
    "local hydrogel": (r"hydrogels?",),
    "local microneedle patch": (r"micro[\s-]?needle",),
}
_ROUTES = Spellings()
for _route, _patterns in ROUTE_PATTERNS.items():
    for _pattern in _patterns:
        _ROUTES.add(_route, _BEFORE + _pattern + _AFTER, re.IGNORECASE)


@dataclass
class Mentions:
    """What one text names, field by field, each mention with its position."""

    sources: list[Mention]
    mirnas: list[MiRNAMention]
    cargo_types: list[Mention]
    effects: list[Mention]
    pathways: list[Mention]
    injuries: list[Mention]
    species: list[Mention]
    models: list[Mention]
    routes: list[Mention]

    def within(self, start: int, end: int) -> Mentions:
        """The mentions that start inside [start, end)."""

        def keep(items: list[Any]) -> list[Any]:
            return [m for m in items if start <= m.start < end]

        return Mentions(*(keep(getattr(self, name)) for name in MENTION_FIELDS))


MENTION_FIELDS = (
    "sources", "mirnas", "cargo_types", "effects", "pathways", "injuries", "species", "models", "routes",
)  # fmt: skip


class MentionFinder:
    """Every vocabulary's terms, miRNAs and routes named in a text: the one finder behind
    `check`, `extract` and `check --manuscript`."""

    def __init__(self, vocabs: Mapping[str, Vocabulary]) -> None:
        self.sources = SourceMatcher(vocabs["sources"])
        self.effects = TermMatcher(vocabs["effects"])
        self.pathways = TermMatcher(vocabs["pathways"])
        self.cargo_types = TermMatcher(vocabs["cargo-types"])
        self.injuries = TermMatcher(vocabs["injuries"])
        self.species = TermMatcher(vocabs["species"])
        self.models = TermMatcher(vocabs["models"])
        self.lessening = _lessening_spellings(vocabs["effects"])

    def find_effects(self, text: str, where: str = "sentence") -> list[Mention]:
        """Effects by their spellings and as "reduced X" for anti-X: two passes that may
        overlap ("suppress neuroinflammation and apoptosis" names both)."""
        found = self.effects.find(text, where) + self.lessening.find(text, where)
        return sorted(found, key=lambda m: m.start)

    def find(self, text: str, where: str = "sentence", skip: Collection[str] = ()) -> Mentions:
        """Every field's mentions; those in `skip` (field names of Mentions) left empty."""

        def unless(name: str, finder: Callable[[], list[Any]]) -> list[Any]:
            return [] if name in skip else finder()

        return Mentions(
            sources=unless("sources", lambda: self.sources.find(text, where)),
            mirnas=unless("mirnas", lambda: find_mirnas(text, where)),
            cargo_types=unless(
                "cargo_types",
                lambda: [m for m in self.cargo_types.find(text, where) if m.code not in ("none", "miRNA")],
            ),
            effects=unless("effects", lambda: self.find_effects(text, where)),
            pathways=unless("pathways", lambda: self.pathways.find(text, where)),
            injuries=unless("injuries", lambda: self.injuries.find(text, where)),
            species=unless("species", lambda: self.species.find(text, where)),
            models=unless("models", lambda: self.models.find(text, where)),
            routes=unless("routes", lambda: _ROUTES.find(text, where)),
        )


def _lessening_spellings(effects: Vocabulary) -> Spellings:
    """For each "anti-X" effect, "inhibited/reduced ... (pro-)X" (up to five words between)."""
    patterns = Spellings()
    for term in effects.terms.values():
        stems: set[str] = set()
        for spelling in (term.code, term.label, *term.synonyms):
            match = re.fullmatch(r"anti-?([a-z]+)", spelling.strip().casefold())
            if match:
                stem = _STEM_SUFFIXES.sub("", match.group(1))
                if len(stem) >= 4:
                    stems.add(stem)
        for stem in sorted(stems):
            pattern = (
                _BEFORE
                + _LESSENING
                + r"\s+(?:[\w/,-]+\s+){0,5}?(?:pro-?)?"
                + re.escape(stem)
                + r"\w*"
                + _AFTER
            )
            patterns.add(term.code, pattern, re.IGNORECASE, needles=[stem])
    return patterns
