"""Exports for manuscripts: BibTeX (bibtexparser v2), CSL-JSON, RIS and the evidence table.

Each reference is described from its Crossref record when that record was verified
(`ok`), otherwise from the parsed reference list. Keys are the study keys (refs/studies/KEY.toml).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from exocli import latex
from exocli.errors import UsageError
from exocli.references import Reference, list_references, references_by_ids

CROSSREF_TYPES = {
    "journal-article": "article",
    "book-chapter": "incollection",
    "book": "book",
    "monograph": "book",
    "edited-book": "book",
    "proceedings-article": "inproceedings",
    "posted-content": "misc",
    "dataset": "misc",
    "report": "techreport",
    "dissertation": "phdthesis",
}
CSL_TYPES = {
    "article": "article-journal",
    "incollection": "chapter",
    "book": "book",
    "inproceedings": "paper-conference",
    "techreport": "report",
    "phdthesis": "thesis",
    "misc": "document",
    "web": "webpage",
}
RIS_TYPES = {
    "article": "JOUR",
    "incollection": "CHAP",
    "book": "BOOK",
    "inproceedings": "CPAPER",
    "techreport": "RPRT",
    "phdthesis": "THES",
    "misc": "GEN",
    "web": "ELEC",
}
REQUIRED = {
    "article": ("author", "title", "journal", "year"),
    "incollection": ("author", "title", "booktitle", "year"),
    "inproceedings": ("author", "title", "booktitle", "year"),
    "book": ("title", "year"),
    "misc": ("author", "title", "year"),
    "web": ("title", "url"),
}


@dataclass
class Record:
    """One reference, ready to write in any format (plain Unicode text)."""

    key: str
    kind: str  # a BibTeX type, or "web"
    number: int | None
    authors: list[tuple[str, str]] = field(default_factory=list)
    et_al: bool = False
    title: str | None = None
    journal: str | None = None
    journal_short: str | None = None
    booktitle: str | None = None
    publisher: str | None = None
    year: int | None = None
    month: int | None = None
    day: int | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    url: str | None = None
    issn: str | None = None
    notes: list[str] = field(default_factory=list)
    source: str = "list"  # "crossref" or "list"

    def missing(self) -> list[str]:
        values = {
            "author": self.authors,
            "title": self.title,
            "journal": self.journal,
            "booktitle": self.booktitle,
            "year": self.year,
            "url": self.url,
        }
        return [name for name in REQUIRED.get(self.kind, ("title",)) if not values.get(name)]


def expand_pages(pages: str | None) -> str | None:
    """Vancouver '24–5' -> '24-25', 'S132–44' -> 'S132-S144'; anything else is kept."""
    if not pages:
        return None
    text = pages.replace("–", "-").replace("—", "-").strip()
    match = re.fullmatch(r"([A-Za-z]*)(\d+)-([A-Za-z]*)(\d+)", text)
    if not match:
        return text
    prefix, first, prefix2, last = match.groups()
    if len(last) < len(first):
        last = first[: len(first) - len(last)] + last
    return f"{prefix}{first}-{prefix or prefix2}{last}"


def records(conn: sqlite3.Connection, refs: Sequence[Reference]) -> list[Record]:
    """Records for these references, from verified Crossref data where there is some."""
    messages: dict[int, dict[str, Any]] = {}
    ids = [ref.id for ref in refs]
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        marks = ",".join("?" * len(chunk))
        for ref_id, message in conn.execute(
            "SELECT r.ref_id, w.message FROM ref_resolution r JOIN crossref_works w ON w.doi = r.doi"
            f" WHERE r.status = 'ok' AND w.message IS NOT NULL AND r.ref_id IN ({marks})",
            chunk,
        ):
            messages[ref_id] = json.loads(message)
    out = []
    for ref in refs:
        record = _from_crossref(ref, messages[ref.id]) if ref.id in messages else _from_list(ref)
        _without_control_characters(record)
        for flag in ref.flags:
            record.notes.append(_flag_note(flag))
        out.append(record)
    return out


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _without_control_characters(record: Record) -> None:
    """A Crossref record may carry control characters; no export does (they break every format)."""
    for name, value in vars(record).items():
        if isinstance(value, str) and _CONTROL.search(value):
            setattr(record, name, " ".join(_CONTROL.sub(" ", value).split()))
    record.authors = [(_CONTROL.sub(" ", f).strip(), _CONTROL.sub(" ", g).strip()) for f, g in record.authors]


def _flag_note(flag: str) -> str:
    if flag.startswith("is a "):
        return f"This DOI {flag}"
    return f"{flag.capitalize()}: see the publisher's notice (Crossref)"


def _from_list(ref: Reference) -> Record:
    kind = "web" if ref.kind == "web" else "article" if ref.journal else "misc"
    return Record(
        key=ref.citekey or f"ref{ref.number}",
        kind=kind,
        number=ref.number,
        authors=[(a.family, a.given) for a in ref.authors],
        et_al=ref.et_al,
        title=ref.title or (ref.raw if ref.kind == "unparsed" else None),
        journal=ref.journal,
        journal_short=ref.journal,
        year=ref.year,
        volume=ref.volume,
        issue=ref.issue,
        pages=expand_pages(ref.pages),
        doi=ref.doi or ref.check_doi,
        url=None if (ref.doi or ref.check_doi) else ref.url,
    )


def _from_crossref(ref: Reference, message: dict[str, Any]) -> Record:
    from exocli.verify import record_titles, record_year

    kind = CROSSREF_TYPES.get(str(message.get("type")), "misc")
    containers = message.get("container-title") or []
    shorts = message.get("short-container-title") or []
    authors = [
        (str(a.get("family") or a.get("name")), str(a.get("given") or ""))
        for a in message.get("author") or []
        if a.get("family") or a.get("name")
    ]
    title = re.sub(r"<[^>]+>", "", (record_titles(message) or [ref.title or ""])[0])
    subtitles = [re.sub(r"<[^>]+>", "", str(s)).strip() for s in message.get("subtitle") or []]
    if subtitles and subtitles[0] and subtitles[0].casefold() not in title.casefold():
        title = f"{title.rstrip(' :')}: {subtitles[0]}"
    parts = _date_parts(message)
    issns = [str(s) for s in message.get("ISSN") or [] if s]
    record = Record(
        key=ref.citekey or f"ref{ref.number}",
        kind=kind,
        number=ref.number,
        authors=authors or [(a.family, a.given) for a in ref.authors],
        title=" ".join(title.split()) or ref.title,
        journal=(containers[0] if containers else ref.journal) if kind == "article" else None,
        journal_short=shorts[0] if shorts else ref.journal,
        booktitle=containers[0] if containers and kind in ("incollection", "inproceedings") else None,
        publisher=message.get("publisher") if kind in ("book", "techreport") else None,
        year=record_year(message) or ref.year,
        month=parts[1] if len(parts) > 1 and parts[0] == (record_year(message) or ref.year) else None,
        day=parts[2] if len(parts) > 2 and parts[0] == (record_year(message) or ref.year) else None,
        volume=message.get("volume") or ref.volume,
        issue=message.get("issue") or ref.issue,
        pages=expand_pages(message.get("page") or message.get("article-number") or ref.pages),
        doi=str(message.get("DOI") or ref.doi or ref.check_doi),
        issn=issns[0] if issns else None,
        source="crossref",
    )
    if kind == "misc" and message.get("type") == "posted-content":
        record.notes.append("Preprint")
    return record


def _date_parts(message: dict[str, Any]) -> list[int]:
    """The work's fullest date: issued, else print, else online publication; [y, m, d] or less."""
    for key in ("issued", "published-print", "published-online", "published"):
        value = message.get(key)
        rows = value.get("date-parts") if isinstance(value, dict) else None
        if rows and isinstance(rows[0], list) and rows[0] and all(isinstance(v, int) for v in rows[0]):
            return [int(v) for v in rows[0][:3]]
    return []


MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def select_references(
    conn: sqlite3.Connection, claim_refs: list[int] | None, numbers: list[int] | None, everything: bool
) -> list[Reference]:
    """The references behind the matching claims, those named, or all of them."""
    refs = list_references(conn)
    if everything:
        return refs
    wanted: set[int] = set(numbers or []) | set(claim_refs or [])
    known = {ref.number for ref in refs}
    unknown = sorted(n for n in numbers or [] if n not in known)
    if unknown:
        raise UsageError(f"--ref: no reference {unknown[0]} in this workspace")
    return [ref for ref in refs if ref.number in wanted]


# --- BibTeX -------------------------------------------------------------------------------


def _bib_name(family: str, given: str, unicode: bool) -> str:
    family_text = latex.escape(family, unicode)
    if " and " in f" {family} " or "," in family:
        family_text = "{" + family_text + "}"  # an organisation, or a name BibTeX would split
    given_text = latex.escape(given, unicode)
    return f"{family_text}, {given_text}" if given_text else family_text


def _url(url: str) -> str:
    return url.replace("%", r"\%").replace("#", r"\#").replace("{", "%7B").replace("}", "%7D")


def bib_fields(record: Record, unicode: bool, doi_url: bool = False) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    if record.authors:
        names = [_bib_name(f, g, unicode) for f, g in record.authors]
        if record.et_al:
            names.append("others")
        fields.append(("author", " and ".join(names)))
    if record.title:
        # a web page's or an author-less document's title is a name: its capitals stay
        fields.append(
            ("title", latex.title(record.title, unicode, names=record.kind == "web" or not record.authors))
        )
    if record.kind == "article" and record.journal:
        fields.append(("journal", latex.escape(record.journal, unicode)))
    if record.booktitle:
        fields.append(("booktitle", latex.title(record.booktitle, unicode)))
    if record.publisher:
        fields.append(("publisher", latex.escape(record.publisher, unicode)))
    if record.year:
        fields.append(("year", str(record.year)))
    if record.month:
        fields.append(("month", MONTHS[record.month - 1]))  # the month macro, written bare
    if record.volume:
        fields.append(("volume", latex.escape(str(record.volume), unicode)))
    if record.issue:
        fields.append(("number", latex.escape(str(record.issue), unicode)))
    if record.pages:
        fields.append(("pages", latex.escape(record.pages, unicode).replace("-", "--")))
    if record.issn:
        fields.append(("issn", record.issn))
    if record.doi:
        fields.append(("doi", latex.escape(record.doi, unicode)))
        if doi_url:  # classic .bst styles print `url`, not `doi`
            fields.append(("url", _url(f"https://doi.org/{record.doi}")))
    elif record.url:
        if record.kind == "web":  # what plain, unsrt and apalike print, as Better BibTeX writes it
            fields.append(("howpublished", "\\url{" + _url(record.url) + "}"))
        fields.append(("url", _url(record.url)))
    if not record.authors:
        # plain.bst sorts by author or `key`: the title, whole (a label style may print it)
        fields.append(("key", latex.escape(record.title or record.key, unicode)))
    if record.notes:
        fields.append(("note", latex.escape(". ".join(record.notes), unicode)))
    return fields


