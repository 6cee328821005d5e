"""Manuscripts: read the formats authors write in, split them into citing sentences.

A manuscript becomes paragraphs (each under its section heading path) and each paragraph
sentences, each sentence with the citations inside it. Readers: plain text (one paragraph
per line, or blocks between blank lines; a short line without final punctuation is a
heading), Markdown (pandoc), LaTeX and .docx (python-docx; superscript numbers are
citations). Reading stops at the reference list. Sentences are split by syntok with each
citation masked first, so "Ma et al. [35] found" stays one sentence and "repair [16]."
ends one; a sentence that is only citations joins the sentence before it.

A sentence is located by file, section, paragraph and sentence number, and known again by
the hash of its words (`sentence_hash`): the record keeps the hash, never the sentence.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from exocli.citations import NUMBERED, Citation, find_citations
from exocli.errors import DataError

FORMATS = ("text", "markdown", "latex", "docx", "abstract")
_EXTENSIONS = {
    ".toml": "abstract",  # a record file's abstract: a candidate of an update search
    ".md": "markdown",
    ".markdown": "markdown",
    ".qmd": "markdown",
    ".rmd": "markdown",
    ".tex": "latex",
    ".ltx": "latex",
    ".docx": "docx",
}
# Where the prose ends: the reference list (and what follows it).
_END_HEADINGS = re.compile(
    r"^(?:\d+\.?\s*)?(?:references?(?:\s+list)?|bibliography|literature\s+cited|works\s+cited|reference\s+list)$",
    re.IGNORECASE,
)
SECTION_SEPARATOR = " > "


@dataclass
class Sentence:
    number: int  # within its paragraph, from 1
    text: str
    citations: list[Citation] = field(default_factory=list)  # spans within `text`

    @property
    def hash(self) -> str:
        return sentence_hash(self.text)


@dataclass
class Paragraph:
    number: int  # within the manuscript, from 1 (headings are not paragraphs)
    section: str  # heading path, "Results > Angiogenesis"
    text: str
    citations: list[Citation] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)  # one, the whole text, where nothing is cited


@dataclass
class Manuscript:
    path: Path
    format: str
    paragraphs: list[Paragraph]
    # An abstract is the study's own account: every sentence is about that one study, its
    # key (or, before it is in the list, its DOI). Empty for a manuscript.
    about: str = ""

    def citing_sentences(self) -> Iterator[tuple[Paragraph, Sentence]]:
        """The sentences that say something of a reference: those that cite one (in an
        abstract, every sentence)."""
        for paragraph in self.paragraphs:
            for sentence in paragraph.sentences:
                if sentence.citations or self.about:
                    yield paragraph, sentence

    def sentence_at(self, paragraph: int, sentence: int) -> tuple[Paragraph, Sentence] | None:
        if not 1 <= paragraph <= len(self.paragraphs):
            return None
        found = self.paragraphs[paragraph - 1]
        if not 1 <= sentence <= len(found.sentences):
            return None
        return found, found.sentences[sentence - 1]

    def by_hash(self) -> dict[str, tuple[Paragraph, Sentence]]:
        return {s.hash: (p, s) for p, s in self.citing_sentences()}


def sentence_hash(text: str) -> str:
    """The words of a sentence, spacing aside, as 16 hex digits of SHA-256."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:16]


def manuscript_format(path: Path, requested: str | None = None) -> str:
    if requested is not None:
        if requested not in FORMATS:
            raise DataError(f"--input-format must be one of {', '.join(FORMATS)}, not {requested!r}")
        return requested
    return _EXTENSIONS.get(path.suffix.casefold(), "text")


