"""`cmem-ops schema [COMMAND]`: print the shipped JSON Schemas (cmem_ops/schemas/*.json)."""

from __future__ import annotations

from argparse import Namespace

from ..errors import UsageError


def schema(args: Namespace) -> int:
    """The envelope's schema (no COMMAND) or one command's `data` schema, as JSON on stdout."""
    from ..schemas import available, read_schema

    words = list(args.command)
    if not words:
        print(read_schema("envelope"), end="")
        return 0
    name = ".".join(words) if len(words) > 1 else words[0]
    if name not in available():
        raise UsageError(f"no JSON schema for {name!r}; choose one of {', '.join(available())}",
                         hint="cmem-ops schema store.status")
    print(read_schema(name), end="")
    return 0
