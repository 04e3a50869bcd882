"""Text views of queue-store results."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # type-only: keeps the supervision modules off the `status` fast path
    from ..lifecycle.store import StoreStatus
    from ..store.binaries import ServerBinary
    from ..store.process import StartResult, StopResult


def format_duration(seconds: int | None) -> str:
    """Human uptime: 3d 4h, 2h 5m, 4m 10s, 12s (pure)."""
    if seconds is None:
        return "unknown"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def format_fields(*fields: tuple[str, object]) -> list[str]:
    """`Label: value` lines for the (label, value) pairs whose value is set, in order (pure).

    The tail every status view shares: PID, Data, URL, Problem, Fix.
    """
    return [f"{label}: {value}" for label, value in fields if value is not None and value != ""]


def format_persistence(status: StoreStatus) -> str:
    """'AOF everysec', 'AOF always', 'no AOF', or 'unknown' (pure)."""
    if status.appendonly is None:
        return "unknown"
    if not status.appendonly:
        return "no AOF (RDB snapshots only)"
    return f"AOF {status.appendfsync or 'enabled'}"


NO_ADDRESS = "no address yet"  # a managed part before its first start


def format_address(host: str | None, port: int | None) -> str:
    """`host:port`, or NO_ADDRESS when none is configured (pure)."""
    return f"{host}:{port}" if host else NO_ADDRESS


def format_store_status(status: StoreStatus) -> list[str]:
    """The lines of `cmem-ops store status` (pure)."""
    where = format_address(status.host, status.port)
    if status.running and status.flavour:
        lines = [f"Store: {status.mode} {status.flavour} {status.version} on {where}",
                 f"Persistence: {format_persistence(status)}",
                 f"Policy: {status.maxmemory_policy or 'unknown'}"]
    else:
        lines = [f"Store: {status.mode}, not running ({where})" if not status.running
                 else f"Store: {status.mode} on {where}"]
    if status.pid is not None:
        lines.append(f"PID: {status.pid}")
    if status.running and status.uptime_s is not None:
        lines.append(f"Uptime: {format_duration(status.uptime_s)}")
    return lines + format_fields(("Data", status.data_dir), ("URL", status.url), ("Problem", status.problem),
                                 ("Fix", status.hint))


def format_start(result: StartResult) -> str:
    """One line for a start outcome (pure)."""
    if result.outcome == "already-running":
        return f"The managed store is already running (pid {result.pid}, port {result.port}); nothing to do."
    return f"Started the managed store (pid {result.pid}, port {result.port}) in {result.elapsed_ms:.0f} ms."


def format_stop(result: StopResult) -> str:
    """One line for a stop outcome (pure)."""
    return result.message[0].upper() + result.message[1:] + "."


def format_binaries(binaries: list[ServerBinary], chosen: ServerBinary | None) -> list[str]:
    """A table of found server binaries, the chosen one marked (pure)."""
    lines = []
    for b in binaries:
        mark = "*" if chosen is not None and b.path == chosen.path else ("-" if not b.supported else " ")
        note = f"  ({b.reason})" if b.reason else ""
        lines.append(f"{mark} {b.label:<16} {b.source:<24} {b.path}{note}")
    if not binaries:
        lines.append("No Valkey or Redis server binary found.")
    return lines
