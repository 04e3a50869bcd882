"""RESP2, the Redis wire protocol, as pure code: encode a command, parse replies, name error replies.

Nothing here touches a socket: store_client.py owns connections. The parser is incremental
(`RespParser.feed(bytes)` then `next_reply()`), so a reply split across reads at any byte is parsed
the same as one read whole; it is tested on bytes captured from real servers (tests/fixtures/resp/).

Why hand-written and not redis-py: `cmem-ops status` must answer at prompt speed, and importing
redis-py costs ~100 ms (this module and store_client.py cost ~2 ms); redis-py's defaults also wait
~60 s on a silent listener. Where start-up does not matter and asyncio is wanted (the Python BullMQ
smoke, probes/bullmq_python.py) redis-py is used, through the `bullmq` package.

Error replies become exceptions naming their cause (`classify_error`):

    RespError(message)                 any -ERR reply; `.code` is its first word ("ERR", "NOPERM", ...)
    ├── RespAuthError                  authentication failed or is required
    │   ├── NoAuthError                NOAUTH: the server needs a password and none was sent
    │   ├── WrongPassError             WRONGPASS / "invalid password": username or password wrong, or user off
    │   └── NoPasswordSetError         a password was sent, but the server has none configured
    ├── NoPermError                    NOPERM: the ACL user may not run `.command` (`.user` when named)
    ├── ReadOnlyError                  READONLY: a write was sent to a replica
    ├── MisconfError                   MISCONF: the server cannot persist (disk full, dir gone): writes refused
    ├── LoadingError                   LOADING: the server is loading its dataset into memory
    ├── BusyError                      BUSY: a script or function is running past the busy threshold
    ├── CrossSlotError                 CROSSSLOT: keys of one command hash to different cluster slots
    ├── ExecAbortError                 EXECABORT: a MULTI was discarded after a queued error
    ├── DbRangeError                   "DB index is out of range" (`.databases` when the caller read it)
    ├── UnknownCommandError            the command is unknown or renamed (rename-command)
    └── RedirectError                  a cluster redirect; `.slot`, `.host`, `.port`
        ├── MovedError                 MOVED: the slot lives on another node
        └── AskError                   ASK: the slot is migrating; ask the other node once
    RespProtocolError(ConnectionError) the peer sent bytes that are not RESP (`.head` holds them)
"""

from __future__ import annotations

import re
from typing import TypeAlias


class RespError(Exception):
    """An error reply from the server (e.g. `ERR unknown command`); `.code` is its first word."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = message.split(" ", 1)[0] if message else ""


class RespAuthError(RespError):
    """Authentication failed or is required (NOAUTH, WRONGPASS, invalid password)."""


class NoAuthError(RespAuthError):
    """NOAUTH: the server requires authentication and the client sent none."""


class WrongPassError(RespAuthError):
    """WRONGPASS: the username or the password is wrong, or the user is disabled (the server does not say which)."""


class NoPasswordSetError(RespAuthError):
    """The client sent AUTH with a password, but the server's default user has none."""


class NoPermError(RespError):
    """NOPERM: the authenticated ACL user may not run `command` (or touch a key or channel)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        user = re.search(r"\bUser (\S+) has no permissions", message)
        command = re.search(r"run the '([^']+)' command", message)
        self.user: str | None = user.group(1) if user else None
        self.command: str | None = command.group(1) if command else None


class ReadOnlyError(RespError):
    """READONLY: a write was sent to a read-only replica."""


class MisconfError(RespError):
    """MISCONF: the server failed to persist (disk full, dir removed, permissions) and refuses writes."""


class LoadingError(RespError):
    """LOADING: the server is still loading its dataset into memory."""


class BusyError(RespError):
    """BUSY: a script or function has run past the busy-reply threshold."""


class CrossSlotError(RespError):
    """CROSSSLOT: the keys of one command hash to different cluster slots."""


class ExecAbortError(RespError):
    """EXECABORT: EXEC discarded a transaction because a queued command was refused."""


class DbRangeError(RespError):
    """SELECT named a database beyond the server's `databases` (set `databases` when it could be read)."""

    databases: int | None = None


class UnknownCommandError(RespError):
    """The command is unknown to this server, or was renamed away (rename-command)."""


