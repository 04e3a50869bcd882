"""The versioned JSON envelope every `--json` command prints.

    {"schema": "cmem-ops/v1", "command": "store.status", "ok": true, "data": {...}}

The keys are pinned by a contract test; add fields inside `data`, never at the top level,
and bump SCHEMA when a key in `data` changes meaning. Every string in it is passed through
redaction.redact_value, so no password or API key reaches a script.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .redaction import redact_value

SCHEMA = "cmem-ops/v1"


def to_jsonable(value: Any) -> Any:
    """Convert records (NamedTuples, dataclasses), enums and paths into plain JSON values."""
    names = record_fields(type(value))
    if names is not None:
        return {name: to_jsonable(getattr(value, name)) for name in names}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def record_fields(tp: type) -> tuple[str, ...] | None:
    """The field names of a record type, in order: a NamedTuple's or a dataclass's; None for other types.

    Records on the start-up path are NamedTuples (a frozen dataclass costs about 1 ms to define, see
    cmem_ops/__init__.py); the rest are dataclasses. `dataclasses` is imported only for those.
    """
    names = getattr(tp, "_fields", None)
    if isinstance(names, tuple) and issubclass(tp, tuple):
        return names
    if hasattr(tp, "__dataclass_fields__"):
        import dataclasses

        return tuple(f.name for f in dataclasses.fields(tp))
    return None


def build_envelope(command: str, ok: bool, data: Any, error: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the envelope for `command` around `data` (pure)."""
    envelope: dict[str, Any] = {"schema": SCHEMA, "command": command, "ok": ok, "data": to_jsonable(data)}
    if error is not None:
        envelope["error"] = error
    return redact_value(envelope)  # type: ignore[no-any-return]


def format_envelope(envelope: dict[str, Any]) -> str:
    """Serialise an envelope as stable, indented JSON."""
    return json.dumps(envelope, indent=2, sort_keys=False)
