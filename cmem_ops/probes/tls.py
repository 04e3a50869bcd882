"""TLS to the queue store, judged the way claude-mem's Node will judge it (tlstrust.py).

For rediss:// the probe makes one handshake with Node's trust (system CAs + NODE_EXTRA_CA_CERTS,
hostname checked) and turns each failure into its cause and fix: an untrusted or self-signed chain
(NODE_EXTRA_CA_CERTS=<ca.pem> for the server and workers), a hostname mismatch (both names), an
expired certificate, TLS spoken to a plain server. (redis:// to a TLS port is named by the connection module,
store_client/store_answer.) The handshake time is compared with claude-mem's 1000 ms connect timeout.

    judge_connect_time(ms)            pure: OK / WARN above 500 ms / FAIL above 1000 ms
    format_names(cert)                pure: the DNS/IP names of a decoded certificate
    probe_tls(target, label, extra_ca, timeout)      acts: one verified handshake (rediss://)
    with_tls_verdict(results, ...)                   the connect probes' results with that verdict added
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import tempfile
import time
from typing import Any

from ..redis_url import RedisTarget
from ..tlstrust import KEY_EXTRA_CA, build_node_context
from ..wait import format_seconds
from .base import ProbeResult, Status

NODE_CONNECT_TIMEOUT_MS = 1000.0  # claude-mem's ioredis connectTimeout: TCP connect + TLS handshake
WARN_MS = NODE_CONNECT_TIMEOUT_MS / 2
# Past this, claude-mem has long given up: waiting longer only delays the verdict. A plain server
# sent a ClientHello waits silently for the rest of a command line, so this bound is what ends it.
HANDSHAKE_CAP_S = 1.6
# OpenSSL verify codes: untrusted chains, expiry, name mismatches.
UNTRUSTED = {2: "its issuer is unknown", 18: "it is self-signed", 19: "its chain ends in a self-signed CA",
             20: "its issuer is not a trusted CA", 21: "its issuer is not a trusted CA"}
EXPIRED, NOT_YET_VALID, HOST_MISMATCH, IP_MISMATCH = 10, 9, 62, 64


def judge_connect_time(ms: float) -> tuple[Status, str]:
    """TCP + TLS time against claude-mem's 1000 ms connect timeout (pure)."""
    if ms > NODE_CONNECT_TIMEOUT_MS:
        return Status.FAIL, (f"connect + TLS handshake took {ms:.0f} ms, over claude-mem's "
                             f"{NODE_CONNECT_TIMEOUT_MS:.0f} ms connect timeout: it will not connect")
    if ms > WARN_MS:
        return Status.WARN, (f"connect + TLS handshake took {ms:.0f} ms, over half of claude-mem's "
                             f"{NODE_CONNECT_TIMEOUT_MS:.0f} ms connect timeout")
    return Status.OK, f"connect + TLS handshake {ms:.0f} ms (claude-mem allows {NODE_CONNECT_TIMEOUT_MS:.0f} ms)"


def format_names(cert: dict[str, Any]) -> list[str]:
    """DNS and IP names of a certificate decoded by ssl (subjectAltName, else the subject CN) (pure)."""
    names = [value for kind, value in cert.get("subjectAltName", ()) if kind in ("DNS", "IP Address")]
    if not names:
        for rdn in cert.get("subject", ()):
            names += [value for key, value in rdn if key == "commonName"]
    return names