class RedirectError(RespError):
    """A cluster redirect: `slot` is served by `host:port`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        parts = message.split()
        self.slot = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        where = parts[2] if len(parts) > 2 else ""
        host, _, port = where.rpartition(":")
        self.host: str | None = host or None
        self.port: int | None = int(port) if port.isdigit() else None


class MovedError(RedirectError):
    """MOVED: the slot lives on another cluster node."""


class AskError(RedirectError):
    """ASK: the slot is migrating; send one ASKING + command to the node named."""


class RespProtocolError(ConnectionError):
    """The peer sent bytes that are not RESP (an HTTP server, a TLS server spoken to in plain text, ...)."""

    def __init__(self, message: str, head: bytes = b"") -> None:
        super().__init__(message)
        self.head = head


# A reply: simple/bulk strings as bytes, integers, arrays (nested), nil (None), or an error reply.
Reply: TypeAlias = "bytes | int | list[Reply] | RespError | None"

ERROR_CODES: dict[str, type[RespError]] = {
    "NOAUTH": NoAuthError, "WRONGPASS": WrongPassError, "NOPERM": NoPermError, "READONLY": ReadOnlyError,
    "MISCONF": MisconfError, "LOADING": LoadingError, "BUSY": BusyError, "CROSSSLOT": CrossSlotError,
    "EXECABORT": ExecAbortError, "MOVED": MovedError, "ASK": AskError,
}


def classify_error(message: str) -> RespError:
    """The RespError subclass naming the cause of an error reply (pure); plain RespError when unknown."""
    cls = ERROR_CODES.get(message.split(" ", 1)[0])
    if cls is not None:
        return cls(message)
    lower = message.lower()
    if "db index is out of range" in lower or "invalid db index" in lower:
        return DbRangeError(message)
    if "invalid password" in lower or "invalid username-password" in lower:
        return WrongPassError(message)  # Redis < 6 and some proxies
    if "without any password configured" in lower or "no password is set" in lower:
        return NoPasswordSetError(message)
    if lower.startswith("err unknown command") or lower.startswith("err unknown subcommand"):
        return UnknownCommandError(message)
    return RespError(message)


_PLUS, _MINUS, _COLON, _DOLLAR, _STAR = b"+-:$*"
_KINDS = frozenset(b"+-:$*")


class _Incomplete(Exception):
    """Internal: the buffer ends before the reply does."""


class RespParser:
    """Incremental RESP2 reply parser: `feed` bytes as they arrive, take whole replies with `next_reply`."""

    NEED_MORE = object()

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        """Append bytes read from the peer."""
        self._buf += data

    @property
    def buffered(self) -> int:
        """Bytes received but not yet consumed as a reply."""
        return len(self._buf)

    def next_reply(self) -> Reply | object:
        """One whole reply (an error reply as a RespError value, not raised), or NEED_MORE.

        Raises RespProtocolError when the bytes cannot be RESP.
        """
        try:
            reply, end = self._parse(0)
        except _Incomplete:
            return self.NEED_MORE
        del self._buf[:end]
        return reply

    def _garbage(self, pos: int) -> RespProtocolError:
        head = bytes(self._buf[pos:pos + 40])
        return RespProtocolError(f"the reply is not RESP (got {head!r})", head)

    def _int(self, body: bytes | bytearray, pos: int) -> int:
        try:
            return int(body)
        except ValueError:
            raise self._garbage(pos) from None

    def _parse(self, pos: int) -> tuple[Reply, int]:
        buf = self._buf
        if pos >= len(buf):
            raise _Incomplete
        kind = buf[pos]
        if kind not in _KINDS:
            raise self._garbage(pos)
        end = buf.find(b"\r\n", pos)
        if end < 0:
            if len(buf) - pos > 65536:  # no RESP header line is this long
                raise self._garbage(pos)
            raise _Incomplete
        nxt = end + 2
        if kind == _PLUS:
            return bytes(buf[pos + 1:end]), nxt
        if kind == _MINUS:
            return classify_error(buf[pos + 1:end].decode("utf-8", "replace")), nxt
        n = self._int(buf[pos + 1:end], pos)
        if kind == _COLON:
            return n, nxt
        if kind == _DOLLAR:
            if n < 0:
                return None, nxt
            if len(buf) < nxt + n + 2:
                raise _Incomplete
            if buf[nxt + n:nxt + n + 2] != b"\r\n":
                raise self._garbage(pos)
            return bytes(buf[nxt:nxt + n]), nxt + n + 2
        if n < 0:
            return None, nxt
        items: list[Reply] = []
        for _ in range(n):
            item, nxt = self._parse(nxt)
            items.append(item)
        return items, nxt


def parse_replies(data: bytes) -> list[Reply]:
    """Every whole reply in `data` (pure); RespProtocolError on non-RESP, ValueError on a trailing partial."""
    parser = RespParser()
    parser.feed(data)
    out: list[Reply] = []
    while True:
        reply = parser.next_reply()
        if reply is RespParser.NEED_MORE:
            if parser.buffered:
                raise ValueError(f"{parser.buffered} bytes of an incomplete reply at the end")
            return out
        out.append(reply)  # type: ignore[arg-type]


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
