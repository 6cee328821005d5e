"""Workspaces: where exocli finds its configuration, curated text and database."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from exocli.errors import WorkspaceError

CONFIG_NAME = "exocli.toml"
DEFAULT_REFERENCES = "refs/order.txt"
# The record's layout. 1: one numbered list, db/claims.toml and refs/citekeys.tsv.
# 2: one file per study (refs/studies/KEY.toml) and the list order (refs/order.txt).
RECORD_FORMAT = 2
HOW_TO_GET_ONE = (
    "run inside a workspace, pass --home DIR or set EXOCLI_HOME; create one with `exocli init DIR`"
)
VOCAB_NAMES = (
    "sources",
    "effects",
    "cargo-types",
    "pathways",
    "injuries",
    "species",
    "models",
)  # = vocab.VOCABS


@dataclass(frozen=True)
class Workspace:
    root: Path
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def refs_dir(self) -> Path:
        return self.root / "refs"

    @property
    def db_dir(self) -> Path:
        return self.root / "db"

    @property
    def db_path(self) -> Path:
        return self.db_dir / "exocli.sqlite"

    @property
    def record_format(self) -> int:
        return int(self.config["workspace"].get("format", 1))  # checked by check_config

    @property
    def references_path(self) -> Path:
        """The list order (format 2), or the numbered reference list itself (format 1)."""
        return self.root / str(self.config["workspace"]["references"])  # checked by check_config

    @property
    def order_path(self) -> Path:
        return self.references_path

    @cached_property
    def studies_dir(self) -> Path:  # cached: an import asks for it once per study
        return self.order_path.parent / "studies"

    def study_path(self, key: str) -> Path:
        return self.studies_dir / f"{key}.toml"

    @property
    def legacy_citekeys_path(self) -> Path:
        return self.refs_dir / "citekeys.tsv"

    @property
    def legacy_claims_path(self) -> Path:
        return self.db_dir / "claims.toml"

    @property
    def backup_dir(self) -> Path:
        return self.db_dir / "backup"

    @property
    def vocab_dir(self) -> Path:
        return self.db_dir / "vocab"

    @property
    def crossref_dir(self) -> Path:
        return self.refs_dir / "crossref"

    @property
    def name(self) -> str:
        return str(self.config.get("workspace", {}).get("name", self.root.name))

    def vocab_path(self, name: str) -> Path:
        """The workspace's own vocabulary file, else the one bundled with exocli."""
        own = self.vocab_dir / f"{name}.toml"
        return own if own.exists() else bundled_vocab_dir() / f"{name}.toml"

    def relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def source_files(self, studies: bool = True) -> Iterator[Path]:
        """Every text file the database is built from, in a stable order."""
        yield self.root / CONFIG_NAME
        yield self.order_path
        if studies:
            yield from self.study_files()
        for name in VOCAB_NAMES:
            yield self.vocab_path(name)
        if self.crossref_dir.is_dir():
            yield from sorted(self.crossref_dir.glob("*.json"))

    def is_source(self, path: Path) -> bool:
        """Is `path` one of the files `source_files` lists (or would, once it exists)?"""
        if path.parent == self.studies_dir:
            return path.suffix == ".toml" and not path.name.startswith(".")
        if path.parent == self.crossref_dir:
            return path.suffix == ".json"
        return path in (self.root / CONFIG_NAME, self.order_path) or any(
            path == self.vocab_path(name) for name in VOCAB_NAMES
        )

    def study_files(self) -> list[Path]:
        try:
            with os.scandir(self.studies_dir) as entries:
                names = sorted(e.name for e in entries if e.name.endswith(".toml") and e.name[0] != ".")
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [self.studies_dir / name for name in names]

    def check_current(self) -> None:
        """Commands other than `exocli upgrade` need the current record layout."""
        if self.record_format < RECORD_FORMAT:
            raise WorkspaceError(
                f"{self.root / CONFIG_NAME}: this workspace keeps its record in the format-1 layout"
                f" ({self.relative(self.references_path)}, db/claims.toml); run `exocli upgrade` to"
                " convert it to one file per study (a backup is kept)"
            )


def bundled_vocab_dir() -> Path:
    return Path(__file__).parent / "data" / "vocab"


def load_config(root: Path) -> dict[str, Any]:
    path = root / CONFIG_NAME
    try:
        with path.open("rb") as handle:
            config = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"{path}: not a valid exocli.toml ({exc})") from exc
    except RecursionError as exc:
        raise WorkspaceError(f"{path}: not a valid exocli.toml (nested too deeply)") from exc
    except OSError as exc:
        raise WorkspaceError(f"{path}: cannot be read ({exc.strerror})") from exc
    check_config(root, path, config)
    return config


