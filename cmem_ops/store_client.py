"""The one way cmem-ops talks to a Redis-compatible server: a bounded, authenticated connection,
and `ask`, which says what answered.

    open_store(target, timeout, *, authenticate=True, ssl_context=None) -> StoreConnection
        TCP connect, TLS for rediss://, AUTH [user] password, SELECT db; every step, and every later
        command, bounded by `timeout` seconds. Use it as a context manager.
        conn.command(*args) -> Reply      raises the RespError subclass naming the cause (resp.py)
        conn.text(*args) -> str           a bulk/simple string reply, decoded
        conn.pipeline(cmd, cmd, ...)      one round trip; error replies come back as values
    ask(target, timeout, *, ssl_context=None) -> Answer
        Never raises for the server's failures: says whether it connected, over TLS or not, as which
        ACL user, flavour/version/role from INFO, the PING time, and the classified failure with
        what could still be read to explain it (CONFIG GET dir on MISCONF, `databases` on a bad
        /db, whether the ACL user exists on WRONGPASS).
    failure_of(exc) -> Failure            the closed set of reasons (pure)

Errors raised by open_store and StoreConnection (all OSError or RespError, so `except (OSError,
RespError)` keeps catching everything):

    OSError                        the socket's own (ConnectionRefusedError, socket.gaierror, ...)
    ├── ConnectTimeout(TimeoutError)   no TCP answer within the timeout
    ├── ReplyTimeout(TimeoutError)     connected, but no reply in time (stopped, stuck, not RESP)
    ├── ssl.SSLError                   TLS failed (certificate, protocol)
    └── ConnectionError
        ├── TlsToPlainError            rediss:// to a server that speaks plain RESP
        ├── PlainToTlsError            redis:// to a server that wants TLS
        └── RespProtocolError          bytes that are not RESP (resp.py)
    RespError and its subclasses       the server's error replies (resp.py)

Typical use (a new probe):

    answer = ask(target, 2.0)                       # store_answer.py
    if not answer.ok:
        d = diagnose(answer, StoreHints.for_mode(mode, target), 2.0)   # probes/redis_conn.py: words + fix
    with open_store(target, 2.0) as conn:           # then ask what you need
        replicas = conn.command("ROLE")
    ask(target, 2.0, ssl_context=ssl.create_default_context(cafile=ca))   # a private CA for rediss://

Cheap to import (no ssl unless TLS is used): `cmem-ops status` goes through here.
"""

from __future__ import annotations

import contextlib
import socket
import time
from types import TracebackType
from typing import TYPE_CHECKING

from .redis_url import RedisTarget
from .resp import DbRangeError, Reply, RespError, RespParser, RespProtocolError, encode_command, parse_config_pairs
from .wait import format_seconds

if TYPE_CHECKING:
    import ssl

READ_CHUNK = 65536


class ConnectTimeout(TimeoutError):
    """No TCP answer from the address within the timeout (a firewall dropping packets, a host down)."""


class ReplyTimeout(TimeoutError):
    """The connection was accepted but no reply came in time (a stopped or stuck server, or not RESP)."""


class TlsToPlainError(ConnectionError):
    """rediss:// was asked for, but the server answers plain RESP: use redis://."""


class PlainToTlsError(ConnectionError):
    """redis:// was asked for, but the server speaks TLS: use rediss://."""


class StoreConnection:
    """One open connection to a Redis-compatible server; each command is bounded by `timeout` seconds."""

    def __init__(self, target: RedisTarget, sock: socket.socket, timeout: float, *, tls: bool,
                 detect_tls: bool = True) -> None:
        self.target = target
        self.timeout = timeout
        self.tls = tls
        self._detect_tls = detect_tls and not tls  # on a failed first reply, ask whether it wanted TLS
        self.user: str | None = None  # the ACL user AUTH succeeded as; None when no AUTH was sent
        self._sock = sock
        self._parser = RespParser()
        self._replies = 0

    def __enter__(self) -> StoreConnection:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the socket (idempotent)."""
        with contextlib.suppress(OSError):
            self._sock.close()

    def command(self, *args: str | bytes | int) -> Reply:
        """Send one command and return its reply; raise the RespError subclass of an error reply."""
        reply = self.pipeline(args)[0]
        if isinstance(reply, RespError):
            raise reply
        return reply

    def text(self, *args: str | bytes | int) -> str:
        """Run a command whose reply is a bulk or simple string and decode it."""
        reply = self.command(*args)
        if isinstance(reply, bytes):
            return reply.decode("utf-8", "replace")
        return "" if reply is None else str(reply)

    def pipeline(self, *commands: tuple[str | bytes | int, ...]) -> list[Reply]:
        """Send every command in one write and read their replies; error replies are returned, not raised."""
        self._sock.sendall(b"".join(encode_command(*c) for c in commands))
        deadline = time.monotonic() + self.timeout
        return [self._read_reply(deadline) for _ in commands]

    def _read_reply(self, deadline: float) -> Reply:
        try:
            while True:
                reply = self._parser.next_reply()
                if reply is not RespParser.NEED_MORE:
                    self._replies += 1
                    return reply  # type: ignore[return-value]
                self._fill(deadline)
        except (ConnectionError, RespProtocolError) as exc:
            if self._detect_tls and self._replies == 0 and _speaks_tls(self.target, min(self.timeout, 1.0)):
                raise PlainToTlsError(f"{self.target.address} speaks TLS, but the URL is redis://: "
                                      "use rediss://") from exc
            raise

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ReplyTimeout(f"no reply from {self.target.address} within {format_seconds(self.timeout)}")
        self._sock.settimeout(remaining)
        try:
            chunk = self._sock.recv(READ_CHUNK)
        except TimeoutError:
            raise ReplyTimeout(f"no reply from {self.target.address} within {format_seconds(self.timeout)}"
                               ) from None
        if not chunk:
            raise ConnectionError(f"{self.target.address} closed the connection")
        self._parser.feed(chunk)


def _connect(target: RedisTarget, timeout: float) -> socket.socket:
    # getaddrinfo encodes a str host with the `idna` codec (loading stringprep, ~2 ms); an ASCII host
    # (every IP literal, every plain hostname) goes as bytes and resolves the same
    host: str | bytes = target.host.encode("ascii") if target.host.isascii() else target.host
    try:
        return socket.create_connection((host, target.port), timeout=timeout)  # type: ignore[arg-type]  # bytes ok
    except TimeoutError:
        raise ConnectTimeout(f"no TCP answer from {target.address} within {format_seconds(timeout)}") from None


def default_ssl_context() -> ssl.SSLContext:
    """What claude-mem's ioredis does for rediss://: the system CAs plus NODE_EXTRA_CA_CERTS, hostname checked."""
    from .tlstrust import client_context  # only TLS users pay for the ssl import

    return client_context()


