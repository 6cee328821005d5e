"""`exocli check`: every consistency check over the workspace database (a pure core).

run_checks(conn) reads the database and returns a Report: findings (severity, a stable
check id, the claim and/or reference concerned, one line saying what is wrong, and the
evidence for it) plus the checks it could not run and why. Nothing here prints.

Checks and severities
---------------------
integrity
  missing_reference      error    a claim cites no reference (or one not in the list)
  unused_reference       info     no claim cites the reference
  duplicate_reference    warning  same DOI, or same normalised title + first author + year
  duplicate_claim        warning  same reference, source, cargo type, cargo, effects and pathways
  invalid_term           error    a claim uses a code its vocabulary no longer has
references
  no_doi                 warning  an article without a DOI that no Crossref search has matched
                                  (not searched yet, or ambiguous / no match): nothing confirms it;
                         info     a web page (DOIs are not expected there), or an article whose
                                  DOI a Crossref bibliographic search found (add it)
  unresolved_doi         info     one finding for every reference with a DOI not checked against
                                  Crossref yet (the per-reference details are its evidence)
  crossref_mismatch      error    the DOI's record is another paper;
                         warning  other differences (title wording, first author, year, journal)
  crossref_not_found     warning  Crossref has no record of the DOI (it may be registered
                                  elsewhere, e.g. DataCite, so a human has to look)
  retraction             error    retracted / withdrawn / removed (warning when the cited DOI is
                                  itself a retraction notice)
  expression_of_concern  warning
  correction             info
claim vs cited reference (warnings unless said: a human decides, the review may be right)
  claim_source_vs_title  the title (or stored Crossref abstract) names a stem-cell source that is
                         neither the claim's source nor above or below it in the sources
                         hierarchy; several named sources contradict only when none fits
  claim_vesicle_vs_title the same, when one side is a non-stem or non-cell vesicle source
                         (M2 microglia, synthetic vesicles, ...) and the other is not
  claim_mirna_vs_title   the title names miRNAs and none is compatible with a claimed miRNA
                         (another family, or letter/paralog/arm both given and different);
                         info when another of the claim's miRNAs is named
  claim_injury_vs_title  the title is about another organ or injury than the claim's injury
  claim_disease_vs_title info: same organ (or none named), but the title names only injuries or
                         diseases of the injuries vocabulary that are neither the claim's nor
                         above or below them (stroke vs Alzheimer's; SCI vs neuroinflammation)
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from exocli.consistency import Stated, injury_vs_reference, mirna_vs_reference, source_vs_reference
from exocli.mentions import SourceMatcher, TermMatcher, strip_markup
from exocli.mirna import MiRNA, parse_mirna
from exocli.verify import fold
from exocli.vocab import VOCABS, Vocabulary, vocabulary_from_db

SEVERITIES = ("error", "warning", "info")
_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
FINDING_KEYS = ("severity", "check", "claim", "ref", "message", "evidence")
CHECKS = (
    "missing_reference",
    "unused_reference",
    "duplicate_reference",
    "duplicate_claim",
    "invalid_term",
    "no_doi",
    "unresolved_doi",
    "crossref_mismatch",
    "crossref_not_found",
    "retraction",
    "correction",
    "expression_of_concern",
    "claim_source_vs_title",
    "claim_vesicle_vs_title",
    "claim_mirna_vs_title",
    "claim_injury_vs_title",
    "claim_disease_vs_title",
    # check --manuscript: citing sentences against the references they cite
    "sentence_source_vs_title",
    "sentence_vesicle_vs_title",
    "sentence_mirna_vs_title",
    "sentence_injury_vs_title",
    "sentence_disease_vs_title",
    "sentence_direction_vs_abstract",
    "unknown_citation",
    "ambiguous_citation",
    "uncited_reference",
    "citation_order",
)


@dataclass
class Finding:
    severity: str  # error | warning | info
    check: str  # one of CHECKS
    claim: int | None
    ref: int | None  # the reference's number in the review's list
    message: str
    evidence: list[str] = field(default_factory=list)
    location: str = ""  # check --manuscript: the sentence (file, section, paragraph, sentence)

    def as_dict(self) -> dict[str, Any]:
        """Keys always in FINDING_KEYS order (then `location` where there is one), so JSON
        output is stable for scripts."""
        found = {
            "severity": self.severity,
            "check": self.check,
            "claim": self.claim,
            "ref": self.ref,
            "message": self.message,
            "evidence": list(self.evidence),
        }
        if self.location:
            found["location"] = self.location
        return found

    def sort_key(self) -> tuple[int, str, bool, int, bool, int]:
        return (
            _RANK.get(self.severity, len(SEVERITIES)),
            self.check,
            self.ref is None,
            self.ref or 0,
            self.claim is None,
            self.claim or 0,
        )


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.findings.sort(key=Finding.sort_key)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(SEVERITIES, 0)
        for finding in self.findings:
            counts[finding.severity] = counts.get(finding.severity, 0) + 1
        return counts

    def exit_code(self, strict: bool = False) -> int:
        """1 when anything is above warning (with strict: anything above info), else 0."""
        counts = self.counts()
        if counts["error"] or (strict and counts["warning"]):
            return 1
        return 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "findings": [finding.as_dict() for finding in self.findings],
            "not_checked": list(self.not_checked),
        }


# --------------------------------------------------------------------------- loading


@dataclass
class _Ref:
    id: int
    number: int | None
    kind: str
    title: str | None
    doi: str | None
    url: str | None
    year: int | None
    problem: str | None
    first_author: str | None

    @property
    def label(self) -> str:
        return f"ref {self.number}" if self.number is not None else f"reference id {self.id}"

    @property
    def short(self) -> str:
        who = " ".join(str(x) for x in (self.first_author, self.year) if x)
        return f"{who}: {self.title}" if who and self.title else (self.title or who or "(no title)")


@dataclass
class _Cargo:
    name: str
    key: str
    family: str | None
    letter: str | None
    paralog: str | None
    arm: str | None

    def mirna(self) -> MiRNA | None:
        parsed = parse_mirna(self.name)
        if parsed is not None:
            return parsed
        if self.family is None:
            return None
        prefix, _, number = self.family.partition("-")
        return MiRNA(prefix, number, self.letter, self.paralog, self.arm)


@dataclass
class _Claim:
    id: int
    ref_id: int | None
    source: str
    source_wording: str
    cargo_type: str
    injury: str
    cargo: list[_Cargo] = field(default_factory=list)
    effects: list[str] = field(default_factory=list)
    pathways: list[str] = field(default_factory=list)
    injuries: list[str] = field(default_factory=list)  # codes of the injuries vocabulary


@dataclass
class _Data:
    refs: dict[int, _Ref]
    claims: list[_Claim]
    resolution: dict[int, sqlite3.Row]
    updates: dict[int, list[sqlite3.Row]]
    abstracts: dict[int, str]
    vocabs: dict[str, Vocabulary]


def _load(conn: sqlite3.Connection) -> _Data:
    refs: dict[int, _Ref] = {}
    for row in conn.execute(
        "SELECT r.id, r.number, r.kind, r.title, r.doi, r.url, r.year, r.problem,"
        " (SELECT family FROM ref_authors a WHERE a.ref_id = r.id ORDER BY position LIMIT 1)"
        " FROM refs r ORDER BY r.number IS NULL, r.number, r.id"
    ):
        refs[row[0]] = _Ref(*tuple(row))
    claims = {
        row[0]: _Claim(*tuple(row))
        for row in conn.execute(
            "SELECT id, ref_id, source, source_wording, cargo_type, injury FROM claims"
            " WHERE status != 'rejected' ORDER BY id"
        )
    }
    for row in conn.execute(
        "SELECT claim_id, name, key, family, letter, paralog, arm FROM claim_cargos ORDER BY claim_id, position"
    ):
        if row[0] in claims:
            claims[row[0]].cargo.append(_Cargo(*tuple(row)[1:]))
    for claim_id, code in conn.execute(
        "SELECT claim_id, code FROM claim_terms WHERE vocab = 'injuries' ORDER BY claim_id, position"
    ):
        if claim_id in claims:
            claims[claim_id].injuries.append(code)
    for claim_id, effect in conn.execute(
        "SELECT claim_id, effect FROM claim_effects ORDER BY claim_id, position"
    ):
        if claim_id in claims:
            claims[claim_id].effects.append(effect)
    for claim_id, pathway in conn.execute(
        "SELECT claim_id, pathway FROM claim_pathways ORDER BY claim_id, position"
    ):
        if claim_id in claims:
            claims[claim_id].pathways.append(pathway)
    resolution = {row["ref_id"]: row for row in conn.execute("SELECT * FROM ref_resolution")}
    updates: dict[int, list[sqlite3.Row]] = {}
    for row in conn.execute("SELECT * FROM ref_updates ORDER BY ref_id, type, relation, doi"):
        updates.setdefault(row["ref_id"], []).append(row)
    abstracts = stored_abstracts(conn)
    vocabs = {name: vocabulary_from_db(conn, name) for name in VOCABS}
    return _Data(refs, list(claims.values()), resolution, updates, abstracts, vocabs)


def stored_abstracts(conn: sqlite3.Connection) -> dict[int, str]:
    """reference row id -> its stored Crossref abstract, as plain text. A record that may be
    another paper (its title differs) says nothing about this one, so it is left out."""
    abstracts: dict[int, str] = {}
    for ref_id, status, differences, message in conn.execute(
        "SELECT s.ref_id, s.status, s.differences, w.message FROM ref_resolution s"
        " JOIN crossref_works w ON w.doi = s.doi WHERE w.message IS NOT NULL"
    ):
        if status != "ok" and any(str(d).startswith("title:") for d in _json_list(differences)):
            continue  # the record may be another paper: its abstract says nothing about this one
        try:
            record = json.loads(message)
        except ValueError:
            continue
        abstract = record.get("abstract") if isinstance(record, dict) else None
        if isinstance(abstract, str) and abstract.strip():
            abstracts[ref_id] = strip_markup(abstract)
    return abstracts


def _json_list(text: str | None) -> list[Any]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return [text]
    return value if isinstance(value, list) else [value]


# --------------------------------------------------------------------------- checks


def run_checks(conn: sqlite3.Connection) -> Report:
    """Run every check the workspace's data allows; say what could not be checked."""
    data = _load(conn)
    findings: list[Finding] = []
    not_checked: list[str] = []
    if not data.refs:
        not_checked.append(
            "no references: reference checks and claim-vs-reference checks skipped (import a list first)"
        )
    if not data.claims:
        not_checked.append(
            "no claims: claim checks skipped (add claims with `exocli add-study` or `exocli import`)"
        )
    findings += _integrity(data)
    findings += _references(data, not_checked)
    findings += _claims_vs_references(data, not_checked)
    return Report(findings, not_checked)


