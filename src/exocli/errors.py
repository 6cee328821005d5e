"""exocli's own exceptions. The CLI turns each into one `Error: ...` line."""


class ExocliError(Exception):
    """A problem the user can fix; printed as one line, exit code 1."""

    exit_code = 1


class UsageError(ExocliError):
    """The command line itself is wrong; exit code 2."""

    exit_code = 2


class WorkspaceError(ExocliError):
    """No workspace, or a workspace that is not one."""


class DataError(ExocliError):
    """Curated text or an input file that cannot be loaded (names file, line and reason)."""


class NotFoundError(ExocliError):
    """A reference, claim or term that does not exist."""


class DatabaseError(ExocliError):
    """The SQLite file cannot be opened or is corrupt."""


class ConflictError(ExocliError):
    """The database and the text disagree and exocli will not pick a side by itself."""


class DiskFullError(ExocliError):
    """No space left on the device: nothing was changed."""
