"""Remove secrets from any text we print or serialise: URL passwords, DSN passwords, API keys.

    redact_text(text)   free text (messages, logs, hints): every secret of a known shape -> ***
    redact_url(url)     one URL: its password -> *** even when it holds `/` or `@`, then redact_text
"""

from __future__ import annotations

import re
from typing import Any

_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]*:)(?P<secret>[^\s@/]+)(?=@)")
_DSN_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<secret>'[^']*'|\S+)", re.IGNORECASE)
_API_KEY = re.compile(r"\bcmem_[0-9a-fA-F]{8,}\b")
_BEARER = re.compile(r"(?P<head>\bBearer\s+)(?P<secret>\S+)", re.IGNORECASE)
_REQUIREPASS = re.compile(r"(?P<head>\brequirepass\s+)(?P<secret>\S+)", re.IGNORECASE)


def redact_text(text: str) -> str:
    """Replace every secret we know the shape of with *** (pure)."""
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + "***", text)
    text = _DSN_PASSWORD.sub(lambda m: m.group("head") + "***", text)
    text = _API_KEY.sub("cmem_***", text)
    text = _BEARER.sub(lambda m: m.group("head") + "***", text)
    return _REQUIREPASS.sub(lambda m: m.group("head") + "***", text)


def redact_url(url: str) -> str:
    """`url` with its password replaced by *** (`redis://u:***@h:1/0`), and any other secret redacted (pure).

    The userinfo ends at the last `@`, so a password holding `/` or `@` is still hidden whole.
    """
    scheme, sep, rest = url.partition("://")
    if sep:
        auth, at, hostpart = rest.rpartition("@")
        if at:
            user, colon, _secret = auth.partition(":")
            url = f"{scheme}://{user}{':***' if colon else ''}@{hostpart}"
    return redact_text(url)


def redact_value(value: Any) -> Any:
    """Redact every string inside a JSON-like value, except a Revealed one (pure)."""
    if isinstance(value, Revealed):
        return str(value)
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    return value


class Revealed(str):
    """A secret that IS a command's output (a just-created API key): redact_value leaves it as is."""

    __slots__ = ()
