"""Connect to the queue store: TCP, PING (with AUTH), and one INFO + CONFIG snapshot for the checks.

The connection comes from store_client.open_store and what answered from store_answer; this module
turns a failed Answer into words and a fix, the one mapping from a server's replies to causes that
every probe and start check uses:

    diagnose(answer, hints, timeout) -> Diagnosis          pure: probe name, status, summary, detail, hint
    explain_failure(target, exc, timeout, mode) -> Diagnosis   for code that caught an open_store error
    connect(target, timeout, hints, label, gate=None)      the doctor's tcp + ping probes and snapshot

With a `gate` (managed mode: probes/ownership.py) only AUTH and PING reach the server before the
gate has judged it; INFO, ACL WHOAMI and CONFIG are sent only when the gate says OK.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..redis_url import RedisTarget
from ..resp import NoPermError, RespError, parse_config_pairs
from ..store_answer import Answer, Failure, answer_for_failure, failure_of, read_answer, still_talks
from ..store_client import StoreConnection, open_store
from ..wait import format_seconds
from .base import ProbeResult, Status, Stopwatch

# The CONFIG keys the checks read; asked one by one so a partial CONFIG (managed services) still helps.
CONFIG_KEYS = ("maxmemory-policy", "maxmemory", "maxclients", "appendonly", "appendfsync", "save", "bind",
               "protected-mode", "requirepass", "dir", "cluster_mode", "lock_on_hashtags", "default_lua_flags")


@dataclass(frozen=True)
class StoreSnapshot:
    """What the store told us, read once and judged by the pure checks in redis_checks.py."""

    target: RedisTarget
    info: Mapping[str, str]
    config: dict[str, str] | None  # None when CONFIG is disabled or renamed
    config_error: str | None
    ping_ms: float


@dataclass(frozen=True)
class StoreHints:
    """Fix commands that depend on how the store is run (managed by us or someone else's)."""

    start: str
    restart: str
    set_password: str
    inspect: str = "cmem-ops store status"  # what to run to see what holds the address

    @classmethod
    def for_mode(cls, mode: str, target: RedisTarget) -> StoreHints:
        if mode == "managed":
            return cls(start="cmem-ops store start", restart="cmem-ops store restart",
                       set_password="cmem-ops store restart   (the managed URL in settings.json carries the password)")
        where = target.address
        return cls(start=f"start the server at {where}, or point CLAUDE_MEM_REDIS_URL at one that runs",
                   restart=f"restart the server at {where} after changing its config",
                   set_password="put the password in the URL: CLAUDE_MEM_REDIS_URL=redis://:<password>@"
                                f"{where}/{target.db}",
                   inspect=f"ss -ltnp 'sport = :{target.port}'   (what listens on {where})")


@dataclass(frozen=True)
class Diagnosis:
    """A failed Answer in words: which probe failed, how badly, why, and the fix."""

    probe: str  # "tcp" when TCP itself failed, else "ping"
    status: Status
    summary: str
    detail: str
    hint: str


def _url_with(target: RedisTarget, **changes: object) -> str:
    return target._replace(**changes).url(redact=True)  # type: ignore[arg-type]


def diagnose(answer: Answer, hints: StoreHints, timeout: float) -> Diagnosis:
    """Name the cause of a failed Answer and the command that fixes it (pure)."""
    t, f, err = answer.target, answer.failure, answer.error
    text = str(err) if err is not None else ""
    within = format_seconds(timeout)
    if f is Failure.REFUSED:
        return Diagnosis("tcp", Status.FAIL, f"cannot connect to {t.address}: connection refused (nothing listens)",
                         "", hints.start)
    if f is Failure.CONNECT_TIMEOUT:
        return Diagnosis("tcp", Status.FAIL, f"no TCP answer from {t.address} within {within}",
                         "a firewall may drop the packets, or the host is down", hints.start)
    if f is Failure.UNREACHABLE:
        why = getattr(err, "strerror", None) or text
        return Diagnosis("tcp", Status.FAIL, f"cannot connect to {t.address}: {why}", "", hints.start)
    if f is Failure.REPLY_TIMEOUT:
        return Diagnosis("ping", Status.FAIL,
                         f"{t.address} accepted the connection but did not answer "
                         f"{'AUTH/PING' if t.password is not None else 'PING'} within {within}",
                         "the server process is stopped (SIGSTOP, state T) or stuck in a long command, or the "
                         "listener is not a Redis-compatible server", hints.inspect)
    if f is Failure.TLS_TO_PLAIN:
        return Diagnosis("ping", Status.FAIL, f"{t.address} speaks plain RESP, but the URL is rediss:// (TLS)",
                         "the server has no TLS on this port", f"use CLAUDE_MEM_REDIS_URL={_url_with(t, tls=False)}")
    if f is Failure.PLAIN_TO_TLS:
        return Diagnosis("ping", Status.FAIL, f"{t.address} speaks TLS, but the URL is redis:// (plain text)",
                         "the server closed the plain-text connection and completes a TLS handshake",
                         f"use CLAUDE_MEM_REDIS_URL={_url_with(t, tls=True)}")
    if f is Failure.TLS:
        return Diagnosis("ping", Status.FAIL, f"TLS to {t.address} failed: {text}",
                         "claude-mem (ioredis) checks the certificate against the system CAs and NODE_EXTRA_CA_CERTS",
                         "trust the server's CA: NODE_EXTRA_CA_CERTS=/path/ca.pem for claude-mem "
                         "(cmem-ops reads the same variable, from the environment or settings.json), or install it in "
                         "the system store")
    if f is Failure.CLOSED:
        return Diagnosis("ping", Status.FAIL, f"{t.address} closed the connection before answering: {text}",
                         "a proxy, a server at maxclients, or not a Redis-compatible server", hints.inspect)
    if f is Failure.NOT_RESP:
        return Diagnosis("ping", Status.FAIL, f"{t.address} does not speak the Redis protocol: {text}",
                         "another kind of server (HTTP, Postgres, ...) listens there",
                         f"{hints.inspect}; then point CLAUDE_MEM_REDIS_URL at the store's port")
    if f in (Failure.NOAUTH, Failure.WRONGPASS, Failure.NO_PASSWORD_SET):
        return _auth(answer, hints, text)
    if f is Failure.NOPERM and isinstance(err, NoPermError):
        return _noperm(answer, err)
    if f is Failure.MISCONF:
        return Diagnosis("ping", Status.FAIL,
                         "the store cannot persist (MISCONF): it refuses writes until it can save again",
                         text, persistence_fix(answer.config, hints))
    if f is Failure.LOADING:
        progress = answer.info.get("loading_loaded_perc")
        eta = answer.info.get("loading_eta_seconds")
        more = f" ({progress}% loaded, about {eta}s left)" if progress and eta else ""
        return Diagnosis("ping", Status.WARN, f"the store is loading its data into memory{more} (LOADING)",
                         "it answers nothing else until the dataset is loaded", "wait, then: cmem-ops doctor")
    if f is Failure.BUSY:
        return Diagnosis("ping", Status.FAIL, "the store is busy running a script or function (BUSY)", text,
                         f"redis-cli -u {t.url(redact=True)} SCRIPT KILL   (or FUNCTION KILL)")
    if f is Failure.DB_RANGE:
        count = answer.config.get("databases")
        has = f"the server has {count} (0-{int(count) - 1})" if count else "its `databases` count could not be read"
        return Diagnosis("ping", Status.FAIL, f"database {t.db} does not exist on {t.address}: {has}", text,
                         f"use an existing database: CLAUDE_MEM_REDIS_URL={_url_with(t, db=0)}")
    return Diagnosis("ping", Status.FAIL, f"PING failed: {text}", "", hints.inspect)


def explain_failure(target: RedisTarget, exc: BaseException, timeout: float, mode: str = "external") -> Diagnosis:
    """Words and fix for an error open_store / StoreConnection raised (a second look may open one connection)."""
    return diagnose(answer_for_failure(target, exc, timeout), StoreHints.for_mode(mode, target), timeout)


def _auth(answer: Answer, hints: StoreHints, text: str) -> Diagnosis:
    t = answer.target
    if answer.failure is Failure.NOAUTH:
        return Diagnosis("ping", Status.FAIL, "authentication failed: the server requires a password and the URL "
                         "has none", text, hints.set_password)
    if answer.failure is Failure.NO_PASSWORD_SET:
        return Diagnosis("ping", Status.FAIL, f"the URL carries a password, but {t.address} has none configured",
                         text, f"drop the password: CLAUDE_MEM_REDIS_URL={_url_with(t, password=None, username=None)}"
                               " (or set requirepass on the server)")
    user = t.username
    if not user or user == "default":
        return Diagnosis("ping", Status.FAIL, "authentication failed: the password is wrong", text, hints.set_password)
    if answer.user_exists is False:
        return Diagnosis("ping", Status.FAIL, f"authentication failed: ACL user {user!r} does not exist on {t.address}",
                         text, f"create it (ACL SETUSER {user} on >PASSWORD ~* &* +@all) or fix the username "
                               "in CLAUDE_MEM_REDIS_URL")
    if answer.user_exists and answer.user_enabled is False:
        return Diagnosis("ping", Status.FAIL, f"authentication failed: ACL user {user!r} is disabled", text,
                         f"enable it: ACL SETUSER {user} on")
    if answer.user_exists:
        return Diagnosis("ping", Status.FAIL, f"authentication failed: the password of ACL user {user!r} is wrong",
                         text, hints.set_password)
    return Diagnosis("ping", Status.FAIL, f"authentication failed: the username {user!r} or its password is wrong "
                     "(or the user is disabled)", text + " (the server does not say which)",
                     f"check user {user!r} and its password in CLAUDE_MEM_REDIS_URL (ACL LIST on the server)")


def _noperm(answer: Answer, err: NoPermError) -> Diagnosis:
    user = err.user or answer.user or answer.target.username or "default"
    command = (err.command or "ping").split("|")[0]
    return Diagnosis("ping", Status.FAIL, f"ACL user {user!r} may not run {command.upper()} (NOPERM)", err.message,
                     f"ACL SETUSER {user} +{command.lower()}   (the acl check lists everything else BullMQ "
                     "needs; a least-privilege user: cmem-ops store acl)")


def persistence_fix(config: Mapping[str, str], hints: StoreHints) -> str:
    """'free disk space on <dir>' when CONFIG GET dir answered, else say why the dir is unknown (pure)."""
    where = config.get("dir")
    if where:
        return f"free disk space on {where} (df -h {where}); writes resume once a save succeeds: cmem-ops doctor"
    if where == "":  # getcwd() failed in the server: its working dir was removed
        return f"the store's data dir was removed while it ran (CONFIG GET dir is empty): {hints.restart}"
    why = config.get("dir!", "CONFIG GET dir is not allowed")
    return (f"free disk space in the store's data dir (its path is unknown: {why}); "
            f"writes resume once a save succeeds: cmem-ops doctor")


def connect(target: RedisTarget, timeout: float, hints: StoreHints, label: str,
            gate: Callable[[StoreConnection], ProbeResult] | None = None
            ) -> tuple[list[ProbeResult], StoreConnection | None, StoreSnapshot | None]:
    """Run the TCP and PING probes and take the snapshot; the connection is returned open for later probes.

    `gate(conn)` runs right after PING; its result is added, and when it FAILs nothing more is sent.
    """
    sw = Stopwatch()
    try:
        conn = open_store(target, timeout)
    except (OSError, RespError) as exc:
        return _failed(answer_for_failure(target, exc, timeout), hints, timeout, label, sw), None, None
    verdict: ProbeResult | None = None
    if gate is not None:
        pinged = _ping(conn)
        if pinged.failure is not None and not still_talks(pinged.failure):
            conn.close()
            return _failed(pinged, hints, timeout, label, sw), None, None
        verdict = gate(conn)  # MISCONF, LOADING, NOPERM still talk: our own store is worth explaining
        if verdict.status is Status.FAIL:
            conn.close()
            said = (_failed(pinged, hints, timeout, label, sw) if pinged.failure is not None else
                    [ProbeResult("tcp", label, Status.OK, f"connected to {target.address}").timed(sw.ms),
                     ProbeResult("ping", label, Status.OK, f"PONG in {pinged.ping_ms or 0:.1f} ms",
                                 data={"user": pinged.user}).timed(sw.ms)])
            return [*said, verdict], None, None
    answer = read_answer(conn)
    if not answer.ok:
        conn.close()
        return _failed(answer, hints, timeout, label, sw) + ([verdict] if verdict else []), None, None
    ping_ms = answer.ping_ms or 0.0
    results = [ProbeResult("tcp", label, Status.OK, f"connected to {target.address}"
                           + (" over TLS" if answer.tls else "")).timed(sw.ms),
               ProbeResult("ping", label, Status.OK, f"PONG in {ping_ms:.1f} ms as user {answer.user or 'default'}",
                           data={"ping_ms": round(ping_ms, 3), "user": answer.user, "role": answer.role}
                           ).timed(sw.ms)] + ([verdict] if verdict else [])
    if not answer.info:
        conn.close()
        refused = answer.info_error
        if isinstance(refused, NoPermError):
            d = _noperm(answer, refused)
            results.append(ProbeResult("info", label, Status.FAIL, d.summary, detail=d.detail, hint=d.hint))
        else:
            results.append(ProbeResult("info", label, Status.FAIL, f"INFO failed: {refused or 'empty reply'}",
                                       hint="the queue store must allow INFO; check its ACL / rename-command "
                                            "settings"))
        return results, None, None
    config: dict[str, str] | None = {}
    config_error = None
    try:
        for key in CONFIG_KEYS:
            try:
                config.update(parse_config_pairs(conn.command("CONFIG", "GET", key)))  # type: ignore[union-attr]
            except RespError as exc:
                lower = str(exc).lower()
                if "unknown command" in lower or "unknown subcommand" in lower or "noperm" in lower:
                    config, config_error = None, str(exc)
                    break
    except OSError as exc:
        conn.close()
        results.append(ProbeResult("info", label, Status.FAIL, f"CONFIG GET failed: {exc}", hint=hints.inspect))
        return results, None, None
    return results, conn, StoreSnapshot(target, answer.info, config, config_error, ping_ms)


def _ping(conn: StoreConnection) -> Answer:
    """PING alone (timed): the one command a server not yet proven ours is sent after AUTH."""
    base = Answer(conn.target, connected=True, tls=conn.tls, user=conn.user)
    started = time.perf_counter()
    try:
        conn.command("PING")
    except (OSError, RespError) as exc:
        return base._replace(failure=failure_of(exc), error=exc)
    return base._replace(ping_ms=(time.perf_counter() - started) * 1000)


def _failed(answer: Answer, hints: StoreHints, timeout: float, label: str, sw: Stopwatch) -> list[ProbeResult]:
    d = diagnose(answer, hints, timeout)
    data = {"failure": answer.failure.value if answer.failure else None, "tls": answer.tls, "user": answer.user}
    failed = ProbeResult(d.probe, label, d.status, d.summary, detail=d.detail, hint=d.hint, data=data).timed(sw.ms)
    if d.probe == "tcp":
        return [failed]
    results = [ProbeResult("tcp", label, Status.OK, f"connected to {answer.address}").timed(sw.ms), failed]
    if answer.failure is Failure.MISCONF:  # the cause is persistence: say so where people look for it
        keys = ("aof_last_write_status", "rdb_last_bgsave_status")
        statuses: dict[str, str] = {k: answer.info[k] for k in keys if k in answer.info}
        results.append(ProbeResult("persistence", label, Status.FAIL, "writes are refused: the store cannot save "
                                   "its data (MISCONF)", detail=", ".join(f"{k}:{v}" for k, v in statuses.items()),
                                   hint=d.hint, data={**statuses, "dir": answer.config.get("dir")}).timed(sw.ms))
    return results


def close_quietly(conn: StoreConnection | None) -> None:
    """Close `conn` if open."""
    if conn is not None:
        conn.close()
