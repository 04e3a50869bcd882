"""claude-mem's startup rules, and the few cmem-ops adds, as doctor-style lines with fixes (pure).

The bundle checks its environment when it starts (`server startup configuration is invalid:` and one
`  - ...` line per problem, then exit 1). cmem-ops checks the same environment first, so a bad
setting is refused before anything is spawned, with the command that fixes it:

    CLAUDE_MEM_SERVER_DATABASE_URL       required (a postgres:// URL)
    CLAUDE_MEM_REDIS_URL                 required with CLAUDE_MEM_QUEUE_ENGINE=bullmq (redis:// or rediss://)
    CLAUDE_MEM_QUEUE_ENGINE              bullmq (claude-mem: required in Docker; cmem-ops: its workers need it)
    CLAUDE_MEM_AUTH_MODE                 api-key | disabled | local-dev; local-dev refused in Docker,
                                         and needs CLAUDE_MEM_ALLOW_LOCAL_DEV_BYPASS=1 elsewhere
    CLAUDE_MEM_ALLOW_LOCAL_DEV_BYPASS    refused in Docker
    CLAUDE_MEM_RUNTIME                   server (or legacy server-beta)
    CLAUDE_MEM_SERVER_HOST / _PORT       a loopback host is expected; a valid port
    provider (worker only)               without a provider and its key the worker generates nothing
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from ..probes.base import Group, ProbeResult, Status
from ..redaction import redact_text
from .env import (
    KEY_AUTH_MODE,
    KEY_DATABASE_URL,
    KEY_DOCKER,
    KEY_ENGINE,
    KEY_HOST,
    KEY_LOCAL_DEV_BYPASS,
    KEY_PORT,
    KEY_PREFIX,
    KEY_REDIS_URL,
    KEY_RUNTIME,
    PROVIDER_KEYS,
    provider_of,
)

TARGET = "settings"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
AUTH_MODES = ("api-key", "disabled", "local-dev")


def detect_docker(env: Mapping[str, str], root: Path = Path("/")) -> bool:
    """True where claude-mem applies its Docker rules: CLAUDE_MEM_DOCKER=1|true, or /.dockerenv exists."""
    if env.get(KEY_DOCKER) in ("1", "true"):
        return True
    try:
        return (root / ".dockerenv").exists()
    except OSError:
        return False


def _line(name: str, status: Status, summary: str, hint: str | None = None, detail: str = "") -> ProbeResult:
    return ProbeResult(name, TARGET, status, redact_text(summary), detail=detail, hint=hint, group=Group.SERVER,
                       required=status is not Status.WARN)


def check_database_url(env: Mapping[str, str]) -> ProbeResult:
    """CLAUDE_MEM_SERVER_DATABASE_URL is required and must be a postgres:// URL."""
    url = (env.get(KEY_DATABASE_URL) or "").strip()
    if not url:
        return _line("database url", Status.FAIL, f"{KEY_DATABASE_URL} is not set: the server cannot start",
                     hint="cmem-ops postgres start   (the managed cluster; or set "
                          f"{KEY_DATABASE_URL}=postgres://user:password@host:5432/claude_mem)")
    scheme = urlsplit(url).scheme
    if scheme not in ("postgres", "postgresql"):
        return _line("database url", Status.FAIL, f"{KEY_DATABASE_URL} has scheme {scheme or '(none)'!r}",
                     hint=f"use the form {KEY_DATABASE_URL}=postgres://user:password@host:5432/claude_mem")
    return _line("database url", Status.OK, f"Postgres {redact_text(url)}")


def check_engine(env: Mapping[str, str], docker: bool) -> ProbeResult:
    """The queue engine must be bullmq: separate workers consume BullMQ (and claude-mem requires it in Docker)."""
    engine = (env.get(KEY_ENGINE) or "").strip().lower()
    if engine == "bullmq":
        return _line("queue engine", Status.OK, "bullmq")
    why = ("claude-mem refuses any other engine in Docker" if docker
           else "the separate worker processes consume BullMQ queues")
    return _line("queue engine", Status.FAIL, f"{KEY_ENGINE}={engine or '(unset)'}: {why}",
                 hint=f"set {KEY_ENGINE}=bullmq   (cmem-ops install --queue bullmq)")


def check_redis_url(env: Mapping[str, str]) -> ProbeResult | None:
    """A redis:// or rediss:// URL, required with bullmq; None when neither applies."""
    engine = (env.get(KEY_ENGINE) or "").strip().lower()
    url = (env.get(KEY_REDIS_URL) or "").strip()
    if engine == "bullmq" and not url:
        return _line("redis url", Status.FAIL, f"{KEY_REDIS_URL} is required with {KEY_ENGINE}=bullmq",
                     hint="cmem-ops store start   (the managed Valkey; or set "
                          f"{KEY_REDIS_URL}=redis://:password@host:6379/0)")
    if not url:
        return None
    scheme = urlsplit(url).scheme
    if scheme not in ("redis", "rediss"):
        return _line("redis url", Status.FAIL, f"{KEY_REDIS_URL} has scheme {scheme or '(none)'!r}",
                     hint=f"use the form {KEY_REDIS_URL}=redis://:password@host:6379/0")
    return _line("redis url", Status.OK, f"queue store {redact_text(url)}")


def check_prefix(env: Mapping[str, str]) -> ProbeResult:
    """The queue prefix should be pinned, or processes with different worker ports read different queues."""
    prefix = (env.get(KEY_PREFIX) or "").strip()
    if not prefix:
        return _line("queue prefix", Status.WARN, f"{KEY_PREFIX} is not pinned: processes started with "
                     "different worker ports read different queues",
                     hint="cmem-ops server start   (pins it in settings.json)")
    return _line("queue prefix", Status.OK, f"pinned: {prefix}")


