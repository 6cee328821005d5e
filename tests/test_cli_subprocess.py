"""One real process: `python -m exocli` against a copy of the shipped workspace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import copy_workspace


def test_flagship_query_in_a_real_process(tmp_path: Path) -> None:
    root = copy_workspace(tmp_path / "ws")
    env = {key: value for key, value in os.environ.items() if key not in ("EXOCLI_HOME", "NO_COLOR")}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "exocli",
            "--home",
            str(root),
            "query",
            "anti-inflammatory miRNAs from UCMSC",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    claims = json.loads(completed.stdout)
    assert [(c["id"], c["ref"]) for c in claims] == [(12, 44), (16, 48)]
    assert claims[0]["cargo"] == ["miR-146a-5p"] and claims[1]["cargo"] == ["miR-138-5p"]
    assert completed.stderr == "2 claims from 2 references\n"
    assert (root / "db" / "exocli.sqlite").is_file()
