"""BullMQ smoke with the Python `bullmq` port: add one job, process it, remove it.

The fallback for hosts without Node (the Node client in `probes/bullmq-smoke` is the one
claude-mem runs). Everything lives under a throwaway key prefix (`cmemops_smoke_*`) that is
deleted at the end, so the server's DBSIZE is the same before and after. Modes:

    roundtrip   add a job, process it with a Worker, remove it, delete the prefix
    enqueue     only add a job and leave it (the other client then runs `process`)
    process     process an existing job by id, remove it, delete the prefix

`SmokeOutcome` (smoke.py) is shared with `bullmq_node`, which parses the Node script's JSON line into it.
`bullmq` is an optional dependency (`cmem-ops[bullmq]`) and is imported lazily.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .smoke import SmokeOutcome, SmokeStep, validate_smoke_args

CLIENT = "python-bullmq"
JOB_NAME = "cmem-ops-smoke"
DATA_MARK = "cmem-ops-smoke"
# Extra wall time the supervising thread allows beyond `timeout_s` before giving up on it.
_GRACE_S = 0.75


def run_python_smoke(
    url: str,
    prefix: str,
    mode: str,
    queue: str,
    timeout_s: float,
    job_id: str | None = None,
) -> SmokeOutcome:
    """Run the smoke with the Python `bullmq` port; never raises for server failures.

    Runs its own event loop in a daemon thread, so it works from sync code and from inside a
    running loop alike, and returns within `timeout_s` (plus a short grace) even when a close
    or a socket refuses to give up.
    """
    validate_smoke_args(prefix, mode, queue, timeout_s, job_id)
    started = time.perf_counter()
    try:
        import bullmq  # type: ignore[import-untyped]
    except ImportError as exc:
        return _failed(mode, "not installed", started,
                       f"the Python bullmq package is not importable ({exc}); "
                       "install it with: pip install 'cmem-ops[bullmq]'")
    version = str(getattr(bullmq, "__version__", "unknown"))

    box: list[SmokeOutcome] = []

    def target() -> None:
        try:
            box.append(asyncio.run(_smoke(url, prefix, mode, queue, timeout_s, job_id, version)))
        except BaseException as exc:  # the thread must always leave an answer
            box.append(_failed(mode, version, started, f"internal: {_error_text(exc)}"))

    thread = threading.Thread(target=target, name="cmem-ops-bullmq-smoke", daemon=True)
    thread.start()
    thread.join(timeout_s + _GRACE_S)
    if box:
        return box[0]
    return _failed(mode, version, started,
                   f"python bullmq smoke did not finish within {timeout_s:g} s")


def _failed(mode: str, version: str, started: float, error: str) -> SmokeOutcome:
    return SmokeOutcome(
        client=CLIENT, client_version=version, mode=mode, ok=False, job_id=None, steps=(),
        elapsed_ms=_ms_since(started), error=error,
    )


def _ms_since(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 1)


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


def _with_query(url: str, **params: str) -> str:
    """Add query parameters to `url` unless it already sets them (pure)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    for key, value in params.items():
        query.setdefault(key, value)
    return urlunsplit(parts._replace(query=urlencode(query)))


def _job_data() -> dict[str, str]:
    return {"probe": DATA_MARK, "client": CLIENT, "nonce": secrets.token_hex(8)}


async def _processor(job: Any, token: str) -> dict[str, Any]:
    """Check the payload shape, so a job from the other client proves the formats agree."""
    data = job.data
    if not isinstance(data, dict) or data.get("probe") != DATA_MARK or not isinstance(
        data.get("nonce"), str
    ):
        raise ValueError(f"unexpected job data: {data!r}")
    return {"echo": data["nonce"], "processed_by": CLIENT, "enqueued_by": data.get("client")}


@dataclass
class _Run:
    """Mutable state of one run: what was opened (for teardown) and what happened."""

    steps: list[SmokeStep] = field(default_factory=list)
    current: str | None = None
    job_id: str | None = None
    admin: Any = None
    admin_ready: bool = False
    queue: Any = None
    worker: Any = None
    worker_task: asyncio.Task[Any] | None = None

    @asynccontextmanager
    async def step(self, name: str) -> AsyncIterator[None]:
        """Time the body as step `name`; a raise or cancel records it as failed."""
        self.current = name
        t0 = time.perf_counter()
        try:
            yield
        except BaseException:
            self.steps.append(SmokeStep(name, False, _ms_since(t0)))
            raise
        self.steps.append(SmokeStep(name, True, _ms_since(t0)))


async def _smoke(
    url: str, prefix: str, mode: str, queue: str, timeout_s: float, job_id: str | None,
    version: str,
) -> SmokeOutcome:
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    deadline = loop.time() + timeout_s
    # Cleanup keeps a slice of the budget so a slow job still leaves no keys behind.
    reserve = 0.0 if mode == "enqueue" else min(1.5, timeout_s / 4)
    run = _Run(job_id=job_id)
    failure: str | None = None
    try:
        await asyncio.wait_for(
            _main_phase(run, url, prefix, mode, queue, timeout_s),
            timeout=max(0.0, deadline - loop.time() - reserve),
        )
    except TimeoutError:
        failure = f"{run.current or 'smoke'} did not finish within the {timeout_s:g} s budget"
    except Exception as exc:
        failure = _error_text(exc)
    cleanup_error = await _teardown(run, mode, prefix, deadline)
    if failure is None and cleanup_error is not None:
        failure = f"cleanup: {cleanup_error}"
    return SmokeOutcome(
        client=CLIENT, client_version=version, mode=mode, ok=failure is None,
        job_id=run.job_id, steps=tuple(run.steps), elapsed_ms=_ms_since(started),
        error=failure,
    )


