"""The claude-mem server's HTTP surface: /healthz, /v1/info, /api/health, an authenticated read.

Requests go through the one HTTP client (cmem_ops/http_client.py), never through a proxy; it is
imported when the probe runs, so `doctor --only store` does not pay for http.client (~30 ms).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..redaction import redact_text
from .base import Group, ProbeResult, Status, Stopwatch

if TYPE_CHECKING:
    from ..http_client import HttpError, HttpResponse


def probe_http(base_url: str, api_key: str | None, timeout: float, required: bool = True,
               budget: Callable[[], float] | None = None) -> list[ProbeResult]:
    """Probe the server at `base_url`; each request waits at most `timeout` s, and never past `budget()` s."""
    from ..http_client import HttpError, request

    base = base_url.rstrip("/")
    label = redact_text(base)
    results: list[ProbeResult] = []

    def get(path: str, headers: dict[str, str] | None = None) -> tuple[HttpResponse | None, str | None, float]:
        sw = Stopwatch()
        wait = max(min(timeout, budget()), 0.05) if budget else timeout
        try:
            return request("GET", base + path, headers=headers, timeout=wait), None, sw.ms
        except HttpError as exc:
            return None, describe(exc, wait), sw.ms
        except ValueError as exc:  # not an http(s) URL, or a port that is not a number
            return None, f"invalid server URL: {redact_text(str(exc))}", sw.ms

    resp, err, ms = get("/healthz")
    if resp is None:
        results.append(ProbeResult("healthz", label, Status.FAIL, f"GET /healthz: {err}",
                                   hint=("fix CLAUDE_MEM_SERVER_HOST / CLAUDE_MEM_SERVER_PORT in settings.json"
                                         if (err or "").startswith("invalid server URL") else
                                         "start the server: cmem-ops server start   (or cmem-ops stack up)"),
                                   group=Group.SERVER, required=required).timed(ms))
        return results
    body = resp.json_object()
    if resp.status == 200 and body.get("status") == "ok":
        results.append(ProbeResult("healthz", label, Status.OK, f"ok ({body.get('runtime', 'unknown runtime')})",
                                   group=Group.SERVER, required=required, data={"body": body}).timed(ms))
    else:
        results.append(ProbeResult("healthz", label, Status.FAIL, f"GET /healthz answered {resp.status}",
                                   detail=resp.text[:200], hint="read the server log: cmem-ops logs server -n 50",
                                   group=Group.SERVER, required=required).timed(ms))
        return results

    resp, err, ms = get("/v1/info")
    if resp is None:
        hang = "timed out" if "within" in (err or "") else ""
        results.append(ProbeResult("info", label, Status.FAIL, f"GET /v1/info: {err}",
                                   detail="/v1/info hangs while the queue store is down" if hang else "",
                                   hint="check the queue store: cmem-ops doctor --only store",
                                   group=Group.SERVER, required=required).timed(ms))
    else:
        results.append(judge_info(resp.json_object(), resp.status, label, required).timed(ms))

    resp, err, ms = get("/api/health")
    if resp is not None and resp.status == 404:
        results.append(ProbeResult("api health", label, Status.SKIP, "/api/health is not served by this runtime",
                                   group=Group.SERVER, required=False).timed(ms))
    elif resp is None or resp.status != 200:
        results.append(ProbeResult("api health", label, Status.WARN,
                                   f"GET /api/health: {err or resp.status if resp is not None else err}",
                                   hint="read the server log: cmem-ops logs server -n 50", group=Group.SERVER,
                                   required=False).timed(ms))
    else:
        results.append(judge_api_health(resp.json_object(), label).timed(ms))

    if not api_key:
        results.append(ProbeResult("auth", label, Status.SKIP,
                                   "no CLAUDE_MEM_SERVER_API_KEY: authenticated read not tried",
                                   group=Group.SERVER, required=False))
        return results
    resp, err, ms = get("/v1/jobs?limit=1", {"Authorization": f"Bearer {api_key}"})
    if resp is None:
        results.append(ProbeResult("auth", label, Status.FAIL, f"GET /v1/jobs: {err}",
                                   hint="check the queue store: cmem-ops doctor --only store", group=Group.SERVER,
                                   required=required).timed(ms))
    elif resp.status == 200:
        results.append(ProbeResult("auth", label, Status.OK, "authenticated read works (GET /v1/jobs)",
                                   group=Group.SERVER, required=required).timed(ms))
    elif resp.status in (401, 403):
        results.append(ProbeResult("auth", label, Status.FAIL,
                                   f"the API key was refused ({resp.status}): revoked, unknown or lacks scope",
                                   hint="create a key: cmem-ops server api-key create "
                                        "--scope memories:read,memories:write",
                                   group=Group.SERVER, required=required).timed(ms))
    else:
        results.append(ProbeResult("auth", label, Status.FAIL, f"GET /v1/jobs answered {resp.status}",
                                   detail=resp.text[:200], hint="read the server log: cmem-ops logs server -n 50",
                                   group=Group.SERVER, required=required).timed(ms))
    return results


def judge_info(body: dict[str, Any], status_code: int, label: str, required: bool) -> ProbeResult:
    """Verdict on /v1/info: Postgres initialized and the queue manager active (pure)."""
    if status_code != 200:
        return ProbeResult("info", label, Status.FAIL, f"GET /v1/info answered {status_code}",
                           hint="read the server log: cmem-ops logs server -n 50", group=Group.SERVER,
                           required=required)
    pg = body.get("postgres") or {}
    qm = (body.get("boundaries") or {}).get("queueManager") or {}
    details = qm.get("details") or {}
    data = {"postgres": pg, "queueManager": qm, "queueLanes": body.get("queueLanes")}
    if not pg.get("initialized"):
        return ProbeResult("info", label, Status.FAIL, "Postgres is not initialized", group=Group.SERVER,
                           hint="check the database: cmem-ops doctor --only postgres", required=required, data=data)
    engine, state = details.get("engine") or qm.get("engine"), qm.get("status")
    if engine != "bullmq" or state not in ("active", "ok", "ready", "running"):
        return ProbeResult("info", label, Status.WARN,
                           f"queue manager {state or 'unknown'} (engine {engine or 'none'})",
                           detail=str(qm.get("reason") or ""),
                           hint="set CLAUDE_MEM_QUEUE_ENGINE=bullmq and CLAUDE_MEM_REDIS_URL, "
                                "then cmem-ops server restart",
                           group=Group.SERVER, required=required, data=data)
    return ProbeResult("info", label, Status.OK,
                       f"Postgres schema v{pg.get('schemaVersion')}, queue {engine} {state}, "
                       f"prefix {details.get('prefix')}",
                       group=Group.SERVER, required=required, data=data)


def judge_api_health(body: dict[str, Any], label: str) -> ProbeResult:
    """Verdict on /api/health: queue engine, the server's view of Redis, lane counts (pure)."""
    queue = body.get("queue") or {}
    redis = queue.get("redis") or {}
    lanes = queue.get("lanes") or []
    counts = ", ".join(f"{lane.get('kind')}: {lane.get('waiting', 0)} waiting/{lane.get('active', 0)} active/"
                       f"{lane.get('failed', 0)} failed" for lane in lanes)
    summary = f"queue {queue.get('engine', 'none')}, redis {redis.get('status', 'unknown')}" + \
        (f"; {counts}" if counts else "")
    data = {"queue": queue, "version": body.get("version")}
    degraded = (body.get("dependencies") or {}).get("degraded")
    if redis and redis.get("status") not in ("ok", "ready", None):
        return ProbeResult("api health", label, Status.FAIL, f"the server cannot use the queue store: {summary}",
                           hint="check the queue store: cmem-ops doctor --only store", group=Group.SERVER,
                           required=False, data=data)
    if degraded or any(lane.get("unavailable") for lane in lanes):
        return ProbeResult("api health", label, Status.WARN, f"degraded: {summary}",
                           hint="read the server log: cmem-ops logs server -n 50", group=Group.SERVER,
                           required=False, data=data)
    return ProbeResult("api health", label, Status.OK, summary, group=Group.SERVER, required=False, data=data)


def describe(exc: HttpError, wait: float) -> str:
    """A probe's words for a failed request; a timeout says `within`, which the stack checks look for (pure)."""
    from ..http_client import Failure

    if exc.kind is Failure.TIMEOUT:
        return f"no answer within {wait:.1f}s"
    if exc.kind is Failure.REFUSED:
        return exc.detail if exc.detail.startswith("cannot connect") else f"cannot connect: {exc.detail}"
    return redact_text(exc.detail[:160])
