"""Check one real `--json` output against the shipped JSON Schemas (cmem_ops/schemas)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import jsonschema

from cmem_ops.schemas import read_schema


def _validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(read_schema(name)))


def check_envelope(out: subprocess.CompletedProcess[str], command: str) -> dict[str, Any]:
    """stdout is exactly one envelope for `command`, valid against envelope.json and (without an error)
    against the command's data schema; its exit code agrees with `ok` / `error.exit_code`. Returns it."""
    context = f"exit {out.returncode}\nstdout:\n{out.stdout}\nstderr:\n{out.stderr[-2000:]}"
    try:
        payload = json.loads(out.stdout)  # raises on a second document or trailing text
    except json.JSONDecodeError as exc:
        raise AssertionError(f"stdout is not one JSON document ({exc})\n{context}") from None
    errors = [e.message for e in _validator("envelope").iter_errors(payload)]
    assert not errors, f"{errors}\n{context}"
    assert payload["command"] == command, context
    if "error" in payload:
        assert payload["error"]["exit_code"] == out.returncode != 0, context
    else:
        assert payload["ok"] == (out.returncode == 0), context  # a non-zero exit always says ok: false
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in _validator(command).iter_errors(payload["data"])]
        assert not errors, f"{command} data does not match its schema: {errors}\n{context}"
    assert "Traceback" not in out.stderr, context
    return payload  # type: ignore[no-any-return]
