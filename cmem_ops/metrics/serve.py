"""`cmem-ops metrics --serve`: /metrics over HTTP, loopback unless told otherwise.

A scrape endpoint shows queue sizes, the store's version and the server's address: on loopback it
answers anyone on this machine; any wider address needs `--allow-remote` and a bearer token read
from `--token-file` (checked on every request, compared in constant time). Every request to
/metrics collects a fresh snapshot; concurrent scrapes are serialised so they never pile up on the store.
"""

from __future__ import annotations

import hmac
import ipaddress
import signal
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ..context import Context
from ..errors import ConfigError, ConflictError, UsageError

DEFAULT_LISTEN = "127.0.0.1:9464"


@dataclass(frozen=True)
class ServePlan:
    """Where to listen and the token every request must carry (None on loopback without a token)."""

    host: str
    port: int
    token: str | None

    @property
    def url(self) -> str:
        """http://host:port/metrics."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"


def parse_listen(text: str) -> tuple[str, int]:
    """`127.0.0.1:9464`, `[::1]:9464`, `0.0.0.0:9464` -> (host, port); UsageError otherwise (pure)."""
    raw = text.strip()
    host, sep, port_text = raw.rpartition(":")
    if not sep or not host:
        raise UsageError(f"--listen {text!r} is not HOST:PORT",
                         hint=f"cmem-ops metrics --serve --listen {DEFAULT_LISTEN}")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if ":" in host and not raw.startswith("["):
        raise UsageError(f"--listen {text!r}: put an IPv6 address in brackets",
                         hint="cmem-ops metrics --serve --listen [::1]:9464")
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise UsageError(f"--listen {text!r}: the port {port_text!r} is not 1-65535",
                         hint=f"cmem-ops metrics --serve --listen {DEFAULT_LISTEN}")
    return host, port


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 (pure)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_token(text: str, path: Path) -> str:
    """The token in a token file: its first line, stripped; ConfigError when empty (pure)."""
    token = text.strip().splitlines()[0].strip() if text.strip() else ""
    if len(token) < 16:
        raise ConfigError(f"the token in {path} is {'empty' if not token else 'shorter than 16 characters'}",
                          hint=f"python3 -c 'import secrets; print(secrets.token_urlsafe(32))' > {path}")
    return token


def plan_serve(listen: str, allow_remote: bool, token_text: str | None, token_path: Path | None) -> ServePlan:
    """Decide where to listen and with which token; refuse a wide address without both (pure)."""
    host, port = parse_listen(listen)
    token = parse_token(token_text or "", token_path) if token_path is not None else None
    if not is_loopback(host):
        if not allow_remote:
            raise UsageError(f"--listen {listen} is not a loopback address: the metrics would be readable from "
                             "the network", hint=f"cmem-ops metrics --serve --listen {listen} --allow-remote "
                             "--token-file ~/.claude-mem/metrics.token   (or keep the default 127.0.0.1:9464)")
        if token is None:
            raise UsageError(f"--listen {listen} with --allow-remote needs --token-file: every scrape must then send "
                             "that token",
                             hint=f"cmem-ops metrics --serve --listen {listen} --allow-remote "
                             "--token-file ~/.claude-mem/metrics.token")
    return ServePlan(host, port, token)


def authorized(header: str | None, token: str | None) -> bool:
    """Whether an Authorization header carries the token (always True when no token is set) (pure)."""
    if token is None:
        return True
    scheme, _, value = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())


def build_server(plan: ServePlan, render: Callable[[], bytes], content_type: str) -> ThreadingHTTPServer:
    """Bind the endpoint (not yet serving); ConflictError when the address is taken."""
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path not in ("/metrics", "/"):
                self._reply(404, b"not found: try /metrics\n", "text/plain")
                return
            if not authorized(self.headers.get("Authorization"), plan.token):
                self._reply(401, b"a bearer token is required\n", "text/plain", {"WWW-Authenticate": "Bearer"})
                return
            if path == "/":
                self._reply(200, b"cmem-ops metrics: /metrics\n", "text/plain")
                return
            with lock:
                body = render()
            self._reply(200, body, content_type)

        def _reply(self, code: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        address_family = socket.AF_INET6 if ":" in plan.host else socket.AF_INET

    try:
        return Server((plan.host, plan.port), Handler)
    except OSError as exc:
        raise ConflictError(f"cannot listen on {plan.host}:{plan.port}: {exc.strerror or exc}",
                            hint=f"cmem-ops metrics --serve --listen {plan.host}:<another port>") from exc


def serve_forever(plan: ServePlan, render: Callable[[], bytes], content_type: str) -> None:
    """Serve until Ctrl-C or SIGTERM; prints where to stderr."""
    server = build_server(plan, render, content_type)

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_term)
    note = " (every request must carry the token from --token-file)" if plan.token else ""
    print(f"serving {plan.url}{note}", file=sys.stderr, flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def serve_metrics(ctx: Context, plan: ServePlan, timeout: float = 2.0, docker: bool = False) -> None:
    """Serve a fresh snapshot of `ctx`'s stack on every GET /metrics until interrupted."""
    from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

    from .exposition import build_registry
    from .snapshot import collect

    registry = build_registry(lambda: collect(ctx, timeout, docker))
    serve_forever(plan, lambda: generate_latest(registry), CONTENT_TYPE_LATEST)


def plan_from_options(listen: str, allow_remote: bool, token_file: Path | None) -> ServePlan:
    """plan_serve with the token read from `token_file`; ConfigError when it cannot be read."""
    text = None
    if token_file is not None:
        try:
            text = token_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read the token file {token_file}: {exc.strerror or exc}",
                              hint=f"python3 -c 'import secrets; print(secrets.token_urlsafe(32))' > {token_file}"
                              ) from None
    return plan_serve(listen, allow_remote, text, token_file)
