"""The docker stack's part of the support bundle: `compose ps`, each service's logs, the compose files,
state.json; and the secret values its secret files hold, so the bundle scrubs them wherever they appear.

Everything goes through containers/compose.py for this data dir's project only.
"""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Callable

from ..context import Context
from . import docker_stack_config as cfg
from .docker_stack_project import existing, read_state

Part = tuple[str, str, Callable[[], str | None]]


def parse_env_values(text: str) -> set[str]:
    """The values of `KEY='value'` lines (claude-mem.env) (pure)."""
    values: set[str] = set()
    for line in text.splitlines():
        key, sep, raw = line.partition("=")
        if not sep or not key.strip():
            continue
        with contextlib.suppress(ValueError):
            words = shlex.split(raw)
            if words:
                values.add(words[0])
    return values


def stack_secrets(ctx: Context) -> set[str]:
    """Every secret value in <data dir>/docker-stack/secrets/: the passwords, claude-mem.env's values
    (its URLs and the passwords inside them, provider keys)."""
    from .support_bundle import url_secrets

    directory = cfg.secrets_dir(ctx.paths)
    found: set[str] = set()
    for name in ("valkey-password", "postgres-password"):
        with contextlib.suppress(OSError):
            found.add((directory / name).read_text(encoding="utf-8").strip())
    with contextlib.suppress(OSError):
        for value in parse_env_values((directory / "claude-mem.env").read_text(encoding="utf-8")):
            found.add(value)
            if "://" in value:
                found |= url_secrets(value)
    return {s for s in found if s}


def docker_parts(ctx: Context, log_lines: int) -> list[Part]:
    """The bundle entries of this data dir's docker stack (none when no stack was started here)."""
    state = read_state(ctx)
    if state is None:
        return [("docker/README.txt", "the docker stack",
                 lambda: f"no docker stack was started from {ctx.paths.data_dir}\n")]
    _, compose = existing(ctx)
    parts: list[Part] = [
        ("docker/compose-ps.json", f"docker compose -p {state.project} ps --all --format json",
         lambda: compose.ps_text(all_=True)),
        ("docker/state.json", str(cfg.stack_dir(ctx.paths) / "state.json"),
         lambda: (cfg.stack_dir(ctx.paths) / "state.json").read_text(encoding="utf-8")),
    ]
    for file in compose.project.files:
        parts.append((f"docker/{file.name}", f"the compose file {file}",
                      lambda file=file: file.read_text(encoding="utf-8")))  # type: ignore[misc]
    for service in (*cfg.SERVICES, "llm-double"):
        parts.append((f"docker/logs/{service}.log", f"the last {log_lines} log lines of {service} (docker compose "
                      "logs)", lambda service=service: compose.logs([service], tail=log_lines, timeout=60)
                      or None))  # type: ignore[misc]
    return parts
