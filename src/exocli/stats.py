"""Evidence gap map: how many claims each source has for each effect."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from exocli.errors import ExocliError, UsageError
from exocli.fields import NOT_STATED
from exocli.vocab import vocabulary_from_db

# `stats --by FIELD`: the claim field each row is a term of, and its vocabulary.
BY_FIELDS = {
    "source": "sources",
    "cargo-type": "cargo-types",
    "injury": "injuries",
    "species": "species",
    "model": "models",
}


@dataclass
class Matrix:
    effects: list[str]
    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    by: str = "source"  # the field of the rows

    @property
    def vocabulary(self) -> str:
        return BY_FIELDS[self.by]


def source_effect_matrix(conn: sqlite3.Connection) -> Matrix:
    """Every source term (in vocabulary order, so gaps show) x every effect."""
    return effect_matrix(conn, "source")


CURATED = "c.status = 'curated'"  # drafts are not evidence until accepted


def effect_matrix(conn: sqlite3.Connection, by: str) -> Matrix:
    """Every term of the `by` field's vocabulary (in vocabulary order, so gaps show) x every
    effect. A claim with two injuries counts in both rows; claims with none of a study-context
    field make a last "not stated" row."""
    if by not in BY_FIELDS:
        raise UsageError(f"--by must be one of {', '.join(BY_FIELDS)}, not {by!r}")
    terms = vocabulary_from_db(conn, BY_FIELDS[by])
    effects = vocabulary_from_db(conn, "effects")
    matrix = Matrix(effects=list(effects.terms), by=by)
    for code in terms.terms:
        matrix.rows[code] = {}
        matrix.totals[code] = 0
    if by in ("source", "cargo-type"):
        column = "c.source" if by == "source" else "c.cargo_type"  # fixed names
        cells = conn.execute(
            f"SELECT {column}, e.effect, COUNT(*) FROM claims c"
            f" JOIN claim_effects e ON e.claim_id = c.id WHERE {CURATED} GROUP BY {column}, e.effect"
        ).fetchall()
        totals = conn.execute(
            f"SELECT {column}, COUNT(*) FROM claims c WHERE {CURATED} GROUP BY {column}"
        ).fetchall()
    else:
        vocab = BY_FIELDS[by]
        cells = conn.execute(
            "SELECT t.code, e.effect, COUNT(*) FROM claim_terms t JOIN claim_effects e"
            " ON e.claim_id = t.claim_id JOIN claims c ON c.id = t.claim_id"
            f" WHERE t.vocab = ? AND {CURATED} GROUP BY t.code, e.effect",
            (vocab,),
        ).fetchall()
        totals = conn.execute(
            "SELECT t.code, COUNT(*) FROM claim_terms t JOIN claims c ON c.id = t.claim_id"
            f" WHERE t.vocab = ? AND {CURATED} GROUP BY t.code",
            (vocab,),
        ).fetchall()
        unstated = "NOT EXISTS (SELECT 1 FROM claim_terms t WHERE t.claim_id = c.id AND t.vocab = ?)"
        cells += [
            (NOT_STATED, effect, count)
            for effect, count in conn.execute(
                "SELECT e.effect, COUNT(*) FROM claims c JOIN claim_effects e ON e.claim_id = c.id"
                f" WHERE {unstated} AND {CURATED} GROUP BY e.effect",
                (vocab,),
            )
        ]
        totals += conn.execute(
            f"SELECT ?, COUNT(*) FROM claims c WHERE {unstated} AND {CURATED}", (NOT_STATED, vocab)
        ).fetchall()
    for code, effect, count in cells:
        matrix.rows.setdefault(code, {})[effect] = count
    for code, count in totals:
        if count or code != NOT_STATED:
            matrix.totals[code] = count
            matrix.rows.setdefault(code, {})
    return matrix


def draw_matrix(matrix: Matrix, path: Path) -> None:
    """A heat map of the matrix as PNG or SVG (matplotlib is an optional extra)."""
    if path.suffix.lower() not in (".png", ".svg"):
        raise UsageError(f"--plot: {path} must end in .png or .svg")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ExocliError("--plot needs matplotlib: pip install 'exocli[plot]'") from exc
    sources = list(matrix.rows)
    values = [[matrix.rows[s].get(e, 0) for e in matrix.effects] for s in sources]
    figure, axes = plt.subplots(figsize=(1 + 0.6 * len(matrix.effects), 1 + 0.4 * len(sources)))
    image = axes.imshow(values, cmap="Blues", aspect="auto")
    axes.set_xticks(range(len(matrix.effects)), matrix.effects, rotation=45, ha="right")
    axes.set_yticks(range(len(sources)), sources)
    peak = max((max(row) for row in values), default=0)
    for y, row in enumerate(values):
        for x, value in enumerate(row):
            if value:
                colour = "white" if value > peak / 2 else "black"  # readable on dark cells
                axes.text(x, y, str(value), ha="center", va="center", fontsize=8, color=colour)
    figure.colorbar(image, ax=axes, label="claims")
    axes.set_title(f"Claims per {matrix.by} x effect")
    figure.tight_layout()
    try:
        figure.savefig(path)
    except OSError as exc:
        raise ExocliError(f"cannot write {path}: {exc.strerror}") from exc
    finally:
        plt.close(figure)
