"""Draft claims from a manuscript's citing sentences (a pure core: nothing is written here).

For each sentence that cites references, the mention finder reads what the sentence names
(source, miRNAs and other cargo, effects, pathways, injuries, species, models, route) and
each cited reference gets a draft. Who gets which mention:

- one citation group, one reference: all of the sentence's mentions ("only reference");
- several citation groups ("neural regeneration [16], anti-inflammation [17]"): each group
  the mentions written before it, since the group before; a field its part leaves empty is
  shared from the rest of the sentence ("by position");
- several references in one group and several sources or miRNAs: each mention goes to the
  reference whose title names it ("by title"); a reference whose title names none of them
  gets the shared mentions ("shared, uncertain").

A sentence that names no source borrows the nearest one from the sentences before it in
its paragraph, then from its section heading; one that names no effect borrows those of
the sentence before it, or of the uncited sentence after it ("Their findings showed ...");
the draft says which fields came from the paragraph (`from_context`). A sentence with no
effect even so gives no draft: "not stated" beats a guess. Nor does a citation of a review
(its title says review, meta-analysis, guideline or position statement): an evidence table
records what studies showed.

An abstract (a candidate's, `Manuscript.about`) cites nothing: it is the study's own
account, so every sentence is about that study alone ("its abstract"). A sentence that
names no source borrows it from the sentences before, then from the study's title; one that
names no injury or disease takes the title's. No effect is borrowed: a sentence names its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from exocli.citations import Citation, ReferenceIndex
from exocli.manuscript import Manuscript, Paragraph, Sentence
from exocli.mentions import MENTION_FIELDS, Mention, MentionFinder, Mentions, SourceMatcher
from exocli.vocab import Vocabulary

ONLY_REFERENCE = "only reference"
BY_POSITION = "by position"
BY_TITLE = "by title"
SHARED = "shared, uncertain"
ABSTRACT = "its abstract"

REVIEW_TITLE = re.compile(
    r"\b(?:review|meta-analys[ie]s|overview|position statement|guidelines?|consensus|perspectives?)\b",
    re.IGNORECASE,
)
_AXIS = re.compile(r"(?<![\w/])[A-Za-z0-9κβαγ-]+(?:\s?/\s?[A-Za-z0-9κβαγ-]+)+")


@dataclass(frozen=True)
class CitedReference:
    ref_id: int
    number: int | None
    key: str
    title: str


@dataclass
class Draft:
    """One proposed claim: the fields a claim record holds, and where it was read."""

    ref: CitedReference
    source: str
    source_wording: str
    cargo_type: str
    cargo: list[str]
    pathways: list[str]
    effects: list[str]
    species: list[str]
    model: list[str]
    injury: list[str]
    route: str
    section: str
    paragraph: int
    sentence: int
    sentence_hash: str
    assignment: str
    from_context: list[str] = field(default_factory=list)

    def location(self, manuscript: str) -> str:
        return sentence_location(manuscript, self.section, self.paragraph, self.sentence)

    def signature(self) -> tuple[Any, ...]:
        return (self.ref.ref_id, self.source, tuple(self.effects), tuple(self.cargo), self.sentence_hash)

    def entry(self, manuscript: str) -> dict[str, Any]:
        """The claim record's fields (no id: the writer gives it)."""
        how = (
            f"assigned {self.assignment}" if self.assignment != ONLY_REFERENCE else "the only reference cited"
        )
        context = f"; {', '.join(self.from_context)} from the paragraph" if self.from_context else ""
        note = f"Draft from the manuscript ({how}{context})."
        if self.assignment == ABSTRACT:
            context = (
                f" ({', '.join(self.from_context)} from the abstract or title)" if self.from_context else ""
            )
            note = f"Draft from the study's abstract{context}."
        return {
            "section": self.section,
            "source": self.source,
            "source_wording": self.source_wording,
            "cargo_type": self.cargo_type,
            "cargo": self.cargo,
            "pathways": self.pathways,
            "effects": self.effects,
            "species": self.species,
            "model": self.model,
            "injury": self.injury,
            "route": self.route,
            "note": note,
            "status": "draft",
            "manuscript": manuscript,
            "paragraph": self.paragraph,
            "sentence": self.sentence,
            "sentence_hash": self.sentence_hash,
            "assignment": self.assignment,
            "from_context": self.from_context,
        }


