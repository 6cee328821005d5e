"""Living review: saved update searches, candidates and their triage, `resolve --updates`.

Crossref is a pytest-httpserver on loopback that pages a fixed set of works by cursor, as
Crossref's /works does (`next-cursor`, `total-results`, `items`), answers an unknown
filter with Crossref's validation-failure body, and can let a cursor expire. habanero and
httpx2 really run. The works' bibliographic values are written for these tests; their
shapes follow the recorded Crossref bodies (../shared/reference/crossref/: a work-list,
`relation`, `updated-by`, the validation failure).
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from exocli.refparse import try_normalize_doi
from helpers import Invoke, Terminal, copy_workspace, point_at_crossref

KNOWN_FILTERS = {"type", "from-index-date", "from-created-date", "until-index-date", "from-pub-date"}


def work(
    doi: str,
    title: str,
    family: str = "Tanaka",
    given: str = "Hiroshi",
    year: int = 2026,
    abstract: str | None = None,
    kind: str = "journal-article",
    indexed: str = "2026-11-20",
    **extra: Any,
) -> dict[str, Any]:
    """A Crossref work as a list query returns it (the fields exocli selects)."""
    y, m, d = (int(p) for p in indexed.split("-"))
    item: dict[str, Any] = {
        "DOI": doi,
        "type": kind,
        "title": [title],
        "author": [
            {"given": given, "family": family, "sequence": "first", "affiliation": []},
            {"given": "Mei", "family": "Chen", "sequence": "additional", "affiliation": []},
        ],
        "container-title": ["Stem Cell Research & Therapy"],
        "short-container-title": ["Stem Cell Res Ther"],
        "issued": {"date-parts": [[year, 3, 2]]},
        "published-online": {"date-parts": [[year, 3, 2]]},
        "indexed": {"date-parts": [[y, m, d]], "date-time": f"{indexed}T04:10:00Z", "timestamp": 0},
        "volume": "17",
        "page": "88",
        "relation": {},
    }
    if abstract is not None:
        item["abstract"] = f"<jats:title>Abstract</jats:title><jats:p>{abstract}</jats:p>"
    item.update(extra)
    return item


def envelope(message: Any, kind: str) -> str:
    return json.dumps({"status": "ok", "message-type": kind, "message-version": "1.0.0", "message": message})


class CrossrefWorks:
    """/works?query.bibliographic=...&filter=...&cursor=...&rows=... over `self.works`."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.works: list[dict[str, Any]] = []
        self.requests: list[tuple[float, dict[str, str], str]] = []  # when, query args, User-Agent
        self.sessions = 0  # each cursor="*" starts one; its cursors are "s{session}.{offset}"
        self.expired: set[int] = set()  # sessions whose cursors are answered as stale ones are
        self.down_after: int | None = None  # requests answered before the server fails
        self.lock = threading.Lock()
        server.expect_request("/works").respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def handle(self, request: Request) -> Response:
        with self.lock:
            self.requests.append(
                (time.monotonic(), dict(request.args), request.headers.get("User-Agent", ""))
            )
            count = len(self.requests)
        if self.down_after is not None and count > self.down_after:
            return Response("Service Unavailable", 503, content_type="text/plain")
        since = ""
        for item in filter(None, request.args.get("filter", "").split(",")):
            name, _, value = item.partition(":")
            if name not in KNOWN_FILTERS:
                body = {
                    "status": "failed",
                    "message-type": "validation-failure",
                    "message": [
                        {
                            "type": "filter-not-available",
                            "value": name,
                            "message": f"Filter {name} specified but there is no such filter for this route."
                            " Valid filters for this route are: " + ", ".join(sorted(KNOWN_FILTERS)),
                        }
                    ],
                }
                return Response(json.dumps(body), 400, content_type="application/json")
            if name == "from-index-date":
                since = value
        cursor = request.args.get("cursor", "")
        if cursor == "*":
            with self.lock:
                self.sessions += 1
                session, start = self.sessions, 0
        else:
            head, _, offset = cursor.partition(".")
            session, start = int(head.removeprefix("s")), int(offset)
        if session in self.expired:
            stale = {
                "status": "error",
                "message-type": "exception",
                "message-version": "1.0.0",
                "message": {
                    "name": "class org.apache.solr.client.solrj.impl.HttpSolrClient$RemoteSolrException",
                    "message": "Unable to parse 'cursorMark' after totem: value must either be '*' or the"
                    " 'nextCursorMark' returned by a previous search",
                },
            }
            return Response(json.dumps(stale), 500, content_type="application/json")
        rows = int(request.args.get("rows", "20"))
        matching = [
            w for w in self.works if "-".join(f"{p:02d}" for p in w["indexed"]["date-parts"][0]) >= since
        ]
        page = matching[start : start + rows]
        message = {
            "facets": {},
            "next-cursor": f"s{session}.{start + len(page)}",
            "total-results": len(matching),
            "items": page,
            "items-per-page": rows,
            "query": {"start-index": 0, "search-terms": request.args.get("query.bibliographic")},
        }
        return Response(envelope(message, "work-list"), 200, content_type="application/json")

    def list_requests(self) -> list[dict[str, str]]:
        return [args for _, args, _ in self.requests]


