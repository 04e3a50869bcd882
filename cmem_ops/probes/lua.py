"""Lua scripting: BullMQ runs every queue operation as a Lua script (EVAL / EVALSHA)."""

from __future__ import annotations

from ..resp import RespError
from ..store_client import StoreConnection
from .base import ProbeResult, Status, Stopwatch
from .redis_conn import StoreHints


def probe_lua(conn: StoreConnection, label: str, hints: StoreHints) -> ProbeResult:
    """EVAL "return 1" 0, then SCRIPT LOAD + EVALSHA; FAIL with the reason when either is refused."""
    sw = Stopwatch()
    try:
        reply = conn.command("EVAL", "return 1", "0")
        sha = conn.text("SCRIPT", "LOAD", "return 2")
        again = conn.command("EVALSHA", sha, "0")
    except RespError as exc:
        text = str(exc)
        why = "EVAL/EVALSHA is disabled or renamed (rename-command)" if "unknown command" in text.lower() \
            else f"the server refused a script: {text}"
        return ProbeResult("lua", label, Status.FAIL, f"{why}: BullMQ cannot run without Lua", detail=text,
                           hint="remove `rename-command EVAL`/`EVALSHA`/`SCRIPT` from the server's config (and any "
                                f"ACL rule denying @scripting), then: {hints.restart}").timed(sw.ms)
    except OSError as exc:
        return ProbeResult("lua", label, Status.FAIL, f"connection lost during EVAL: {exc}",
                           hint=hints.start).timed(sw.ms)
    if reply != 1 or again != 2:
        return ProbeResult("lua", label, Status.FAIL, f"EVAL returned {reply!r}/{again!r}, expected 1/2",
                           hint="this server's Lua is not Redis-compatible; use Valkey: cmem-ops install").timed(sw.ms)
    return ProbeResult("lua", label, Status.OK, "EVAL and EVALSHA work").timed(sw.ms)
