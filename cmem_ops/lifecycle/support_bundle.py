"""`cmem-ops support-bundle`: one tar.gz to attach to a bug report, with every secret taken out.

Holds: doctor.json (`doctor --json`), status.json (`status --json`), stack.json (every part's
state), versions.json, host.json (host/), settings.json and the configs (redis.conf, the managed
cluster's record, our process records), and the last lines of every component's log. Secrets go
twice: by shape and name (redaction.py: URL and DSN passwords, requirepass, cmem_ API keys,
*_KEY/*_PASSWORD settings), then by value: every secret this machine's settings know (store and
database passwords, API keys) is replaced wherever it appears, logs included.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import platform
import sys
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .. import __version__
from ..context import Context
from ..errors import OpsError
from ..logs import tail_lines
from ..paths import FILE_MODE, ensure_private_dir
from ..redaction import is_secret_name, redact_named, scrub_known
from ..result import build_envelope, to_jsonable
from ..settings import RedisMode

LOG_LINES = 200
Say = Callable[[str], None]


@dataclass(frozen=True)
class BundleEntry:
    """One file of the bundle and what it is."""

    name: str
    size: int
    what: str


@dataclass(frozen=True)
class SupportBundle:
    """The bundle written and its contents."""

    path: Path
    entries: tuple[BundleEntry, ...]
    secrets_scrubbed: int
    elapsed_ms: float


def known_secrets(ctx: Context) -> set[str]:
    """Every secret value this machine's settings and records know (store/db passwords, API keys)."""
    from ..pgcluster import cluster

    found: set[str] = set()
    values: dict[str, Any] = {**dict(ctx.settings.file_values), **dict(ctx.settings.env)}
    for name, value in values.items():
        if not isinstance(value, str) or not value:
            continue
        if is_secret_name(name):
            found.add(value)
        if "://" in value:
            found |= url_secrets(value)
    state = cluster.load_state(ctx.paths)
    if state is not None:
        found.add(state.password)
    return {s for s in found if s}


