"""JSON Schemas (draft 2020-12) of the `--json` envelope and of each command's `data`, shipped as package data.

    envelope.json          {"schema", "command", "ok", "data", "error"?}: every --json output
    <command>.json         the `data` of one command (`store.status.json`, `server.api-key.create.json`)

docs/json.md documents the contract (schema version, exit codes, what may change without a bump).
"""

from __future__ import annotations

from importlib import resources


def available() -> list[str]:
    """Every schema name (the envelope, then commands as their envelope names them), sorted."""
    names = sorted(p.name.removesuffix(".json") for p in resources.files(__name__).iterdir()
                   if p.name.endswith(".json"))
    return names


def read_schema(name: str) -> str:
    """The text of schema `name` (`envelope`, `store.status`, ...)."""
    return resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8")
