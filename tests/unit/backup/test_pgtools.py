"""Picking pg_dump/pg_restore by the server's major, URLs without passwords, row checks (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmem_ops.backup.pgtools import Database, PgTool, parse_server_version, plan_tool, strip_password, with_database
from cmem_ops.backup.postgres_dump import build_dump_argv
from cmem_ops.backup.postgres_restore import aside_name, build_restore_argv, plan_row_check
from cmem_ops.errors import MissingError

TOOLS = [PgTool(Path("/usr/lib/postgresql/16/bin/pg_dump"), "16.4"),
         PgTool(Path("/usr/lib/postgresql/15/bin/pg_dump"), "15.18")]


def test_the_tool_of_the_servers_major_is_chosen():
    assert plan_tool("pg_dump", TOOLS, 15).version == "15.18"


def test_no_matching_major_is_refused_with_the_install_command():
    with pytest.raises(MissingError) as err:
        plan_tool("pg_dump", TOOLS, 17)
    assert "PostgreSQL 17" in err.value.message and "16.4 (/usr/lib/postgresql/16/bin/pg_dump)" in err.value.message
    assert "postgresql-client-17" in err.value.hint


def test_urls():
    url = "postgres://cmem:s%40cret@127.0.0.1:5433/claude_mem?sslmode=disable"
    assert strip_password(url) == "postgres://cmem@127.0.0.1:5433/claude_mem?sslmode=disable"
    assert with_database(url, "postgres").endswith("@127.0.0.1:5433/postgres?sslmode=disable")
    db = Database(url, "managed", "claude_mem", "cmem")
    assert db.password == "s@cret" and db.env()["PGPASSWORD"] == "s@cret"
    argv = build_dump_argv(Path("/pg/pg_dump"), db, Path("/tmp/x.dump"), "00000003-1")
    assert "s%40cret" not in " ".join(argv) and "--snapshot=00000003-1" in argv
    restore = build_restore_argv(Path("/pg/pg_restore"), db.safe_url, Path("/tmp/x.dump"), clean=True)
    assert restore[-1] == "/tmp/x.dump" and "--clean" in restore and "--single-transaction" in restore


def test_server_version():
    assert parse_server_version("15.18 (Debian 15.18-0+deb12u1)") == ("15.18", 15)
    with pytest.raises(ValueError):
        parse_server_version("")


def test_row_check():
    assert plan_row_check({"public.a": 2}, {"public.a": 2, "public.extra": 9}) is None
    assert plan_row_check({"public.a": 2, "public.b": 1}, {"public.a": 3}) == (
        "public.a: 3 rows, expected 2; public.b: missing rows, expected 1")
    assert len(aside_name("claude_mem")) < 63
