"""`add-study` on a terminal: ask for the study first, then the claim, and keep every answer.

An unknown term is not an error at the end: the curator is offered to add it to the
vocabulary (with its parent) there and then, or to type it again. An accepted term is
checked at once but written with the claim, in the same write: if the claim fails, no term
stays behind. The answers are then printed back as the commands that give them again.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

import typer

from exocli.errors import ExocliError
from exocli.vocab_edits import NewTerm, TermOptions

# The claim fields asked for, in order: (field, vocabulary, several?, required?)
CLAIM_QUESTIONS = (
    ("source", "sources", False, True),
    ("cargo_type", "cargo-types", False, True),
    ("effects", "effects", True, True),
    ("injury", "injuries", True, False),
    ("species", "species", True, False),
    ("model", "models", True, False),
)
# claim field -> the add-study option that gives it
OPTION_OF = {"effects": "--effect", "pathways": "--pathway", "cargo_type": "--cargo-type"}


class Asker:
    """The questions, with the vocabularies of the workspace and the terms accepted so far.

    `with_terms(new_terms)` gives the vocabularies with those terms added, checked as
    `vocab add` checks them, or raises ExocliError; nothing is written until the claim is."""

    def __init__(self, with_terms: Callable[[list[NewTerm]], Any]) -> None:
        self._with_terms = with_terms
        self.new_terms: list[NewTerm] = []
        self.vocabs = with_terms([])

    def identity(self) -> dict[str, Any]:
        """A DOI, a reference already in the list, or the study's details."""
        answer = typer.prompt(
            "Study: its DOI, or the number of a reference in the list (blank: type its details)",
            default="",
            show_default=False,
        ).strip()
        if answer.isdigit():
            return {"ref": answer}
        if answer:
            return {"doi": answer}
        details: dict[str, Any] = {"title": _required("title")}
        authors = _required('authors, "Family, Given" separated by ";" (e.g. Nakamura, Kenji; Sato, Yui)')
        details["author"] = [a.strip() for a in authors.split(";") if a.strip()]
        while True:
            year = _required("year")
            if year.isdigit() and 1000 <= int(year) <= 9999:
                details["year"] = int(year)
                break
            typer.echo(f"{year!r} is not a year", err=True)
        details["journal"] = _required("journal")
        return details

    def claim(self, fields: dict[str, Any]) -> None:
        """Every claim question not answered by an option; optional ones may be left blank."""
        if "cargo" not in fields and "cargo_type" not in fields:
            cargo = typer.prompt(
                "cargo, as the paper words it (comma-separated; blank: none, the whole vesicle)",
                default="",
                show_default=False,
            )
            items = [c.strip() for c in cargo.split(",") if c.strip()]
            if items:
                fields["cargo"] = items
            else:
                fields["cargo_type"] = "none"
        for key, vocab_name, several, required in CLAIM_QUESTIONS:
            if key not in fields:
                values = self.terms(key, vocab_name, several, required)
                if values:
                    fields[key] = values if several else values[0]

    def terms(self, key: str, vocab_name: str, several: bool, required: bool) -> list[str]:
        while True:
            vocab = self.vocabs.by_name(vocab_name)
            choices = ", ".join(vocab.terms) or "none yet"
            hint = " [comma-separated]" if several else ""
            hint += "" if required else " [blank: not stated]"
            answer = typer.prompt(
                f"{key.replace('_', ' ')} ({choices}){hint}",
                default="" if not required else None,
                show_default=False,
            )
            values = [a.strip() for a in answer.split(",")] if several else [answer.strip()]
            values = [v for v in values if v]
            if not values and required:
                continue
            unknown = [v for v in values if vocab.lookup(v) is None]
            if not unknown:
                return values
            if all(self.offer_term(vocab_name, value) for value in unknown):
                return values

    def offer_term(self, vocab_name: str, text: str) -> bool:
        """Offer to add an unknown term to its vocabulary (with the claim); True when accepted."""
        vocab = self.vocabs.by_name(vocab_name)
        typer.echo(vocab.unknown_message(text), err=True)
        if not typer.confirm(f"Add {text!r} to the {vocab_name} vocabulary?", default=False):
            return False
        label = typer.prompt("label", default=text).strip() or text
        parents = ", ".join(vocab.terms) or "none yet"
        while True:
            parent = typer.prompt(f"parent ({parents}) [blank: none]", default="", show_default=False).strip()
            if not parent or vocab.lookup(parent) is not None:
                break
            typer.echo(vocab.unknown_message(parent), err=True)
        new = NewTerm(vocab_name, text, TermOptions(label=label, parent=parent or None))
        try:
            self.vocabs = self._with_terms([*self.new_terms, new])
        except ExocliError as exc:
            typer.echo(f"Not added: {exc}", err=True)
            return False
        self.new_terms.append(new)
        typer.echo(f"The {vocab_name} term {text!r} will be added with the claim", err=True)
        return True


def _required(question: str) -> str:
    while True:
        answer = str(typer.prompt(question)).strip()
        if answer:
            return answer


def as_command(study: dict[str, Any], fields: dict[str, Any], new_terms: list[NewTerm]) -> str:
    """The command lines that give these answers again: each accepted term, then add-study."""
    words = ["exocli", "add-study"]
    for name, value in [*study.items(), *fields.items()]:
        option = OPTION_OF.get(name, "--" + name.replace("_", "-"))
        for item in value if isinstance(value, list) else [value]:
            words += [option, str(item)]
    return " && ".join(shlex.join(command) for command in [*(t.as_command() for t in new_terms), words])