def _integrity(data: _Data) -> list[Finding]:
    findings: list[Finding] = []
    cited: set[int] = set()
    for claim in data.claims:
        ref = data.refs.get(claim.ref_id) if claim.ref_id is not None else None
        if ref is not None:
            cited.add(ref.id)
            continue
        if claim.ref_id is None:
            what, evidence = "claim cites no reference in the list", [f"claim {claim.id}: no ref"]
        else:
            what = "claim cites a reference that is not in the list"
            evidence = [f"claim {claim.id}: ref_id {claim.ref_id}"]
        findings.append(Finding("error", "missing_reference", claim.id, None, what, evidence))
    if data.claims:
        for ref in data.refs.values():
            if ref.id not in cited:
                findings.append(
                    Finding(
                        "info",
                        "unused_reference",
                        None,
                        ref.number,
                        "no claim cites this reference",
                        [ref.short],
                    )
                )
    findings += _duplicate_references(data)
    findings += _duplicate_claims(data)
    findings += _invalid_terms(data)
    return findings


def _duplicate_references(data: _Data) -> list[Finding]:
    by_doi: dict[str, list[_Ref]] = {}
    by_title: dict[tuple[str, str, int | None], list[_Ref]] = {}
    for ref in data.refs.values():
        if ref.doi:
            by_doi.setdefault(ref.doi.casefold(), []).append(ref)
        if ref.title and fold(ref.title):
            key = (fold(ref.title), fold(ref.first_author or ""), ref.year)
            by_title.setdefault(key, []).append(ref)
    reasons: dict[int, tuple[_Ref, list[str]]] = {}  # later ref id -> (first ref, why)
    for group, why in [(g, "same DOI") for g in by_doi.values()] + [
        (g, "same title, first author and year") for g in by_title.values()
    ]:
        for later in group[1:]:
            entry = reasons.setdefault(later.id, (group[0], []))
            entry[1].append(why)
    findings = []
    for later_id, (first, whys) in reasons.items():
        later = data.refs[later_id]
        evidence = [f"{r.label}: {r.short}" + (f" (doi:{r.doi})" if r.doi else "") for r in (first, later)]
        findings.append(
            Finding(
                "warning",
                "duplicate_reference",
                None,
                later.number,
                f"duplicate of {first.label} ({' and '.join(whys)})",
                evidence,
            )
        )
    return findings


