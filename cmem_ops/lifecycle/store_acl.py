"""`cmem-ops store acl`: a least-privilege ACL user for claude-mem's queue prefix, ready to paste.

The commands come from claudemem/queue_commands.py (what BullMQ's scripts and clients run); the key
pattern from the prefix claude-mem will use (CLAUDE_MEM_QUEUE_REDIS_PREFIX, pinned or its default).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from ..claudemem.env import default_prefix, sanitize_prefix
from ..claudemem.queue_commands import COMMANDS, DOCTOR_EXTRAS, SMOKE_KEY_PATTERN, build_acl_setuser, key_pattern
from ..context import Context
from ..errors import ConfigError

DEFAULT_USER = "claude-mem"


@dataclass(frozen=True)
class AclUser:
    """The user to create, the line that creates it, and the URL claude-mem should then use."""

    user: str
    prefix: str
    key_patterns: tuple[str, ...]
    commands: tuple[str, ...]
    setuser: str
    url: str | None  # with <password> in place of the secret; None when no store URL is configured


def plan_acl_user(ctx: Context, user: str | None = None, password: str | None = None, prefix: str | None = None,
                  *, doctor: bool = True) -> AclUser:
    """The least-privilege user for this install's prefix; a random password unless one is given."""
    name = user or DEFAULT_USER
    if not name or any(ch.isspace() for ch in name) or name.startswith((">", "<", "~", "+", "-", "&", "%")):
        raise ConfigError(f"ACL user name {name!r} is not usable in ACL SETUSER",
                          hint=f"pick a plain name: cmem-ops store acl --user {DEFAULT_USER}")
    raw = prefix or ctx.settings.queue_prefix
    pinned = sanitize_prefix(raw) if raw else default_prefix(ctx.settings.get("CLAUDE_MEM_WORKER_PORT"),
                                                             os.getuid() if hasattr(os, "getuid") else 0)
    secret = password or secrets.token_urlsafe(24)
    target = ctx.settings.redis_target()
    url = None
    if target is not None:
        scheme = "rediss" if target.tls else "redis"
        url = f"{scheme}://{name}:<password>@{target.address}/{target.db}"
    cmds = [c.name for c in COMMANDS] + ([c.name for c in DOCTOR_EXTRAS] if doctor else [])
    keys = (key_pattern(pinned),) + ((SMOKE_KEY_PATTERN,) if doctor else ())
    return AclUser(name, pinned, keys, tuple(cmds), build_acl_setuser(name, secret, pinned, doctor=doctor), url)


def format_acl_user(plan: AclUser) -> list[str]:
    """The text of `cmem-ops store acl` (pure)."""
    lines = [f"# least-privilege ACL user {plan.user} for claude-mem's queue prefix {plan.prefix} "
             f"({len(plan.commands)} commands, keys {' '.join(plan.key_patterns)}); run it as an admin:",
             plan.setuser]
    if plan.url:
        lines.append(f"# then: CLAUDE_MEM_REDIS_URL={plan.url}   (with the password that follows '>' above)")
    else:
        lines.append(f"# then: CLAUDE_MEM_REDIS_URL=redis://{plan.user}:<password>@<host>:<port>/0")
    if SMOKE_KEY_PATTERN in plan.key_patterns:
        lines.append(f"# ~{SMOKE_KEY_PATTERN} +scan +dbsize +script|load serve only `cmem-ops doctor` (its smoke "
                     "job); drop them with --no-doctor")
    return lines
