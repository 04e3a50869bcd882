"""What answered at a queue-store address: `ask(target, timeout) -> Answer`, and why it failed.

    ask(target, timeout, *, ssl_context=None) -> Answer          opens, asks, closes; never raises for the server
    read_answer(conn, started) -> Answer                         the same questions on a connection you keep open
    answer_for_failure(target, exc, timeout) -> Answer           the Answer for an error open_store raised
    failure_of(exc) -> Failure                                   pure: the closed set of reasons

An Answer says: did TCP connect; was TLS spoken; which ACL user we are (ACL WHOAMI, else what AUTH
named); flavour, version and role from INFO; the PING round trip; and, on failure, the classified
error plus what could still be read to explain it: `config["dir"]` on MISCONF (CONFIG GET dir),
`config["databases"]` on a database out of range, `user_exists`/`user_enabled` on WRONGPASS for a
named ACL user (ACL GETUSER on an unauthenticated connection, when the default user may run it).
Turning an Answer into words and fixes is probes/redis_conn.py's job (`diagnose`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from .redis_url import RedisTarget
from .resp import (
    BusyError,
    DbRangeError,
    LoadingError,
    MisconfError,
    NoAuthError,
    NoPasswordSetError,
    NoPermError,
    ReadOnlyError,
    RespError,
    RespProtocolError,
    UnknownCommandError,
    WrongPassError,
    parse_config_pairs,
    parse_info,
)
from .store.flavour import Flavour, detect_flavour
from .store_client import (
    ConnectTimeout,
    PlainToTlsError,
    ReplyTimeout,
    StoreConnection,
    TlsToPlainError,
    open_store,
)

if TYPE_CHECKING:
    import ssl


class Failure(StrEnum):
    """Why a store did not answer PING as asked."""

    REFUSED = "refused"                  # nothing listens (ECONNREFUSED)
    UNREACHABLE = "unreachable"          # DNS, no route, network down
    CONNECT_TIMEOUT = "connect-timeout"  # no TCP answer
    REPLY_TIMEOUT = "reply-timeout"      # accepted, silent: stopped (SIGSTOP), stuck, or not RESP
    CLOSED = "closed"                    # the peer closed or reset the connection
    NOT_RESP = "not-resp"                # the peer sent something that is not RESP
    TLS_TO_PLAIN = "tls-to-plain"        # rediss:// to a plain server
    PLAIN_TO_TLS = "plain-to-tls"        # redis:// to a TLS server
    TLS = "tls"                          # TLS failed: certificate not trusted, protocol mismatch
    NOAUTH = "noauth"                    # a password is required, none was given
    WRONGPASS = "wrongpass"              # username or password wrong, or user disabled
    NO_PASSWORD_SET = "no-password-set"  # a password was given, the server has none
    NOPERM = "noperm"                    # the ACL user may not run a command we need
    MISCONF = "misconf"                  # the server cannot persist: writes (and PING) refused
    LOADING = "loading"                  # the server is loading its dataset
    BUSY = "busy"                        # a script is running past the busy threshold
    DB_RANGE = "db-range"                # /db beyond `databases`
    READONLY = "readonly"                # a replica refused a write
    ERROR = "error"                      # any other error reply


_REPLY_FAILURES: tuple[tuple[type[RespError], Failure], ...] = (
    (NoAuthError, Failure.NOAUTH), (WrongPassError, Failure.WRONGPASS), (NoPasswordSetError, Failure.NO_PASSWORD_SET),
    (NoPermError, Failure.NOPERM), (MisconfError, Failure.MISCONF), (LoadingError, Failure.LOADING),
    (BusyError, Failure.BUSY), (DbRangeError, Failure.DB_RANGE), (ReadOnlyError, Failure.READONLY),
)


def failure_of(exc: BaseException) -> Failure:
    """The Failure an exception from open_store / StoreConnection stands for (pure)."""
    if isinstance(exc, RespError):
        return next((f for cls, f in _REPLY_FAILURES if isinstance(exc, cls)), Failure.ERROR)
    simple: tuple[tuple[type[BaseException], Failure], ...] = (
        (TlsToPlainError, Failure.TLS_TO_PLAIN), (PlainToTlsError, Failure.PLAIN_TO_TLS),
        (RespProtocolError, Failure.NOT_RESP), (ConnectTimeout, Failure.CONNECT_TIMEOUT),
        (ReplyTimeout, Failure.REPLY_TIMEOUT), (ConnectionRefusedError, Failure.REFUSED),
    )
    for cls, failure in simple:
        if isinstance(exc, cls):
            return failure
    if type(exc).__module__ == "ssl" or "SSL" in type(exc).__name__:
        return Failure.TLS
    if isinstance(exc, TimeoutError):
        return Failure.REPLY_TIMEOUT
    if isinstance(exc, ConnectionError):
        return Failure.CLOSED
    return Failure.UNREACHABLE


# Failures after which the connection still serves INFO / CONFIG, so the Answer can say more.
_STILL_TALKS = frozenset({Failure.MISCONF, Failure.LOADING, Failure.NOPERM})


def still_talks(failure: Failure) -> bool:
    """True when a connection whose PING failed this way still serves INFO / CONFIG (pure)."""
    return failure in _STILL_TALKS


class Answer(NamedTuple):
    """What answered at `target`, and (when `failure` is set) why it did not answer as asked."""

    target: RedisTarget
    connected: bool = False              # TCP connected
    tls: bool = False                    # TLS was spoken
    user: str | None = None              # ACL WHOAMI, else the user AUTH named; None when unknown
    flavour: Flavour | None = None
    version: str | None = None
    role: str | None = None              # master / slave (INFO replication)
    info: Mapping[str, str] = MappingProxyType({})    # read-only: the defaults are shared
    config: Mapping[str, str] = MappingProxyType({})  # CONFIG values read to explain a failure
    ping_ms: float | None = None
    info_error: RespError | None = None  # why INFO was refused (NOPERM, renamed), when it was
    failure: Failure | None = None
    error: BaseException | None = None
    user_exists: bool | None = None      # on WRONGPASS for a named user: None when it could not be told
    user_enabled: bool | None = None
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        """PING answered PONG with our credentials."""
        return self.failure is None

    @property
    def address(self) -> str:
        return self.target.address


def ask(target: RedisTarget, timeout: float = 2.0, *, ssl_context: ssl.SSLContext | None = None) -> Answer:
    """Connect, AUTH, SELECT, PING, INFO, ACL WHOAMI; say what answered (never raises for the server)."""
    started = time.perf_counter()
    try:
        conn = open_store(target, timeout, ssl_context=ssl_context)
    except (OSError, RespError) as exc:
        return answer_for_failure(target, exc, timeout, started)
    with conn:
        return read_answer(conn, started)


def read_answer(conn: StoreConnection, started: float | None = None) -> Answer:
    """PING (timed), then INFO and ACL WHOAMI in one round trip, on an open connection (never raises)."""
    started = time.perf_counter() if started is None else started
    base = Answer(conn.target, connected=True, tls=conn.tls, user=conn.user)
    failure: Failure | None = None
    error: BaseException | None = None
    ping_ms = None
    try:
        t0 = time.perf_counter()
        conn.command("PING")
        ping_ms = (time.perf_counter() - t0) * 1000
    except (OSError, RespError) as exc:
        failure, error = failure_of(exc), exc
        if failure not in _STILL_TALKS:
            return _done(base, started, failure=failure, error=error)
    try:
        info_reply, whoami = conn.pipeline(("INFO",), ("ACL", "WHOAMI"))
    except (OSError, RespError) as exc:
        return _done(base, started, failure=failure or failure_of(exc), error=error or exc, ping_ms=ping_ms)
    info = parse_info(info_reply.decode("utf-8", "replace")) if isinstance(info_reply, bytes) else {}
    info_error = info_reply if isinstance(info_reply, RespError) else None
    user = whoami.decode() if isinstance(whoami, bytes) else conn.user
    if user is None and isinstance(whoami, UnknownCommandError):
        user = "default"  # before ACLs (Redis < 6) every connection is the default user
    config = _config(conn, "dir") if failure is Failure.MISCONF or info.get("aof_last_write_status") == "err" else {}
    flavour, version = detect_flavour(info) if info else (None, None)
    return _done(base, started, user=user, flavour=flavour, version=version, role=info.get("role"), info=info,
                 config=config, ping_ms=ping_ms, info_error=info_error, failure=failure, error=error)


def _done(base: Answer, started: float, **changes: object) -> Answer:
    return base._replace(elapsed_ms=round((time.perf_counter() - started) * 1000, 2), **changes)  # type: ignore[arg-type]


def _config(conn: StoreConnection, key: str) -> dict[str, str]:
    try:
        return parse_config_pairs(conn.command("CONFIG", "GET", key))
    except (OSError, RespError) as exc:
        return {f"{key}!": str(exc)}  # why it could not be read, for the message


def answer_for_failure(target: RedisTarget, exc: BaseException, timeout: float,
                       started: float | None = None) -> Answer:
    """The Answer for an error open_store raised, with what a second look can add (never raises)."""
    started = time.perf_counter() if started is None else started
    failure = failure_of(exc)
    connected = failure not in (Failure.REFUSED, Failure.UNREACHABLE, Failure.CONNECT_TIMEOUT)
    base = Answer(target, connected=connected, tls=target.tls and failure not in (
        Failure.TLS_TO_PLAIN, Failure.TLS), user=target.username or "default" if target.password else None)
    if isinstance(exc, DbRangeError):
        config = {"databases": str(exc.databases)} if exc.databases is not None else {}
        return _done(base, started, failure=failure, error=exc, config=config)
    if failure is Failure.WRONGPASS and target.username and target.username != "default":
        exists, enabled = _user_state(target, timeout)
        return _done(base, started, failure=failure, error=exc, user_exists=exists, user_enabled=enabled)
    return _done(base, started, failure=failure, error=exc)


def _user_state(target: RedisTarget, timeout: float) -> tuple[bool | None, bool | None]:
    """(exists, enabled) of target.username via ACL GETUSER on an unauthenticated connection; None: cannot tell."""
    try:
        with open_store(target, timeout, authenticate=False) as conn:
            reply = conn.command("ACL", "GETUSER", target.username or "")
    except (OSError, RespError):
        return None, None
    if reply is None:
        return False, None
    if not isinstance(reply, list):
        return True, None
    fields = dict(zip(reply[0::2], reply[1::2], strict=False))
    flags = fields.get(b"flags")
    return True, (b"off" not in flags) if isinstance(flags, list) else None