def check_queue(env: Mapping[str, str], docker: bool) -> list[ProbeResult]:
    """Engine, URL and prefix of the queue."""
    url = check_redis_url(env)
    return [check_engine(env, docker), *([url] if url else []), check_prefix(env)]


def check_auth(env: Mapping[str, str], docker: bool) -> ProbeResult:
    """api-key is the default; local-dev is refused in Docker and needs the bypass switch elsewhere."""
    mode = (env.get(KEY_AUTH_MODE) or "api-key").strip()
    bypass = env.get(KEY_LOCAL_DEV_BYPASS) in ("1", "true")
    if docker and mode == "local-dev":
        return _line("auth mode", Status.FAIL, f"{KEY_AUTH_MODE}=local-dev is refused under Docker",
                     hint=f"set {KEY_AUTH_MODE}=api-key and create a key: cmem-ops server api-key create")
    if docker and bypass:
        return _line("auth mode", Status.FAIL, f"{KEY_LOCAL_DEV_BYPASS} is refused under Docker (loopback cannot "
                     "be enforced inside a container)", hint=f"remove {KEY_LOCAL_DEV_BYPASS}")
    if mode not in AUTH_MODES:
        return _line("auth mode", Status.FAIL, f"{KEY_AUTH_MODE}={mode!r} is not one of {', '.join(AUTH_MODES)}",
                     hint=f"set {KEY_AUTH_MODE}=api-key")
    if mode == "local-dev" and not bypass:
        return _line("auth mode", Status.WARN, f"{KEY_AUTH_MODE}=local-dev without {KEY_LOCAL_DEV_BYPASS}=1: "
                     "requests without a key are refused", hint=f"set {KEY_LOCAL_DEV_BYPASS}=1, or use api-key")
    if mode == "disabled":
        return _line("auth mode", Status.WARN, "authentication is disabled: anyone who reaches the port can "
                     "read and write memories", hint=f"set {KEY_AUTH_MODE}=api-key")
    return _line("auth mode", Status.OK, mode)


def check_runtime(env: Mapping[str, str]) -> ProbeResult:
    """CLAUDE_MEM_RUNTIME must name the server runtime."""
    runtime = (env.get(KEY_RUNTIME) or "").strip()
    if runtime not in ("server", "server-beta"):
        return _line("runtime", Status.FAIL, f"{KEY_RUNTIME}={runtime or '(unset)'}: the server bundle needs "
                     "server", hint=f"set {KEY_RUNTIME}=server   (cmem-ops server start writes it)")
    return _line("runtime", Status.OK, runtime)


def check_address(env: Mapping[str, str]) -> ProbeResult:
    """A valid port, and a loopback host (anything else exposes the server beyond this machine)."""
    host = (env.get(KEY_HOST) or "127.0.0.1").strip()
    raw = (env.get(KEY_PORT) or "").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        return _line("address", Status.FAIL, f"{KEY_PORT}={raw or '(unset)'} is not a port number",
                     hint=f"remove {KEY_PORT} from settings.json; cmem-ops server start picks a free one")
    if host not in LOOPBACK_HOSTS:
        return _line("address", Status.WARN, f"the server listens on {host}:{raw}, beyond loopback",
                     hint=f"set {KEY_HOST}=127.0.0.1 unless you mean to expose it (then put TLS in front)")
    return _line("address", Status.OK, f"{host}:{raw}")


def check_provider(env: Mapping[str, str]) -> ProbeResult:
    """The worker needs a provider and its API key, or it generates no observations."""
    name, has_key = provider_of(env)
    if name is None:
        return _line("provider", Status.WARN, "no CLAUDE_MEM_SERVER_PROVIDER: the worker runs but generates nothing",
                     hint="set CLAUDE_MEM_SERVER_PROVIDER=anthropic and ANTHROPIC_API_KEY in settings.json")
    if name not in PROVIDER_KEYS:
        return _line("provider", Status.WARN, f"provider {name!r} is unknown to claude-mem: generation is disabled",
                     hint="set CLAUDE_MEM_SERVER_PROVIDER to one of anthropic, gemini, openrouter")
    if not has_key:
        keys = " or ".join(PROVIDER_KEYS[name])
        return _line("provider", Status.WARN, f"provider {name} has no API key: generation is disabled",
                     hint=f"set {keys} in settings.json")
    return _line("provider", Status.OK, name)


def validate_server_env(env: Mapping[str, str], *, docker: bool) -> list[ProbeResult]:
    """Every rule for the HTTP process over the exact environment it would get (pure)."""
    return [check_runtime(env), check_database_url(env), *check_queue(env, docker), check_auth(env, docker),
            check_address(env)]


def validate_worker_env(env: Mapping[str, str], *, docker: bool) -> list[ProbeResult]:
    """Every rule for a generation worker: the server's, plus a provider (pure)."""
    return [*validate_server_env(env, docker=docker), check_provider(env)]


def validate_preflight(env: Mapping[str, str], *, docker: bool) -> list[ProbeResult]:
    """The rules that hold before the store and the database exist: engine and auth mode (pure)."""
    return [check_engine(env, docker), check_auth(env, docker)]


def failures(results: Iterable[ProbeResult]) -> list[ProbeResult]:
    """The lines that stop a start."""
    return [r for r in results if r.status is Status.FAIL]


def format_refusal(what: str, results: Iterable[ProbeResult]) -> str:
    """The message of a refused start: one `  - summary (fix: ...)` line per failed rule (pure)."""
    lines = [f"{what} startup configuration is invalid:"]
    for result in failures(results):
        fix = f"\n      fix: {result.hint}" if result.hint else ""
        lines.append(f"  - {result.name}: {result.summary}{fix}")
    return "\n".join(lines)
