"""BullMQ smoke: add one job, process it with a worker, remove it, in a unique throwaway prefix.

Runs claude-mem's own client (Node `bullmq` 5.x, the pinned project in probes/bullmq-smoke) with
the `node` on PATH, and the Python `bullmq` port when Node is absent. Leaves no key behind: the
prefix is scanned afterwards and DBSIZE is compared.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from urllib.parse import urlencode

from ..redis_url import RedisTarget
from ..resp import RespError
from ..store_client import open_store
from .base import ProbeResult, Status, Stopwatch
from .bullmq_node import SmokeSetupError, find_node, run_node_smoke
from .redis_conn import StoreHints
from .smoke import MIN_TIMEOUT_S, SmokeOutcome, new_smoke_prefix

QUEUE = "cmemops_smoke"
CLIENTS = ("auto", "node", "python")


def python_bullmq_available() -> bool:
    """True when the Python bullmq port is importable."""
    return importlib.util.find_spec("bullmq") is not None


def probe_bullmq(target: RedisTarget, label: str, hints: StoreHints, timeout: float, cache_dir: Path,
                 client: str = "auto", *, extra_ca: str | None = None) -> ProbeResult:
    """Run the smoke with the chosen client; never raises for the store or the client failing.

    `extra_ca` is given to Node as NODE_EXTRA_CA_CERTS, as claude-mem's processes get it (rediss://).
    """
    sw = Stopwatch()
    prefix = new_smoke_prefix()
    budget = max(timeout, MIN_TIMEOUT_S)
    before = _dbsize(target, timeout)
    notes: list[str] = []
    outcome: SmokeOutcome | None = None
    use_node = client in ("auto", "node") and find_node() is not None
    if client == "node" and not use_node:
        return ProbeResult("bullmq", label, Status.FAIL, "node is not on PATH", hint="install Node.js 18+ with npm",
                           ).timed(sw.ms)
    if use_node:
        try:
            outcome = run_node_smoke(target.url(), prefix, "roundtrip", QUEUE, budget, cache_dir,
                                     setup_timeout_s=max(budget, 120.0),
                                     extra_env={"NODE_EXTRA_CA_CERTS": extra_ca} if extra_ca else None)
        except SmokeSetupError as exc:
            if client == "node":
                return ProbeResult("bullmq", label, Status.FAIL, f"Node smoke could not be set up: {exc.message}",
                                   hint=exc.hint).timed(sw.ms)
            notes.append(f"Node client unavailable ({exc.message}); used the Python port")
    if outcome is None:
        if not python_bullmq_available():
            return ProbeResult("bullmq", label, Status.WARN, "no BullMQ client to run the smoke with",
                               detail="; ".join(notes),
                               hint="install Node.js 18+ with npm, or: pip install 'cmem-ops[bullmq]'",
                               required=False).timed(sw.ms)
        from .bullmq_python import run_python_smoke  # asyncio + bullmq: loaded only when needed

        # redis-py adds ssl_ca_certs to the system CAs: the same trust as Node with NODE_EXTRA_CA_CERTS.
        url = target.url() + (f"?{urlencode({'ssl_ca_certs': extra_ca})}" if target.tls and extra_ca else "")
        outcome = run_python_smoke(url, prefix, "roundtrip", QUEUE, budget)
    leftover = _count_prefix(target, prefix, timeout)
    after = _dbsize(target, timeout)
    data = {"client": outcome.client, "client_version": outcome.client_version, "prefix": prefix,
            "steps": [{"name": s.name, "ok": s.ok, "ms": s.ms} for s in outcome.steps],
            "dbsize_before": before, "dbsize_after": after, "leftover_keys": leftover}
    who = f"{outcome.client} {outcome.client_version}"
    detail = "; ".join(notes)
    if not outcome.ok:
        return ProbeResult("bullmq", label, Status.FAIL, f"smoke job failed with {who}: {outcome.error}",
                           detail=detail, hint=f"run the store checks first: cmem-ops doctor --only store; "
                                               f"then {hints.restart}", data=data).timed(sw.ms)
    if leftover:
        return ProbeResult("bullmq", label, Status.WARN, f"smoke job ran with {who} but left {leftover} keys",
                           detail=detail, hint=f"redis-cli -u {target.url(redact=True)} --scan --pattern '{prefix}*' "
                                               "| xargs redis-cli -u <url> DEL", data=data).timed(sw.ms)
    return ProbeResult("bullmq", label, Status.OK,
                       f"job added, processed and removed with {who} in {outcome.elapsed_ms:.0f} ms",
                       detail=detail, data=data).timed(sw.ms)


def _dbsize(target: RedisTarget, timeout: float) -> int | None:
    try:
        with open_store(target, min(timeout, 2.0)) as conn:
            reply = conn.command("DBSIZE")
        return reply if isinstance(reply, int) else None
    except (OSError, RespError):
        return None


def _count_prefix(target: RedisTarget, prefix: str, timeout: float) -> int | None:
    try:
        with open_store(target, min(timeout, 2.0)) as conn:
            cursor, count = b"0", 0
            while True:
                reply = conn.command("SCAN", cursor, "MATCH", f"{prefix}*", "COUNT", "1000")
                if not isinstance(reply, list) or len(reply) != 2 or not isinstance(reply[0], bytes):
                    return None
                cursor, keys = reply[0], reply[1]
                count += len(keys) if isinstance(keys, list) else 0
                if cursor == b"0":
                    return count
    except (OSError, RespError):
        return None