def to_bibtex(items: Sequence[Record], unicode: bool = False, doi_url: bool = False) -> str:
    from bibtexparser.entrypoint import write_string
    from bibtexparser.library import Library
    from bibtexparser.middlewares import AddEnclosingMiddleware
    from bibtexparser.model import Entry, Field
    from bibtexparser.writer import BibtexFormat

    library = Library()
    for record in items:
        entry_type = "misc" if record.kind == "web" else record.kind
        written = [
            Field(k, v, enclosing="no-enclosing") if k == "month" else Field(k, v)
            for k, v in bib_fields(record, unicode, doi_url)
        ]
        library.add(Entry(entry_type, record.key, written))
    layout = BibtexFormat()  # type: ignore[no-untyped-call]
    layout.indent = "  "
    layout.block_separator = "\n"
    stack = [
        AddEnclosingMiddleware(
            reuse_previous_enclosing=False,
            enclose_integers=True,
            default_enclosing="{",
            allow_inplace_modification=True,
        )
    ]
    return write_string(library, unparse_stack=stack, bibtex_format=layout)


# --- CSL-JSON and RIS ----------------------------------------------------------------------


def to_csl(items: Sequence[Record]) -> str:
    out = []
    for record in items:
        item: dict[str, Any] = {"id": record.key, "type": CSL_TYPES.get(record.kind, "document")}
        if record.authors:
            item["author"] = [{"family": f, "given": g} if g else {"literal": f} for f, g in record.authors]
            if record.et_al:  # as pandoc writes BibTeX's `and others`: citeproc prints "et al."
                item["author"].append({"literal": "others"})
        if record.title:
            item["title"] = csl_title(record.title)
        container = record.journal or record.booktitle
        if container:
            item["container-title"] = container
        if record.journal_short and record.kind == "article":
            item["container-title-short"] = record.journal_short
        if record.publisher:
            item["publisher"] = record.publisher
        if record.year:
            parts = [
                record.year,
                *([record.month] if record.month else []),
                *([record.day] if record.month and record.day else []),
            ]
            item["issued"] = {"date-parts": [parts]}
        if record.issn:
            item["ISSN"] = record.issn
        for key, value in (("volume", record.volume), ("issue", record.issue), ("page", record.pages)):
            if value:
                item[key] = str(value)
        if record.doi:
            item["DOI"] = record.doi
        elif record.url:
            item["URL"] = record.url
        if record.notes:
            item["note"] = ". ".join(record.notes)
        out.append(item)
    return json.dumps(out, ensure_ascii=False, indent=2) + "\n"


