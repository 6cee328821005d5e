"""Evidence gap map: how many claims each source has for each effect."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from exocli.errors import ExocliError, UsageError
from exocli.vocab import vocabulary_from_db


@dataclass
class Matrix:
    effects: list[str]
    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)


def source_effect_matrix(conn: sqlite3.Connection) -> Matrix:
    """Every source term (in vocabulary order, so gaps show) x every effect."""
    sources = vocabulary_from_db(conn, "sources")
    effects = vocabulary_from_db(conn, "effects")
    matrix = Matrix(effects=list(effects.terms))
    for code in sources.terms:
        matrix.rows[code] = {}
        matrix.totals[code] = 0
    for source, effect, count in conn.execute(
        "SELECT c.source, e.effect, COUNT(*) FROM claims c"
        " JOIN claim_effects e ON e.claim_id = c.id GROUP BY c.source, e.effect"
    ):
        matrix.rows.setdefault(source, {})[effect] = count
    for source, count in conn.execute("SELECT source, COUNT(*) FROM claims GROUP BY source"):
        matrix.totals[source] = count
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
    axes.set_title("Claims per source x effect")
    figure.tight_layout()
    try:
        figure.savefig(path)
    except OSError as exc:
        raise ExocliError(f"cannot write {path}: {exc.strerror}") from exc
    finally:
        plt.close(figure)
