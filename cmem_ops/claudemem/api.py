"""A small client of claude-mem's HTTP API: every request bounded by a timeout, JSON in and out.

Built on the one HTTP client (cmem_ops/http_client.py: no proxy, every request bounded). Transport
failures are raised as http_client.HttpError, whose `kind` is refused, timeout, TLS or broken; HTTP
statuses are returned, never raised: the callers (lifecycle, jobs recovery, e2e) decide what a 403 means.

Some routes hang while the queue store is down (/v1/info, /api/health, POST /v1/events): give them
short timeouts when probing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..http_client import DEFAULT_TIMEOUT_S, request


@dataclass(frozen=True)
class ApiResponse:
    """One answer: the status, the parsed JSON object ({} when not JSON), the raw text, the time taken."""

    status: int
    body: dict[str, Any]
    text: str
    elapsed_ms: float


def build_event(project_id: str, *, event_type: str = "tool_use", payload: dict[str, Any] | None = None,
                session_id: str | None = None, occurred_at_ms: int | None = None, source_type: str = "api"
                ) -> dict[str, Any]:
    """The body of POST /v1/events (pure).

    claude-mem derives the event's idempotency key from the session, type, time and payload (the HTTP
    schema has no sourceEventId), so re-posting the same body returns the same event and job.
    """
    body: dict[str, Any] = {"projectId": project_id, "sourceType": source_type, "eventType": event_type,
                            "occurredAtEpoch": int(time.time() * 1000) if occurred_at_ms is None else occurred_at_ms}
    if payload is not None:
        body["payload"] = payload
    if session_id:
        body["contentSessionId"] = session_id
    return body


class ApiClient:
    """Requests to one server (`base_url` like http://127.0.0.1:37877), optionally with an API key."""

    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def with_key(self, api_key: str | None) -> ApiClient:
        """The same server with another key (None: no key)."""
        return ApiClient(self.base_url, api_key, self.timeout)

    def request(self, method: str, path: str, body: Any = None, *, timeout: float | None = None) -> ApiResponse:
        """Send one request; raise http_client.HttpError on transport failure (never for a status)."""
        headers = {"Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        resp = request(method, self.base_url + path, json_body=body, headers=headers,
                       timeout=self.timeout if timeout is None else timeout)
        return ApiResponse(resp.status, resp.json_object(), resp.text, resp.elapsed_ms)

    def get(self, path: str, *, timeout: float | None = None) -> ApiResponse:
        return self.request("GET", path, timeout=timeout)

    def post(self, path: str, body: Any = None, *, timeout: float | None = None) -> ApiResponse:
        return self.request("POST", path, body if body is not None else {}, timeout=timeout)

    def healthz(self, timeout: float | None = None) -> ApiResponse:
        return self.get("/healthz", timeout=timeout)

    def info(self, timeout: float | None = None) -> ApiResponse:
        return self.get("/v1/info", timeout=timeout)

    def post_event(self, event: dict[str, Any], *, wait: bool = False, timeout: float | None = None) -> ApiResponse:
        return self.post("/v1/events?wait=true" if wait else "/v1/events", event, timeout=timeout)

    def observations(self, event_id: str) -> ApiResponse:
        return self.get(f"/v1/events/{event_id}/observations")

    def job(self, job_id: str) -> ApiResponse:
        return self.get(f"/v1/jobs/{job_id}")

    def cancel_job(self, job_id: str) -> ApiResponse:
        return self.post(f"/v1/jobs/{job_id}/cancel")

    def retry_job(self, job_id: str) -> ApiResponse:
        return self.post(f"/v1/jobs/{job_id}/retry")


def info_ready(body: dict[str, Any]) -> tuple[bool, str]:
    """Whether /v1/info says the server is usable: Postgres initialized and the BullMQ queue manager active (pure)."""
    pg = body.get("postgres") or {}
    qm = (body.get("boundaries") or {}).get("queueManager") or {}
    details = qm.get("details") or {}
    if not pg.get("initialized"):
        return False, "Postgres is not initialized"
    if qm.get("status") != "active" or details.get("engine") != "bullmq":
        return False, f"queue manager {qm.get('status') or 'unknown'} ({qm.get('reason') or 'no reason given'})"
    return True, f"Postgres schema v{pg.get('schemaVersion')}, queue bullmq active, prefix {details.get('prefix')}"


def info_prefix(body: dict[str, Any]) -> str | None:
    """The queue prefix the HTTP server uses, from /v1/info (pure)."""
    qm = (body.get("boundaries") or {}).get("queueManager") or {}
    prefix = (qm.get("details") or {}).get("prefix")
    return str(prefix) if prefix else None
