"""Remove secrets from any text we print or serialise: URL passwords, DSN passwords, API keys.

    redact_text(text)   free text (messages, logs, hints): every secret of a known shape -> ***
    redact_url(url)     one URL: its password -> *** even when it holds `/` or `@`, then redact_text
    redact_named(map)   settings: values of secret-named keys (*_API_KEY, *_PASSWORD, ...) -> ***
    scrub_known(text, secrets)   redact_text, then every known secret value -> *** (the support bundle)
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


# Setting names whose values are secrets whatever their shape (OPENROUTER_API_KEY=sk-or-..., *_PASSWORD).
_SECRET_NAME = re.compile(r"PASS(WORD)?|SECRET|TOKEN|API_?KEY|PRIVATE|CREDENTIAL|(^|_)KEY$", re.IGNORECASE)
MIN_KNOWN_SECRET = 6  # shorter values would match ordinary text


def is_secret_name(name: str) -> bool:
    """True when a setting called `name` holds a secret (pure)."""
    return bool(_SECRET_NAME.search(name))


def redact_named(values: dict[str, Any]) -> dict[str, Any]:
    """A settings-like mapping with secret-named values replaced by *** and the rest redact_value'd (pure)."""
    return {k: ("***" if is_secret_name(k) and v not in (None, "") else redact_value(v)) for k, v in values.items()}


def scrub_known(text: str, secrets: set[str]) -> str:
    """`text` with every known secret value (and the shapes redact_text knows) replaced by *** (pure)."""
    text = redact_text(text)
    for secret in sorted((s for s in secrets if len(s) >= MIN_KNOWN_SECRET), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
