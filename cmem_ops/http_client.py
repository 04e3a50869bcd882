"""The one HTTP client of cmem-ops: the doctor's probes, claude-mem's API calls, the e2e, downloads.

Built on the standard library's http.client, not requests (which the design card names), because
start-up is a product feature here: `status` and `doctor` must answer within a few times a raw
socket probe, and on this machine `python -X importtime -c 'import requests'` spends ~150-200 ms
(urllib3, charset detection, idna, certifi) against ~35 ms for http.client + ssl, which the
doctor needs anyway. What requests would add, we need little of: redirects (downloads only,
followed here), proxies (downloads only, taken from the environment here), JSON (one json.loads).

Every request is bounded by `timeout` (each connect and each read; a stalled peer fails within it).
Statuses are returned, never raised: the caller decides what a 403 means. Transport failures are
raised as one exception with a closed set of causes, which callers turn into an OpsError or a
ProbeResult with their own hint:

    HttpError(OpsError)            .kind is one of
        REFUSED                    nothing listens, the connection was reset, the host is unknown
        TIMEOUT                    no answer within the timeout
        TLS                        the TLS handshake or the certificate failed
        STATUS                     raised only by HttpResponse.raise_for_status()
        BROKEN                     the answer was cut short or was not HTTP

Loopback calls (probes, API) never go through a proxy; `request(..., trust_env=True)` (downloads)
honours HTTPS_PROXY / HTTP_PROXY / NO_PROXY as curl does.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urljoin, urlsplit

from .errors import OpsError
from .redaction import redact_text

DEFAULT_TIMEOUT_S = 10.0
MAX_REDIRECTS = 5
CHUNK = 1 << 16
TRANSPORT_ERRORS = (OSError, http.client.HTTPException)  # ssl.SSLError and TimeoutError are OSErrors


class Failure(StrEnum):
    """Why a request got no usable answer."""

    REFUSED = "refused"
    TIMEOUT = "timeout"
    TLS = "tls"
    STATUS = "status"
    BROKEN = "broken"


class HttpError(OpsError):
    """A request failed for `kind`; `url` is redacted, `status` set for Failure.STATUS."""

    def __init__(self, kind: Failure, method: str, url: str, detail: str, *, status: int | None = None,
                 hint: str | None = None) -> None:
        self.kind, self.method, self.url, self.detail, self.status = kind, method, redact_text(url), detail, status
        super().__init__(f"{method} {self.url}: {detail}", hint=hint)


@dataclass(frozen=True)
class HttpResponse:
    """One answer: status, headers (lower-case names), the body, the time it took."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    elapsed_ms: float
    url: str = ""
    method: str = "GET"

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object; {} when it is not one (pure)."""
        try:
            value = json.loads(self.body)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def raise_for_status(self) -> HttpResponse:
        """Return self for 2xx, else raise HttpError(Failure.STATUS)."""
        if 200 <= self.status < 300:
            return self
        raise HttpError(Failure.STATUS, self.method, self.url, f"HTTP {self.status}", status=self.status)


@dataclass
class Stream:
    """An open response whose body is read in chunks (downloads): status, headers, `length` if announced."""

    status: int
    headers: Mapping[str, str]
    url: str
    _response: http.client.HTTPResponse = field(repr=False)
    _method: str = "GET"

    @property
    def length(self) -> int | None:
        value = self.headers.get("content-length", "")
        return int(value) if value.isdigit() else None

    def chunks(self, size: int = CHUNK) -> Iterator[bytes]:
        """The body, `size` bytes at a time; HttpError on a stall or a broken connection."""
        while True:
            try:
                block = self._response.read(size)
            except TRANSPORT_ERRORS as exc:
                raise _failure(exc, self._method, self.url) from exc
            if not block:
                return
            yield block


def classify(exc: BaseException) -> tuple[Failure, str]:
    """The closed cause of a transport exception and a short description of it (pure)."""
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return Failure.TLS, f"TLS failed: {getattr(exc, 'reason', None) or exc}"
    if isinstance(exc, TimeoutError | socket.timeout):
        return Failure.TIMEOUT, "no answer within the timeout"
    if isinstance(exc, http.client.RemoteDisconnected):
        return Failure.BROKEN, "the server closed the connection without answering"
    if isinstance(exc, http.client.HTTPException):
        return Failure.BROKEN, f"not a valid HTTP answer ({type(exc).__name__})"
    if isinstance(exc, ConnectionRefusedError):
        return Failure.REFUSED, "connection refused"
    if isinstance(exc, socket.gaierror):
        return Failure.REFUSED, f"unknown host ({exc.strerror or exc})"
    if isinstance(exc, OSError):
        return Failure.REFUSED, f"cannot connect: {exc.strerror or exc}"
    return Failure.BROKEN, f"{type(exc).__name__}: {exc}"


def _failure(exc: BaseException, method: str, url: str, timeout: float | None = None) -> HttpError:
    kind, detail = classify(exc)
    if kind is Failure.TIMEOUT and timeout is not None:
        detail = f"no answer within {timeout:.1f}s"
    return HttpError(kind, method, url, detail)


def _env_proxy(scheme: str, host: str) -> str | None:
    """The proxy the environment names for `scheme://host`, honouring NO_PROXY; None for none."""
    import urllib.request  # only downloads ask: keeps the probes' start-up light

    proxies = urllib.request.getproxies_environment()
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]  # public, not in typeshed
    if bypass(host, proxies):
        return None
    return proxies.get(scheme)


def _connect(url: str, timeout: float, trust_env: bool) -> tuple[http.client.HTTPConnection, str]:
    """A connection for `url` (through the environment's proxy when `trust_env`) and the request target."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {redact_text(url)}")
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    proxy = _env_proxy(parts.scheme, parts.hostname) if trust_env else None
    conn: http.client.HTTPConnection
    if proxy:
        proxied = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        if https:  # CONNECT through the proxy, then TLS to the origin
            conn = http.client.HTTPSConnection(proxied.hostname or "", proxied.port or 80, timeout=timeout,
                                               context=ssl.create_default_context())
            conn.set_tunnel(parts.hostname, port)
        else:  # a plain-HTTP proxy takes the absolute URL
            conn = http.client.HTTPConnection(proxied.hostname or "", proxied.port or 80, timeout=timeout)
            target = url.split("#", 1)[0]
        return conn, target
    if https:
        return http.client.HTTPSConnection(parts.hostname, port, timeout=timeout,
                                           context=ssl.create_default_context()), target
    return http.client.HTTPConnection(parts.hostname, port, timeout=timeout), target


@contextmanager
def open_stream(url: str, *, timeout: float = DEFAULT_TIMEOUT_S, headers: Mapping[str, str] | None = None,
                trust_env: bool = True, max_redirects: int = MAX_REDIRECTS) -> Iterator[Stream]:
    """GET `url`, following redirects; yield the final answer with its body unread (any status)."""
    current = url
    for _ in range(max_redirects + 1):
        conn, target = _connect(current, timeout, trust_env)
        try:
            try:
                conn.request("GET", target, headers=dict(headers or {}))
                resp = conn.getresponse()
            except TRANSPORT_ERRORS as exc:
                raise _failure(exc, "GET", current, timeout) from exc
            location = resp.getheader("Location")
            if resp.status in (301, 302, 303, 307, 308) and location:
                resp.read()
                current = urljoin(current, location)
                continue
            yield Stream(resp.status, _headers(resp), current, resp)
            return
        finally:
            conn.close()
    raise HttpError(Failure.BROKEN, "GET", url, f"more than {max_redirects} redirects")


def request(method: str, url: str, *, body: bytes | None = None, json_body: Any = None,
            headers: Mapping[str, str] | None = None, timeout: float = DEFAULT_TIMEOUT_S,
            trust_env: bool = False, limit: int | None = None) -> HttpResponse:
    """Send one request and read its answer (at most `limit` bytes of body); HttpError on transport failure.

    No redirects are followed and no proxy is used unless `trust_env` (the claude-mem API is on loopback).
    """
    sent = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode()
        sent.setdefault("Content-Type", "application/json")
    conn, target = _connect(url, timeout, trust_env)
    t0 = time.perf_counter()
    try:
        conn.request(method, target, body=body, headers=sent)
        resp = conn.getresponse()
        raw = resp.read(limit) if limit is not None else resp.read()
        status, answer_headers = resp.status, _headers(resp)
    except TRANSPORT_ERRORS as exc:
        raise _failure(exc, method, url, timeout) from exc
    finally:
        conn.close()
    return HttpResponse(status, answer_headers, raw, (time.perf_counter() - t0) * 1000, url, method)


def _headers(resp: http.client.HTTPResponse) -> dict[str, str]:
    return {name.lower(): value for name, value in resp.getheaders()}