def sentence_location(manuscript: str, section: str, paragraph: int, sentence: int) -> str:
    where = f" ({section})" if section else ""
    return f"{manuscript}{where} paragraph {paragraph} sentence {sentence}"


@dataclass
class CitingSentence:
    paragraph: Paragraph
    sentence: Sentence
    refs: list[CitedReference]
    unknown: list[str]
    ambiguous: list[str]
    drafts: list[Draft] = field(default_factory=list)
    skipped: str = ""  # why no draft came of it


@dataclass
class Extraction:
    manuscript: Manuscript
    sentences: list[CitingSentence]

    @property
    def drafts(self) -> list[Draft]:
        return [d for s in self.sentences for d in s.drafts]


def extract(
    manuscript: Manuscript,
    index: ReferenceIndex,
    references: Mapping[int, CitedReference],
    vocabs: Mapping[str, Vocabulary],
    finder: MentionFinder | None = None,
    about: CitedReference | None = None,
) -> Extraction:
    """The citing sentences of `manuscript` and their drafts; `about`: the manuscript is this
    study's abstract, and every sentence is about it."""
    finder = finder or MentionFinder(vocabs)
    pathways = vocabs["pathways"]
    title_mentions: dict[int, Mentions] = {}

    def of_title(ref: CitedReference) -> Mentions:
        if ref.ref_id not in title_mentions:
            title_mentions[ref.ref_id] = finder.find(ref.title or "", "title")
        return title_mentions[ref.ref_id]

    found: list[CitingSentence] = []
    for paragraph in manuscript.paragraphs:
        for sentence in paragraph.sentences:
            if about is not None:
                found.append(
                    _abstract_sentence(finder, paragraph, sentence, about, of_title(about), pathways)
                )
                continue
            if not sentence.citations:
                continue
            groups: list[tuple[Citation, list[CitedReference]]] = []
            unknown: list[str] = []
            ambiguous: list[str] = []
            for citation in sentence.citations:
                resolved = index.resolve(citation)
                unknown += resolved.unknown
                ambiguous += resolved.ambiguous
                refs = [references[i] for i in resolved.ref_ids if i in references]
                if refs:
                    groups.append((citation, refs))
            cited = [r for _, refs in groups for r in refs]
            citing = CitingSentence(paragraph, sentence, _unique(cited), unknown, ambiguous)
            found.append(citing)
            if not groups:
                citing.skipped = "nothing of the reference list cited"
                continue
            mentions = finder.find(without_citations(sentence), "sentence")
            context = _Context(
                _context_source(finder, paragraph, sentence), _context_effects(finder, paragraph, sentence)
            )
            reviews = [r for r in cited if REVIEW_TITLE.search(r.title or "")]
            for position, (_, refs) in enumerate(groups):
                part = group_mentions(mentions, groups, position, sentence)
                assignment = ONLY_REFERENCE if len(groups) == 1 and len(refs) == 1 else BY_POSITION
                for ref in refs:
                    if ref in reviews:
                        continue
                    mine, how = mentions_for_reference(part, ref, refs, of_title)
                    if len(groups) == 1 and len(refs) > 1:
                        how = how or SHARED
                    citing.drafts += _drafts(
                        mine, ref, paragraph, sentence, how or assignment, context, pathways, finder.sources
                    )
            if not citing.drafts:
                if len(reviews) == len(citing.refs):
                    citing.skipped = "only reviews cited"
                elif not mentions.effects and not context.effects:
                    citing.skipped = "no effect named"
                else:
                    citing.skipped = "no source named, nor in its paragraph"
    return Extraction(manuscript, found)


