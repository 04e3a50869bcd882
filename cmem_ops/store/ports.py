"""Choose the store's private port once, and ask whether something answers on a port."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random

# Below Linux's ephemeral range (32768-60999) so outgoing connections never take it, and never 6379.
PORT_RANGE = (20000, 32767)
AVOID = frozenset({6379, 6380, 26379, 5432, 27017, 37777})


def port_is_free(port: int, ipv6: bool = True) -> bool:
    """True when `port` can be bound on 127.0.0.1 (and ::1 when IPv6 is there)."""
    families = [(socket.AF_INET, "127.0.0.1")] + ([(socket.AF_INET6, "::1")] if ipv6 else [])
    for family, host in families:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                return False
    return True


def choose_port(is_free: Callable[[int], bool], rng: random.Random | None = None, attempts: int = 200) -> int:
    """Pick a random free port in PORT_RANGE, never a well-known one (from `rng` when given, else os.urandom)."""
    low, high = PORT_RANGE
    for _ in range(attempts):
        # os.urandom, not `random`: that module (and hashlib under it) costs ~1.5 ms of `store start`
        port = rng.randint(low, high) if rng else low + int.from_bytes(os.urandom(4), "big") % (high - low + 1)
        if port not in AVOID and is_free(port):
            return port
    raise RuntimeError(f"no free port found in {PORT_RANGE} after {attempts} attempts")


def port_answers(host: str, port: int, timeout: float = 0.3) -> bool:
    """True when a TCP connect to host:port succeeds."""
    try:
        # bytes: a str host would load the idna codec (see store_client._connect)
        address = (host.encode("ascii") if host.isascii() else host, port)
        with socket.create_connection(address, timeout=timeout):  # type: ignore[arg-type]  # getaddrinfo takes bytes
            return True
    except OSError:
        return False


def ipv6_loopback_available() -> bool:
    """True when ::1 can be bound (so `bind 127.0.0.1 ::1` will work)."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False
