"""The TLS trust claude-mem's Node has: the system CA store plus NODE_EXTRA_CA_CERTS, hostname checked.

claude-mem's `rediss://` sets ioredis `tls: {}`: no CA option, no way to skip verification. Node adds
the PEM file named by NODE_EXTRA_CA_CERTS (read once, from its environment, at start) to its roots,
and ignores a file it cannot load (with a warning). cmem-ops verifies exactly that way, so what the
doctor accepts is what claude-mem will accept. cmem-ops' stack commands hand NODE_EXTRA_CA_CERTS from
the environment or settings.json to the server and workers (claudemem/env.py PASSTHROUGH_KEYS), so
this module reads it from the same two places.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping

KEY_EXTRA_CA = "NODE_EXTRA_CA_CERTS"


def extra_ca_file(env: Mapping[str, str] | None = None) -> str | None:
    """NODE_EXTRA_CA_CERTS from the environment, else from settings.json (None when unset or unreadable)."""
    env = os.environ if env is None else env
    if env.get(KEY_EXTRA_CA):
        return env[KEY_EXTRA_CA]
    from .errors import ConfigError
    from .paths import Paths
    from .settings import read_settings_file

    try:
        value = read_settings_file(Paths.from_env(env).settings_file).get(KEY_EXTRA_CA)
    except ConfigError:
        return None
    return str(value) if value else None


def build_node_context(extra_ca: str | None) -> tuple[ssl.SSLContext, str | None]:
    """(context, problem): system CAs + `extra_ca`, chain and hostname verified; `problem`: why a file was ignored."""
    ctx = ssl.create_default_context()
    problem = None
    if extra_ca:
        try:
            ctx.load_verify_locations(cafile=extra_ca)
        except (OSError, ssl.SSLError) as exc:  # Node ignores such a file too, with a warning
            problem = f"{KEY_EXTRA_CA}={extra_ca} cannot be loaded ({getattr(exc, 'strerror', None) or exc})"
    return ctx, problem


def client_context(env: Mapping[str, str] | None = None) -> ssl.SSLContext:
    """The context every cmem-ops rediss:// connection uses (Node's trust, see module docstring)."""
    return build_node_context(extra_ca_file(env))[0]