def check_config(root: Path, path: Path, config: dict[str, Any]) -> None:
    """A setting that is there but wrong is an error, never a silent fall-back to a default."""
    section = config.get("workspace")
    if not isinstance(section, dict):
        raise WorkspaceError(
            f'{path}: no [workspace] table; it needs at least references = "{DEFAULT_REFERENCES}"'
        )
    references = section.get("references")
    where = _where(path, "references")
    if references is None:
        raise WorkspaceError(f'{path}: [workspace] has no references = "..." (the reference list\'s path)')
    if not isinstance(references, str) or not references.strip():
        raise WorkspaceError(
            f"{where}: references must be the reference list's path as text, not {references!r}"
        )
    target = (root / references).resolve()
    if target != root.resolve() and root.resolve() not in target.parents:
        raise WorkspaceError(f"{where}: references = {references!r} points outside the workspace")
    if references.endswith(("/", "\\")) or target.is_dir():
        raise WorkspaceError(f"{where}: references = {references!r} is a folder; name the list's file")
    version = section.get("format", 1)
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= RECORD_FORMAT:
        raise WorkspaceError(
            f"{_where(path, 'format')}: format must be 1 or {RECORD_FORMAT} (the record's layout),"
            f" not {version!r}; a newer exocli may have written it"
        )
    name = section.get("name")
    if name is not None and not isinstance(name, str):
        raise WorkspaceError(f"{_where(path, 'name')}: name must be text, not {name!r}")


def _line_of(path: Path, key: str) -> int | None:
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip().startswith(key) and line.strip()[len(key) :].lstrip().startswith("="):
                return number
    except (OSError, UnicodeDecodeError):
        pass
    return None


def _where(path: Path, key: str) -> str:
    line = _line_of(path, key)
    return f"{path}:{line}" if line else str(path)


def open_workspace(root: Path) -> Workspace:
    root = root.expanduser().resolve()
    if not (root / CONFIG_NAME).is_file():
        raise WorkspaceError(f"{root} is not an exocli workspace (no {CONFIG_NAME}); {HOW_TO_GET_ONE}")
    return Workspace(root=root, config=load_config(root))


def find_workspace(home: Path | None = None, cwd: Path | None = None) -> Workspace:
    """--home, else EXOCLI_HOME, else the nearest folder upwards holding exocli.toml."""
    if home is not None:
        return open_workspace(home)
    env_home = os.environ.get("EXOCLI_HOME")
    if env_home:
        return open_workspace(Path(env_home))
    start = (cwd or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return Workspace(root=folder, config=load_config(folder))
    raise WorkspaceError(f"no exocli workspace here ({start}); {HOW_TO_GET_ONE}")


VOCAB_SETS = ("exosome", "blank")  # what `exocli init --vocab` starts a workspace's vocabularies from


def init_workspace(root: Path, name: str | None = None, vocab: str = "exosome") -> Workspace:
    """Create an empty workspace: config, refs/, db/ and its vocabularies: a copy of the
    default ones (`exosome`), or files with no terms (`blank`) for a field of one's own."""
    from exocli.errors import UsageError

    if vocab not in VOCAB_SETS:
        raise UsageError(f"--vocab must be {' or '.join(VOCAB_SETS)}, not {vocab!r}")
    root = root.expanduser().resolve()
    if (root / CONFIG_NAME).exists():
        raise WorkspaceError(f"{root} is already an exocli workspace")
    if root.exists() and not root.is_dir():
        raise WorkspaceError(f"{root} exists and is not a folder")
    title = name or root.name
    try:
        (root / "refs").mkdir(parents=True, exist_ok=True)
        (root / "db" / "vocab").mkdir(parents=True, exist_ok=True)
        for vocab_name in VOCAB_NAMES:
            if vocab == "blank":
                from exocli.vocab import blank_vocabulary

                text = blank_vocabulary(vocab_name)
            else:
                text = (bundled_vocab_dir() / f"{vocab_name}.toml").read_text(encoding="utf-8")
            (root / "db" / "vocab" / f"{vocab_name}.toml").write_text(text, encoding="utf-8")
        from exocli.studies import ORDER_HEADER

        (root / "refs" / "studies").mkdir(exist_ok=True)
        (root / "refs" / "order.txt").write_text(ORDER_HEADER, encoding="utf-8")
        (root / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
        (root / CONFIG_NAME).write_text(
            "# exocli workspace\n[workspace]\n"
            f"name = {_toml_string(title)}\n"
            f"format = {RECORD_FORMAT}\n"
            f'references = "{DEFAULT_REFERENCES}"\n\n[crossref]\nmailto = ""\n',
            encoding="utf-8",
        )
    except OSError as exc:
        raise WorkspaceError(f"cannot create workspace in {root}: {exc.strerror}") from exc
    return open_workspace(root)


# An unfinished search run is one machine's state, like the database.
GITIGNORE = (
    "db/*.sqlite\ndb/*.sqlite-*\ndb/.write.lock\ndb/.write.journal\ndb/backup/\nrefs/searches/*.run/\n"
)


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