def _duplicate_claims(data: _Data) -> list[Finding]:
    seen: dict[tuple[Any, ...], _Claim] = {}
    findings = []
    for claim in data.claims:
        key = (
            claim.ref_id,
            claim.source,
            claim.cargo_type,
            tuple(sorted(c.key for c in claim.cargo)),
            tuple(sorted(claim.effects)),
            tuple(sorted(fold(p) for p in claim.pathways)),
        )
        first = seen.setdefault(key, claim)
        if first is claim:
            continue
        ref = data.refs.get(claim.ref_id) if claim.ref_id is not None else None
        findings.append(
            Finding(
                "warning",
                "duplicate_claim",
                claim.id,
                ref.number if ref else None,
                f"repeats claim {first.id} (same reference, source, cargo, effects and pathways)",
                [
                    f"source {claim.source}",
                    f"cargo {', '.join(c.name for c in claim.cargo) or 'none'} ({claim.cargo_type})",
                    f"effects {', '.join(claim.effects) or 'none'}",
                    f"pathways {', '.join(claim.pathways) or 'none'}",
                ],
            )
        )
    return findings


def _invalid_terms(data: _Data) -> list[Finding]:
    findings = []
    for claim in data.claims:
        ref = data.refs.get(claim.ref_id) if claim.ref_id is not None else None
        number = ref.number if ref else None
        for vocab_name, field_name, values in (
            ("sources", "source", [claim.source]),
            ("cargo-types", "cargo_type", [claim.cargo_type]),
            ("effects", "effects", claim.effects),
        ):
            vocab = data.vocabs[vocab_name]
            for value in values:
                if value in vocab.terms:
                    continue
                suggestion = vocab.lookup(value) or ", ".join(vocab.suggest(value))
                evidence = [f"{field_name} = {value!r}", f"not a code of the {vocab_name} vocabulary"]
                if suggestion:
                    evidence.append(f"did you mean {suggestion}?")
                findings.append(
                    Finding(
                        "error",
                        "invalid_term",
                        claim.id,
                        number,
                        f"{field_name} {value!r} is no longer in the {vocab_name} vocabulary",
                        evidence,
                    )
                )
    return findings


