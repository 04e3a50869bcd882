"""The shipped JSON Schemas: built from the result types, one per --json command, valid themselves."""

from __future__ import annotations

import json

import jsonschema

from cmem_ops.cli.commands import COMMANDS
from cmem_ops.schemas import available, read_schema
from cmem_ops.schemas.build import DATA, HERE, build_all


def test_committed_schemas_are_what_the_result_types_build():
    built = build_all()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in HERE.glob("*.json")}
    assert sorted(on_disk) == sorted(built), "regenerate: python -m cmem_ops.schemas.build"
    for name, text in built.items():
        assert on_disk[name] == text, f"{name} is stale; regenerate: python -m cmem_ops.schemas.build"


def test_every_json_command_has_a_data_schema():
    with_json = {c.name for c in COMMANDS if any(o.flags == ("--json",) for o in c.options)}
    assert with_json == set(DATA)
    assert set(available()) == {*DATA, "envelope"}


def test_every_schema_is_a_valid_draft_2020_12_schema():
    for name in available():
        jsonschema.Draft202012Validator.check_schema(json.loads(read_schema(name)))


def test_the_envelope_schema_refuses_an_error_with_ok_true():
    envelope = json.loads(read_schema("envelope"))
    bad = {"schema": "cmem-ops/v1", "command": "x", "ok": True, "data": None,
           "error": {"type": "OpsError", "message": "m", "hint": None, "exit_code": 1}}
    assert list(jsonschema.Draft202012Validator(envelope).iter_errors(bad))
    good = {**bad, "ok": False}
    assert not list(jsonschema.Draft202012Validator(envelope).iter_errors(good))
