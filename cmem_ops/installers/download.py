"""Download a URL (https://, http:// or file://) to a file, reporting progress, refusing short reads.

http(s) goes through the one HTTP client (cmem_ops/http_client.py: redirects followed, the
environment's proxy honoured, every read bounded by `timeout`); file:// mirrors are read from disk.
The SHA256 check is the caller's (installers/tarball.py verifies before unpacking).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import OpsError, OpsTimeoutError, ProcessError
from ..http_client import CHUNK, Failure, HttpError, open_stream
from ..redaction import redact_url
from ..wait import format_seconds

Progress = Callable[[int, int | None], None]


class DownloadError(ProcessError):
    """A download failed: unreachable, HTTP error, or fewer bytes than announced."""


SCHEMES = ("https://", "http://", "file://")


def check_scheme(url: str) -> None:
    """Raise DownloadError unless `url` is https://, http:// or file:// (pure)."""
    if not url.startswith(SCHEMES):
        raise DownloadError(f"{redact_url(url)} is not an https://, http:// or file:// URL",
                            hint="give --base-url as https://mirror.example/releases or file:///path/to/mirror")


def _local_path(url: str) -> Path:
    return Path(unquote(urlsplit(url).path))


def _fail(exc: HttpError, doing: str, shown: str, timeout: float) -> OpsError:
    """The user-facing error for a failed transfer (pure)."""
    if exc.kind is Failure.TIMEOUT:
        return OpsTimeoutError(f"{doing} {shown} stalled for more than {format_seconds(timeout)}",
                               hint="retry, or use a closer mirror: --base-url")
    if exc.kind is Failure.TLS:
        return DownloadError(f"{doing} {shown} failed: {exc.detail}",
                             hint="check the system's CA certificates and the clock, or use another mirror: "
                                  "--base-url")
    return DownloadError(f"{doing} {shown} failed: {exc.detail}",
                         hint="check the network or point --base-url at a reachable mirror")


def _copy(blocks: Iterator[bytes], dest: Path, total: int | None, on_progress: Progress | None) -> int:
    done = 0
    with open(dest, "wb") as out:
        if on_progress:
            on_progress(0, total)
        for block in blocks:
            out.write(block)
            done += len(block)
            if on_progress:
                on_progress(done, total)
    return done


def _file_blocks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as src:
        while block := src.read(CHUNK):
            yield block


def download(url: str, dest: Path, *, timeout: float = 60.0, on_progress: Progress | None = None) -> int:
    """Fetch `url` into `dest`; return the byte count. Raise DownloadError (OpsTimeoutError on a stall)."""
    shown = redact_url(url)
    check_scheme(url)
    if url.startswith("file://"):
        source = _local_path(url)
        try:
            return _copy(_file_blocks(source), dest, source.stat().st_size, on_progress)
        except OSError as exc:
            raise DownloadError(f"reading {shown} failed: {exc.strerror or exc}",
                                hint="check the mirror directory given as --base-url") from exc
    try:
        with open_stream(url, timeout=timeout) as stream:
            if stream.status != 200:
                raise DownloadError(f"downloading {shown} failed: HTTP {stream.status}",
                                    hint=f"check that the version exists on the mirror: curl -fI {shown}")
            total = stream.length
            done = _copy(stream.chunks(), dest, total, on_progress)
    except HttpError as exc:
        raise _fail(exc, "downloading", shown, timeout) from exc
    if total is not None and done != total:
        raise DownloadError(f"downloading {shown} was truncated: got {done} of {total} bytes",
                            hint="retry the install; check the mirror (--base-url)")
    return done


def fetch_text(url: str, *, timeout: float = 30.0, limit: int = 64 * 1024) -> str:
    """Fetch a small text resource (a `.sha256` sidecar); raise DownloadError on failure."""
    shown = redact_url(url)
    check_scheme(url)
    if url.startswith("file://"):
        try:
            with open(_local_path(url), "rb") as src:
                return src.read(limit).decode("utf-8", errors="replace")
        except OSError as exc:
            raise DownloadError(f"fetching {shown} failed: {exc.strerror or exc}",
                                hint="check the mirror directory given as --base-url") from exc
    try:
        with open_stream(url, timeout=timeout) as stream:
            if stream.status != 200:
                raise DownloadError(f"fetching {shown} failed: HTTP {stream.status}",
                                    hint=f"check the mirror: curl -fI {shown}")
            data = b"".join(_limited(stream.chunks(), limit))
    except HttpError as exc:
        raise DownloadError(str(_fail(exc, "fetching", shown, timeout)),
                            hint="check the network or point --base-url at a reachable mirror") from exc
    return data.decode("utf-8", errors="replace")


def _limited(blocks: Iterator[bytes], limit: int) -> Iterator[bytes]:
    left = limit
    for block in blocks:
        yield block[:left]
        left -= len(block)
        if left <= 0:
            return

