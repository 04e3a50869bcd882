"""Read the dated logs (logs/<component>-YYYY-MM-DD.log) across day boundaries."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # datetime (~2 ms) loads only when --since is given: supervision is on `store start`'s path
    import datetime as dt


def tail_lines(files: Sequence[Path], n: int) -> list[str]:
    """The last `n` lines across `files` read in order (oldest file first)."""
    buf: deque[str] = deque(maxlen=max(n, 0))
    for path in files:
        try:
            with path.open("r", encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    buf.append(line.rstrip("\n"))
        except FileNotFoundError:
            continue
    return list(buf)


def files_since(files: Sequence[Path], since: dt.date | None) -> list[Path]:
    """Keep the dated files whose date is on or after `since` (pure)."""
    if since is None:
        return list(files)
    import datetime as dt

    kept = []
    for path in files:
        try:
            day = dt.date.fromisoformat(path.stem[-10:])
        except ValueError:
            continue
        if day >= since:
            kept.append(path)
    return kept


def follow(
    list_files: Callable[[], Sequence[Path]], poll_s: float = 0.5, stop_after_s: float | None = None
) -> Iterator[str]:
    """Yield new lines as they are appended, switching to newer dated files as they appear."""
    offsets: dict[Path, int] = {p: p.stat().st_size for p in list_files() if p.exists()}
    started = time.monotonic()
    while stop_after_s is None or time.monotonic() - started < stop_after_s:
        for path in list_files():
            pos = offsets.get(path, 0)
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue
            if size < pos:
                pos = 0
            if size > pos:
                with path.open("r", encoding="utf-8", errors="replace") as fh:
                    fh.seek(pos)
                    chunk = fh.read()
                    offsets[path] = fh.tell()
                yield from chunk.splitlines()
        time.sleep(poll_s)
