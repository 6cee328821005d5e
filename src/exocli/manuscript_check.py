"""`exocli check --manuscript FILE`: every citing sentence against the references it cites.

For each citing sentence the mention finder reads what it names; the mentions are shared
out among the cited references as `extract` shares them (by position, then by title), and
each reference's title and stored Crossref abstract are compared with what its part of the
sentence says, by the rules `check` applies to claims (consistency.py):

  sentence_source_vs_title, sentence_vesicle_vs_title   warning  another cell source
  sentence_mirna_vs_title         warning (info when another named miRNA fits)
  sentence_injury_vs_title        warning  another organ;  sentence_disease_vs_title  info
  sentence_direction_vs_abstract  warning  the abstract has the same pathway or marker going
                                           the other way (activates vs inhibits)
  unknown_citation                error    a number or key that is not in the reference list
  ambiguous_citation              warning  an author-year citation that fits several references
  uncited_reference               info     a reference the manuscript never cites
  citation_order                  warning  numbered style: a reference first cited before
                                           one with a lower number

A finding names the sentence (file, section, paragraph and sentence number), the reference
and the words on both sides. Reviews are checked like every other reference here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from exocli.audit import Finding, Report, stored_abstracts
from exocli.citations import NUMBERED
from exocli.consistency import (
    Disagreement,
    Stated,
    direction_vs_abstract,
    directions,
    injury_vs_reference,
    mirna_vs_reference,
    source_vs_reference,
)
from exocli.drafts import reference_index
from exocli.errors import UsageError
from exocli.extraction import (
    CitedReference,
    group_mentions,
    mentions_for_reference,
    most_specific,
    sentence_location,
    without_citations,
)
from exocli.manuscript import Manuscript, read_manuscript
from exocli.mentions import MentionFinder, Mentions
from exocli.vocab import VOCABS, vocabulary_from_db


def check_manuscript(
    conn: sqlite3.Connection, path: Path, fmt: str | None = None, name: str | None = None
) -> Report:
    manuscript = read_manuscript(path, fmt)
    if manuscript.about:
        raise UsageError(f"{path}: an abstract, not a manuscript: it cites nothing to check")
    label = name or str(path)
    index, refs = reference_index(conn)
    kinds = dict(conn.execute("SELECT id, kind FROM refs").fetchall())
    vocabs = {v: vocabulary_from_db(conn, v) for v in VOCABS}
    finder = MentionFinder(vocabs)
    abstracts = stored_abstracts(conn)
    findings: list[Finding] = []
    not_checked: list[str] = []
    cited: set[int] = set()
    title_mentions: dict[int, Mentions] = {}

    def of_title(ref: CitedReference) -> Mentions:
        ref_id = ref.ref_id
        if ref_id not in title_mentions:
            title_mentions[ref_id] = finder.find(refs[ref_id].title, "title")
        return title_mentions[ref_id]

    for paragraph, sentence in manuscript.citing_sentences():
        where = sentence_location(label, paragraph.section, paragraph.number, sentence.number)
        groups = []
        for citation in sentence.citations:
            resolved = index.resolve(citation)
            for target in resolved.unknown:
                findings.append(
                    Finding(
                        "error",
                        "unknown_citation",
                        None,
                        None,
                        f"cites {target}, which is not in the reference list",
                        [f'citation "{citation.words}"'],
                        where,
                    )
                )
            for target in resolved.ambiguous:
                candidates = ", ".join(
                    str(refs[i].number or refs[i].key) for i in resolved.ref_ids if i in refs
                )
                findings.append(
                    Finding(
                        "warning",
                        "ambiguous_citation",
                        None,
                        None,
                        f"{target} fits several references ({candidates}); add a letter (2021a, 2021b)",
                        [f'citation "{citation.words}"'],
                        where,
                    )
                )
            group_refs = [refs[i] for i in resolved.ref_ids if i in refs]
            cited.update(r.ref_id for r in group_refs)
            if group_refs:
                groups.append((citation, group_refs))
        if not groups:
            continue
        text = without_citations(sentence)
        mentions = finder.find(text, "sentence")
        for position, (_, group_refs) in enumerate(groups):
            part = group_mentions(mentions, groups, position, sentence)
            for ref in group_refs:
                if not ref.title or kinds.get(ref.ref_id) != "article":
                    continue
                mine, _ = mentions_for_reference(part, ref, group_refs, of_title)
                texts = [("title", ref.title)]
                if ref.ref_id in abstracts:
                    texts.append(("abstract", abstracts[ref.ref_id]))
                for disagreement in _compare(mine, texts, text, finder, abstracts.get(ref.ref_id, "")):
                    findings.append(
                        Finding(
                            disagreement.severity,
                            disagreement.check,
                            None,
                            ref.number,
                            disagreement.message,
                            disagreement.evidence,
                            where,
                        )
                    )
    findings += _list_findings(manuscript, refs, cited, label)
    missing = [r for r in cited if r not in abstracts]
    if cited and missing:
        not_checked.append(
            f"{len(missing)} of {len(cited)} cited references have no stored Crossref abstract: those sentences"
            " compared with titles only, and their direction not checked (`exocli resolve` stores abstracts)"
        )
    return Report(findings, not_checked)


def _compare(
    mine: Mentions, texts: list[tuple[str, str]], sentence: str, finder: MentionFinder, abstract: str
) -> list[Disagreement]:
    found: list[Disagreement] = []
    # several sources named: the sentence contradicts the reference only when none fits
    disagreements: list[Disagreement] = []
    for source in most_specific(mine.sources, finder.sources):
        disagreement = source_vs_reference(Stated(source.code, ""), texts, finder.sources, who="sentence")
        if disagreement is None:
            disagreements = []
            break
        disagreement.evidence = list(
            dict.fromkeys([f'sentence says "{source.words}" ({source.code})', *disagreement.evidence])
        )
        disagreements.append(disagreement)
    found += disagreements[:1]
    mirnas = [(m.words, m.mirna) for m in mine.mirnas]
    disagreement = mirna_vs_reference(Stated(None, mirnas=mirnas), texts, who="sentence")
    if disagreement is not None:
        found.append(disagreement)
    injuries = list(dict.fromkeys(m.code for m in mine.injuries))
    if injuries:
        stated = Stated(
            None, injuries=injuries, injury_text="; ".join(dict.fromkeys(m.words for m in mine.injuries))
        )
        disagreement = injury_vs_reference(stated, texts, finder.injuries, who="sentence")
        if disagreement is not None:
            found.append(disagreement)
    said = directions(sentence, mine.pathways)
    disagreement = direction_vs_abstract(said, abstract, finder.pathways)
    if disagreement is not None:
        found.append(disagreement)
    return found


def _list_findings(
    manuscript: Manuscript, refs: dict[int, CitedReference], cited: set[int], label: str
) -> list[Finding]:
    findings: list[Finding] = []
    numbers = {ref.number for ref in refs.values() if ref.number is not None}
    for ref_id, ref in refs.items():
        if ref_id not in cited:
            findings.append(
                Finding(
                    "info",
                    "uncited_reference",
                    None,
                    ref.number,
                    f"the manuscript never cites {ref.key or 'this reference'}",
                    [ref.title] if ref.title else [],
                    label,
                )
            )
    # Numbered styles number references in order of first citation: a first citation that
    # jumps past numbers not cited yet is one finding (not one per number it skips).
    highest = 0
    seen: set[int] = set()
    for paragraph in manuscript.paragraphs:
        for sentence in paragraph.sentences:
            for citation in sentence.citations:
                if citation.form != NUMBERED:
                    continue
                for number in citation.numbers:
                    if number in seen or number not in numbers:
                        continue
                    seen.add(number)
                    if number > highest + 1:
                        skipped = [n for n in range(highest + 1, number) if n in numbers and n not in seen]
                        if skipped:
                            findings.append(
                                Finding(
                                    "warning",
                                    "citation_order",
                                    None,
                                    number,
                                    f"reference {number} is cited before reference {skipped[0]}"
                                    + (f" (and {len(skipped) - 1} more)" if len(skipped) > 1 else "")
                                    + ": numbered styles number references in order of first citation",
                                    [f'citation "{citation.words}"'],
                                    sentence_location(
                                        label, paragraph.section, paragraph.number, sentence.number
                                    ),
                                )
                            )
                    highest = max(highest, number)
    return findings
