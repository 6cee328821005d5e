"""exocli: a command-line literature-evidence tool for review authors."""

__version__ = "0.1.0"
