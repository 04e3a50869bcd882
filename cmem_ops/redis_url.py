"""Parse and redact queue-store URLs: redis:// and rediss://, with user, password and /db."""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import quote, unquote, urlsplit

from .errors import ConfigError
from .redaction import redact_url

SCHEMES = ("redis", "rediss")
DEFAULT_PORT = 6379


class RedisTarget(NamedTuple):
    """Where a Redis-compatible server is and how to authenticate to it."""

    host: str
    port: int
    db: int = 0
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @property
    def address(self) -> str:
        """host:port, with IPv6 hosts bracketed."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def url(self, *, redact: bool = False) -> str:
        """Render as a URL; with `redact`, the password becomes ***."""
        scheme = "rediss" if self.tls else "redis"
        auth = ""
        if self.password is not None:
            secret = "***" if redact else quote(self.password, safe="")
            auth = f"{quote(self.username or '', safe='')}:{secret}@"
        elif self.username:
            auth = f"{quote(self.username, safe='')}@"
        return f"{scheme}://{auth}{self.address}/{self.db}"


def parse_redis_url(url: str) -> RedisTarget:
    """Parse a redis:// or rediss:// URL; raise ConfigError naming the problem."""
    raw = url.strip()
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"queue store URL {redact_url(raw)!r} is malformed: {exc}",
                          hint="use the form redis://[:password@]host:port[/db]") from exc
    if parts.scheme not in SCHEMES:
        raise ConfigError(
            f"queue store URL {redact_url(raw)!r} has scheme {parts.scheme or '(none)'!r}; "
            "only redis:// and rediss:// are supported",
            hint="use the form redis://[:password@]host:port[/db]",
        )
    if not parts.hostname:
        raise ConfigError(f"queue store URL {redact_url(raw)!r} has no host",
                          hint="use the form redis://[:password@]host:port[/db]")
    if port is not None and not 1 <= port <= 65535:
        raise ConfigError(f"queue store URL {redact_url(raw)!r} has port {port}; a port is 1-65535",
                          hint="give the store's port, e.g. redis://127.0.0.1:6379/0 (or leave it out for 6379)")
    db_text = parts.path.lstrip("/") or "0"
    if not db_text.isdigit():
        raise ConfigError(f"queue store URL {redact_url(raw)!r} has database {db_text!r}, not a number",
                          hint="end the URL with /0 (or another database number)")
    return RedisTarget(
        host=parts.hostname,
        port=port or DEFAULT_PORT,
        db=int(db_text),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        tls=parts.scheme == "rediss",
    )

