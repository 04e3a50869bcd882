"""Build the shipped JSON Schemas from the result types themselves, so they cannot drift unnoticed.

`python -m cmem_ops.schemas.build` rewrites cmem_ops/schemas/*.json; a unit test fails when the
committed files differ from what this builds (a changed result type is a changed contract: say so
in docs/json.md). Dataclasses become objects with every field required (the envelope carries
every field, null when unset); enums become their values; tuples become arrays. New fields may
be added without a schema version bump (objects do not forbid extra keys); removing or retyping
one needs a new SCHEMA (cmem_ops/result.py).

This module imports the services (to read their types): it runs at build and test time, never on
a command's path.
"""

from __future__ import annotations

import enum
import importlib
import json
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..exit_codes import ExitCode
from ..result import SCHEMA, record_fields

DRAFT = "https://json-schema.org/draft/2020-12/schema"
HERE = Path(__file__).resolve().parent
Schema = dict[str, Any]


class Builder:
    """Turns Python type hints into JSON Schema, collecting records (NamedTuples, dataclasses) under $defs."""

    def __init__(self) -> None:
        self.defs: dict[str, Schema] = {}

    def ref(self, ref: str) -> Schema:
        """A $ref to the record named "module:Class" (built into $defs on first use)."""
        module, _, name = ref.partition(":")
        return self.schema(getattr(importlib.import_module(module), name))

    def schema(self, tp: Any) -> Schema:
        """The schema of one type hint."""
        if tp is type(None):
            return {"type": "null"}
        if tp is Any:
            return {}
        origin = typing.get_origin(tp)
        if origin in (typing.Union, types.UnionType):
            return {"anyOf": [self.schema(arg) for arg in typing.get_args(tp)]}
        if origin in (tuple, list):
            args = [a for a in typing.get_args(tp) if a is not Ellipsis]
            return {"type": "array", "items": self.schema(args[0]) if args else {}}
        if origin in (dict, Mapping):
            return {"type": "object", "additionalProperties": self.schema(typing.get_args(tp)[1])}
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            values = [m.value for m in tp]
            return {"type": "integer" if all(isinstance(v, int) for v in values) else "string", "enum": values}
        if isinstance(tp, type) and record_fields(tp) is not None:
            return self._record(tp)
        simple = {str: "string", bool: "boolean", int: "integer", float: "number", Path: "string"}
        if tp in simple:
            return {"type": simple[tp]}
        raise TypeError(f"no JSON Schema mapping for {tp!r}")

    def _record(self, tp: type) -> Schema:
        key = f"{tp.__module__.removeprefix('cmem_ops.')}.{tp.__qualname__}"
        if key not in self.defs:
            self.defs[key] = {}  # placeholder: recursion-safe
            hints = typing.get_type_hints(tp)
            fields = list(record_fields(tp) or ())
            doc = (tp.__doc__ or "").strip().splitlines()
            self.defs[key] = {"type": "object", **({"description": doc[0]} if doc else {}),
                              "properties": {name: self.schema(hints[name]) for name in fields},
                              "required": fields}
        return {"$ref": f"#/$defs/{key}"}


def obj(properties: dict[str, Schema]) -> Schema:
    """An object with these properties, all required."""
    return {"type": "object", "properties": properties, "required": list(properties)}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


STR, INT, NUM, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"}
NULL_STR = {"type": ["string", "null"]}
PROBE = "cmem_ops.probes.base:ProbeResult"


def doctor_data(b: Builder) -> Schema:
    return obj({"results": array(b.ref(PROBE)),
                "counts": obj({k: INT for k in ("ok", "warn", "fail", "skip")}),
                "elapsed_ms": NUM, "timeout_s": NUM, "exit_code": INT})


def logs_data(b: Builder) -> Schema:
    return obj({"component": {"type": "string", "enum": ["store", "server", "worker", "postgres", "claude-mem"]},
                "source": {"type": "string", "enum": ["files", "docker"]},
                "files": array(STR), "lines": array(STR)})


def matrix_plan_data(b: Builder) -> Schema:
    return array(obj({"target": STR, "kind": {"anyOf": [b.ref("cmem_ops.matrix.provision:SourceKind"),
                                                        {"type": "null"}]},
                      "source": NULL_STR, "location": NULL_STR, "reason": STR, "hint": NULL_STR,
                      "pull": BOOL}))


def by_type(ref: str) -> Callable[[Builder], Schema]:
    return lambda b: b.ref(ref)


def either(native: str, docker: str) -> Callable[[Builder], Schema]:
    """The native stack's result, or the docker stack's (with --docker)."""
    return lambda b: {"anyOf": [b.ref(native), b.ref(docker)]}