def _abstract_sentence(
    finder: MentionFinder,
    paragraph: Paragraph,
    sentence: Sentence,
    about: CitedReference,
    title: Mentions,
    pathways: Vocabulary,
) -> CitingSentence:
    """A sentence of the study's own abstract: its drafts, all for that study."""
    citing = CitingSentence(paragraph, sentence, [about], [], [])
    mentions = finder.find(sentence.text, "sentence")
    sources = _context_source(finder, paragraph, sentence)
    if not sources:
        sources = most_specific(title.sources, finder.sources)[:1]
    # no effect is borrowed: each sentence of an abstract is read on its own, so a background
    # sentence does not take the findings of the next one
    context = _Context(sources, [])
    citing.drafts = _drafts(mentions, about, paragraph, sentence, ABSTRACT, context, pathways, finder.sources)
    for draft in citing.drafts:
        if not draft.injury and title.injuries:
            draft.injury = _codes(title.injuries)
            draft.from_context = [*draft.from_context, "injury"]  # the sentence's drafts share a list
    if not citing.drafts:
        no_effect = not mentions.effects and not context.effects
        citing.skipped = "no effect named" if no_effect else "no source named, nor in its title"
    return citing


def _unique(refs: Sequence[CitedReference]) -> list[CitedReference]:
    seen: dict[int, CitedReference] = {}
    for ref in refs:
        seen.setdefault(ref.ref_id, ref)
    return list(seen.values())


def without_citations(sentence: Sentence) -> str:
    """The sentence with its citations blanked (same length: spans stay valid), so that a
    key such as @wang2023umbilical or \\cite{...} is not read as words."""
    chars = list(sentence.text)
    for citation in sentence.citations:
        for i in range(citation.start, citation.end):
            chars[i] = " "
    return "".join(chars)


def group_mentions(
    mentions: Mentions,
    groups: Sequence[tuple[Citation, list[CitedReference]]],
    position: int,
    sentence: Sentence,
) -> Mentions:
    """The mentions of one citation group: its own part of the sentence, then, for a field
    that part leaves empty, what follows the last group, then the rest of the sentence."""
    if len(groups) == 1:
        return mentions
    starts = [c.start for c, _ in groups]
    own_start = groups[position - 1][0].end if position else 0
    own = mentions.within(own_start, starts[position])
    trailing = mentions.within(groups[-1][0].end, len(sentence.text))
    filled: dict[str, list[Any]] = {}
    for name in MENTION_FIELDS:
        value = getattr(own, name) or getattr(trailing, name) or getattr(mentions, name)
        filled[name] = value
    return Mentions(**filled)


def mentions_for_reference(
    part: Mentions, ref: CitedReference, refs: Sequence[CitedReference], of_title: Any
) -> tuple[Mentions, str]:
    """Several references, several sources or miRNAs: each reference keeps those its title names."""
    if len(refs) == 1:
        return part, ""
    distinct_sources = {m.code for m in part.sources}
    distinct_mirnas = {m.mirna.name for m in part.mirnas}
    if len(distinct_sources) < 2 and len(distinct_mirnas) < 2:
        return part, ""
    title: Mentions = of_title(ref)
    from exocli.mentions import mirnas_compatible

    kept = Mentions(**{name: list(getattr(part, name)) for name in MENTION_FIELDS})
    how = ""
    if len(distinct_sources) >= 2:
        named = [m for m in part.sources if any(m.code == t.code for t in title.sources)]
        if named:
            kept.sources, how = named, BY_TITLE
    if len(distinct_mirnas) >= 2:
        named_mirnas = [
            m for m in part.mirnas if any(mirnas_compatible(m.mirna, t.mirna) for t in title.mirnas)
        ]
        if named_mirnas:
            kept.mirnas, how = named_mirnas, BY_TITLE
    return kept, how or SHARED


@dataclass
class _Context:
    sources: list[Mention]
    effects: list[Mention]