_LETTERS_AND_DIGITS = re.compile(r"(?=.*\d)(?=.*[^\W\d_])")


def csl_title(title: str) -> str:
    """Tokens whose case a title-case style must keep (TLR4, NF-κB, MISEV2023, miR-146b),
    wrapped as CSL-JSON's rich text allows: <span class="nocase">."""
    out = []
    for before, core, after, first in latex.title_words(title):
        # title case would also make p65 "P65": letters with digits keep their case here
        if core and (latex.needs_protection(core, first) or _LETTERS_AND_DIGITS.search(core)):
            out.append(before + f'<span class="nocase">{core}</span>' + after)
        else:
            out.append(before + core + after)
    return "".join(out)


def to_ris(items: Sequence[Record]) -> str:
    lines: list[str] = []

    def tag(name: str, value: Any) -> None:
        if value not in (None, ""):
            lines.append(f"{name}  - {' '.join(str(value).split())}")

    for record in items:
        tag("TY", RIS_TYPES.get(record.kind, "GEN"))
        tag("ID", record.key)
        for family, given in record.authors:
            tag("AU", f"{family}, {given}" if given else family)
        if record.et_al and record.authors:
            tag("AU", "et al.")  # the list printed more authors than it names
        tag("TI", record.title)
        tag("T2", record.journal or record.booktitle)
        if record.kind == "article":
            tag("J2", record.journal_short)
        tag("PB", record.publisher)
        tag("PY", record.year)
        if record.month:
            tag(
                "DA",
                f"{record.year}/{record.month:02d}/{record.day:02d}"
                if record.day
                else f"{record.year}/{record.month:02d}",
            )
        tag("SN", record.issn)
        tag("VL", record.volume)
        tag("IS", record.issue)
        if record.pages:
            first, _, last = record.pages.partition("-")
            tag("SP", first)
            tag("EP", last)
        tag("DO", record.doi)
        if not record.doi:
            tag("UR", record.url)
        for note in record.notes:
            tag("N1", note)
        lines.append("ER  - ")
        lines.append("")
    return "\n".join(lines)


# --- the evidence table -------------------------------------------------------------------