@pytest.fixture
def crossref(threaded_server: HTTPServer) -> CrossrefWorks:
    return CrossrefWorks(threaded_server)


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crossref: CrossrefWorks) -> Path:
    root = copy_workspace(tmp_path / "ws")
    point_at_crossref(monkeypatch, root, crossref.url)
    return root


def ok(result: Any) -> Any:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def candidates(cli: Invoke, *args: str) -> list[dict[str, Any]]:
    return json.loads(ok(cli("candidates", "list", "-f", "json", *args)).stdout)


def candidate_file(ws: Path, doi: str) -> dict[str, Any]:
    from exocli.candidates import candidate_id

    return tomllib.loads(
        (ws / "refs" / "candidates" / f"{candidate_id(doi)}.toml").read_text(encoding="utf-8")
    )


# Works the review does not cite, each naming the review's vocabulary terms to a different degree.
UCMSC_SCI = work(
    "10.5555/upd.1",
    "Umbilical cord mesenchymal stem cell exosomes deliver miR-21 and reduce neuroinflammation after spinal cord injury",
    abstract="In rats with contusion spinal cord injury, exosomes from UCMSC were anti-inflammatory and"
    " promoted angiogenesis through PTEN/PI3K/AKT.",
)
ADSC_STROKE = work(
    "10.5555/upd.2",
    "Adipose-derived stem cell extracellular vesicles in ischemic stroke",
    family="García",
    given="Lucía",
    abstract="Vesicles reduced infarct volume in mice.",
)
UNRELATED = work("10.5555/upd.3", "Soil bacteria and nitrogen cycling in alpine meadows", family="Berg")