_RETRACTION_TYPES = {"retraction", "partial_retraction", "withdrawal", "removal"}


def _update_kind(row: sqlite3.Row) -> str:
    kind = str(row["type"]).lower().replace("-", "_").replace(" ", "_")
    label = str(row["label"]).lower()
    if kind in _RETRACTION_TYPES or any(w in label for w in ("retract", "withdrawn", "removed")):
        return "retraction"
    if kind == "expression_of_concern" or "concern" in label:
        return "expression_of_concern"
    if kind in ("correction", "erratum") or "correct" in label or "errat" in label:
        return "correction"
    return ""


def _references(data: _Data, not_checked: list[str]) -> list[Finding]:
    findings: list[Finding] = []
    unresolved: list[_Ref] = []
    citing: dict[int, list[int]] = {}
    for claim in data.claims:
        if claim.ref_id is not None:
            citing.setdefault(claim.ref_id, []).append(claim.id)
    for ref in data.refs.values():
        resolution = data.resolution.get(ref.id)
        if not ref.doi:
            findings.append(_no_doi(ref, resolution))
        elif resolution is None:
            unresolved.append(ref)
        if resolution is not None and resolution["doi"]:
            findings += _crossref_verdict(ref, resolution)
        for row in data.updates.get(ref.id, []):
            finding = _update_finding(ref, row)
            if finding is not None:
                claims = citing.get(ref.id, [])
                if claims:  # what the flag puts in doubt
                    finding.evidence.append(
                        f"cited by claim{'s' if len(claims) > 1 else ''} {', '.join(map(str, sorted(claims)))}"
                    )
                findings.append(finding)
        if ref.kind == "unparsed":
            not_checked.append(f"{ref.label} could not be parsed ({ref.problem}): its title is not checked")
    if unresolved:
        findings.append(
            Finding(
                "info",
                "unresolved_doi",
                None,
                None,
                f"{len(unresolved)} DOIs not checked against Crossref yet",
                [f"{r.label}: doi:{r.doi}" for r in unresolved],
            )
        )
        not_checked.append(
            f"{len(unresolved)} references not resolved yet: Crossref checks (record, retraction,"
            " abstract) skipped for them (run `exocli resolve`)"
        )
    return findings


def _no_doi(ref: _Ref, resolution: sqlite3.Row | None) -> Finding:
    if ref.kind == "web":
        return Finding(
            "info",
            "no_doi",
            None,
            ref.number,
            "web page without a DOI (none expected)",
            [f"url {ref.url}" if ref.url else "no URL either"],
        )
    evidence = [ref.short]
    severity = "warning"
    if resolution is None:
        evidence.append("no Crossref search stored (run `exocli resolve`)")
    elif resolution["doi"] and resolution["status"] in ("ok", "mismatch"):
        severity = "info"
        score = resolution["score"]
        evidence.append(
            f"Crossref search found doi:{resolution['doi']}"
            + (f" (score {score:.2f})" if isinstance(score, float) else "")
            + "; add it to the reference"
        )
    else:
        evidence.append(f"Crossref search: {resolution['status']} (no clear match)")
    kind = "reference" if ref.kind == "unparsed" else "article"
    return Finding(severity, "no_doi", None, ref.number, f"{kind} has no DOI", evidence)