def _decode_der(der: bytes) -> dict[str, Any]:
    """Decode a DER certificate with the stdlib's own decoder (no third-party parser); {} when it cannot."""
    decode = getattr(getattr(ssl, "_ssl", None), "_test_decode_cert", None)
    if decode is None:
        return {}
    fd, path = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(ssl.DER_cert_to_PEM_cert(der))
        result = decode(path)
        return result if isinstance(result, dict) else {}
    except (OSError, ValueError, ssl.SSLError):
        return {}
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _peer_cert(target: RedisTarget, timeout: float) -> dict[str, Any]:
    """The server's certificate, read without verifying it (to name its names and issuer)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((target.host, target.port), timeout=timeout) as raw, \
                ctx.wrap_socket(raw, server_hostname=target.host) as tls:
            der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError):
        return {}
    return _decode_der(der) if der else {}


def _issuer(cert: dict[str, Any]) -> str:
    parts = [f"{key}={value}" for rdn in cert.get("issuer", ()) for key, value in rdn
             if key in ("commonName", "organizationName")]
    return ", ".join(parts) or "unknown issuer"


def _speaks_plain_resp(target: RedisTarget, timeout: float) -> bool:
    """True when the port answers a plain-text PING (PONG, or an auth error)."""
    try:
        with socket.create_connection((target.host, target.port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            reply = sock.recv(64)
    except OSError:
        return False
    return reply.startswith((b"+PONG", b"-NOAUTH", b"-ERR", b"-WRONGPASS"))


def _url_with(target: RedisTarget, *, host: str | None = None, tls: bool | None = None) -> str:
    scheme = "rediss" if (target.tls if tls is None else tls) else "redis"
    auth = f"{target.username or ''}:<password>@" if target.password is not None else \
        (f"{target.username}@" if target.username else "")
    h = host or target.host
    return f"{scheme}://{auth}{f'[{h}]' if ':' in h else h}:{target.port}/{target.db}"


def _ca_hint(extra_ca: str | None) -> str:
    return (f"put the CA that signed the server's certificate in a PEM file and give it to the server and workers: "
            f"{KEY_EXTRA_CA}=/path/to/ca.pem (export it where they start, or add it to settings.json: "
            "cmem-ops stack commands pass it through), then restart them"
            + (f"; the current {KEY_EXTRA_CA}={extra_ca} does not sign this certificate" if extra_ca else ""))


def probe_tls(target: RedisTarget, label: str, extra_ca: str | None, timeout: float) -> ProbeResult:
    """One handshake with Node's trust; never raises for the server or its certificate."""
    ctx, ca_problem = build_node_context(extra_ca)
    data: dict[str, Any] = {"extra_ca": extra_ca, "host": target.host}
    timeout = min(timeout, HANDSHAKE_CAP_S)
    t0 = time.perf_counter()
    try:
        raw = socket.create_connection((target.host, target.port), timeout=timeout)
    except OSError as exc:
        return ProbeResult("tls", label, Status.FAIL, f"cannot connect to {target.address}: {exc}",
                           hint=f"check that the server at {target.address} is up")
    tcp_ms = (time.perf_counter() - t0) * 1000
    try:
        with raw, ctx.wrap_socket(raw, server_hostname=target.host) as tls:
            total_ms = (time.perf_counter() - t0) * 1000
            cert = tls.getpeercert() or {}
            data.update(version=tls.version(), cipher=(tls.cipher() or ("?",))[0], tcp_ms=round(tcp_ms, 1),
                        handshake_ms=round(total_ms - tcp_ms, 1), connect_ms=round(total_ms, 1),
                        names=format_names(cert), not_after=cert.get("notAfter"))
            # With TLS 1.3 a server that demands a client certificate says so only after the handshake
            # (an alert, or it just drops the connection at the first bytes).
            try:
                tls.sendall(b"PING\r\n")
                if not tls.recv(64):
                    raise ConnectionError("the server closed the connection")
            except TimeoutError:
                pass  # a silent server is the ping check's to name
            except (ssl.SSLError, OSError) as exc:
                return _client_cert_failure(target, label, exc, data)
    except ssl.SSLCertVerificationError as exc:
        return _verify_failure(exc, target, label, extra_ca, ca_problem, timeout, data)
    except TimeoutError:
        if _speaks_plain_resp(target, timeout):
            return _plain_server(target, label, "no TLS handshake came back", data)
        return ProbeResult("tls", label, Status.FAIL,
                           f"no TLS handshake from {target.address} within {format_seconds(timeout)}",
                           detail="claude-mem gives up after 1000 ms; a server that expects plain text waits "
                                  "silently for a command",
                           hint="if the server does not speak TLS: "
                                f"CLAUDE_MEM_REDIS_URL={_url_with(target, tls=False)}",
                           data=data)
    except (ssl.SSLError, OSError) as exc:
        if _client_cert_demanded(exc):
            return _client_cert_failure(target, label, exc, data)
        if _speaks_plain_resp(target, timeout):
            return _plain_server(target, label, f"the TLS handshake failed ({exc})", data)
        return ProbeResult("tls", label, Status.FAIL, f"TLS handshake with {target.address} failed: {exc}",
                           hint=f"check the server's TLS settings (tls-port, tls-protocols) at {target.address}",
                           data=data)
    status, text = judge_connect_time(data["connect_ms"])
    summary = f"{data['version']}, certificate for {', '.join(data['names']) or '?'} trusted; {text}"
    hint = None
    if status is not Status.OK:
        hint = ("claude-mem's connect timeout is fixed at 1000 ms: move the store closer to the server (same "
                "region/zone), or check the network path: " + f"redis-cli -u {_url_with(target)} --latency")
    if ca_problem and status is Status.OK:
        status, hint = Status.WARN, f"fix or unset {KEY_EXTRA_CA}: Node ignores a file it cannot load"
        summary += f"; {ca_problem}"
    return ProbeResult("tls", label, status, summary, hint=hint, data=data)