def read_manuscript(path: Path, requested_format: str | None = None) -> Manuscript:
    """The manuscript's paragraphs and sentences, with their citations."""
    fmt = manuscript_format(path, requested_format)
    if not path.is_file():
        raise DataError(f"{path}: no such manuscript file")
    if fmt == "abstract":
        return _abstract(path)
    if fmt == "docx":
        blocks = _docx_blocks(path)
    else:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise DataError(f"{path}: cannot read it ({exc.strerror or exc})") from exc
        if b"\x00" in raw[:4096]:
            raise DataError(f"{path}: a binary file, not a manuscript (give .docx files their extension)")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc
        reader = {"text": _text_blocks, "markdown": _markdown_blocks, "latex": _latex_blocks}[fmt]
        blocks = reader(text)
    paragraphs = _paragraphs(blocks)
    if not paragraphs:
        raise DataError(f"{path}: no paragraphs of text found")
    return Manuscript(path, fmt, paragraphs)


def _abstract(path: Path) -> Manuscript:
    """A record file's `abstract` (a candidate's, as `search run` stored it) as one paragraph
    whose every sentence is about the study: its `reference` (the key it became on accept),
    else its `doi`."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"{path}: cannot be read as a record file ({exc})") from exc
    abstract = data.get("abstract")
    if not isinstance(abstract, str) or not abstract.strip():
        raise DataError(f"{path}: no abstract in this file to draft claims from")
    about = data.get("reference") or data.get("doi")
    if not isinstance(about, str) or not about.strip():
        raise DataError(f"{path}: names no study (no 'reference' or 'doi'), so its abstract is no one's")
    text = " ".join(abstract.split())
    paragraph = Paragraph(1, "Abstract", text, [], split_sentences(text, []))
    return Manuscript(path, "abstract", [paragraph], about.strip())


# A block is (heading level or 0 for a paragraph, text).
Block = tuple[int, str]


def _paragraphs(blocks: Sequence[Block]) -> list[Paragraph]:
    found: list[Citation] = []
    texts: list[tuple[str, str]] = []
    headings: list[tuple[int, str]] = []
    for level, text in blocks:
        if level:
            if _END_HEADINGS.match(text.strip().rstrip(":")):
                break
            while headings and headings[-1][0] >= level:
                headings.pop()
            headings.append((level, text.strip()))
            continue
        texts.append((SECTION_SEPARATOR.join(h for _, h in headings), text))
    # numbers in parentheses are citations only where the manuscript cites that way
    bracketed = sum(len(find_citations(t)) for _, t in texts)
    in_parentheses = sum(len(find_citations(t, parentheses=True)) for _, t in texts) - bracketed
    parentheses = in_parentheses > max(2, bracketed)
    paragraphs: list[Paragraph] = []
    for section, text in texts:
        citations = find_citations(text, parentheses=parentheses)
        found += citations
        paragraph = Paragraph(len(paragraphs) + 1, section, text, citations)
        # a paragraph that cites nothing holds no citing sentence: it is not split (the
        # splitter is most of the reading time)
        paragraph.sentences = split_sentences(text, citations) if citations else [Sentence(1, text)]
        paragraphs.append(paragraph)
    return paragraphs


# --------------------------------------------------------------------------- sentences

_ABBREVIATIONS = re.compile(
    r"(?:\bet\s+al|\be\.g|\bi\.e|\bvs|\bcf|\bFigs?|\bref|\bRefs?|\bapprox|\bca|\bNo|\bEq|\bvol|\bp|\b[A-Z])\.$"
)
_NARRATIVE_COMMAND = re.compile(r"\\(?:[Cc]itet|[Tt]extcite|[Cc]iteauthor)\b")
# A sentence may start in lower case with a gene or RNA name (miR-21, iPSCs, hUCMSC, mTOR).
_LOWER_START = re.compile(r"(?<=[.!?])\s+(?=(?:miR|let-\d|[a-z]{1,4}[A-Z]))")


def split_sentences(text: str, citations: Sequence[Citation]) -> list[Sentence]:
    import syntok.segmenter as segmenter

    # A citation becomes a word of x's, capitalised when it opens a sentence as its subject
    # ("@key showed", "Wang et al. (2023) found"), so that a sentence may start with it and
    # "Ma et al. [35] found" does not end at "al.".
    masked = list(text)
    for citation in citations:
        for i in range(citation.start, citation.end):
            if not masked[i].isspace():
                masked[i] = "x"
        first = text[citation.start]
        opens = not text[: citation.start].rstrip() or text[: citation.start].rstrip()[-1] in ".!?"
        if opens and (first == "@" or first.isupper() or _NARRATIVE_COMMAND.match(citation.words)):
            masked[citation.start] = "X"
    masked_text = "".join(masked)
    spans: list[tuple[int, int]] = []
    for paragraph in segmenter.analyze(masked_text):
        for tokens in paragraph:
            if tokens:
                start = tokens[0].offset
                end = tokens[-1].offset + len(tokens[-1].value)
                spans += _split_lower_starts(masked_text, start, end)
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        alone = _only_citations(start, end, citations, text)
        # syntok may break before a bracket ("potentials [CAP, ..."): a sentence ends only
        # at final punctuation
        unfinished = merged and not re.search(
            r"[.!?。][\"'”’)\]]*$", masked_text[merged[-1][0] : merged[-1][1]]
        )
        if merged and (alone or unfinished):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    sentences: list[Sentence] = []
    for start, end in merged:
        inside = [
            Citation(c.start - start, c.end - start, c.words, c.form, c.numbers, c.keys, c.authors)
            for c in citations
            if start <= c.start < end
        ]
        sentences.append(Sentence(len(sentences) + 1, text[start:end], inside))
    return sentences


def _split_lower_starts(text: str, start: int, end: int) -> list[tuple[int, int]]:
    pieces: list[tuple[int, int]] = []
    cursor = start
    for match in _LOWER_START.finditer(text, start, end):
        before = text[cursor : match.start()]
        if _ABBREVIATIONS.search(before) or len(before.strip()) < 3:
            continue
        pieces.append((cursor, match.start()))
        cursor = match.end()
    pieces.append((cursor, end))
    return pieces


def _only_citations(start: int, end: int, citations: Sequence[Citation], text: str) -> bool:
    rest = list(text[start:end])
    for c in citations:
        for i in range(max(c.start, start), min(c.end, end)):
            rest[i - start] = " "
    return not re.sub(r"[\s.,;:]", "", "".join(rest))


# --------------------------------------------------------------------------- readers


def _text_blocks(text: str) -> list[Block]:
    """Plain text: a paragraph per line, or per block where the lines are wrapped."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    nonblank = [line for line in lines if line.strip()]
    blank_separated = sum(1 for line in lines if not line.strip()) >= max(2, len(nonblank) // 8)
    wrapped = blank_separated and nonblank and sum(map(len, nonblank)) / len(nonblank) < 100
    chunks: list[str] = []
    if wrapped:
        current: list[str] = []
        for line in [*lines, ""]:
            if line.strip():
                current.append(line.strip())
            elif current:
                chunks.append(_join_wrapped(current))
                current = []
    else:
        chunks = [line.strip() for line in nonblank]
    blocks: list[Block] = []
    for index, chunk in enumerate(chunks):
        following = chunks[index + 1] if index + 1 < len(chunks) else ""
        blocks.append((1 if _is_heading(chunk, following) else 0, chunk))
    return blocks


def _join_wrapped(lines: Sequence[str]) -> str:
    joined = lines[0]
    for line in lines[1:]:
        if re.search(r"[a-z]-$", joined) and line[:1].islower():
            joined = joined[:-1] + line  # a word broken at the line's end
        else:
            joined += " " + line
    return joined


def _is_heading(chunk: str, following: str) -> bool:
    if _END_HEADINGS.match(chunk.rstrip(":")):
        return True
    if len(chunk) > 160 or not following or chunk.startswith(("- ", "* ", "• ")):
        return False
    if chunk[-1] in ".;,:!" or find_citations(chunk):
        return False
    return chunk[:1].isupper() or chunk[:1].isdigit() or bool(re.match(r"[a-z]+[A-Z]", chunk))


_ATX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _markdown_blocks(text: str) -> list[Block]:
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[0].strip() == "---":  # YAML metadata block
        for end in range(1, len(lines)):
            if lines[end].strip() in ("---", "..."):
                lines = lines[end + 1 :]
                break
    blocks: list[Block] = []
    current: list[str] = []
    fence: str | None = None

    def flush() -> None:
        if current:
            blocks.append((0, " ".join(s.strip() for s in current)))
            current.clear()

    for index, line in enumerate(lines):
        stripped = line.strip()
        if fence is not None:
            if stripped.startswith(fence):
                fence = None
            continue
        if stripped.startswith(("```", "~~~")):
            flush()
            fence = stripped[:3]
            continue
        if stripped.startswith(":::"):  # pandoc fenced divs, e.g. ::: {#refs}
            flush()
            if "#refs" in stripped:
                break
            continue
        heading = _ATX.match(stripped)
        if heading:
            flush()
            blocks.append((len(heading.group(1)), _plain_markdown(heading.group(2))))
            continue
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        if current and re.fullmatch(r"=+|-+", stripped) and len(current) == 1:
            blocks.append((1 if stripped[0] == "=" else 2, _plain_markdown(current.pop())))
            continue
        if not stripped or stripped.startswith("<!--"):
            flush()
            continue
        if re.match(r"^(?:[-*+]|\d+[.)])\s+", stripped):  # a list item is its own paragraph
            flush()
            current.append(re.sub(r"^(?:[-*+]|\d+[.)])\s+", "", stripped))
            if not following or re.match(r"^(?:[-*+]|\d+[.)])\s+", following):
                flush()
            continue
        current.append(stripped.lstrip("> "))
    flush()
    return [(level, _plain_markdown(t) if level == 0 else t) for level, t in blocks]


def _plain_markdown(text: str) -> str:
    """Emphasis and links as their words; citations stay as written."""
    text = re.sub(r"(?<!\[)\[([^\]@]+)\]\([^)]*\)", r"\1", text)  # [words](url)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"\1", text)
    text = re.sub(r"(?<![\w_])_(?!\s)(.+?)(?<!\s)_(?![\w_])", r"\1", text)
    return re.sub(r"`([^`]*)`", r"\1", text)


_LATEX_SECTIONS = {"part": 1, "chapter": 1, "section": 2, "subsection": 3, "subsubsection": 4, "paragraph": 5}
_LATEX_DROP_ENVIRONMENTS = ("figure", "table", "equation", "align", "tabular", "thebibliography", "verbatim")


def _latex_blocks(text: str) -> list[Block]:
    body = text
    begin = re.search(r"\\begin\{document\}", body)
    if begin:
        body = body[begin.end() :]
    end = re.search(
        r"\\end\{document\}|\\bibliography\{|\\printbibliography|\\begin\{thebibliography\}", body
    )
    if end:
        body = body[: end.start()]
    body = re.sub(r"(?<!\\)%.*", "", body)  # comments
    for env in _LATEX_DROP_ENVIRONMENTS:
        body = re.sub(rf"\\begin\{{{env}\*?\}}.*?\\end\{{{env}\*?\}}", "\n\n", body, flags=re.S)
    body = re.sub(r"\\begin\{abstract\}", "\n\n\\\\section*{Abstract}\n\n", body)
    body = re.sub(r"\\(?:begin|end)\{[a-zA-Z*]+\}(?:\[[^\]]*\])?", "\n\n", body)
    blocks: list[Block] = []
    heading = re.compile(
        r"\\(" + "|".join(_LATEX_SECTIONS) + r")\*?(?:\[[^\]]*\])?\{((?:[^{}]|\{[^{}]*\})*)\}"
    )
    cursor = 0
    for match in heading.finditer(body):
        blocks += _latex_paragraphs(body[cursor : match.start()])
        blocks.append((_LATEX_SECTIONS[match.group(1)], _latex_plain(match.group(2))))
        cursor = match.end()
    blocks += _latex_paragraphs(body[cursor:])
    return blocks


def _latex_paragraphs(chunk: str) -> list[Block]:
    found: list[Block] = []
    for part in re.split(r"\n\s*\n|\\par\b", chunk):
        plain = _latex_plain(part)
        if plain and re.search(r"[A-Za-z]{2}", plain):
            found.append((0, plain))
    return found


def _latex_plain(text: str) -> str:
    """LaTeX as the words a reader sees; citation commands are kept as written."""
    keep: list[str] = []

    def hold(match: re.Match[str]) -> str:
        keep.append(re.sub(r"\s+", " ", match.group(0)))
        return f"\x00{len(keep) - 1}\x00"

    from exocli.citations import _LATEX_CITE

    text = _LATEX_CITE.sub(hold, text)
    text = re.sub(r"\\item\b", " ", text)
    text = re.sub(r"\$([^$]*)\$", lambda m: _latex_math(m.group(1)), text)
    text = text.replace("~", " ").replace("---", "\u2014").replace("--", "\u2013")
    text = re.sub(r"\\([%&#_$])", r"\1", text)
    text = re.sub(r"\\(?:ref|label|eqref|cref|Cref|autoref|footnote)\{[^{}]*\}", "", text)
    for _ in range(3):  # \textit{\textbf{x}}
        text = re.sub(r"\\[a-zA-Z]+\*?(?:\[[^\]]*\])?\{([^{}]*)\}", r"\1", text)
    text = re.sub(r"\\[a-zA-Z]+\*?", "", text)
    text = text.replace("{", "").replace("}", "").replace("\\\\", " ")
    text = " ".join(text.split())
    return re.sub(r"\x00(\d+)\x00", lambda m: keep[int(m.group(1))], text)


def _latex_math(math: str) -> str:
    math = re.sub(r"\\(?:le|leq)\b", "≤", math)
    math = re.sub(r"\\(?:ge|geq)\b", "≥", math)
    math = re.sub(r"\\pm\b", "±", math)
    math = re.sub(
        r"\\(alpha|beta|gamma|kappa)\b",
        lambda m: {"alpha": "α", "beta": "β", "gamma": "γ", "kappa": "κ"}[m.group(1)],
        math,
    )
    math = re.sub(r"[{}^_]", "", math)
    return math.replace("\\", "")


def _docx_blocks(path: Path) -> list[Block]:
    try:
        import docx
        from docx.opc.exceptions import PackageNotFoundError
    except ImportError as exc:  # pragma: no cover - python-docx is a dependency
        raise DataError("reading .docx needs python-docx (pip install python-docx)") from exc
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise DataError(f"{path}: not a readable .docx file ({exc})") from exc
    except Exception as exc:  # zipfile.BadZipFile, lxml errors: a damaged file
        raise DataError(f"{path}: not a readable .docx file ({type(exc).__name__})") from exc
    blocks: list[Block] = []
    for paragraph in document.paragraphs:
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        text = _docx_text(paragraph)
        if not text.strip():
            continue
        level = re.match(r"Heading (\d)", style)
        if level:
            blocks.append((int(level.group(1)), text.strip()))
        elif style == "Title":
            continue
        else:
            blocks.append((0, " ".join(text.split())))
    return blocks


_SUPERSCRIPT_CITATION = re.compile(r"^\s*\d{1,4}(?:\s*[-\u2010-\u2015,]\s*\d{1,4})*\s*$")


def _docx_text(paragraph: object) -> str:
    """A paragraph's text; superscript numbers (the citation style of many journals) become
    bracketed so that they read as citations."""
    pieces: list[str] = []
    superscript: list[str] = []

    def flush() -> None:
        if superscript:
            joined = "".join(superscript)
            if _SUPERSCRIPT_CITATION.match(joined):
                pieces.append(f"[{joined.strip()}]")
            else:
                pieces.append(joined)
            superscript.clear()

    for run in paragraph.runs:  # type: ignore[attr-defined]
        if run.font.superscript:
            superscript.append(run.text)
            continue
        flush()
        pieces.append(run.text)
    flush()
    return "".join(pieces)


def cited_numbers_in_order(manuscript: Manuscript) -> list[int]:
    """Numbers in the order the text first cites them (for the numbering-order check)."""
    seen: list[int] = []
    for paragraph in manuscript.paragraphs:
        for citation in paragraph.citations:
            if citation.form == NUMBERED:
                seen += [n for n in citation.numbers if n not in seen]
    return seen
