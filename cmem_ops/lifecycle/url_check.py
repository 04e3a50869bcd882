"""Is this URL a usable BullMQ queue store? Answered by the doctor's own store checks."""

from __future__ import annotations

from ..context import Context
from ..doctor.suite import DoctorOptions, store_probes
from ..errors import ConfigError
from ..probes.base import Status
from ..redis_url import parse_redis_url
from ..settings import KEY_ENGINE, KEY_MODE, KEY_URL, QueueEngine, RedisMode, Settings
from ..wait import Deadline


def check_redis_url(ctx: Context, url: str, timeout: float = 15.0, smoke: bool = True) -> tuple[bool, str]:
    """(usable, why): run every store check of `cmem-ops doctor` (Lua and the BullMQ smoke included) on `url`.

    Never raises for the server's faults; `why` names each failed check with its fix.
    """
    try:
        target = parse_redis_url(url)
    except ConfigError as exc:
        return False, exc.message
    env = {KEY_URL: url, KEY_MODE: RedisMode.EXTERNAL.value, KEY_ENGINE: QueueEngine.BULLMQ.value}
    probe_ctx = Context(ctx.paths, Settings(paths=ctx.paths, env=env, file_values={}), ctx.runner)
    results = store_probes(probe_ctx, Deadline.after(timeout), DoctorOptions(timeout=timeout, smoke=smoke))
    failed = [r for r in results if r.status is Status.FAIL and r.required]
    if failed:
        return False, "; ".join(f"{r.name}: {r.summary}" + (f" (fix: {r.hint})" if r.hint else "") for r in failed)
    by_name = {r.name: r for r in results}
    server = by_name["server"].summary if "server" in by_name else "server"
    policy = by_name["eviction policy"].summary if "eviction policy" in by_name else "policy unknown"
    warnings = [r.name for r in results if r.status is Status.WARN]
    tail = f"; warnings: {', '.join(warnings)} (cmem-ops doctor --only store)" if warnings else ""
    return True, f"{server} at {target.address} ({policy}, {len(results)} store checks){tail}"
