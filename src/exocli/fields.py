"""The fields of a claim record (constants only: imported on every query)."""

NOT_STATED = "not stated"
# Order of keys in the text record; also the order `exocli` writes them back.
CLAIM_KEYS = (
    "id",
    "ref",
    "section",
    "source",
    "source_wording",
    "cargo_type",
    "cargo",
    "engineering",
    "pathways",
    "effects",
    "species",
    "model",
    "injury",
    "route",
    "dose",
    "outcome",
    "note",
    "added_by",
    "added_at",
)
REQUIRED_KEYS = ("id", "source", "cargo_type", "effects")
# The study context: lists of vocabulary codes (injuries, species, models vocabularies).
# An empty list is "not stated"; a record written before they were lists holds one text.
CONTEXT_KEYS = ("species", "model", "injury")
LIST_KEYS = ("cargo", "engineering", "pathways", "effects", *CONTEXT_KEYS)
# SQLite's largest integer: no id, number or limit beyond it can exist.
MAX_INTEGER = 2**63 - 1
# A draft claim (from `exocli extract`) also keeps where it was read: the manuscript file,
# paragraph and sentence numbers and the hash of the sentence (never the sentence), how its
# reference was assigned, which fields came from the paragraph, and a flag set when the
# sentence changed or went. A curated claim leaves them out of its record.
STATUSES = ("curated", "draft", "rejected")
DRAFT_KEYS = (
    "status", "manuscript", "paragraph", "sentence", "sentence_hash", "assignment", "from_context", "flag",
)  # fmt: skip
RECORD_KEYS = (*CLAIM_KEYS, *DRAFT_KEYS)
# query/table/export columns a draft adds (shown only when drafts are)
DRAFT_COLUMNS = ("status", "location", "assignment", "flag")
