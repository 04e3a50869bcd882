"""The in-container commands of backup/restore over the docker stack, and their parsers (pure)."""

from __future__ import annotations

from cmem_ops.backup import docker_scripts as scripts


def test_no_secret_reaches_an_argv_and_arguments_are_not_shell_parsed():
    argv = scripts.build_cli_argv("SET", "k", "a b; rm -rf /")
    assert argv[:2] == ["sh", "-c"] and argv[3:] == ["sh", "SET", "k", "a b; rm -rf /"]
    assert "/run/secrets/valkey-password" in argv[2]
    assert scripts.build_cli_argv("PING", port=6390)[3:] == ["sh", "6390", "PING"]
    dump = scripts.build_pg_dump_argv()
    assert "/run/secrets/postgres-password" in dump[2] and "--snapshot=" in dump[2]
    assert scripts.build_psql_argv("SELECT 1", "postgres")[3:] == ["sh", "postgres", "SELECT 1"]


def test_parse_dump_output():
    text = ("pg_dump pg_dump (PostgreSQL) 15.18\nserver 15.18\nrows public.a 3\nrows public.b 0\n"
            f"{scripts.DUMP_OK}\n")
    assert scripts.parse_dump_output(text) == ("15.18", "15.18", {"public.a": 3, "public.b": 0}, True)
    assert scripts.parse_dump_output("server 15.18\nrows public.a 3\n")[3] is False
    assert scripts.parse_rows("rows public.a 7\nnoise\n") == {"public.a": 7}


def test_format_problem_keeps_only_the_error_lines():
    text = "server 15.18\nrows public.a 3\nsh: pg_dump: not found\n"
    assert scripts.format_problem(text) == "sh: pg_dump: not found"
