"""Turn argv into (Command, Namespace) with argparse, building only the parser of the chosen command.

The command's words are matched against the table first (`store status`, `server api-key create`);
then one argparse parser is built for that command alone. Group help (`cmem-ops store --help`) is
written from the table without argparse. Every parse failure is a UsageError (exit 2) with a hint.
"""

from __future__ import annotations

import argparse
import importlib
import os
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from .. import __version__
from ..errors import UsageError
from ..exit_codes import describe_exit_codes
from .commands import COMMANDS, GROUPS
from .spec import Command, Option, ValueCheckError

PROG = "cmem-ops"
ROOT_HELP = "Make claude-mem's server stack just work: a managed Valkey queue store, probes, lifecycle."
_BY_WORDS = {c.words: c for c in COMMANDS}
_GROUPS = {g.words: g for g in GROUPS}
HELP_FLAGS = ("-h", "--help")


class HelpShown(Exception):
    """Help or the version was printed; the CLI exits with `code`."""

    def __init__(self, code: int = 0) -> None:
        super().__init__(code)
        self.code = code


def split_words(argv: Sequence[str]) -> tuple[tuple[str, ...], list[str]]:
    """The longest run of leading words naming a group or command, and the rest of argv (pure)."""
    path: tuple[str, ...] = ()
    for i, token in enumerate(argv):
        candidate = (*path, token)
        if token.startswith("-") or (candidate not in _BY_WORDS and candidate not in _GROUPS):
            return path, list(argv[i:])
        path = candidate
        if path in _BY_WORDS and path not in _GROUPS:  # a plain command: what follows is its arguments
            return path, list(argv[i + 1:])
    return path, []


def children(words: tuple[str, ...]) -> list[tuple[str, str]]:
    """(next word, one-line help) of every group and command directly under `words` (pure)."""
    found: dict[str, str] = {}
    for group in GROUPS:
        if len(group.words) == len(words) + 1 and group.words[:-1] == words:
            found[group.words[-1]] = group.help
    for command in COMMANDS:
        if len(command.words) == len(words) + 1 and command.words[:-1] == words:
            found.setdefault(command.words[-1], command.help)
    return list(found.items())


def format_group_help(words: tuple[str, ...]) -> str:
    """The help of the root or a group: its commands, each with its one-line help (pure)."""
    prog = " ".join((PROG, *words))
    about = _GROUPS[words].help if words in _GROUPS else ROOT_HELP
    items = children(words)
    width = max((len(name) for name, _ in items), default=0) + 2
    lines = [f"usage: {prog} COMMAND [OPTIONS]", "", about, "", "Commands:"]
    lines += [f"  {name.ljust(width)}{first_sentence(text)}" for name, text in items]
    if not words:
        lines += ["", "Options:", "  --version  Print the version and exit.", "  --help     Show this help."]
    lines += ["", f"Run `{prog} COMMAND --help` for a command's options.", describe_exit_codes()]
    return "\n".join(lines) + "\n"


def first_sentence(text: str) -> str:
    """The one-line form of a help text: its first sentence (pure)."""
    return text.split(". ", 1)[0] + "." if ". " in text else text


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError/HelpShown instead of printing and exiting."""

    def error(self, message: str) -> NoReturn:
        head, sep, tail = message.partition(": ")  # "argument --timeout: --timeout -1 is below ..."
        if sep and head.startswith("argument ") and tail.startswith(head.removeprefix("argument ").split("/")[0]):
            message = tail
        raise UsageError(message, hint=f"{self.prog} --help")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            raise UsageError(message.strip(), hint=f"{self.prog} --help")
        raise HelpShown(status)


def _formatter(prog: str) -> argparse.HelpFormatter:
    """argparse's raw-description formatter, sized without `shutil` (argparse imports it, with bz2 and
    lzma, on every add_argument just to ask the terminal width: ~3 ms the status path does not need)."""
    try:
        width = int(os.environ.get("COLUMNS", "")) or os.get_terminal_size(1).columns
    except (ValueError, OSError):
        width = 80
    return argparse.RawDescriptionHelpFormatter(prog, width=max(width - 2, 40))


def _converter(option: Option) -> tuple[Callable[[str], Any] | None, list[str] | None]:
    """The argparse type and choices of an option; "module:Enum" types are imported here, lazily."""
    if not isinstance(option.type, str):
        return option.type, None
    module, _, name = option.type.partition(":")
    enum_type = getattr(importlib.import_module(module), name)
    values = [member.value for member in enum_type]

    def convert(text: str) -> Any:
        try:
            return enum_type(text.lower())
        except ValueError:
            raise ValueCheckError(f"{option.flags[-1]} {text!r} is not one of {', '.join(values)}") from None
    return convert, values


def _checked(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    """Make ValueCheckError an argparse error carrying our own message."""
    def wrapped(text: str) -> Any:
        try:
            return convert(text)
        except ValueCheckError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return wrapped


def build_parser(command: Command) -> argparse.ArgumentParser:
    """One argparse parser for `command`, with its options, help and exit-code epilog."""
    description = command.help + (f"\n\n{command.description}" if command.description else "")
    under = children(command.words)
    if under:
        width = max(len(name) for name, _ in under) + 2
        description += "\n\nCommands:\n" + "\n".join(f"  {n.ljust(width)}{first_sentence(t)}" for n, t in under)
    parser = _Parser(prog=" ".join((PROG, *command.words)), description=description,
                     epilog=describe_exit_codes() + command.epilog_extra, allow_abbrev=False,
                     formatter_class=_formatter)
    for option in command.options:
        convert, choices = _converter(option)
        kwargs: dict[str, Any] = {"help": option.help}
        if option.kind == "flag":
            kwargs.update(action="store_true", default=False)
        else:
            if convert is not None:
                kwargs["type"] = _checked(convert)
            if choices:
                kwargs["metavar"] = "{" + ",".join(choices) + "}"
            elif option.metavar:
                kwargs["metavar"] = option.metavar
            kwargs["default"] = option.default
            if option.kind == "append":
                kwargs["action"] = "append"
        if option.flags[0].startswith("-"):
            parser.add_argument(*option.flags, dest=option.dest, **kwargs)
        else:
            kwargs.pop("metavar", None)
            if option.kind == "words":
                kwargs.update(nargs="*", default=[])
            elif option.optional_positional:
                kwargs["nargs"] = "?"
            parser.add_argument(option.dest, **kwargs)
    return parser


def parse(argv: Sequence[str]) -> tuple[Command, argparse.Namespace]:
    """The command named by argv and its parsed options; HelpShown after printing help or the version."""
    words, rest = split_words(argv)
    command = _BY_WORDS.get(words)
    if command is None:
        if not words and rest[:1] == ["--version"]:
            print(f"{PROG} {__version__}")
            raise HelpShown(0)
        if not rest or rest[0] in HELP_FLAGS:
            print(format_group_help(words), end="")
            raise HelpShown(0)
        prog = " ".join((PROG, *words))
        names = ", ".join(name for name, _ in children(words))
        if rest[0].startswith("-"):
            raise UsageError(f"{prog} needs a command before {rest[0]}; choose one of {names}",
                             hint=f"{prog} --help")
        raise UsageError(f"no command {' '.join((*words, rest[0]))!r}; choose one of {names}",
                         hint=f"{prog} --help")
    return command, build_parser(command).parse_args(rest)


def load_handler(command: Command) -> Callable[[argparse.Namespace], int]:
    """Import the command's handler module (only now) and return its function."""
    module, _, name = command.handler.partition(":")
    handler: Callable[[argparse.Namespace], int] = getattr(importlib.import_module(module), name)
    return handler
