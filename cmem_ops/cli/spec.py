"""The shapes of the command table: Option, Command, Group, and the options shared across commands.

Pure data: nothing here imports argparse or a service, so loading the table is cheap (NamedTuples:
immutable, and cheaper to build at start-up than frozen dataclasses). An Option is defined once
and reused (`JSON`, `timeout(...)`); its validation (`at_least`) travels with it, so every command
checks `--timeout` the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple


class ValueCheckError(ValueError):
    """A command-line value failed its check; the parser reports the message as a usage error."""


class Option(NamedTuple):
    """One command-line option (or positional, when `flags` is a bare name).

    `kind`: "flag" (store_true), "value" (one value), "append" (repeatable, collected in a list),
    "words" (a positional taking any number of words, collected in a list).
    `type`: a converter str -> value raising ValueCheckError/ValueError, or "module:EnumName"
    (resolved only when this command's parser is built; its values become the choices).
    """

    flags: tuple[str, ...]
    dest: str
    help: str
    kind: str = "value"
    default: Any = None
    type: Callable[[str], Any] | str | None = None
    metavar: str | None = None
    optional_positional: bool = False


class Command(NamedTuple):
    """A command: its words, a one-line help, a longer description, its options, its lazy handler.

    `handler` is "cmem_ops.cli.<module>:<function>"; the function takes the parsed
    argparse.Namespace and returns the exit code. Only the chosen command's module is imported.
    """

    words: tuple[str, ...]
    help: str
    handler: str
    options: tuple[Option, ...] = ()
    description: str = ""
    epilog_extra: str = ""

    @property
    def name(self) -> str:
        """The envelope's `command`: the words joined by dots (`store.status`)."""
        return ".".join(self.words)


class Group(NamedTuple):
    """A command group (`store`, `server api-key`): its words and one-line help."""

    words: tuple[str, ...]
    help: str


def flag(flags: tuple[str, ...], dest: str, help: str) -> Option:
    """A boolean switch (default False)."""
    return Option(flags, dest, help, kind="flag", default=False)


def at_least(flag_name: str, minimum: float, cast: Callable[[str], float] = float) -> Callable[[str], Any]:
    """A converter: the value as `cast`, refused (ValueCheckError naming the flag) below `minimum`."""
    def convert(text: str) -> Any:
        try:
            value = cast(text)
        except ValueError:
            kind = "an integer" if cast is int else "a number"
            raise ValueCheckError(f"{flag_name} {text!r} is not {kind}") from None
        if value < minimum:
            raise ValueCheckError(f"{flag_name} {text} is below the minimum {minimum:g}")
        return value
    return convert


def timeout(default: float | None, minimum: float, help: str) -> Option:
    """The shared `--timeout SECONDS` option: a number, at least `minimum`."""
    return Option(("--timeout",), "timeout", help, default=default, type=at_least("--timeout", minimum),
                  metavar="SECONDS")


def integer(flags: tuple[str, ...], dest: str, default: int | None, minimum: int, help: str) -> Option:
    """An integer option, at least `minimum`."""
    return Option(flags, dest, help, default=default, type=at_least(flags[-1], minimum, int), metavar="N")


def seconds(flags: tuple[str, ...], dest: str, default: float, minimum: float, help: str) -> Option:
    """A number-of-seconds option other than --timeout (`--wait`, `--min-age`)."""
    return Option(flags, dest, help, default=default, type=at_least(flags[-1], minimum), metavar="SECONDS")


JSON = flag(("--json",), "as_json", "Print a versioned JSON envelope instead of text.")
