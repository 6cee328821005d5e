"""How well `exocli extract` drafts recover the shipped review's curated claims.

With the curated claims set aside (a copy of the workspace whose study files keep only
their references), `exocli extract manuscript/review.txt` writes drafts; each is then
compared with the curated claims of the shipped record:

- a curated claim is recovered when a draft cites the same reference, with a compatible
  source (the same, or one above or below it in the sources hierarchy) and at least one
  shared effect;
- a draft matches when some curated claim is recovered by it in that sense.

    python bench/drafts.py      prints the figures (also run by `make bench` and the tests)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
REVIEW = REPO / "manuscript" / "review.txt"


def workspace_without_claims(target: Path) -> Path:
    """A copy of the shipped workspace whose study files hold their references only."""
    (target / "refs" / "studies").mkdir(parents=True)
    shutil.copyfile(REPO / "exocli.toml", target / "exocli.toml")
    shutil.copyfile(REPO / "refs" / "order.txt", target / "refs" / "order.txt")
    shutil.copytree(REPO / "db" / "vocab", target / "db" / "vocab")
    for study in sorted((REPO / "refs" / "studies").glob("*.toml")):
        text = study.read_text("utf-8")
        head = text.split("\n[[claim]]", 1)[0].rstrip("\n") + "\n"
        (target / "refs" / "studies" / study.name).write_text(head, "utf-8")
    shutil.copytree(REPO / "manuscript", target / "manuscript")
    return target


def curated_claims() -> list[dict[str, Any]]:
    """(ref number, source, effects) of every curated claim of the shipped record."""
    order = [
        line.strip()
        for line in (REPO / "refs" / "order.txt").read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    number = {key: n for n, key in enumerate(order, 1)}
    claims = []
    for study in sorted((REPO / "refs" / "studies").glob("*.toml")):
        document = tomllib.loads(study.read_text("utf-8"))
        for claim in document.get("claim", []):
            if claim.get("status", "curated") == "curated":
                claims.append(
                    {
                        "id": claim["id"],
                        "ref": number[study.stem],
                        "source": claim["source"],
                        "effects": claim["effects"],
                    }
                )
    return claims


def sources_lineage() -> dict[str, list[str]]:
    """code -> [code, parent, grandparent, ...] in the shipped sources vocabulary."""
    terms = tomllib.loads((REPO / "db" / "vocab" / "sources.toml").read_text("utf-8"))["term"]
    parents = {t["code"]: t.get("parent") for t in terms}
    lineage = {}
    for code in parents:
        chain = [code]
        while parents.get(chain[-1]):
            chain.append(parents[chain[-1]])
        lineage[code] = chain
    return lineage


def accuracy(exocli: str, workdir: Path | None = None) -> dict[str, Any]:
    """Run extract in a claim-free copy and compare its drafts with the curated claims."""
    with tempfile.TemporaryDirectory(dir=workdir) as folder:
        root = workspace_without_claims(Path(folder) / "ws")
        done = subprocess.run(
            [exocli, "--home", str(root), "extract", str(root / "manuscript" / "review.txt"), "-f", "json"],
            capture_output=True,
            text=True,
            check=True,
        )
        drafts = json.loads(done.stdout)
    curated = curated_claims()
    lineage = sources_lineage()

    def compatible(a: str, b: str) -> bool:
        return a == b or a in lineage.get(b, [b]) or b in lineage.get(a, [a])

    def matches(draft: dict[str, Any], claim: dict[str, Any]) -> bool:
        return (
            draft["ref"] == claim["ref"]
            and compatible(draft["source"], claim["source"])
            and bool(set(draft["effects"]) & set(claim["effects"]))
        )

    recovered = [c for c in curated if any(matches(d, c) for d in drafts)]
    matched = [d for d in drafts if any(matches(d, c) for c in curated)]
    return {
        "curated": len(curated),
        "drafts": len(drafts),
        "recovered": len(recovered),
        "matched": len(matched),
        "recall": len(recovered) / len(curated) if curated else 0.0,
        "precision": len(matched) / len(drafts) if drafts else 0.0,
        "missed": sorted(c["id"] for c in curated if c not in recovered),
    }


if __name__ == "__main__":
    binary = str(Path(sys.executable).parent / "exocli")
    figures = accuracy(binary)
    print(
        f"drafts recover {figures['recovered']}/{figures['curated']} curated claims"
        f" (recall {figures['recall']:.0%}); {figures['matched']}/{figures['drafts']} drafts"
        f" match a curated claim (precision {figures['precision']:.0%})"
    )
