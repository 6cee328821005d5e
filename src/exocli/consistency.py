"""What a claim or a citing sentence states, against what the cited paper's title and
abstract name: the rules `check` applies to claims and `check --manuscript` to sentences.

Each rule returns a Disagreement (severity, check id, one line, the words on both sides)
or None. `who` names the stating side in messages: "claim" or "sentence".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from exocli.mentions import (
    Mention,
    SourceMatcher,
    TermMatcher,
    find_mirnas,
    find_organs,
    mirna_difference,
    mirnas_compatible,
    organs_compatible,
)
from exocli.mirna import MiRNA


@dataclass
class Stated:
    """One side's statement: a claim's fields, or what a citing sentence names."""

    source: str | None  # a sources code
    source_wording: str = ""  # the words the review used for it, when recorded apart
    mirnas: list[tuple[str, MiRNA]] = field(default_factory=list)  # (as written, parsed)
    injuries: list[str] = field(default_factory=list)  # injuries vocabulary codes
    injury_text: str = ""  # the injury as text (a claim's record, or the sentence)
    sources: list[str] = field(default_factory=list)  # every source a sentence names


@dataclass
class Disagreement:
    severity: str
    check: str
    message: str
    evidence: list[str]


Texts = Sequence[tuple[str, str]]  # (where: title | abstract, text)


def source_vs_reference(
    stated: Stated, texts: Texts, matcher: SourceMatcher, who: str = "claim"
) -> Disagreement | None:
    """The reference names cell sources and the stated one is none of them, nor above or
    below one in the hierarchy (several named sources contradict only when none fits)."""
    named = [m for where, text in texts for m in matcher.find(text, where)]
    if not named or stated.source is None:
        return None
    codes = [m.code for m in named]
    sides: list[tuple[str, str, str]] = [
        ("source", stated.source, f"{who} source {stated.source} ({matcher.label(stated.source)})")
    ]
    if stated.source_wording:
        wording = matcher.find(stated.source_wording, "wording")
        sides += [
            ("wording", m.code, f'review wording "{stated.source_wording}" ({m.code})') for m in wording
        ]
    for side, code, described in sides:
        if any(matcher.compatible(code, c) for c in codes):
            continue
        evidence = dedupe([*(m.describe() for m in named), described])
        title_codes = ", ".join(dedupe(codes))
        stems = {matcher.is_stem(code), *(matcher.is_stem(c) for c in codes)}
        check = f"{who}_vesicle_vs_title" if len(stems) > 1 or False in stems else f"{who}_source_vs_title"
        if side == "source":
            message = f"{who} source {code} does not fit the cited reference, which names {title_codes}"
        else:
            evidence.append(f"claim source {stated.source} fits the reference; the review's wording does not")
            message = f"the review's wording names {code} but the cited reference names {title_codes}"
        return Disagreement("warning", check, message, evidence)
    return None


def mirna_vs_reference(stated: Stated, texts: Texts, who: str = "claim") -> Disagreement | None:
    """The reference names miRNAs and a stated one fits none of them (another family, or
    letter, paralog or arm both given and different)."""
    named = [m for where, text in texts for m in find_mirnas(text, where)]
    if not named or not stated.mirnas:
        return None
    unmatched = [(w, m) for w, m in stated.mirnas if not any(mirnas_compatible(m, n.mirna) for n in named)]
    if not unmatched:
        return None
    partial = len(unmatched) < len(stated.mirnas)
    evidence = dedupe([f'{n.where} names "{n.words}" ({n.mirna.name})' for n in named])
    for wording, mirna in unmatched:
        closest = [n.mirna for n in named if n.mirna.family == mirna.family]
        why = mirna_difference(mirna, closest[0]) if closest else "no miRNA of its family named"
        evidence.append(f"{who} cargo {wording}: {why}")
    names = ", ".join(w for w, _ in unmatched)
    title_names = ", ".join(dedupe([n.mirna.name for n in named]))
    noun = "claimed" if who == "claim" else "cited"
    if partial:
        message = f"cited reference does not name {noun} miRNA {names} (it names {title_names})"
    else:
        message = f"{noun} miRNA {names} differs from the miRNA the cited reference names ({title_names})"
    return Disagreement("info" if partial else "warning", f"{who}_mirna_vs_title", message, evidence)


def injury_vs_reference(
    stated: Stated, texts: Texts, diseases: TermMatcher, who: str = "claim"
) -> Disagreement | None:
    """The organ first (spinal cord vs brain), then the disease within the injuries
    vocabulary (stroke vs Alzheimer's): a reference that names only other ones."""
    vocab = diseases.vocab
    labels = [f"{code} ({vocab.terms[code].label})" for code in stated.injuries if code in vocab.terms]
    said = find_organs("; ".join(labels) or stated.injury_text, who)
    named = [m for where, text in texts for m in find_organs(text, where)]
    if said and named and not any(organs_compatible(s.code, n.code) for s in said for n in named):
        organs = ", ".join(dedupe([n.code for n in named]))
        claimed = ", ".join(dedupe([s.code for s in said]))
        evidence = dedupe(
            [*(m.describe() for m in named), f'{who} injury "{stated.injury_text}" ({claimed})']
        )
        return Disagreement(
            "warning",
            f"{who}_injury_vs_title",
            f"cited reference is about {organs}, the {who} about {claimed}",
            evidence,
        )
    if not stated.injuries:
        return None
    mentioned = [m for where, text in texts for m in diseases.find(text, where)]
    if not mentioned or any(diseases.compatible(c, m.code) for c in stated.injuries for m in mentioned):
        return None
    about = ", ".join(dedupe([m.code for m in mentioned]))
    evidence = dedupe([*(m.describe() for m in mentioned), f'{who} injury "{stated.injury_text}"'])
    return Disagreement(
        "info",  # one organ, two diseases: often a related model of the same study, so a note
        f"{who}_disease_vs_title",
        f"cited reference is about {about}, the {who} about {', '.join(stated.injuries)}",
        evidence,
    )


# --------------------------------------------------------------------------- direction

UP = "up"
DOWN = "down"
_UP_WORDS = r"activat\w*|upregulat\w*|up-regulat\w*|increas\w*|promot\w*|enhanc\w*|stimulat\w*|induc\w*|elevat\w*|rais\w*|boost\w*|restor\w*"
_DOWN_WORDS = (
    r"inhibit\w*|inactivat\w*|suppress\w*|downregulat\w*|down-regulat\w*|decreas\w*|reduc\w*|block\w*|attenuat\w*"
    r"|diminish\w*|lower\w*|dampen\w*|abolish\w*|prevent\w*|repress\w*|impair\w*|curb\w*"
)
_CUE = re.compile(rf"\b(?:(?P<up>{_UP_WORDS})|(?P<down>{_DOWN_WORDS}))", re.IGNORECASE)
_WINDOW = 60  # characters before a mention where its verb is looked for


@dataclass(frozen=True)
class Directed:
    code: str  # the pathway or marker
    direction: str  # UP | DOWN
    words: str  # the verb and the mention, as written


def directions(text: str, mentions: Iterable[Mention]) -> list[Directed]:
    """For each pathway mention, the direction its nearest verb states: the last cue in the
    same clause before it ("activating the NF-κB p65 pathway"), else a noun after it ("NF-κB
    activation"). A mention with neither states no direction."""
    found: list[Directed] = []
    for mention in mentions:
        before = text[max(0, mention.start - _WINDOW) : mention.start]
        clause = re.split(r"[;,.:()]|\bwhile\b|\bwhereas\b|\bbut\b|\band\b(?=\s+(?:\w+ed|\w+s)\b)", before)[
            -1
        ]
        cues = list(_CUE.finditer(clause))
        end = mention.start + len(mention.words)
        after = re.match(
            rf"\s*(?:signal\w*\s+)?(?:pathways?\s+)?(?:(?:was|were|is|are|being|been|got|became)\s+)?"
            rf"(?:significantly\s+|markedly\s+|strongly\s+)?({_UP_WORDS}|{_DOWN_WORDS})",
            text[end : end + 60],
            re.I,
        )
        if cues:
            cue = cues[-1]
            direction = UP if cue.group("up") else DOWN
            words = f"{cue.group(0)} {clause[cue.end() :].strip()} {mention.words}".replace("  ", " ").strip()
        elif after:
            direction = UP if re.match(_UP_WORDS, after.group(1), re.I) else DOWN
            words = f"{mention.words} {after.group(1)}"
        else:
            continue
        found.append(Directed(mention.code, direction, " ".join(words.split())))
    return found


def direction_vs_abstract(
    said: Sequence[Directed], abstract: str, pathways: TermMatcher, who: str = "sentence"
) -> Disagreement | None:
    """The abstract states the opposite direction for the same pathway or marker, and
    never the stated one."""
    if not said or not abstract:
        return None
    theirs = directions(abstract, pathways.find(abstract, "abstract"))
    for mine in said:
        same = [d for d in theirs if pathways.compatible(d.code, mine.code)]
        if same and all(d.direction != mine.direction for d in same):
            evidence = [f'{who} says "{mine.words}" ({mine.code} {mine.direction})']
            evidence += dedupe([f'abstract says "{d.words}" ({d.code} {d.direction})' for d in same])
            opposite = "up" if mine.direction == DOWN else "down"
            return Disagreement(
                "warning",
                f"{who}_direction_vs_abstract",
                f"the {who} has {mine.code} going {mine.direction}; the cited reference's abstract has it going {opposite}",
                evidence,
            )
    return None


def dedupe(items: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen
