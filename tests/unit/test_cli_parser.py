"""The one parser: the command table, group help, usage errors and the one error renderer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmem_ops.cli import doctor as doctor_cli
from cmem_ops.cli.commands import COMMANDS, GROUPS
from cmem_ops.cli.main import main
from cmem_ops.cli.parser import HelpShown, first_sentence, parse, split_words
from cmem_ops.errors import UsageError


def test_words_are_matched_against_the_table():
    assert split_words(["store", "status", "--json"]) == (("store", "status"), ["--json"])
    assert split_words(["logs", "store", "-n", "1"]) == (("logs",), ["store", "-n", "1"])  # a positional
    assert split_words(["matrix", "--json"]) == (("matrix",), ["--json"])  # a group that is also a command
    assert split_words(["matrix", "plan"]) == (("matrix", "plan"), [])
    assert split_words(["server", "api-key", "create", "--scope", "x"]) == (("server", "api-key", "create"),
                                                                            ["--scope", "x"])
    assert split_words(["bogus"]) == ((), ["bogus"])


def test_the_table_is_consistent():
    words = [c.words for c in COMMANDS]
    assert len(words) == len(set(words))
    groups = {g.words for g in GROUPS}
    for command in COMMANDS:
        assert command.words[:-1] == () or command.words[:-1] in groups, command.words
        assert command.handler.startswith("cmem_ops.cli.") and ":" in command.handler
        flags = [f for o in command.options for f in o.flags]
        assert len(flags) == len(set(flags)), command.words


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_every_command_has_help_with_exit_codes_and_a_loadable_handler(command, capsys):
    with pytest.raises(HelpShown):
        parse([*command.words, "--help"])
    out = capsys.readouterr().out
    assert out.startswith(f"usage: cmem-ops {' '.join(command.words)}") and "Exit codes: 0 success" in out
    from cmem_ops.cli.parser import load_handler

    assert callable(load_handler(command))


def test_group_help_lists_its_commands_with_one_line_help(capsys):
    assert main(["store", "--help"]) == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        if command.words[:1] == ("store",):
            assert f"  {command.words[1]}" in out and first_sentence(command.help) in out
    assert main([]) == 0 and "Commands:" in capsys.readouterr().out
    assert main(["--version"]) == 0 and capsys.readouterr().out.startswith("cmem-ops ")


def test_usage_errors_exit_2_with_a_hint(capsys):
    assert main(["store", "bogus"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("error: no command 'store bogus'; choose one of start, stop")
    assert err[1] == "hint: cmem-ops store --help"
    with pytest.raises(UsageError, match="below the minimum 1"):
        parse(["stack", "up", "--workers", "0"])
    with pytest.raises(UsageError, match="unrecognized arguments: --tim"):  # no abbreviations
        parse(["store", "status", "--tim", "1"])


def test_an_unexpected_exception_is_one_envelope_and_a_logged_traceback(tmp_path, monkeypatch, capsys):
    def boom(args: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setenv("CLAUDE_MEM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CMEM_OPS_DEBUG", raising=False)
    monkeypatch.setattr(doctor_cli, "status", boom)
    assert main(["status", "--json"]) == 1
    captured = capsys.readouterr()
    payload = json.loads(captured.out)
    assert payload["ok"] is False and payload["error"]["type"] == "InternalError"
    assert payload["error"]["message"] == "internal error: RuntimeError: boom"
    assert "Traceback" not in captured.out + captured.err
    log = Path(payload["error"]["hint"].split("the traceback is in ", 1)[1].split(";", 1)[0])
    assert log.parent == tmp_path / "data" / "logs" and (log.stat().st_mode & 0o777) == 0o600
    assert "Traceback" in log.read_text() and "RuntimeError: boom" in log.read_text()

    monkeypatch.setenv("CMEM_OPS_DEBUG", "1")
    assert main(["status"]) == 1
    captured = capsys.readouterr()
    assert "Traceback" in captured.err and "error: internal error: RuntimeError: boom" in captured.err