def evidence_table(
    conn: sqlite3.Connection, claims: Sequence[dict[str, Any]], fmt: str
) -> tuple[str, list[int]]:
    """Claims grouped by source, then effect; cites with the same keys as the .bib."""
    from exocli.query import model_label
    from exocli.vocab import vocabulary_from_db

    sources = list(vocabulary_from_db(conn, "sources").terms)
    effects = list(vocabulary_from_db(conn, "effects").terms)
    ref_ids = [row[0] for row in conn.execute("SELECT id FROM refs")]
    keys = {ref.number: ref.citekey for ref in references_by_ids(conn, ref_ids).values()}

    def order(claim: dict[str, Any]) -> tuple[int, int, int, int]:
        source = sources.index(claim["source"]) if claim["source"] in sources else len(sources)
        first = claim["effects"][0] if claim["effects"] else ""
        effect = effects.index(first) if first in effects else len(effects)
        return source, effect, claim["ref"] or 0, claim["id"]

    rows = []
    cited: list[int] = []
    for claim in sorted(claims, key=order):
        key = keys.get(claim["ref"]) if claim["ref"] is not None else None
        if claim["ref"] is not None and claim["ref"] not in cited:
            cited.append(claim["ref"])
        rows.append(
            {
                "source": claim["source"],
                "effect": ", ".join(claim["effects"]),
                "cargo": ", ".join(claim["cargo"]) or "–",
                "pathway": "; ".join(claim["pathways"]) or "–",
                "model": model_label(claim),
                "key": key,
                "ref": claim["ref"],
            }
        )
    if fmt == "markdown":
        return _markdown_table(rows), cited
    if fmt == "latex":
        return _latex_table(rows), cited
    if fmt == "csv":
        import csv
        import io

        from exocli.render import neutralise_cell

        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer,
            fieldnames=["source", "effect", "cargo", "pathway", "model", "ref", "key"],
            lineterminator="\n",
        )
        writer.writeheader()
        writer.writerows(
            {k: neutralise_cell("" if v is None else str(v)) for k, v in row.items()} for row in rows
        )
        return buffer.getvalue(), cited
    raise UsageError(f"--format must be markdown, latex or csv, not {fmt!r}")


def _markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    from exocli.render import markdown_table

    body = []
    previous = None
    for row in rows:
        cite = f"[@{row['key']}]" if row["key"] else "(unassigned)"
        body.append(
            [
                row["source"] if row["source"] != previous else "",
                row["effect"],
                row["cargo"],
                row["pathway"],
                row["model"],
                cite,
            ]
        )
        previous = row["source"]
    return markdown_table(["Source", "Effect", "Cargo", "Target / pathway", "Model", "Reference"], body)


# Column shares of the line: with the padding taken out of each column, the table is
# exactly \linewidth wide (shares summing to 1).
_LATEX_COLUMNS = (0.15, 0.19, 0.19, 0.21, 0.16, 0.1)


def _latex_breakable(text: str) -> str:
    """Narrow columns: a line may break after '/' and ';' (NLRP3/caspase1, miR-a; miR-b), and
    long words hyphenate."""
    # \hspace{0pt} first: TeX hyphenates no word that starts a paragraph (neuroregeneration)
    # and after a word's hyphen the next part may hyphenate too (anti-inflammatory)
    text = re.sub(r"(?<=[A-Za-z])-(?=[A-Za-z])", r"-\\hspace{0pt}", text)
    return "\\hspace{0pt}" + text.replace("/", "/\\allowbreak{}").replace("; ", ";\\allowbreak{} ")


def _latex_table(rows: Sequence[dict[str, Any]]) -> str:
    spec = "".join(
        f">{{\\raggedright\\arraybackslash}}p{{\\dimexpr {share}\\linewidth-2\\tabcolsep\\relax}}"
        for share in _LATEX_COLUMNS
    )
    lines = [
        "% exocli table --format latex: needs \\usepackage{longtable} and \\usepackage{array};"
        " \\linewidth wide",
        f"\\begin{{longtable}}{{{spec}}}",
        r"\hline",
        r"Source & Effect & Cargo & Target / pathway & Model & Ref. \\",
        r"\hline",
        r"\endhead",
    ]
    previous = None
    for row in rows:
        cite = f"\\cite{{{row['key']}}}" if row["key"] else "--"
        cells = [
            _latex_breakable(latex.escape(row["source"])) if row["source"] != previous else "",
            _latex_breakable(latex.escape(row["effect"])),
            _latex_breakable(latex.escape(row["cargo"])),
            _latex_breakable(latex.escape(row["pathway"])),
            _latex_breakable(latex.escape(row["model"])),
            cite,
        ]
        lines.append(" & ".join(cells) + r" \\")
        previous = row["source"]
    lines += [r"\hline", r"\end{longtable}", ""]
    return "\n".join(lines)