def _client_cert_demanded(exc: BaseException) -> bool:
    text = str(exc).upper()
    return "CERTIFICATE_REQUIRED" in text or "CERTIFICATE REQUIRED" in text or "ALERT_BAD_CERTIFICATE" in text


def _client_cert_failure(target: RedisTarget, label: str, exc: BaseException, data: dict[str, Any]) -> ProbeResult:
    sure = _client_cert_demanded(exc)
    summary = (f"{target.address} demands a client certificate, which claude-mem never sends" if sure else
               f"{target.address} dropped the TLS connection right after the handshake: it most likely demands a "
               "client certificate, which claude-mem never sends")
    return ProbeResult("tls", label, Status.FAIL, summary,
                       detail=f"{exc}; claude-mem's rediss:// is ioredis tls: {{}} (no certificate, no key)",
                       hint="make client certificates optional on the server: tls-auth-clients optional (or no), "
                            "in its config or CONFIG SET tls-auth-clients optional", data=data)


def _plain_server(target: RedisTarget, label: str, why: str, data: dict[str, Any]) -> ProbeResult:
    return ProbeResult("tls", label, Status.FAIL,
                       f"the URL says rediss:// but {target.address} speaks plain TCP, not TLS",
                       detail=f"{why}; a plain-text PING was answered",
                       hint=f"CLAUDE_MEM_REDIS_URL={_url_with(target, tls=False)}   (or enable TLS on the "
                            "server: tls-port, tls-cert-file, tls-key-file)", data=data)


def _verify_failure(exc: ssl.SSLCertVerificationError, target: RedisTarget, label: str, extra_ca: str | None,
                    ca_problem: str | None, timeout: float, data: dict[str, Any]) -> ProbeResult:
    code = exc.verify_code
    cert = _peer_cert(target, timeout)
    names = format_names(cert)
    data.update(verify_code=code, verify_message=exc.verify_message, names=names, issuer=_issuer(cert))
    if code in (HOST_MISMATCH, IP_MISMATCH):
        shown = ", ".join(names) or "names this probe could not read"
        first_dns = next((n for n in names if not n.replace(".", "").isdigit() and "*" not in n), None)
        fix = (f"CLAUDE_MEM_REDIS_URL={_url_with(target, host=first_dns)} (a name the certificate carries), or "
               if first_dns else "")
        return ProbeResult("tls", label, Status.FAIL,
                           f"hostname mismatch: the URL names {target.host} but the certificate is for {shown}",
                           detail=f"{exc.verify_message}; Node checks the URL's host against the certificate",
                           hint=fix + f"reissue the server's certificate with {target.host} in its subjectAltName",
                           data=data)
    if code in UNTRUSTED:
        detail = f"{exc.verify_message} (issuer: {data['issuer']})"
        if ca_problem:
            detail += f"; {ca_problem}"
        return ProbeResult("tls", label, Status.FAIL,
                           f"the certificate of {target.address} is not trusted by Node: {UNTRUSTED[code]}",
                           detail=detail, hint=_ca_hint(extra_ca), data=data)
    if code in (EXPIRED, NOT_YET_VALID):
        when = cert.get("notAfter" if code == EXPIRED else "notBefore", "?")
        return ProbeResult("tls", label, Status.FAIL,
                           f"the certificate of {target.address} is {'expired' if code == EXPIRED else 'not yet valid'}"
                           f" ({'notAfter' if code == EXPIRED else 'notBefore'} {when})",
                           detail=exc.verify_message, hint="renew the server's certificate (tls-cert-file) and reload "
                           "it: CONFIG SET tls-cert-file <path> (or restart the server)", data=data)
    return ProbeResult("tls", label, Status.FAIL, f"certificate verification failed: {exc.verify_message}",
                       detail=str(exc), hint=_ca_hint(extra_ca), data=data)


def with_tls_verdict(results: list[ProbeResult], target: RedisTarget, label: str, extra_ca: str | None,
                     timeout: float) -> list[ProbeResult]:
    """The connect probes' results with the TLS verdict added after TCP (rediss:// only).

    Nothing changes when TCP itself failed. A PING failure that the TLS verdict explains is replaced by it.
    (redis:// to a TLS port is named by the connection module itself: store_answer's PLAIN_TO_TLS.)
    """
    if not target.tls or not results or results[0].status is not Status.OK:
        return results
    ping_failed = any(r.name == "ping" and r.status is Status.FAIL for r in results)
    verdict = probe_tls(target, label, extra_ca, timeout)
    if ping_failed and verdict.status is Status.FAIL:
        return [results[0], verdict]
    return [results[0], verdict, *results[1:]]