def open_store(target: RedisTarget, timeout: float = 2.0, *, authenticate: bool = True,
               ssl_context: ssl.SSLContext | None = None) -> StoreConnection:
    """Connect (TLS for rediss://), AUTH and SELECT; every step bounded by `timeout` (errors: module docstring)."""
    raw = sock = _connect(target, timeout)
    try:
        if target.tls:
            sock = _handshake(raw, target, timeout, ssl_context)
        conn = StoreConnection(target, sock, timeout, tls=target.tls)
        if authenticate and target.password is not None:
            args = ["AUTH", target.password] if not target.username else ["AUTH", target.username, target.password]
            conn.command(*args)
            conn.user = target.username or "default"
        if authenticate and target.db:
            try:
                conn.command("SELECT", str(target.db))
            except DbRangeError as exc:
                exc.databases = _databases(conn)
                raise
        return conn
    except BaseException:
        with contextlib.suppress(OSError):
            sock.close()  # the TLS socket once wrapped (wrapping detaches `raw`)
            raw.close()
        raise


def _handshake(raw: socket.socket, target: RedisTarget, timeout: float,
               ssl_context: ssl.SSLContext | None) -> socket.socket:
    import ssl

    ctx = ssl_context or default_ssl_context()
    try:
        return ctx.wrap_socket(raw, server_hostname=target.host)
    except ssl.SSLCertVerificationError:
        raise  # a TLS server with a certificate we do not trust: not a plain server
    except (ssl.SSLError, TimeoutError, ConnectionError) as exc:
        if _speaks_plain(target, min(timeout, 1.0)):
            raise TlsToPlainError(f"{target.address} answers plain RESP, but the URL is rediss://: "
                                  "use redis://") from exc
        if isinstance(exc, TimeoutError):
            raise ReplyTimeout(f"no TLS handshake from {target.address} within {format_seconds(timeout)}") from exc
        raise


def _speaks_plain(target: RedisTarget, timeout: float) -> bool:
    """True when a plain-text PING to `target` gets any RESP reply (PONG, NOAUTH, ...)."""
    try:
        with StoreConnection(target, _connect(target, timeout), timeout, tls=False, detect_tls=False) as conn:
            conn.pipeline(("PING",))
        return True
    except (OSError, RespError):
        return False


def _speaks_tls(target: RedisTarget, timeout: float) -> bool:
    """True when `target` completes a TLS handshake (certificate not checked: this only asks 'is it TLS?')."""
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with ctx.wrap_socket(_connect(target, timeout), server_hostname=target.host):
            return True
    except (OSError, ValueError):
        return False


def _databases(conn: StoreConnection) -> int | None:
    """The server's `databases` setting, when CONFIG GET is allowed."""
    try:
        value = parse_config_pairs(conn.command("CONFIG", "GET", "databases")).get("databases", "")
    except (OSError, RespError):
        return None
    return int(value) if value.isdigit() else None


def ping(target: RedisTarget, timeout: float = 0.5) -> bool:
    """True when the server answers PING with the target's credentials (never raises for the server)."""
    try:
        with open_store(target, timeout) as conn:
            conn.command("PING")
        return True
    except (OSError, RespError):
        return False


def ping_error(target: RedisTarget, timeout: float) -> str | None:
    """None when PING (with AUTH) answers, else `Type: message` of why not (never raises for the server)."""
    try:
        with open_store(target, timeout) as conn:
            conn.command("PING")
        return None
    except (OSError, RespError) as exc:
        return f"{type(exc).__name__}: {exc}"
