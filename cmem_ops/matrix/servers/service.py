"""Use an already running throwaway server ($CMEM_MATRIX_<T>_URL), e.g. a CI service container.

CI services cannot be given a command line, so the managed store's queue settings (AOF everysec,
noeviction, protected mode, and a password when the URL has none) are applied with CONFIG SET before the checks and
the previous values are put back afterwards. A setting the server refuses (Dragonfly has no AOF) is
left alone: the doctor's checks then report what the server really does.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from ...errors import OpsError
from ...redis_url import RedisTarget, parse_redis_url
from ...resp import RespError, parse_config_pairs
from ...store_client import open_store
from ..targets import Target
from .base import StartSpec, wait_for_ping

MANAGED_SETTINGS = (("appendonly", "yes"), ("appendfsync", "everysec"), ("maxmemory-policy", "noeviction"),
                    ("protected-mode", "yes"))


def plan_settings(has_password: bool, password: str) -> tuple[tuple[str, str], ...]:
    """The CONFIG SET pairs that give a bare server the managed config (pure)."""
    return MANAGED_SETTINGS if has_password else (*MANAGED_SETTINGS, ("requirepass", password))


@dataclass
class ServiceServer:
    """A server someone else started; `stop` restores the settings this run changed."""

    target: RedisTarget
    description: str
    original: RedisTarget
    changed: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)

    def stop(self) -> str:
        if not self.changed:
            return "nothing to restore"
        try:
            with open_store(self.target, 5.0) as conn:
                # requirepass last: after it the connection's own AUTH no longer matters.
                for key in sorted(self.changed, key=lambda k: k == "requirepass"):
                    conn.command("CONFIG", "SET", key, self.changed[key])
        except (OSError, RespError) as exc:
            return f"could not restore {', '.join(self.changed)}: {exc}"
        return f"restored {', '.join(self.changed)}"


def attach_service(target: Target, url: str, spec: StartSpec) -> ServiceServer:
    """Wait for the server at `url`, apply the managed settings, remember the old values."""
    original = parse_redis_url(url)
    wait_for_ping(original, spec.deadline, f"the server at {original.address} (${target.url_env})",
                  hint=f"check the service behind {target.url_env}={original.url(redact=True)}")
    password = original.password or spec.password or secrets.token_hex(16)
    server = ServiceServer(original, f"service at {original.address} (${target.url_env})", original)
    try:
        with open_store(original, 5.0) as conn:
            for key, value in plan_settings(original.password is not None, password):
                try:
                    before = parse_config_pairs(conn.command("CONFIG", "GET", key)).get(key)
                    conn.command("CONFIG", "SET", key, value)
                except RespError as exc:
                    server.refused[key] = str(exc)
                    continue
                server.changed[key] = before if before is not None else ""
    except (OSError, RespError) as exc:
        server.stop()
        raise OpsError(f"could not configure the server at {original.address}: {exc}",
                       hint=f"check the service behind {target.url_env}") from exc
    if "requirepass" in server.changed:
        server.target = original._replace(password=password)
    if server.refused:
        server.description += f"; refused CONFIG SET {', '.join(sorted(server.refused))}"
    return server