def _context_effects(finder: MentionFinder, paragraph: Paragraph, sentence: Sentence) -> list[Mention]:
    """The effects of the sentence before, else of the next sentence when it cites nothing."""
    before = paragraph.sentences[sentence.number - 2] if sentence.number > 1 else None
    if before is not None:
        effects = finder.find_effects(without_citations(before), "paragraph")
        if effects:
            return effects
    after = paragraph.sentences[sentence.number] if sentence.number < len(paragraph.sentences) else None
    if after is not None and not after.citations:
        return finder.find_effects(after.text, "paragraph")
    return []


def _context_source(finder: MentionFinder, paragraph: Paragraph, sentence: Sentence) -> list[Mention]:
    """The nearest source named before the sentence in its paragraph, else in its heading."""
    for earlier in reversed(paragraph.sentences[: sentence.number - 1]):
        sources = finder.sources.find(without_citations(earlier), "paragraph")
        if sources:
            return [sources[0]]
    heading = paragraph.section.split(" > ")[-1] if paragraph.section else ""
    sources = finder.sources.find(heading, "heading")
    return sources[:1]


def _drafts(
    mentions: Mentions,
    ref: CitedReference,
    paragraph: Paragraph,
    sentence: Sentence,
    assignment: str,
    context: _Context,
    pathways: Vocabulary,
    matcher: SourceMatcher,
) -> list[Draft]:
    from_context: list[str] = []
    sources = most_specific(mentions.sources, matcher)
    if not sources and context.sources:
        sources, from_context = context.sources, ["source"]
    effects = _codes(mentions.effects)
    if not effects and context.effects:
        effects = _codes(context.effects)
        from_context.append("effects")
    if not sources or not effects:
        return []
    cargo = _unique_text(m.mirna.name for m in mentions.mirnas)
    others = _codes(mentions.cargo_types)
    cargo_type = "miRNA" if cargo else (others[0] if others else "none")
    drafts = []
    for source in sources:
        drafts.append(
            Draft(
                ref=ref,
                source=source.code,
                source_wording=source.words,
                cargo_type=cargo_type,
                cargo=cargo,
                pathways=_pathways(sentence.text, mentions.pathways, pathways),
                effects=effects,
                species=_codes(mentions.species),
                model=_codes(mentions.models),
                injury=_codes(mentions.injuries),
                route=mentions.routes[0].code if mentions.routes else "not stated",
                section=paragraph.section,
                paragraph=paragraph.number,
                sentence=sentence.number,
                sentence_hash=sentence.hash,
                assignment=assignment,
                from_context=from_context,
            )
        )
    return drafts


def most_specific(sources: Sequence[Mention], matcher: SourceMatcher) -> list[Mention]:
    """One mention per source; a source that another named one is a kind of gives way
    ("mesenchymal stem cell (hUCMSC)-exosomes" is about UCMSC, not MSC in general)."""
    seen: dict[str, Mention] = {}
    for mention in sources:
        seen.setdefault(mention.code, mention)
    return [
        m
        for code, m in seen.items()
        if not any(other != code and code in matcher.lineage(other)[1:] for other in seen)
    ]


def _codes(mentions: Sequence[Mention]) -> list[str]:
    return _unique_text(m.code for m in mentions)


def _unique_text(items: Any) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _pathways(text: str, mentions: Sequence[Mention], vocab: Vocabulary) -> list[str]:
    """Axes as written ("TLR4/NF-κB"), miRNAs left out; single pathway terms by their code."""
    from exocli.mirna import parse_mirna

    axes: list[str] = []
    covered: list[tuple[int, int]] = []
    for match in _AXIS.finditer(text):
        parts = [p.strip() for p in match.group(0).split("/")]
        kept = [p for p in parts if parse_mirna(p) is None]
        if any(vocab.lookup(p) is not None for p in kept):
            axes.append("/".join(vocab.lookup(p) or p for p in kept))
            covered.append((match.start(), match.end()))
    for mention in mentions:
        if not any(start <= mention.start < end for start, end in covered) and mention.code not in axes:
            axes.append(mention.code)
    return _unique_text(axes)
