"""What `docker compose` prints, read in pure code: `compose ps` in both JSON shapes, `compose version`,
and the error lines of its stderr.

Compose before 2.21 prints `ps --format json` as one JSON array; from 2.21 on it prints one object per
line (NDJSON); with nothing running it prints `[]` or nothing at all. `parse_compose_ps` takes all of
them. compose_argv.py builds what compose is asked; compose.py runs it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_TAIL_CHARS = 600


@dataclass(frozen=True)
class Publisher:
    """One published port of a service container."""

    url: str
    target_port: int
    published_port: int
    protocol: str


@dataclass(frozen=True)
class ComposeService:
    """One container as `docker compose ps --format json` describes it."""

    name: str
    service: str
    project: str
    image: str
    state: str
    health: str
    exit_code: int
    publishers: tuple[Publisher, ...]

    @property
    def running(self) -> bool:
        return self.state == "running"

    def published_port(self, target_port: int, protocol: str = "tcp") -> int | None:
        """The host port that `target_port` is published on, or None."""
        for pub in self.publishers:
            if pub.target_port == target_port and pub.protocol == protocol and pub.published_port:
                return pub.published_port
        return None


def parse_compose_ps(text: str) -> list[ComposeService]:
    """Parse `docker compose ps --format json`: a JSON array (< 2.21), NDJSON (>= 2.21) or empty (pure)."""
    stripped = text.strip()
    if not stripped:
        return []
    rows: list[Any]
    if stripped.startswith("["):
        rows = json.loads(stripped)
        if not isinstance(rows, list):
            raise ValueError("compose ps output starts with '[' but is not a JSON array")
    else:
        rows = []
        for number, line in enumerate(stripped.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"compose ps line {number} is not JSON: {line[:80]!r}") from exc
    return [_service(row) for row in rows]


def _service(row: Any) -> ComposeService:
    if not isinstance(row, dict):
        raise ValueError(f"compose ps entry is not an object: {row!r:.80}")
    publishers = tuple(
        Publisher(str(p.get("URL") or ""), int(p.get("TargetPort") or 0), int(p.get("PublishedPort") or 0),
                  str(p.get("Protocol") or "tcp"))
        for p in row.get("Publishers") or [] if isinstance(p, dict)
    )
    return ComposeService(
        name=str(row.get("Name") or ""), service=str(row.get("Service") or ""), project=str(row.get("Project") or ""),
        image=str(row.get("Image") or ""), state=str(row.get("State") or "").lower(),
        health=str(row.get("Health") or ""), exit_code=int(row.get("ExitCode") or 0), publishers=publishers,
    )


_PROGRESS_RE = re.compile(
    r"^\s*(Network|Container|Volume|Image)\s+\S+\s+(Creating|Created|Starting|Started|Waiting|Healthy|Running|"
    r"Recreate|Recreated|Stopping|Stopped|Removing|Removed|Pulling|Pulled)\s*$")


def format_compose_error(text: str) -> str:
    """The error lines of compose's stderr, without its progress lines ('Container x  Created') (pure)."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not _PROGRESS_RE.match(line)]
    return format_tail("\n".join(lines))


_COMPOSE_VERSION_RE = re.compile(r"v?(\d+\.\d+(?:\.\d+)?)")


def parse_compose_version(text: str) -> str | None:
    """'2.40.3' from `docker compose version` text or its `--format json` object (pure)."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            return None
        stripped = str(data.get("version") or "") if isinstance(data, dict) else ""
    if "compose" not in stripped.lower() and not stripped.lstrip("v")[:1].isdigit():
        return None
    match = _COMPOSE_VERSION_RE.search(stripped)
    return match.group(1) if match else None


def format_tail(text: str) -> str:
    """The last ~600 characters of `text`, stripped, '...' in front when cut (pure)."""
    text = text.strip()
    return text if len(text) <= _TAIL_CHARS else "..." + text[-_TAIL_CHARS:]
