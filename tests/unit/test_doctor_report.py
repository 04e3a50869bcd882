import json
from pathlib import Path

import pytest

from cmem_ops.cli.doctor_options import parse_only
from cmem_ops.cli.parser import HelpShown, parse
from cmem_ops.doctor.report import DoctorReport, exit_code_for
from cmem_ops.errors import UsageError
from cmem_ops.exit_codes import ExitCode
from cmem_ops.probes.base import Group, ProbeResult, Status
from cmem_ops.probes.http import judge_api_health, judge_info
from cmem_ops.redaction import redact_text
from cmem_ops.render.doctor import format_report
from cmem_ops.result import build_envelope, format_envelope

CM = Path(__file__).parents[1] / "fixtures" / "claude-mem"


def r(name, status, required=True, group=Group.STORE, hint=None):
    return ProbeResult(name, "redis://:secret@127.0.0.1:1/0", status, f"{name} summary", hint=hint, group=group,
                       required=required)


def test_exit_code_rule():
    assert exit_code_for([r("a", Status.OK), r("b", Status.WARN), r("c", Status.SKIP)]) is ExitCode.OK
    assert exit_code_for([r("a", Status.FAIL, required=False)]) is ExitCode.OK
    assert exit_code_for([r("a", Status.OK), r("b", Status.FAIL)]) is ExitCode.FAILED


def test_report_text_marks_hints_and_redacts():
    report = DoctorReport((r("tcp", Status.OK), r("policy", Status.FAIL, hint="cmem-ops store restart"),
                           r("aof", Status.WARN, hint="fix it"), r("pg", Status.SKIP, group=Group.POSTGRES)), 12.0, 5)
    text = "\n".join(line for line, _ in format_report(report))
    assert "✓ tcp" in text and "✗ policy" in text and "! aof" in text and "- pg" in text
    assert "→ cmem-ops store restart" in text and "→ fix it" in text
    assert "secret" not in text
    assert text.splitlines()[-1].startswith("Doctor: 1 failed, 1 warning; 1 ok, 1 skipped")


def test_doctor_json_contract_is_pinned():
    report = DoctorReport((r("tcp", Status.OK),), 3.5, 15)
    envelope = json.loads(format_envelope(build_envelope("doctor", True, report.to_data())))
    assert list(envelope) == ["schema", "command", "ok", "data"]
    assert list(envelope["data"]) == ["results", "counts", "elapsed_ms", "timeout_s", "exit_code"]
    assert list(envelope["data"]["results"][0]) == ["name", "target", "status", "summary", "detail", "hint",
                                                     "elapsed_ms", "group", "required", "data"]
    assert envelope["data"]["counts"] == {"ok": 1, "warn": 0, "fail": 0, "skip": 0}
    assert "secret" not in json.dumps(envelope)


def test_parse_only():
    assert parse_only(None) is None
    assert parse_only(["store,postgres", "files"]) == {Group.STORE, Group.POSTGRES, Group.FILES}
    with pytest.raises(UsageError):
        parse_only(["redis"])


def test_redaction_covers_urls_dsns_and_keys():
    text = redact_text("redis://:pw@h:1/0 postgresql://u:pg@h/db password=x key cmem_" + "a" * 48)
    assert "pw@" not in text and "pg@" not in text and "password=x" not in text and "aaaa" not in text


def test_info_and_api_health_from_real_captures():
    info = json.loads((CM / "v1-info.json").read_text())
    assert judge_info(info, 200, "t", True).status is Status.OK
    assert judge_info({"postgres": {"initialized": False}}, 200, "t", True).status is Status.FAIL
    health = json.loads((CM / "api-health.json").read_text())
    result = judge_api_health(health, "t")
    assert result.status is Status.OK and "queue bullmq, redis ok" in result.summary
    health["queue"]["redis"]["status"] = "error"
    assert judge_api_health(health, "t").status is Status.FAIL


def test_the_parser_accepts_what_doctor_help_documents(capsys):
    command, args = parse(["doctor", "--json", "--only", "store", "--only=files", "--timeout", "3", "--no-smoke",
                           "--client=python"])
    assert command.name == "doctor"
    assert args.as_json and args.only == ["store", "files"] and args.timeout == 3.0
    assert args.no_smoke and args.client == "python"
    with pytest.raises(HelpShown):  # --help prints the command's help
        parse(["doctor", "--help"])
    assert "--only GROUP" in capsys.readouterr().out
    with pytest.raises(UsageError):
        parse(["doctor", "--timeout", "x"])
    with pytest.raises(UsageError):  # status and doctor share one --timeout check now
        parse(["status", "--timeout", "-1"])
