"""The versioned JSON envelope every `--json` command prints.

    {"schema": "cmem-ops/v1", "command": "store.status", "ok": true, "data": {...}}

The keys are pinned by a contract test; add fields inside `data`, never at the top level,
and bump SCHEMA when a key in `data` changes meaning. Every string in it is passed through
redaction.redact_value, so no password or API key reaches a script.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from pathlib import Path
from typing import Any

from .redaction import redact_value

SCHEMA = "cmem-ops/v1"


def to_jsonable(value: Any) -> Any:
    """Convert dataclasses, enums and paths into plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def build_envelope(command: str, ok: bool, data: Any, error: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the envelope for `command` around `data` (pure)."""
    envelope: dict[str, Any] = {"schema": SCHEMA, "command": command, "ok": ok, "data": to_jsonable(data)}
    if error is not None:
        envelope["error"] = error
    return redact_value(envelope)  # type: ignore[no-any-return]


def format_envelope(envelope: dict[str, Any]) -> str:
    """Serialise an envelope as stable, indented JSON."""
    return json.dumps(envelope, indent=2, sort_keys=False)