def url_secrets(url: str) -> set[str]:
    """The password of a URL, raw and percent-decoded (pure)."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return set()
    return {password, unquote(password)} if password else set()


def log_components(names: list[str]) -> dict[str, list[str]]:
    """Group dated log file names by component: {'redis': ['redis-2026-12-01.log', ...]} (pure, oldest first)."""
    groups: dict[str, list[str]] = {}
    for name in sorted(names):
        stem = name.removesuffix(".log")
        component, day = stem[:-11], stem[-10:]
        if name.endswith(".log") and len(stem) > 11 and stem[-11] == "-" and day[4] == "-" and day[7] == "-":
            groups.setdefault(component, []).append(name)
    return groups


def _json(value: Any) -> str:
    return json.dumps(to_jsonable(value), indent=2, default=str) + "\n"


def _doctor(ctx: Context, timeout: float) -> str:
    from ..doctor.suite import DoctorOptions, run_doctor

    report = run_doctor(ctx, DoctorOptions(timeout=timeout))
    return _json(build_envelope("doctor", not int(report.exit_code), report.to_data()))


def _status(ctx: Context) -> str:
    from ..render.summary import summary_ok
    from .summary import summarize

    summary = summarize(ctx)
    return _json(build_envelope("status", summary_ok(summary), summary))


def _stack(ctx: Context) -> str:
    from .stack import status

    return _json(build_envelope("stack.status", True, status(ctx)))


def _versions(ctx: Context) -> str:
    from ..pgcluster import binaries as pg_binaries
    from ..runtime.locate import find_runtime
    from ..store.binaries import discover

    runtime = find_runtime(ctx.paths)
    return _json({
        "cmem_ops": __version__, "python": sys.version.split()[0], "platform": platform.platform(),
        "store_binaries": [{"label": b.label, "path": str(b.path), "source": b.source, "supported": b.supported,
                            "reason": b.reason} for b in discover(ctx.paths, ctx.runner)],
        "postgres_binaries": [{"version": b.version, "bindir": str(b.bindir), "source": b.source}
                              for b in pg_binaries.discover(ctx.runner)],
        "claude_mem_runtime": f"{runtime.version} ({runtime.interpreter})" if runtime else None,
    })


def _host() -> str:
    from ..host.detect import detect_host

    host = detect_host()
    return _json({**to_jsonable(host), "label": host.label, "family": host.family.value})


def _settings(ctx: Context) -> str:
    env = {k: v for k, v in ctx.settings.env.items() if k.startswith(("CLAUDE_MEM_", "CMEM_OPS_", "REDIS_"))
           or k.endswith("_API_KEY")}
    return _json({"settings.json": redact_named(dict(ctx.settings.file_values)), "environment": redact_named(env),
                  "redis_mode": ctx.settings.redis_mode.value})


def _record_files(ctx: Context) -> list[tuple[str, Path]]:
    from ..pgcluster import cluster

    files = [("config/redis.conf", ctx.paths.redis_conf), ("config/redis.pid.json", ctx.paths.redis_pid),
             ("config/postgres-cluster.json", cluster.state_file(ctx.paths))]
    if ctx.paths.run_dir.is_dir():
        files += [(f"config/run/{p.name}", p) for p in sorted(ctx.paths.run_dir.glob("*.json"))]
    return files


def _config_text(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError:
            return text
        if isinstance(data, dict):
            return _json(redact_named(data))
    return text


def build_bundle(ctx: Context, output: Path | None = None, *, timeout: float = 15.0, log_lines: int = LOG_LINES,
                 say: Say = lambda _m: None, docker: bool = False) -> SupportBundle:
    """Collect everything, scrub every secret, write the tar.gz; return what it holds.

    With `docker` (or CLAUDE_MEM_STACK=docker, or a docker stack started from this data dir) it also holds
    the docker stack's part (support_bundle_docker.py); its secret files' values are scrubbed always.
    """
    from .docker_stack_project import read_state, wants_docker
    from .support_bundle_docker import docker_parts, stack_secrets

    t0 = time.monotonic()
    secrets = known_secrets(ctx) | stack_secrets(ctx)
    texts: list[tuple[str, str, str]] = []

    def add(name: str, what: str, produce: Callable[[], str | None]) -> None:
        try:
            text = produce()
        except (OpsError, OSError, ValueError) as exc:  # one part failing never loses the rest
            text = f"could not collect {what}: {type(exc).__name__}: {exc}\n"
        if text is not None:
            texts.append((name, what, scrub_known(text, secrets)))

    say("running the doctor...")
    add("doctor.json", "cmem-ops doctor --json", lambda: _doctor(ctx, timeout))
    say("reading status, versions and host facts...")
    add("status.json", "cmem-ops status --json", lambda: _status(ctx))
    add("stack.json", "every part of the stack (stack status)", lambda: _stack(ctx))
    add("versions.json", "versions: cmem-ops, Python, server binaries, claude-mem runtime", lambda: _versions(ctx))
    add("host.json", "host facts (OS, distro, arch, Docker, root)", _host)
    add("settings.json", "settings.json and CLAUDE_MEM_*/CMEM_OPS_* environment, secrets redacted",
        lambda: _settings(ctx))
    for name, path in _record_files(ctx):
        add(name, f"{path} (redacted)", lambda path=path: _config_text(path))  # type: ignore[misc]
    say("reading the recent log lines of each component...")
    names = [p.name for p in ctx.paths.logs_dir.iterdir()] if ctx.paths.logs_dir.is_dir() else []
    for component, files in log_components(names).items():
        lines = tail_lines([ctx.paths.logs_dir / f for f in files], log_lines)
        add(f"logs/{component}.log", f"last {len(lines)} lines of {component}'s log",
            lambda lines=lines: "\n".join(lines) + "\n")  # type: ignore[misc]
    if ctx.settings.redis_mode is RedisMode.DOCKER:
        from . import store as store_service

        add("logs/store-docker.log", "the docker-mode store's log",
            lambda: "\n".join(store_service.docker_logs(ctx, log_lines)) + "\n")
    if wants_docker(ctx, docker) or read_state(ctx) is not None:
        say("reading the docker stack: compose ps, each service's logs, the compose files, state.json...")
        for name, what, produce in docker_parts(ctx, log_lines):
            add(name, what, produce)
    path = _write(ctx, output, texts)
    entries = tuple(BundleEntry(name, len(text.encode()), what) for name, what, text in texts)
    return SupportBundle(path, entries, len(secrets), round((time.monotonic() - t0) * 1000, 1))


def default_bundle_path(ctx: Context, now: dt.datetime | None = None) -> Path:
    """<data dir>/support/cmem-ops-support-<stamp>.tar.gz."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    return ctx.paths.data_dir / "support" / f"cmem-ops-support-{stamp}.tar.gz"


def _write(ctx: Context, output: Path | None, texts: list[tuple[str, str, str]]) -> Path:
    dest = (output or default_bundle_path(ctx)).expanduser().absolute()
    if output is None:
        ensure_private_dir(dest.parent)
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    now = int(time.time())
    contents = "".join(f"{name}\t{len(text.encode())}\t{what}\n" for name, what, text in texts)
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for name, text in [("CONTENTS.tsv", contents), *((n, t) for n, _w, t in texts)]:
                blob = text.encode()
                member = tarfile.TarInfo(f"cmem-ops-support/{name}")
                member.size, member.mode, member.mtime = len(blob), FILE_MODE, now
                tar.addfile(member, io.BytesIO(blob))
        os.replace(partial, dest)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise OpsError(f"cannot write the support bundle {dest}: {exc.strerror or exc}",
                       hint="pass -o FILE in a writable directory") from exc
    return dest