async def _main_phase(
    run: _Run, url: str, prefix: str, mode: str, queue_name: str, timeout_s: float
) -> None:
    # Lazy: bullmq is optional, and redis-py comes with it.
    import bullmq
    import redis.asyncio as aioredis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    connect_s = f"{max(0.1, min(timeout_s, 5.0)):g}"
    async with run.step("connect"):
        # A plain client with no retries: a dead or refusing server fails here at once.
        run.admin = aioredis.Redis.from_url(
            url, decode_responses=True, socket_connect_timeout=float(connect_s),
            socket_timeout=timeout_s, retry=Retry(NoBackoff(), 0),
        )
        await run.admin.ping()
    run.admin_ready = True

    # bullmq builds its own clients (with 20 retries) from the URL; the connect timeout keeps
    # each attempt short and the shared deadline bounds the whole.
    connection = _with_query(url, socket_connect_timeout=connect_s)
    opts: dict[str, Any] = {"connection": connection, "prefix": prefix}
    run.queue = bullmq.Queue(queue_name, opts)
    job_opts: dict[str, Any] = {"jobId": run.job_id} if run.job_id else {}

    if mode == "enqueue":
        async with run.step("add"):
            job = await run.queue.add(JOB_NAME, _job_data(), job_opts)
        run.job_id = str(job.id)
        return

    if mode == "roundtrip":
        async with run.step("add"):
            job = await run.queue.add(JOB_NAME, _job_data(), job_opts)
        run.job_id = str(job.id)
    else:
        async with run.step("find"):
            state = await run.queue.getJobState(run.job_id)
            if state == "unknown":
                raise LookupError(
                    f"job {run.job_id} not found in queue {queue_name} under prefix {prefix}"
                )
    target = str(run.job_id)

    # Created only once there is a job to process (as in smoke.mjs).
    run.worker = bullmq.Worker(
        queue_name, _processor,
        {**opts, "autorun": False, "concurrency": 1, "drainDelay": 1},
    )

    done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    run.worker.on("completed", _on_completed(done, target))
    run.worker.on("failed", _on_failed(done, target))
    async with run.step("process"):
        run.worker_task = asyncio.ensure_future(run.worker.run())
        await done

    async with run.step("remove"):
        removed = await run.queue.remove(target)
        if removed != 1:
            raise RuntimeError(f"job {target} could not be removed (removeJob returned {removed})")


def _on_completed(done: asyncio.Future[Any], target: str) -> Callable[[Any, Any], None]:
    def handler(job: Any, result: Any) -> None:
        if str(job.id) != target or done.done():
            return
        nonce = job.data.get("nonce") if isinstance(job.data, dict) else None
        if not isinstance(result, dict) or result.get("echo") != nonce:
            done.set_exception(RuntimeError(
                f"job {target} completed with unexpected return value {result!r}"))
        else:
            done.set_result(result)

    return handler


def _on_failed(done: asyncio.Future[Any], target: str) -> Callable[[Any, BaseException], None]:
    def handler(job: Any, err: BaseException) -> None:
        if (job is not None and str(job.id) != target) or done.done():
            return
        done.set_exception(RuntimeError(f"job {target} failed in the worker: {_error_text(err)}"))

    return handler


async def _teardown(run: _Run, mode: str, prefix: str, deadline: float) -> str | None:
    """Close the worker, obliterate the queue, delete leftovers; return the cleanup error."""
    loop = asyncio.get_running_loop()

    async def bounded(awaitable: Any) -> Any:
        return await asyncio.wait_for(awaitable, timeout=max(0.05, deadline - loop.time()))

    async def quietly(awaitable: Any) -> None:
        # Best effort: the run already has its verdict.
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await bounded(awaitable)

    # Workers first: they write lock and stalled-check keys while they run.
    if run.worker is not None:
        await quietly(run.worker.close())
    if run.worker_task is not None and not run.worker_task.done():
        run.worker_task.cancel()
        await quietly(asyncio.gather(run.worker_task, return_exceptions=True))

    error: str | None = None
    if run.queue is not None and mode != "enqueue" and run.admin_ready:
        try:
            async with run.step("cleanup"):
                await bounded(_delete_all(run, prefix))
        except TimeoutError:
            error = "did not finish within the budget"
        except Exception as exc:
            error = _error_text(exc)
    if run.queue is not None:
        await quietly(run.queue.close())
    if run.admin is not None:
        await quietly(run.admin.aclose())
    return error


async def _delete_all(run: _Run, prefix: str) -> None:
    await run.queue.obliterate(force=True)
    await run.queue.close()
    batch: list[str] = []
    async for key in run.admin.scan_iter(match=f"{prefix}:*", count=1000):
        batch.append(key)
        if len(batch) >= 500:
            await run.admin.delete(*batch)
            batch.clear()
    if batch:
        await run.admin.delete(*batch)