# envelope "command" -> how its `data` is built
DATA: dict[str, Callable[[Builder], Schema]] = {
    "status": by_type("cmem_ops.lifecycle.summary:StackSummary"),
    "metrics": by_type("cmem_ops.metrics.snapshot:MetricsSnapshot"),
    "doctor": doctor_data,
    "logs": logs_data,
    "up": lambda b: obj({"store": b.ref("cmem_ops.lifecycle.store:StoreStatus"), "doctor": doctor_data(b)}),
    "install": by_type("cmem_ops.lifecycle.install_options:InstallResult"),
    "uninstall": by_type("cmem_ops.lifecycle.uninstall:UninstallResult"),
    "e2e": by_type("cmem_ops.e2e.script:E2eReport"),
    "store.start": by_type("cmem_ops.store.process:StartResult"),
    "store.stop": by_type("cmem_ops.store.process:StopResult"),
    "store.restart": by_type("cmem_ops.store.process:StartResult"),
    "store.status": by_type("cmem_ops.lifecycle.store:StoreStatus"),
    "store.binaries": lambda b: array(b.ref("cmem_ops.store.binaries:ServerBinary")),
    "store.acl": by_type("cmem_ops.lifecycle.store_acl:AclUser"),
    "store.logs": logs_data,
    "store.backup": by_type("cmem_ops.backup.create:BackupResult"),
    "store.restore": by_type("cmem_ops.backup.restore:RestoreResult"),
    "store.upgrade": by_type("cmem_ops.lifecycle.upgrade:UpgradeResult"),
    "backup": by_type("cmem_ops.backup.create:BackupResult"),
    "restore": by_type("cmem_ops.backup.restore:RestoreResult"),
    "support-bundle": by_type("cmem_ops.lifecycle.support_bundle:SupportBundle"),
    "postgres.start": by_type("cmem_ops.lifecycle.postgres:PgStatus"),
    "postgres.stop": by_type("cmem_ops.lifecycle.postgres:PgStatus"),
    "postgres.status": by_type("cmem_ops.lifecycle.postgres:PgStatus"),
    "server.install": by_type("cmem_ops.runtime.install:RuntimeInstall"),
    "server.start": by_type("cmem_ops.lifecycle.server:ServerStart"),
    "server.stop": by_type("cmem_ops.lifecycle.server:ServerStop"),
    "server.restart": by_type("cmem_ops.lifecycle.server:ServerStart"),
    "server.status": by_type("cmem_ops.lifecycle.server:ServerStatus"),
    "server.check": lambda b: obj({"results": array(b.ref(PROBE))}),
    "server.api-key.create": lambda b: obj({
        "id": STR, "name": NULL_STR, "team_id": STR, "project_id": STR, "scopes": array(STR),
        "key_file": NULL_STR,
        "key": {"type": ["string", "null"], "description": "The raw key (shown once, never redacted); null "
                                                           "when --key-file wrote it to a file."}}),
    "server.api-key.revoke": lambda b: obj({"id": STR, "status": {"const": "revoked"}}),
    "worker.start": by_type("cmem_ops.lifecycle.worker:WorkerReport"),
    "worker.stop": by_type("cmem_ops.lifecycle.worker:WorkerReport"),
    "worker.status": by_type("cmem_ops.lifecycle.worker:WorkerReport"),
    "stack.up": either("cmem_ops.lifecycle.stack:StackUp", "cmem_ops.lifecycle.docker_stack:DockerStackUp"),
    "stack.down": either("cmem_ops.lifecycle.stack:StackDown", "cmem_ops.lifecycle.docker_stack:DockerStackDown"),
    "stack.status": either("cmem_ops.lifecycle.stack:StackStatus",
                           "cmem_ops.lifecycle.docker_stack:DockerStackStatus"),
    "stack.logs": lambda b: obj({"services": array(STR), "lines": array(STR)}),
    "images.build": lambda b: array(b.ref("cmem_ops.images.build:ImageResult")),
    "jobs.stuck": lambda b: obj({"jobs": array(b.ref("cmem_ops.jobs.stuck:JobState")), "stuck": INT,
                                 "commands": array(STR)}),
    "jobs.recover": by_type("cmem_ops.jobs.recover:RecoveryReport"),
    "matrix": lambda b: obj({"mode": STR, "strict": BOOL, "generated_at": STR,
                             "environment": {"type": "object"}, "counts": {"type": "object"},
                             "elapsed_ms": NUM, "exit_code": INT,
                             "results": array(b.ref("cmem_ops.matrix.result:TargetResult"))}),
    "matrix.plan": matrix_plan_data,
}


def build_envelope_schema() -> Schema:
    """The envelope every --json command prints: success, or ok:false with an `error` object."""
    codes = [int(c) for c in ExitCode]
    return {
        "$schema": DRAFT, "$id": f"{SCHEMA}/envelope", "title": "cmem-ops JSON envelope",
        "description": "Exactly one of these is printed on stdout by every command run with --json. `data` is "
                       "described per command (cmem-ops schema COMMAND); with `error`, `ok` is false and `data` "
                       "is null.",
        "type": "object",
        "properties": {
            "schema": {"const": SCHEMA}, "command": STR, "ok": BOOL, "data": {},
            "error": obj({"type": STR, "message": STR, "hint": NULL_STR,
                          "exit_code": {"type": "integer", "enum": codes}}),
        },
        "required": ["schema", "command", "ok", "data"],
        "additionalProperties": False,
        "if": {"required": ["error"]},
        "then": {"properties": {"ok": {"const": False}, "data": {"type": "null"}}},
    }


def build_data_schema(command: str) -> Schema:
    """The schema of `command`'s `data`."""
    builder = Builder()
    body = DATA[command](builder)
    title = f"data of `cmem-ops {command.replace('.', ' ')} --json`"
    schema: Schema = {"$schema": DRAFT, "$id": f"{SCHEMA}/{command}", "title": title, **body}
    if builder.defs:
        schema["$defs"] = dict(sorted(builder.defs.items()))
    return schema


def format_schema(schema: Schema) -> str:
    return json.dumps(schema, indent=2) + "\n"


def build_all() -> dict[str, str]:
    """Every schema file's name and text."""
    files = {"envelope.json": format_schema(build_envelope_schema())}
    files.update({f"{command}.json": format_schema(build_data_schema(command)) for command in DATA})
    return files


def main() -> None:
    files = build_all()  # build every schema first: a failing build leaves the committed files alone
    for old in HERE.glob("*.json"):
        if old.name not in files:
            old.unlink()
    for name, text in files.items():
        (HERE / name).write_text(text, encoding="utf-8")
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
