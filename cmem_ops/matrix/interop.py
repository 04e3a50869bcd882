"""Cross-client interop: a job enqueued by Node BullMQ is processed by the Python port, and back.

claude-mem's server enqueues with Node; a Python worker (or the other way round) must read the
same keys, Lua scripts and payload format on every server of the matrix. Each leg runs in its own
throwaway prefix, and the prefix is deleted whatever happens. A missing client makes its legs SKIP.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from ..probes.base import Status, Stopwatch
from ..probes.bullmq import python_bullmq_available
from ..probes.bullmq_node import SmokeSetupError, find_node, run_node_smoke
from ..probes.smoke import SmokeOutcome, new_smoke_prefix
from ..redis_url import RedisTarget
from ..resp import RespError
from ..store_client import open_store
from .result import InteropLeg

QUEUE = "cmemops_matrix"
LEGS = (("node", "python"), ("python", "node"))
PYTHON_HINT = "pip install 'cmem-ops[bullmq]'"
NODE_HINT = "install Node.js 18+ with npm"

SmokeRunner = Callable[[str, str, str | None], SmokeOutcome]  # (prefix, mode, job_id) -> outcome


def client_runners(url: str, cache_dir: Path, timeout_s: float) -> dict[str, SmokeRunner | str]:
    """A smoke runner per client, or the reason it is unavailable."""
    clients: dict[str, SmokeRunner | str] = {}
    if find_node() is None:
        clients["node"] = "node is not on PATH"
    else:
        clients["node"] = lambda prefix, mode, job_id: run_node_smoke(
            url, prefix, mode, QUEUE, timeout_s, cache_dir, job_id, setup_timeout_s=max(timeout_s, 120.0))
    if not python_bullmq_available():
        clients["python"] = "the Python bullmq package is not installed"
    else:
        from ..probes.bullmq_python import run_python_smoke  # asyncio + bullmq: loaded only when needed

        clients["python"] = lambda prefix, mode, job_id: run_python_smoke(url, prefix, mode, QUEUE, timeout_s,
                                                                          job_id)
    return clients


def run_leg(producer: str, consumer: str, clients: dict[str, SmokeRunner | str], target: RedisTarget) -> InteropLeg:
    """Enqueue with `producer`, process with `consumer`; never raises for the server or a client failing."""
    name = f"{producer}->{consumer}"
    sw = Stopwatch()
    missing = [c for c in (producer, consumer) if isinstance(clients[c], str)]
    if missing:
        why = "; ".join(str(clients[c]) for c in missing)
        hint = " and ".join(NODE_HINT if c == "node" else PYTHON_HINT for c in missing)
        return InteropLeg(name, Status.SKIP, f"skipped: {why}", hint=hint)
    enqueue, process = clients[producer], clients[consumer]
    assert not isinstance(enqueue, str) and not isinstance(process, str)
    prefix = new_smoke_prefix()
    try:
        try:
            added = enqueue(prefix, "enqueue", None)
            if not added.ok or not added.job_id:
                return _failed(name, f"enqueue with {producer} failed: {added.error}", sw)
            done = process(prefix, "process", added.job_id)
        except SmokeSetupError as exc:
            return InteropLeg(name, Status.SKIP, f"skipped: {exc.message}", round(sw.ms, 1), hint=exc.hint)
        if not done.ok:
            return _failed(name, f"{consumer} could not process the job {producer} enqueued: {done.error}", sw,
                           f"{added.client} {added.client_version}", f"{done.client} {done.client_version}",
                           added.job_id)
        return InteropLeg(name, Status.OK,
                          f"job {added.job_id} enqueued by {added.client} {added.client_version}, processed by "
                          f"{done.client} {done.client_version}", round(sw.ms, 1),
                          f"{added.client} {added.client_version}", f"{done.client} {done.client_version}",
                          added.job_id)
    finally:
        delete_prefix(target, prefix)


def _failed(name: str, summary: str, sw: Stopwatch, enqueued_by: str | None = None, processed_by: str | None = None,
            job_id: str | None = None) -> InteropLeg:
    return InteropLeg(name, Status.FAIL, summary, round(sw.ms, 1), enqueued_by, processed_by, job_id,
                      hint="run both clients' smoke alone: cmem-ops doctor --only store --client node; "
                           "cmem-ops doctor --only store --client python")


def run_interop(target: RedisTarget, cache_dir: Path, timeout_s: float) -> tuple[InteropLeg, ...]:
    """Both legs, concurrently (each in its own prefix); results in LEGS order."""
    clients = client_runners(target.url(), cache_dir, timeout_s)
    legs: dict[int, InteropLeg] = {}

    def work(i: int, producer: str, consumer: str) -> None:
        try:
            legs[i] = run_leg(producer, consumer, clients, target)
        except Exception as exc:  # a bug must show as a failed leg, not a hung run
            legs[i] = InteropLeg(f"{producer}->{consumer}", Status.FAIL, f"crashed: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=work, args=(i, p, c), name=f"matrix-interop-{p}-{c}", daemon=True)
               for i, (p, c) in enumerate(LEGS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout_s * 2 + 10)
    return tuple(legs.get(i, InteropLeg(f"{p}->{c}", Status.FAIL, f"did not finish within {timeout_s * 2 + 10:g}s"))
                 for i, (p, c) in enumerate(LEGS))


def delete_prefix(target: RedisTarget, prefix: str) -> int:
    """Delete every key under `prefix` (a throwaway smoke prefix); return how many went."""
    deleted = 0
    try:
        with open_store(target, 2.0) as conn:
            cursor = b"0"
            while True:
                reply = conn.command("SCAN", cursor, "MATCH", f"{prefix}*", "COUNT", "1000")
                if not isinstance(reply, list) or len(reply) != 2 or not isinstance(reply[0], bytes):
                    return deleted
                cursor, keys = reply[0], reply[1]
                if isinstance(keys, list) and keys:
                    count = conn.command("DEL", *[k for k in keys if isinstance(k, bytes)])
                    deleted += count if isinstance(count, int) else 0
                if cursor == b"0":
                    return deleted
    except (OSError, RespError):
        return deleted
