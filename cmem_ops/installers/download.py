"""Download a URL (https://, http:// or file://) to a file, reporting progress, refusing short reads."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from ..errors import OpsTimeoutError, ProcessError
from ..redis_url import redact_url

Progress = Callable[[int, int | None], None]
CHUNK = 1 << 16


class DownloadError(ProcessError):
    """A download failed: unreachable, HTTP error, or fewer bytes than announced."""


SCHEMES = ("https://", "http://", "file://")


def check_scheme(url: str) -> None:
    """Raise DownloadError unless `url` is https://, http:// or file:// (pure)."""
    if not url.startswith(SCHEMES):
        raise DownloadError(f"{redact_url(url)} is not an https://, http:// or file:// URL",
                            hint="give --base-url as https://mirror.example/releases or file:///path/to/mirror")


def download(url: str, dest: Path, *, timeout: float = 60.0, on_progress: Progress | None = None) -> int:
    """Fetch `url` into `dest`; return the byte count. Raise DownloadError on any failure."""
    shown = redact_url(url)
    check_scheme(url)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            length_header = resp.headers.get("Content-Length")
            total = int(length_header) if length_header and length_header.isdigit() else None
            done = 0
            with open(dest, "wb") as out:
                if on_progress:
                    on_progress(0, total)
                while True:
                    block = resp.read(CHUNK)
                    if not block:
                        break
                    out.write(block)
                    done += len(block)
                    if on_progress:
                        on_progress(done, total)
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"downloading {shown} failed: HTTP {exc.code} {exc.reason}",
                            hint=f"check that the version exists on the mirror: curl -fI {shown}") from exc
    except (urllib.error.URLError, http.client.HTTPException, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(exc, http.client.IncompleteRead):
            reason = f"connection closed after {len(exc.partial)} more bytes (truncated)"
        raise DownloadError(f"downloading {shown} failed: {reason}",
                            hint="check the network or point --base-url at a reachable mirror") from exc
    except TimeoutError as exc:
        raise OpsTimeoutError(f"downloading {shown} stalled for more than {timeout:g}s",
                              hint="retry, or use a closer mirror: --base-url") from exc
    if total is not None and done != total:
        raise DownloadError(f"downloading {shown} was truncated: got {done} of {total} bytes",
                            hint="retry the install; check the mirror (--base-url)")
    return done


def fetch_text(url: str, *, timeout: float = 30.0, limit: int = 64 * 1024) -> str:
    """Fetch a small text resource (a `.sha256` sidecar); raise DownloadError on failure."""
    shown = redact_url(url)
    check_scheme(url)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            data: bytes = resp.read(limit)
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"fetching {shown} failed: HTTP {exc.code} {exc.reason}",
                            hint=f"check the mirror: curl -fI {shown}") from exc
    except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError) as exc:
        raise DownloadError(f"fetching {shown} failed: {getattr(exc, 'reason', exc)}",
                            hint="check the network or point --base-url at a reachable mirror") from exc
    return data.decode("utf-8", errors="replace")
