"""The one HTTP client against real loopback servers: statuses, JSON, redirects, proxies, the failure kinds."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cmem_ops.errors import OpsTimeoutError
from cmem_ops.http_client import Failure, HttpError, open_stream, request
from cmem_ops.installers.download import DownloadError, download, fetch_text


class Server:
    """A real HTTP server on 127.0.0.1 with a few routes; records the request targets it saw."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.seen: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None,
                      length: int | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

            def do_GET(self) -> None:
                outer.seen.append(self.path)
                path = self.path.rsplit("//", 1)[-1] if "://" in self.path else self.path
                path = "/" + path.split("/", 1)[1] if "://" in self.path else path
                if path == "/json":
                    self._send(200, json.dumps({"status": "ok"}).encode(), {"Content-Type": "application/json"})
                elif path == "/moved":
                    self._send(302, b"", {"Location": "/files/a.bin"})
                elif path == "/loop":
                    self._send(302, b"", {"Location": "/loop"})
                elif path == "/files/a.bin":
                    self._send(200, b"x" * 200_000)
                elif path == "/files/short.bin":
                    self._send(200, b"y" * 1000, length=5000)
                else:
                    self._send(404, b"not here")

            def do_POST(self) -> None:
                outer.seen.append(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._send(201, json.dumps({"got": json.loads(body), "auth": self.headers.get("Authorization")})
                           .encode())

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.close()


def test_statuses_are_returned_and_json_is_parsed(server: Server) -> None:
    ok = request("GET", server.url + "/json", timeout=5)
    assert ok.status == 200 and ok.json_object() == {"status": "ok"} and ok.headers["content-type"] == \
        "application/json" and ok.raise_for_status() is ok
    missing = request("GET", server.url + "/nope", timeout=5)
    assert missing.status == 404 and missing.text == "not here" and missing.json_object() == {}
    with pytest.raises(HttpError) as caught:
        missing.raise_for_status()
    assert caught.value.kind is Failure.STATUS and caught.value.status == 404
    posted = request("POST", server.url + "/v1/events", json_body={"a": 1}, headers={"Authorization": "Bearer k"},
                     timeout=5)
    assert posted.status == 201 and posted.json_object() == {"got": {"a": 1}, "auth": "Bearer k"}


def test_refused_is_its_own_kind() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(HttpError) as caught:
        request("GET", f"http://127.0.0.1:{port}/healthz", timeout=2)
    assert caught.value.kind is Failure.REFUSED and caught.value.detail == "connection refused"


def test_a_silent_listener_is_a_timeout_within_the_limit() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        t0 = time.monotonic()
        with pytest.raises(HttpError) as caught:
            request("GET", f"http://127.0.0.1:{listener.getsockname()[1]}/v1/info", timeout=0.3)
        assert time.monotonic() - t0 < 2
    assert caught.value.kind is Failure.TIMEOUT and "within 0.3s" in caught.value.detail


def test_an_untrusted_certificate_is_a_tls_failure(tmp_path: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not on PATH; cannot make a certificate for the TLS test")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    srv = Server(tls=context)
    try:
        with pytest.raises(HttpError) as caught:
            request("GET", f"https://127.0.0.1:{srv.port}/json", timeout=5)
    finally:
        srv.close()
    assert caught.value.kind is Failure.TLS and "certificate" in caught.value.detail.lower()


def test_streams_follow_redirects_and_stop_loops(server: Server) -> None:
    with open_stream(server.url + "/moved", timeout=5, trust_env=False) as stream:
        assert stream.status == 200 and stream.length == 200_000 and stream.url.endswith("/files/a.bin")
        assert sum(len(b) for b in stream.chunks()) == 200_000
    with pytest.raises(HttpError) as caught, open_stream(server.url + "/loop", timeout=5, trust_env=False):
        pass
    assert caught.value.kind is Failure.BROKEN and "redirects" in caught.value.detail


def test_downloads_go_through_the_environment_proxy_unless_no_proxy(server: Server, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", server.url)
    monkeypatch.setenv("no_proxy", "")
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert download("http://mirror.invalid/files/a.bin", tmp_path / "a.bin", timeout=5) == 200_000
    assert server.seen[-1] == "http://mirror.invalid/files/a.bin"  # the proxy got the absolute URL
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    assert fetch_text(server.url + "/json", timeout=5) == '{"status": "ok"}'
    assert server.seen[-1] == "/json"
    request("GET", server.url + "/json", timeout=5)  # API calls never use a proxy
    assert server.seen[-1] == "/json"


def test_download_refuses_short_reads_and_bad_statuses(server: Server, tmp_path: Path) -> None:
    progress: list[tuple[int, int | None]] = []
    size = download(server.url + "/moved", tmp_path / "a.bin", timeout=5,
                    on_progress=lambda done, total: progress.append((done, total)))
    assert size == 200_000 == (tmp_path / "a.bin").stat().st_size and progress[0] == (0, 200_000)
    assert progress[-1] == (200_000, 200_000)
    with pytest.raises(DownloadError, match="truncated: got 1000 of 5000 bytes"):
        download(server.url + "/files/short.bin", tmp_path / "short.bin", timeout=5)
    with pytest.raises(DownloadError, match="HTTP 404") as caught:
        download(server.url + "/files/gone.bin", tmp_path / "gone.bin", timeout=5)
    assert caught.value.hint and "curl -fI" in caught.value.hint


def test_download_stall_is_a_timeout_and_file_urls_are_read(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        with pytest.raises(OpsTimeoutError, match=r"stalled for more than 0\.3s"):
            download(f"http://127.0.0.1:{listener.getsockname()[1]}/a.bin", tmp_path / "a.bin", timeout=0.3)
    src = tmp_path / "mirror" / "v 1.tar.gz"
    src.parent.mkdir()
    src.write_bytes(b"z" * 70_000)
    assert download(src.as_uri(), tmp_path / "copy", timeout=5) == 70_000
    assert (tmp_path / "copy").read_bytes() == src.read_bytes()
    with pytest.raises(DownloadError, match="reading"):
        download((tmp_path / "missing").as_uri(), tmp_path / "x", timeout=5)


def test_the_doctor_probe_turns_each_failure_into_a_result_with_a_hint() -> None:
    from cmem_ops.probes.base import Status
    from cmem_ops.probes.http import probe_http

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    refused = probe_http(f"http://127.0.0.1:{port}", None, 1.0)[0]
    assert refused.status is Status.FAIL and refused.summary == "GET /healthz: cannot connect: connection refused"
    assert refused.hint and "cmem-ops server start" in refused.hint
    bad = probe_http("127.0.0.1:37877", None, 1.0)[0]
    assert bad.status is Status.FAIL and "invalid server URL" in bad.summary and "CLAUDE_MEM_SERVER_PORT" in (
        bad.hint or "")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        silent = probe_http(f"http://127.0.0.1:{listener.getsockname()[1]}", None, 0.3)[0]
    assert silent.status is Status.FAIL and "no answer within 0.3s" in silent.summary