def _crossref_verdict(ref: _Ref, resolution: sqlite3.Row) -> list[Finding]:
    status = resolution["status"]
    doi = resolution["doi"]
    via = "found by bibliographic search" if resolution["method"] == "bibliographic" else "as cited"
    if status == "not_found":
        return [
            Finding(
                "warning",
                "crossref_not_found",
                None,
                ref.number,
                "Crossref has no record of this DOI",
                [
                    f"doi:{doi} ({via})",
                    "it may be mistyped, or registered with another agency (DataCite, mEDRA)",
                ],
            )
        ]
    if status != "mismatch":
        return []
    differences = [str(d) for d in _json_list(resolution["differences"])]
    other_paper = any(d.startswith("title: the DOI's record is another paper") for d in differences)
    message = (
        "the DOI's Crossref record is another paper"
        if other_paper
        else "Crossref record differs from the reference as cited"
    )
    return [
        Finding(
            "error" if other_paper else "warning",
            "crossref_mismatch",
            None,
            ref.number,
            message,
            [f"doi:{doi} ({via})", *differences],
        )
    ]


def _update_finding(ref: _Ref, row: sqlite3.Row) -> Finding | None:
    kind = _update_kind(row)
    if not kind:
        return None
    notice = row["relation"] == "update-to"
    detail = [f"Crossref: {row['label']}"]
    if row["doi"]:
        detail.append(f"notice doi:{row['doi']}")
    if row["date"]:
        detail.append(f"date {row['date']}")
    if row["source"]:
        detail.append(f"source {row['source']}")
    if notice:
        return Finding(
            "warning",
            kind,
            None,
            ref.number,
            f"the cited DOI is itself a {kind.replace('_', ' ')} notice, not the paper",
            detail,
        )
    severity, message = {
        "retraction": ("error", f"the cited paper is {row['label']}"),
        "expression_of_concern": ("warning", "the cited paper has an expression of concern"),
        "correction": ("info", "the cited paper has a correction"),
    }[kind]
    return Finding(severity, kind, None, ref.number, message, detail)


# --------------------------------------------------------------------------- claim vs reference


def _claims_vs_references(data: _Data, not_checked: list[str]) -> list[Finding]:
    if not data.claims or not data.refs:
        return []
    matcher = SourceMatcher(data.vocabs["sources"])
    diseases = TermMatcher(data.vocabs["injuries"])
    findings: list[Finding] = []
    untitled: list[str] = []
    cited_refs: set[int] = set()
    for claim in data.claims:
        ref = data.refs.get(claim.ref_id) if claim.ref_id is not None else None
        if ref is None:
            continue
        if not ref.title or ref.kind != "article":
            untitled.append(f"claim {claim.id} ({ref.label}, {ref.kind})")
            continue
        cited_refs.add(ref.id)
        texts = [("title", ref.title)]
        if ref.id in data.abstracts:
            texts.append(("abstract", data.abstracts[ref.id]))
        stated = Stated(
            source=claim.source,
            source_wording=claim.source_wording,
            mirnas=[(c.name, m) for c in claim.cargo if (m := c.mirna()) is not None],
            injuries=claim.injuries,
            injury_text=claim.injury,
        )
        for disagreement in (
            source_vs_reference(stated, texts, matcher),
            mirna_vs_reference(stated, texts),
            injury_vs_reference(stated, texts, diseases),
        ):
            if disagreement is not None:
                findings.append(
                    Finding(
                        disagreement.severity,
                        disagreement.check,
                        claim.id,
                        ref.number,
                        disagreement.message,
                        disagreement.evidence,
                    )
                )
    if untitled:
        not_checked.append(
            f"{len(untitled)} claims cite a reference without a parsed article title: claim-vs-title"
            f" checks skipped for them ({'; '.join(untitled)})"
        )
    if cited_refs:
        missing = len(cited_refs - set(data.abstracts))
        if missing == len(cited_refs):
            not_checked.append(
                "no Crossref abstract stored for any cited reference: claims compared with titles only"
            )
        elif missing:
            not_checked.append(
                f"{missing} of {len(cited_refs)} cited references have no stored Crossref abstract:"
                " those claims compared with titles only"
            )
    return findings
