"""A small blocking RESP2 client with hard deadlines, for probes, status and supervision.

redis-py would do, but its defaults wait ~60 s on a silent listener and it costs ~100 ms to
import; `cmem-ops status` must answer at prompt speed and every probe inside its timeout.
Errors:  RespError (server replied -ERR ...) | RespAuthError (NOAUTH / WRONGPASS)
         OSError / TimeoutError / ConnectionError come from the socket and are left as they are.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Sequence
from types import TracebackType
from typing import TypeAlias

from .redis_url import RedisTarget


class RespError(Exception):
    """An error reply from the server (e.g. `ERR unknown command`)."""


Reply: TypeAlias = "bytes | int | list[Reply] | RespError | None"


class RespAuthError(RespError):
    """Authentication failed or is required (NOAUTH, WRONGPASS, invalid password)."""


class RespConnection:
    """One connection to a Redis-compatible server; every call is bounded by `timeout` seconds."""

    def __init__(self, target: RedisTarget, timeout: float = 2.0, *, authenticate: bool = True) -> None:
        self.target = target
        self.timeout = timeout
        raw = socket.create_connection((target.host, target.port), timeout=timeout)
        if target.tls:
            from .tlstrust import client_context  # only TLS users pay for ssl; Node's trust (NODE_EXTRA_CA_CERTS)

            raw = client_context().wrap_socket(raw, server_hostname=target.host)
        self._sock = raw
        self._buf = b""
        if authenticate and target.password is not None:
            args = ["AUTH", target.password] if not target.username else ["AUTH", target.username, target.password]
            self.command(*args)
        if authenticate and target.db:
            self.command("SELECT", str(target.db))

    def __enter__(self) -> RespConnection:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the socket (idempotent)."""
        with contextlib.suppress(OSError):
            self._sock.close()

    def command(self, *args: str | bytes | int) -> Reply:
        """Send one command and return its reply; raise RespError on an error reply."""
        self._sock.sendall(encode_command(*args))
        reply = self._read_reply(time.monotonic() + self.timeout)
        if isinstance(reply, RespError):
            raise reply
        return reply

    def pipeline(self, commands: Sequence[Sequence[str | bytes | int]]) -> list[Reply]:
        """Send `commands` in one write and return every reply in order; error replies are returned, not raised."""
        self._sock.sendall(b"".join(encode_command(*c) for c in commands))
        deadline = time.monotonic() + self.timeout
        return [self._read_reply(deadline) for _ in commands]

    def text(self, *args: str | bytes | int) -> str:
        """Run a command whose reply is a bulk or simple string and decode it."""
        reply = self.command(*args)
        if isinstance(reply, bytes):
            return reply.decode("utf-8", "replace")
        return "" if reply is None else str(reply)

    def _read_line(self, deadline: float) -> bytes:
        while b"\r\n" not in self._buf:
            self._fill(deadline)
        line, _, self._buf = self._buf.partition(b"\r\n")
        return line

    def _read_exact(self, n: int, deadline: float) -> bytes:
        while len(self._buf) < n + 2:
            self._fill(deadline)
        data, self._buf = self._buf[:n], self._buf[n + 2:]
        return data

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no reply from {self.target.address} within {self.timeout:g}s")
        self._sock.settimeout(remaining)
        try:
            chunk = self._sock.recv(65536)
        except TimeoutError:
            raise TimeoutError(f"no reply from {self.target.address} within {self.timeout:g}s") from None
        if not chunk:
            raise ConnectionError(f"{self.target.address} closed the connection")
        self._buf += chunk

    def _read_reply(self, deadline: float) -> Reply:
        line = self._read_line(deadline)
        kind, body = line[:1], line[1:]
        if kind == b"+":
            return body
        if kind == b"-":
            message = body.decode("utf-8", "replace")
            upper = message.upper()
            if upper.startswith(("NOAUTH", "WRONGPASS")) or "INVALID PASSWORD" in upper or "AUTH <PASSWORD>" in upper:
                return RespAuthError(message)
            return RespError(message)
        if kind == b":":
            return int(body)
        if kind == b"$":
            n = int(body)
            return None if n < 0 else self._read_exact(n, deadline)
        if kind == b"*":
            n = int(body)
            if n < 0:
                return None
            items: list[Reply] = []
            for _ in range(n):
                items.append(self._read_reply(deadline))
            return items
        raise ConnectionError(f"{self.target.address} does not speak RESP (got {line[:40]!r})")


def encode_command(*args: str | bytes | int) -> bytes:
    """Encode a command as a RESP array of bulk strings (pure)."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def parse_info(text: str) -> dict[str, str]:
    """Parse INFO output into a flat key -> value dict (sections dropped; pure)."""
    result: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        key, _, value = line.partition(":")
        result[key] = value
    return result


def parse_config_pairs(reply: Reply) -> dict[str, str]:
    """Turn a CONFIG GET reply (flat name/value list) into a dict (pure)."""
    if not isinstance(reply, list):
        return {}
    items = [x.decode("utf-8", "replace") if isinstance(x, bytes) else str(x) for x in reply]
    return dict(zip(items[0::2], items[1::2], strict=False))
