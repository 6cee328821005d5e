"""Turning rows into output: rich tables on a terminal, csv/tsv/json/markdown for pipes."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from exocli.errors import UsageError

FORMATS = ("table", "csv", "tsv", "json", "markdown")


def check_format(fmt: str, allowed: Sequence[str] = FORMATS) -> str:
    value = fmt.lower()
    if value not in allowed:
        raise UsageError(f"--format must be one of {', '.join(allowed)}, not {fmt!r}")
    return value


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "; ".join(cell_text(v) for v in value)
    if isinstance(value, dict):  # {term: id} -> "term=id; term=id"
        return "; ".join(f"{k}={cell_text(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


# A cell a spreadsheet would run as a formula (OWASP "CSV injection"); a leading quote makes
# it text. Cells already starting with a quote are quoted too, so restore_cell is exact.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(text: str) -> str:
    """`=SUM(A1)` -> `'=SUM(A1)`: safe to open in a spreadsheet; restore_cell undoes it."""
    return "'" + text if text.startswith(FORMULA_STARTS) or text.startswith("'") else text


def restore_cell(text: str) -> str:
    """The value neutralise_cell was given (import reads exocli's own CSV back exactly)."""
    if len(text) > 1 and text[0] == "'" and (text[1] == "'" or text[1:].startswith(FORMULA_STARTS)):
        return text[1:]
    return text


def make_console(stream: TextIO | None = None) -> Any:
    """A rich console that writes plain text when not on a terminal or when NO_COLOR is set."""
    from rich.console import Console

    target = stream or sys.stdout
    tty = target.isatty()
    plain = bool(os.environ.get("NO_COLOR")) or not tty
    # A pipe has no width; rich would assume 80 columns and wrap every cell.
    width = None if os.environ.get("COLUMNS") else (_terminal_width(target) if tty else 160)
    # NO_COLOR means no escape codes at all (bold included), not merely no colours.
    return Console(
        file=target,
        no_color=plain,
        highlight=False,
        soft_wrap=False,
        width=width,
        force_terminal=False if plain else None,
    )


def _terminal_width(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError):
        return 80


def write_rows(
    columns: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    fmt: str,
    *,
    title: str | None = None,
    json_rows: Sequence[Mapping[str, Any]] | None = None,
    stream: TextIO | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Write `rows` (dicts) in `fmt`. JSON keeps native types (lists, numbers, null)."""
    out = stream or sys.stdout
    labels = [(headers or {}).get(c, c) for c in columns]
    if fmt == "json":
        payload = json_rows if json_rows is not None else [{c: r.get(c) for c in columns} for r in rows]
        out.write(json.dumps(list(payload), ensure_ascii=False, indent=2) + "\n")
    elif fmt in ("csv", "tsv"):
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([neutralise_cell(cell_text(row.get(c))) for c in columns])
        out.write(buffer.getvalue())
    elif fmt == "markdown":
        out.write(markdown_table(labels, [[cell_text(r.get(c)) for c in columns] for r in rows]))
    elif not out.isatty():
        out.write(plain_table(labels, [[cell_text(r.get(c)) for c in columns] for r in rows], title))
    else:
        from rich.table import Table

        table = Table(title=title, show_lines=False, header_style="bold")
        for index, label in enumerate(labels):
            # the first column names the row (a source, a number): never break it
            table.add_column(label, overflow="fold", no_wrap=index == 0)
        for row in rows:
            table.add_row(*[cell_text(row.get(c)) for c in columns])
        make_console(out).print(table)


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]], title: str | None = None) -> str:
    """The table for pipes and files: aligned columns, no box drawing, no escape codes.

    rich draws for a terminal; for hundreds of rows going into a pipe it costs far more
    than the query (about 0.6 ms a row), and a pipe has no width to fit anyway.
    """
    cells = [[" ".join(cell.split()) for cell in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in cells:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))
    lines = [title] if title else []
    lines.append("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines) + "\n"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def clean(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(clean(h) for h in headers) + " |"]
    lines.append("|" + "|".join(" --- " for _ in headers) + "|")
    lines += ["| " + " | ".join(clean(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def message(text: str) -> None:
    """Counts, hints and warnings go to stderr, never mixed with data."""
    sys.stderr.write(text.rstrip("\n") + "\n")


def show_reference(
    ref: Any, claims: Sequence[Mapping[str, Any]], candidates: Sequence[Mapping[str, Any]], fmt: str
) -> None:
    """One reference in full, its Crossref check, then the claims that cite it."""
    if fmt == "json":
        data = ref.as_dict()
        data["candidates"] = list(candidates)
        data["claims"] = list(claims)
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    fields = [
        ("Number", ref.number),
        ("Kind", ref.kind),
        ("Authors", ref.author_text()),
        ("Title", ref.title),
        ("Journal", ref.journal),
        ("Year", ref.year),
        ("Volume", ref.volume),
        ("Issue", ref.issue),
        ("Pages", ref.pages),
        ("DOI", ref.doi),
        ("URL", ref.url),
        ("Problem", ref.problem),
        ("As written", ref.raw),
        ("Crossref", ref.check + (f" (found {ref.check_doi})" if ref.check_doi and not ref.doi else "")),
        ("Flags", ", ".join(ref.flags)),
    ]
    out = sys.stdout
    for label, value in fields:
        if value not in (None, ""):
            out.write(f"{label + ':':<12}{value}\n")
    for difference in ref.differences:
        out.write(f"{'':<12}differs: {difference}\n")
    if candidates:
        out.write("\nCandidates from Crossref (not accepted: no clear winner):\n")
        for c in candidates:
            out.write(
                f"  {c['rank']}. {c['doi']}  score {c['score']:.2f}  {c['first_author'] or '?'}"
                f" {c['year'] or '?'}  {c['title'] or ''}\n"
            )
    out.write(f"\nClaims citing it: {len(claims)}\n")
    for claim in claims:
        cargo = ", ".join(claim["cargo"]) or "no cargo named"
        out.write(
            f"  #{claim['id']} {claim['source']} exosomes; {claim['cargo_type']}: {cargo}; "
            f"effects: {', '.join(claim['effects'])}\n"
        )
        if claim["pathways"]:
            out.write(f"      pathways: {'; '.join(claim['pathways'])}\n")
        details = [
            f"{label}: {', '.join(claim[key]) if isinstance(claim[key], list) else claim[key]}"
            for label, key in (
                ("species", "species"),
                ("model", "model"),
                ("injury", "injury"),
                ("route", "route"),
                ("dose", "dose"),
                ("outcome", "outcome"),
            )
            if claim[key] and claim[key] != "not stated"
        ]
        if details:
            out.write(f"      {'; '.join(details)}\n")
        if claim["note"]:
            out.write(f"      note: {claim['note']}\n")


def show_claim(claim: Any, study: Any, where: str, fmt: str) -> None:
    """One claim as its study file holds it, then the reference it cites."""
    from exocli.fields import CONTEXT_KEYS
    from exocli.records import claim_entry

    entry = claim_entry(claim)
    ref = study.reference
    if fmt == "json":
        data = {**entry, "study": study.key, "file": where}
        data["reference"] = {"key": study.key, "title": ref.title, "doi": ref.doi, "text": ref.raw}
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    out = sys.stdout
    for key, value in entry.items():
        if key == "ref":
            value = f"{value} ({study.key})"
        elif isinstance(value, list):
            value = "; ".join(value) if value else ("not stated" if key in CONTEXT_KEYS else "-")
        out.write(f"{key + ':':<16}{value}\n")
    out.write(f"{'file:':<16}{where}\n")
    out.write(f"\nReference {ref.number}: {ref.raw}\n")


CLAIM_HEADERS = {
    "ref": "Ref",
    "study": "Study",
    "source": "Source",
    "cargo": "Cargo",
    "pathways": "Pathway",
    "effects": "Effect",
    "model": "Model",
    "injury": "Injury",
    "species": "Species",
    "cargo_type": "Type",
    "id": "ID",
    "added_by": "Added by",
    "added_at": "Added",
}


def write_claims(
    claims: Sequence[dict[str, Any]], fmt: str, columns: str | None = None, references: bool = True
) -> None:
    """Claims as a table (with the cited DOIs under it) or as data for other programs."""
    from exocli.fields import DRAFT_COLUMNS
    from exocli.query import CLAIM_COLUMNS, TABLE_COLUMNS, model_label

    readable = fmt in ("table", "markdown")
    known = [*CLAIM_COLUMNS, *DRAFT_COLUMNS]
    default = list(TABLE_COLUMNS if readable else CLAIM_COLUMNS)
    if any(claim.get("status", "curated") != "curated" for claim in claims):
        default += ["status"] if readable else list(DRAFT_COLUMNS)
    chosen = _choose_columns(columns, default, known)
    if fmt == "json":
        write_rows(chosen, claims, fmt, json_rows=[{c: claim[c] for c in chosen} for claim in claims])
        return
    if fmt not in ("table", "markdown"):
        write_rows(chosen, claims, fmt)
        return
    rows = []
    for claim in claims:
        row = dict(claim)
        row["model"] = model_label(claim)
        row["ref"] = claim["ref"] if claim["ref"] is not None else "-"
        if claim.get("flags"):
            row["ref"] = f"{row['ref']} ({', '.join(claim['flags'])})"
        row["cargo"] = claim["cargo"] or ["-"]
        rows.append(row)
    write_rows(chosen, rows, fmt, headers=CLAIM_HEADERS)
    if fmt == "markdown" or not references:
        return
    cited: dict[int, str] = {}
    for claim in claims:
        if claim["ref"] is not None and claim["ref"] not in cited:
            cited[claim["ref"]] = claim["doi"] or "(no DOI)"
    if cited:
        lines = [f"  [{number}] {doi}" for number, doi in sorted(cited.items())]
        sys.stdout.write("References:\n" + "\n".join(lines) + "\n")


def _choose_columns(columns: str | None, default: Sequence[str], known: Sequence[str]) -> list[str]:
    if not columns:
        return list(default)
    chosen = [c.strip() for c in columns.split(",") if c.strip()]
    if not chosen:
        raise UsageError(f"--columns: no column named in {columns!r}; choose from {', '.join(known)}")
    wrong = [c for c in chosen if c not in known]
    if wrong:
        raise UsageError(f"--columns: unknown column {wrong[0]!r}; choose from {', '.join(known)}")
    return chosen


def write_matrix(matrix: Any, fmt: str) -> None:
    """A term x effect matrix (source x effect unless --by): counts, empty cells marked on a terminal."""
    by = matrix.by
    columns = [by, *matrix.effects, "total"]
    rows = []
    for term, counts in matrix.rows.items():
        row: dict[str, Any] = {by: term, "total": matrix.totals.get(term, 0)}
        for effect in matrix.effects:
            value = counts.get(effect, 0)
            row[effect] = value if fmt != "table" or value else "·"
        rows.append(row)
    if fmt == "json":
        payload = {
            "by": by,
            matrix.vocabulary: list(matrix.rows),
            "effects": list(matrix.effects),
            "counts": {s: {e: c.get(e, 0) for e in matrix.effects} for s, c in matrix.rows.items()},
            f"claims_per_{by.replace('-', '_')}": matrix.totals,
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    write_rows(columns, rows, fmt, title=f"Claims per {by} x effect" if fmt == "table" else None)


def write_report(report: Any, fmt: str) -> None:
    """Audit findings grouped by severity; JSON is the report's stable dict."""
    if fmt == "json":
        sys.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n")
        return
    out = sys.stdout
    for severity in ("error", "warning", "info"):
        findings = [f for f in report.findings if f.severity == severity]
        if not findings:
            continue
        heading = {"error": "ERRORS", "warning": "WARNINGS", "info": "NOTES"}[severity]
        out.write(f"{heading} ({len(findings)})\n")
        for finding in findings:
            where = " ".join(
                part
                for part in (
                    f"[{finding.ref}]" if finding.ref is not None else "",
                    f"claim {finding.claim}" if finding.claim is not None else "",
                    getattr(finding, "location", ""),
                )
                if part
            )
            out.write(f"  {finding.check}: {where + ': ' if where else ''}{finding.message}\n")
            for evidence in finding.evidence[:8]:
                out.write(f"      {evidence}\n")
            if len(finding.evidence) > 8:
                out.write(f"      ... and {len(finding.evidence) - 8} more (--format json lists all)\n")
        out.write("\n")
    for line in report.not_checked:
        out.write(f"Not checked: {line}\n")
