"""How well a paper's title and abstract match the review's vocabularies: a score and its reasons.

The same mention finder as `check` and `extract` (mentions.py) reads the title and the
abstract. Each field the review's claims are made of counts once per distinct term, a
term named in the title twice as much as one named only in the abstract, since a title
says what a paper is about. The reasons name each term and where it was read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from exocli.mentions import Mention, MentionFinder
from exocli.vocab import Vocabulary

# field -> weight of one distinct term of it: what a review's claims turn on weighs most.
WEIGHTS = {
    "source": 3,
    "injury": 3,
    "cargo": 2,
    "effect": 2,
    "pathway": 1,
    "model": 1,
    "species": 1,
}
PER_FIELD = 2  # distinct terms counted per field: a list of ten miRNAs is not ten times as relevant
TITLE_FACTOR = 2


@dataclass
class Relevance:
    score: int = 0
    reasons: list[str] = field(default_factory=list)  # "source MSC (title)", ...


class RelevanceRanker:
    def __init__(self, vocabs: Mapping[str, Vocabulary]) -> None:
        self.finder = MentionFinder(vocabs)

    def rank(self, title: str, abstract: str) -> Relevance:
        found: dict[str, dict[str, str]] = {name: {} for name in WEIGHTS}  # field -> code -> where
        for where, text in (("title", title), ("abstract", abstract)):
            if not text:
                continue
            mentions = self.finder.find(text, where, skip=("routes",))  # not a field of relevance
            by_field: dict[str, list[Mention]] = {
                "source": mentions.sources,
                "injury": mentions.injuries,
                "cargo": [*mentions.cargo_types],
                "effect": mentions.effects,
                "pathway": mentions.pathways,
                "model": mentions.models,
                "species": mentions.species,
            }
            for name, items in by_field.items():
                for mention in items:
                    found[name].setdefault(mention.code, where)
            for mirna in mentions.mirnas:
                found["cargo"].setdefault(mirna.mirna.family, where)
        result = Relevance()
        for name, codes in found.items():
            ranked = sorted(codes.items(), key=lambda item: (item[1] != "title", item[0]))
            for _code, where in ranked[:PER_FIELD]:
                result.score += WEIGHTS[name] * (TITLE_FACTOR if where == "title" else 1)
            if ranked:
                shown = ", ".join(f"{code} ({where})" for code, where in ranked[:PER_FIELD])
                more = f" +{len(ranked) - PER_FIELD}" if len(ranked) > PER_FIELD else ""
                result.reasons.append(f"{name} {shown}{more}")
        return result