def test_search_add_checks_what_it_saves(ws: Path, cli: Invoke) -> None:
    saved = ok(cli("search", "add", "sci-evs", "stem cell exosomes spinal cord injury", "--since", "2025-01-01",
                   "--filter", "type:journal-article"))  # fmt: skip
    assert "refs/searches/sci-evs.toml" in saved.stderr
    text = (ws / "refs" / "searches" / "sci-evs.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert data["query"] == "stem cell exosomes spinal cord injury"
    assert data["filters"] == ["type:journal-article"] and data["since"] == "2025-01-01"
    assert data["marker"] == "index"
    listed = json.loads(ok(cli("search", "list", "-f", "json")).stdout)
    assert [s["marker"] for s in listed] == ["from-index-date:2025-01-01"]
    again = cli("search", "add", "sci-evs", "other", "--since", "2025")
    assert again.exit_code == 1 and "a search named 'sci-evs' exists" in again.stderr
    for args, expected in [
        (["Bad Name", "q", "--since", "2025"], "search name 'Bad Name'"),
        (["x", "q", "--since", "2025-13-01"], "--since '2025-13-01' is not a date"),
        (["x", "q", "--since", "last week"], "is not a date"),
        (["x", "q", "--since", "2025", "--filter", "type"], "give NAME:VALUE"),
        (["x", "q", "--since", "2025", "--filter", "Type!:a"], "is not a Crossref filter name"),
        (["x", "q", "--since", "2025", "--filter", "from-index-date:2024"], "the marker is set with --since"),
        (["x", "q", "--since", "2025", "--filter", "from-pub-date:soon"], "--filter from-pub-date 'soon'"),
        (["x", "q", "--since", "2025", "--rows", "5000"], "--rows must be from 1 to 1000"),
    ]:
        result = cli("search", "add", *args)
        assert result.exit_code == 2, (args, result.stderr)
        assert expected in result.stderr, (args, result.stderr)
    assert sorted(p.name for p in (ws / "refs" / "searches").iterdir()) == ["sci-evs.toml"]


def test_a_run_pages_by_cursor_with_pages_sized_to_what_is_left(
    ws: Path, cli: Invoke, crossref: CrossrefWorks
) -> None:
    crossref.works = [
        work(f"10.5555/bulk.{i}", f"Mesenchymal stem cell exosomes in spinal cord injury, series {i}", family=f"Author{i}")
        for i in range(45)
    ]  # fmt: skip
    ok(cli("search", "add", "bulk", "msc exosomes sci", "--since", "2026-01-01", "--rows", "20"))
    result = ok(cli("search", "run", "bulk", "-f", "json"))
    sent = crossref.list_requests()
    assert [(r["cursor"], r["rows"]) for r in sent] == [("*", "20"), ("s1.20", "20"), ("s1.40", "5")]
    assert all(r["query.bibliographic"] == "msc exosomes sci" for r in sent)
    assert all(r["filter"] == "from-index-date:2026-01-01" for r in sent)
    assert "DOI" in sent[0]["select"].split(",") and "abstract" in sent[0]["select"].split(",")
    assert len(json.loads(result.stdout)) == 45
    assert "Crossref counts 45 works since 2026-01-01" in result.stderr
    assert "received 45 in 3 pages, 3 requests" in result.stderr
    assert len(list((ws / "refs" / "candidates").glob("*.toml"))) == 45
    assert not (ws / "refs" / "searches" / "bulk.run").exists()
    # the marker moved to the day the run began; the next run asks from there
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert tomllib.loads((ws / "refs" / "searches" / "bulk.toml").read_text())["since"] == today
    ok(cli("search", "run", "bulk"))
    assert crossref.list_requests()[-1]["filter"] == f"from-index-date:{today}"


def test_the_list_limit_holds_and_the_contact_goes_in_the_user_agent(
    ws: Path, cli: Invoke, crossref: CrossrefWorks
) -> None:
    from exocli.crossref import LIMITS

    crossref.works = [
        work(f"10.5555/rate.{i}", f"Exosome therapy after spinal cord injury {i}") for i in range(10)
    ]
    ok(cli("search", "add", "rate", "exosomes", "--since", "2026", "--rows", "2"))
    ok(cli("search", "run", "rate"))
    times = [when for when, _, _ in crossref.requests]
    assert len(times) == 5
    interval = 1 / LIMITS["polite"]["list_rate"]
    assert min(b - a for a, b in itertools.pairwise(times)) >= interval * 0.95
    assert all("mailto:curator@example.org" in agent for _, _, agent in crossref.requests)


def test_candidates_are_deduplicated_against_the_review(
    ws: Path, cli: Invoke, crossref: CrossrefWorks
) -> None:
    """By DOI; by title + first author + year (another DOI, other case and punctuation); a
    preprint of a cited paper is left out; the published version of a cited preprint leads."""
    cited = "10.1016/j.bbrep.2023.101497"  # reference 44, Wang et al. 2023
    crossref.works = [
        UCMSC_SCI,
        work(cited.upper(), "Umbilical mesenchymal stem cell-derived exosomes ... (as Crossref has it)"),
        work(
            "10.9999/mirror.44",
            "UMBILICAL mesenchymal stem cell derived exosomes promote spinal cord functional recovery through"
            " the miR-146b/TLR4-mediated NF-κB p65 signaling pathway in rats.",
            family="Wang", given="Xin", year=2023,
        ),
        work("10.1101/2022.05.01.490000", "A preprint of reference 44", kind="posted-content",
             relation={"is-preprint-of": [{"id-type": "doi", "id": cited, "asserted-by": "subject"}]}),
        work("10.5555/published.44", "The published version of a cited paper's preprint",
             relation={"has-preprint": [{"id-type": "doi", "id": cited, "asserted-by": "object"}]}),
        ADSC_STROKE,
    ]  # fmt: skip
    ok(cli("search", "add", "all", "exosomes", "--since", "2026"))
    result = ok(cli("search", "run", "all"))
    assert "3 new candidates" in result.stderr
    assert "in the review (reference 44): 2" not in result.stderr  # one by DOI, one by title
    assert "in the review (reference 44): 1" in result.stderr
    assert "in the review (reference 44: same title, first author and year): 1" in result.stderr
    assert "preprint of reference 44: 1" in result.stderr
    listed = candidates(cli)
    assert listed[0]["doi"] == "10.5555/published.44"
    assert listed[0]["version_of"] == "wang2023umbilical"
    assert listed[0]["reasons"][0] == "published version of reference 44 (a preprint)"
    assert {c["doi"] for c in listed} == {"10.5555/published.44", "10.5555/upd.1", "10.5555/upd.2"}


def test_a_preprint_found_with_its_published_version_is_proposed_once(
    ws: Path, cli: Invoke, crossref: CrossrefWorks
) -> None:
    crossref.works = [
        work("10.1101/2026.01.02.600001", "Exosomes after spinal cord injury (preprint)", kind="posted-content",
             relation={"is-preprint-of": [{"id-type": "doi", "id": "10.5555/pub.9", "asserted-by": "subject"}]}),
        work("10.5555/pub.9", "Exosomes after spinal cord injury",
             relation={"has-preprint": [{"id-type": "doi", "id": "10.1101/2026.01.02.600001", "asserted-by": "object"}]}),
    ]  # fmt: skip
    ok(cli("search", "add", "pair", "exosomes", "--since", "2026"))
    result = ok(cli("search", "run", "pair"))
    assert "preprint of candidate 10.5555/pub.9: 1" in result.stderr
    (only,) = candidates(cli)
    assert only["doi"] == "10.5555/pub.9" and only["versions"] == ["preprint 10.1101/2026.01.02.600001"]


def test_ranking_reads_the_review_vocabularies_and_says_why(
    ws: Path, cli: Invoke, crossref: CrossrefWorks
) -> None:
    crossref.works = [UNRELATED, ADSC_STROKE, UCMSC_SCI]
    ok(cli("search", "add", "rank", "exosomes", "--since", "2026"))
    ok(cli("search", "run", "rank"))
    listed = candidates(cli)
    assert [c["doi"] for c in listed] == ["10.5555/upd.1", "10.5555/upd.2", "10.5555/upd.3"]
    first = listed[0]
    assert first["score"] > listed[1]["score"] > listed[2]["score"] == 0
    reasons = "; ".join(first["reasons"])
    assert "source UCMSC (title)" in reasons and "injury SCI (title)" in reasons
    assert "miR-21 (title)" in reasons and "effect anti-inflammatory" in reasons
    assert listed[2]["reasons"] == []
    table = ok(cli("candidates", "list")).stdout
    assert "source UCMSC (title)" in table and "10.5555/upd.3" in table


def test_decisions_are_remembered_and_nothing_decided_comes_back(
    ws: Path, cli: Invoke, crossref: CrossrefWorks
) -> None:
    crossref.works = [UCMSC_SCI, ADSC_STROKE, UNRELATED]
    ok(cli("search", "add", "d", "exosomes", "--since", "2026"))
    ok(cli("search", "run", "d"))
    accepted = ok(cli("candidates", "accept", "10.5555/upd.1"))
    assert "Accepted 10.5555/upd.1 as reference 97 (tanaka2026umbilical)" in accepted.stderr
    ok(cli("candidates", "reject", "https://doi.org/10.5555/upd.3", "--reason", "off topic: soil science"))
    ok(cli("candidates", "defer", "10.5555/upd.2", "--reason", "check the stroke model first"))
    before = {p.name: p.read_text() for p in (ws / "refs" / "candidates").iterdir()}
    # the same works, indexed again: none is proposed again, no decision changes
    for item in crossref.works:
        item["indexed"]["date-parts"] = [[2099, 1, 1]]
    result = ok(cli("search", "run", "d"))
    assert "0 new candidates" in result.stderr
    assert "in the review (reference 97): 1" in result.stderr
    assert "rejected earlier: 1" in result.stderr and "deferred earlier: 1" in result.stderr
    assert {p.name: p.read_text() for p in (ws / "refs" / "candidates").iterdir()} == before
    assert candidates(cli) == []
    (deferred,) = candidates(cli, "--status", "deferred")
    assert deferred["reason"] == "check the stroke model first"
    rejected = candidate_file(ws, "10.5555/upd.3")
    assert rejected["status"] == "rejected" and rejected["reason"] == "off topic: soil science"
    assert rejected["decided_at"].startswith(time.strftime("%Y-%m-%d", time.gmtime()))
    # a decision stays: accepting the rejected one, or rejecting the accepted one, is refused
    again = cli("candidates", "accept", "10.5555/upd.3")
    assert again.exit_code == 1 and "was rejected on" in again.stderr and "off topic" in again.stderr
    twice = cli("candidates", "reject", "10.5555/upd.1", "--reason", "changed my mind")
    assert twice.exit_code == 1 and "was accepted on" in twice.stderr


def test_accept_adds_the_reference_with_full_names_and_records_the_decision(
    ws: Path, cli: Invoke, crossref: CrossrefWorks
) -> None:
    crossref.works = [ADSC_STROKE]
    ok(cli("search", "add", "a", "exosomes", "--since", "2026"))
    ok(cli("search", "run", "a"))
    result = ok(cli("candidates", "accept", "10.5555/upd.2", "-f", "json"))
    (row,) = json.loads(result.stdout)
    assert row["status"] == "accepted" and row["number"] == 97 and row["reference"] == "garcia2026adipose"
    ref = json.loads(ok(cli("refs", "show", "97", "-f", "json")).stdout)
    ref = ref[0] if isinstance(ref, list) else ref
    assert ref["doi"] == "10.5555/upd.2"
    assert ref["authors"][0] == {"family": "García", "given": "Lucía"}
    assert candidate_file(ws, "10.5555/upd.2")["reference"] == "garcia2026adipose"
    # the new study's file and the decision went in one write
    assert (ws / "refs" / "studies" / "garcia2026adipose.toml").exists()
    assert "garcia2026adipose" in (ws / "refs" / "order.txt").read_text()


def test_accept_extract_drafts_claims_from_the_abstract_that_point_to_it(
    ws: Path, cli: Invoke, crossref: CrossrefWorks
) -> None:
    crossref.works = [UCMSC_SCI, ADSC_STROKE, UNRELATED]
    ok(cli("search", "add", "a", "exosomes", "--since", "2026"))
    ok(cli("search", "run", "a"))
    path = "refs/candidates/10.5555-upd.1.toml"
    # before it is accepted, the abstract is no reference's
    early = cli("extract", str(ws / path))
    assert early.exit_code == 1
    assert early.stderr.endswith(
        "the study of this abstract (10.5555/upd.1) is not in the reference list;"
        " accept it first (`exocli candidates accept 10.5555/upd.1`)\n"
    )
    result = ok(cli("candidates", "accept", "10.5555/upd.1", "--extract", "-f", "json"))
    (row,) = json.loads(result.stdout)
    assert row["number"] == 97 and len(row["drafts"]) == 1
    assert "Drafted 1 claim of 10.5555/upd.1 from the 1 sentence of its abstract" in result.stderr
    (draft,) = [c for c in json.loads(ok(cli("claims", "list", "-f", "json", "--status", "draft")).stdout)]
    assert draft["id"] == row["drafts"][0] and draft["ref"] == 97
    assert (draft["source"], draft["cargo_type"], draft["cargo"]) == ("UCMSC", "none", [])
    assert sorted(draft["effects"]) == ["angiogenesis", "anti-inflammatory"]
    assert (draft["species"], draft["model"], draft["injury"]) == (["rat"], ["contusion"], ["SCI"])
    assert draft["pathways"] == ["PTEN/PI3K/AKT"]
    assert (draft["location"], draft["section"]) == (f"{path} paragraph 1 sentence 1", "Abstract")
    assert draft["note"] == "Draft from the study's abstract."
    # the draft points to its sentence; it does not copy it
    study = (ws / "refs" / "studies" / f"{row['reference']}.toml").read_text(encoding="utf-8")
    assert "contusion spinal cord injury" not in study and f'manuscript = "{path}"' in study
    # a second run reads the same sentence: nothing new
    again = ok(cli("extract", str(ws / path)))
    assert "0 new drafts were written" in again.stderr


def test_an_abstract_borrows_source_and_disease_from_the_title(
    ws: Path, cli: Invoke, crossref: CrossrefWorks
) -> None:
    from exocli.drafts import draft_sentence
    from exocli.workspace import open_workspace

    abstract = (
        "Ischemic stroke lacks treatments that protect the brain. Here, vesicles reduced neuronal"
        " apoptosis and promoted angiogenesis in mice after MCAO. We measured infarct volume at day 7."
    )
    crossref.works = [{**ADSC_STROKE, "abstract": f"<jats:p>{abstract}</jats:p>"}]
    ok(cli("search", "add", "a", "exosomes", "--since", "2026"))
    ok(cli("search", "run", "a"))
    result = ok(cli("candidates", "accept", "10.5555/upd.2", "--extract"))
    assert "Drafted 1 claim of 10.5555/upd.2 from the 3 sentences of its abstract" in result.stderr
    assert "`exocli claims review` settles the drafts" in result.stderr
    (draft,) = json.loads(ok(cli("claims", "list", "-f", "json", "--status", "draft")).stdout)
    assert draft["source"] == "ADSC" and draft["source_wording"] == "Adipose-derived stem cell"
    assert (draft["species"], draft["model"], draft["injury"]) == (["mouse"], ["MCAO"], ["ischemic stroke"])
    assert "anti-apoptosis" in draft["effects"] or "angiogenesis" in draft["effects"]
    assert draft["note"] == "Draft from the study's abstract (source, injury from the abstract or title)."
    assert draft["location"].endswith("paragraph 1 sentence 2")
    # `claims review` shows the sentence, read from the candidate's file as it is now
    sentence, note = draft_sentence(open_workspace(ws), draft | {"manuscript": draft["location"].split(" ")[0],
                                                                "paragraph": 1, "sentence": 2,
                                                                "sentence_hash": _hash(ws, draft["id"])})  # fmt: skip
    assert sentence.startswith("Here, vesicles reduced neuronal apoptosis") and note == ""
    # an abstract is not a manuscript to check citations in
    refused = cli("check", "--manuscript", str(ws / draft["location"].split(" ")[0]))
    assert refused.exit_code == 2 and "an abstract, not a manuscript" in refused.stderr


def _hash(ws: Path, claim_id: int) -> str:
    for path in (ws / "refs" / "studies").glob("*.toml"):
        for claim in tomllib.loads(path.read_text(encoding="utf-8")).get("claim", []):
            if claim["id"] == claim_id:
                return str(claim["sentence_hash"])
    raise AssertionError(claim_id)


def test_crossref_refusing_a_filter_is_shown_and_changes_nothing(
    ws: Path, cli: Invoke, crossref: CrossrefWorks
) -> None:
    crossref.works = [UCMSC_SCI]
    ok(cli("search", "add", "bad", "exosomes", "--since", "2026", "--filter", "typo-filter:x"))
    before = (ws / "refs" / "searches" / "bad.toml").read_text()
    result = cli("search", "run", "bad")
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: search 'bad': Crossref refused the query (400 rejected by Crossref:")
    assert "Filter typo-filter specified but there is no such filter for this route" in line
    assert (ws / "refs" / "searches" / "bad.toml").read_text() == before
    assert not (ws / "refs" / "candidates").exists()
    assert len(crossref.requests) == 1  # a refusal is not retried


def test_a_run_that_stops_midway_goes_on_from_its_cursor_next_time(
    ws: Path, cli: Invoke, crossref: CrossrefWorks
) -> None:
    crossref.works = [work(f"10.5555/mid.{i}", f"Exosomes and spinal cord repair {i}") for i in range(9)]
    ok(cli("search", "add", "mid", "exosomes", "--since", "2026", "--rows", "3"))
    ok(cli("candidates", "list"))  # builds the database before the server fails
    crossref.down_after = 1
    failed = cli("search", "run", "mid")
    assert failed.exit_code == 1
    assert "the 3 works received are kept and `exocli search run mid` goes on" in failed.stderr
    run_dir = ws / "refs" / "searches" / "mid.run"
    assert sorted(p.name for p in run_dir.glob("*.json")) == ["page-0001.json", "run.json"]
    assert tomllib.loads((ws / "refs" / "searches" / "mid.toml").read_text())["since"] == "2026"
    assert not (ws / "refs" / "candidates").exists()
    crossref.down_after = None
    sent = len(crossref.requests)
    result = ok(cli("search", "run", "mid"))
    assert [r["cursor"] for r in crossref.list_requests()[sent:]] == ["s1.3", "s1.6"]
    assert "3 kept from the unfinished run" in result.stderr and "9 new candidates" in result.stderr
    assert not run_dir.exists()


def test_a_final_write_that_fails_keeps_the_pages_before_the_last(
    ws: Path, cli: Invoke, crossref: CrossrefWorks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last page goes straight into the final write; if that write fails, the next run
    asks for the last page again (its cursor was kept) and nothing else."""
    from exocli import search_run
    from exocli.errors import DataError

    crossref.works = [work(f"10.5555/fin.{i}", f"Exosomes and spinal cord repair {i}") for i in range(9)]
    ok(cli("search", "add", "fin", "exosomes", "--since", "2026", "--rows", "3"))
    real_take = search_run._Prestaged.take

    def failing(self: Any, texts: Any) -> Any:
        raise DataError("refs/candidates: the disk is full")

    monkeypatch.setattr(search_run._Prestaged, "take", failing)
    failed = cli("search", "run", "fin")
    assert failed.exit_code == 1 and "the disk is full" in failed.stderr
    run_dir = ws / "refs" / "searches" / "fin.run"
    assert sorted(p.name for p in run_dir.glob("*.json")) == ["page-0001.json", "page-0002.json", "run.json"]
    assert not list(run_dir.glob(".*.tmp"))  # what was written ahead is gone
    assert not (ws / "refs" / "candidates").exists() or not list((ws / "refs" / "candidates").glob("*.toml"))
    monkeypatch.setattr(search_run._Prestaged, "take", real_take)
    sent = len(crossref.requests)
    result = ok(cli("search", "run", "fin"))
    assert [r["cursor"] for r in crossref.list_requests()[sent:]] == ["s1.6"]
    assert "6 kept from the unfinished run" in result.stderr and "9 new candidates" in result.stderr
    assert len(list((ws / "refs" / "candidates").glob("*.toml"))) == 9 and not run_dir.exists()


def test_ranks_are_the_same_when_a_worker_ranks_half_of_each_page(
    tmp_path: Path, cli: Invoke, crossref: CrossrefWorks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real process (no thread yet when it forks its ranking worker) and one that ranks
    everything itself give every candidate the same score and reasons."""
    import subprocess
    import sys

    abstracts = [UCMSC_SCI["abstract"], ADSC_STROKE["abstract"], None]
    titles = [UCMSC_SCI["title"][0], ADSC_STROKE["title"][0], UNRELATED["title"][0]]
    crossref.works = [
        {**work(f"10.5555/rank.{i}", f"{titles[i % 3]} ({i})"), **({"abstract": abstracts[i % 3]} if abstracts[i % 3] else {})}
        for i in range(90)
    ]  # fmt: skip
    lists = []
    for name, forked in (("alone", False), ("forked", True)):
        root = copy_workspace(tmp_path / name)
        point_at_crossref(monkeypatch, root, crossref.url)
        ok(cli("search", "add", "r", "exosomes", "--since", "2026", "--rows", "90"))
        if forked:
            env = {**os.environ, "EXOCLI_WORKERS": "2"}
            done = subprocess.run([sys.executable, "-m", "exocli", "search", "run", "r"], env=env,
                                  capture_output=True, text=True, timeout=120)  # fmt: skip
            assert done.returncode == 0, done.stderr
        else:
            monkeypatch.setenv("EXOCLI_WORKERS", "1")
            ok(cli("search", "run", "r"))
        lists.append({c["doi"]: (c["score"], c["reasons"]) for c in candidates(cli)})
    assert len(lists[0]) == 90 and lists[0] == lists[1]
    assert len({score for score, _ in lists[0].values()}) == 3  # three kinds of work, three scores


def test_an_expired_cursor_pages_again_from_the_start_and_keeps_what_it_had(
    ws: Path, cli: Invoke, crossref: CrossrefWorks
) -> None:
    crossref.works = [work(f"10.5555/exp.{i}", f"Exosomes and spinal cord repair {i}") for i in range(6)]
    ok(cli("search", "add", "exp", "exosomes", "--since", "2026", "--rows", "3"))
    ok(cli("candidates", "list"))
    crossref.down_after = 1
    assert cli("search", "run", "exp").exit_code == 1
    crossref.down_after = None
    crossref.expired.add(1)  # Crossref keeps a cursor five minutes
    sent = len(crossref.requests)
    result = ok(cli("search", "run", "exp"))
    cursors = [r["cursor"] for r in crossref.list_requests()[sent:]]
    assert cursors == ["s1.3"] * 4 + ["*", "s2.3"]  # the stale one tried (and retried) once
    assert "the stored cursor had expired: paged again from the start" in result.stderr
    assert "6 new candidates" in result.stderr
    assert len(list((ws / "refs" / "candidates").glob("*.toml"))) == 6


def test_works_without_a_doi_or_title_are_reported_not_proposed(
    ws: Path, cli: Invoke, crossref: CrossrefWorks
) -> None:
    no_doi = work("", "A work with no DOI")
    del no_doi["DOI"]
    crossref.works = [no_doi, {**work("10.5555/untitled.1", ""), "title": []}, UCMSC_SCI]
    ok(cli("search", "add", "odd", "exosomes", "--since", "2026"))
    result = ok(cli("search", "run", "odd"))
    assert "Warning: item 1 ('A work with no DOI') has no DOI: not proposed" in result.stderr
    assert "Warning: 10.5555/untitled.1 has no title: not proposed" in result.stderr
    assert [c["doi"] for c in candidates(cli)] == ["10.5555/upd.1"]


def test_candidate_files_that_cannot_be_read_name_themselves(
    ws: Path, cli: Invoke, crossref: CrossrefWorks
) -> None:
    crossref.works = [UCMSC_SCI]
    ok(cli("search", "add", "f", "exosomes", "--since", "2026"))
    ok(cli("search", "run", "f"))
    path = ws / "refs" / "candidates" / "10.5555-upd.1.toml"
    text = path.read_text()
    path.write_text(text.replace('status = "new"', 'status = "maybe"'))
    result = cli("candidates", "list")
    assert result.exit_code == 1
    assert (
        "refs/candidates/10.5555-upd.1.toml: status must be one of new, deferred, accepted, rejected"
        in result.stderr
    )
    path.write_text(text + "score = [\n")
    broken = cli("candidates", "show", "10.5555/upd.1")
    assert broken.exit_code == 1 and "refs/candidates/10.5555-upd.1.toml:" in broken.stderr


def test_candidates_show_gives_every_field(ws: Path, cli: Invoke, crossref: CrossrefWorks) -> None:
    crossref.works = [UCMSC_SCI]
    ok(cli("search", "add", "s", "exosomes", "--since", "2026"))
    ok(cli("search", "run", "s"))
    shown = ok(cli("candidates", "show", "10.5555/UPD.1")).stdout
    assert "abstract: In rats with contusion spinal cord injury" in shown
    assert "authors: Tanaka, Hiroshi; Chen, Mei" in shown and "found_by: s" in shown
    (row,) = json.loads(ok(cli("candidates", "show", "10.5555-upd.1", "-f", "json")).stdout)
    assert row["journal"] == "Stem Cell Research & Therapy" and row["status"] == "new"
    missing = cli("candidates", "show", "10.5555/none")
    assert missing.exit_code == 1 and "no candidate '10.5555/none'" in missing.stderr


# --- the text files: what is written reads back the same ----------------------------------

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
_words = st.lists(_text, max_size=4)


@settings(max_examples=150, deadline=None)
@given(
    doi=st.from_regex(r"10\.[0-9]{4,6}/[A-Za-z0-9][A-Za-z0-9._;()-]{0,23}", fullmatch=True).filter(
        lambda d: try_normalize_doi(d) == d
    ),
    title=_text.filter(str.strip),
    authors=_words,
    year=st.none() | st.integers(1800, 2100),
    journal=st.none() | _text.filter(bool),
    abstract=_text,
    reasons=_words,
    score=st.integers(0, 500),
    status=st.sampled_from(["new", "deferred", "accepted", "rejected"]),
    reason=_text,
)
def test_candidate_files_read_back_as_written(**fields: Any) -> None:
    from exocli.candidates import Candidate, _from_document, candidate_id, format_candidate

    if not fields["reasons"]:
        fields["score"] = 0  # a score with no reason is not written
    candidate = Candidate(**fields, found_by=["s"], id=candidate_id(fields["doi"]))
    text = format_candidate(candidate)
    assert _from_document(tomllib.loads(text), "x.toml", candidate.id) == candidate
    assert "/" not in candidate.id and len(candidate.id) <= 80


@settings(max_examples=100, deadline=None)
@given(
    query=_text.filter(lambda q: q.split() != []),
    filters=st.lists(
        st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,5})?:[A-Za-z0-9-]{1,10}", fullmatch=True), max_size=3
    ),
    since=st.dates().map(lambda d: d.isoformat()),
    marker=st.sampled_from(["index", "created"]),
)
def test_saved_searches_read_back_as_written(query: str, filters: list[str], since: str, marker: str) -> None:
    from exocli.searches import SavedSearch, _from_document, format_search

    if any(f.startswith(("from-index-date", "from-created-date")) for f in filters):
        return
    search = SavedSearch(
        "s", query, since, tuple(dict.fromkeys(filters)), marker, created="2026-12-03T00:00:00Z"
    )
    assert _from_document(tomllib.loads(format_search(search)), "s.toml", "s") == search


def test_accept_on_a_terminal_offers_to_record_a_finding(ws: Path, cli: Invoke) -> None:
    """In a real pty: accepting one candidate asks whether to draft claims from its abstract
    (extract), then whether to run add-study for it now."""
    import sys

    from exocli.candidates import candidate_id, format_candidate, from_item

    folder = ws / "refs" / "candidates"
    folder.mkdir(parents=True)
    candidate = from_item(ADSC_STROKE, "manual", "2026-12-03")
    (folder / f"{candidate_id(candidate.doi)}.toml").write_text(format_candidate(candidate), encoding="utf-8")
    ok(cli("candidates", "list"))
    terminal = Terminal(
        [sys.executable, "-m", "exocli", "candidates", "accept", "10.5555/upd.2"], {"EXOCLI_HOME": str(ws)}
    )
    terminal.expect(b"Draft claims of reference 97 from its abstract now (extract)? [y/N]")
    terminal.send(b"y\n")
    terminal.expect(b"1 sentence of the abstract; 0 new drafts were written")
    terminal.expect(b"No draft from: 1 sentence (no effect named)")  # "reduced infarct volume"
    terminal.expect(b"Record a finding of reference 97 now (add-study)? [y/N]")
    terminal.send(b"y\n")
    terminal.expect(b"cargo, as the paper words it")  # add-study's own questions, for reference 97
    terminal.send(b"\x04")  # end of input (Ctrl-D): add-study stops; the reference stays accepted
    assert terminal.exit_code() == 1
    assert candidate_file(ws, "10.5555/upd.2")["status"] == "accepted"
    assert json.loads(ok(cli("refs", "show", "97", "-f", "json")).stdout)["doi"] == "10.5555/upd.2"
