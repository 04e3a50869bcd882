"""TEST DOUBLE: a tiny OpenAI-compatible chat/completions server on loopback, standing in for the LLM.

There is no internet where the e2e runs, so the worker's provider (claude-mem's `openrouter` client,
which appends /chat/completions to CLAUDE_MEM_OPENROUTER_BASE_URL and reads choices[0].message.content)
is pointed here. Every request gets the same canned <observation> XML. It records which generation
job each request was for (the prompt carries the job id), so "processed exactly once" can be checked,
and it can hold requests (to kill a worker mid-job) until released.

It runs in a daemon thread of the caller's process: nothing to clean up but `close()`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

OBSERVATION_XML = """<observation>
  <type>discovery</type>
  <title>Test double observation</title>
  <subtitle>canned by cmem-ops' fake LLM (a test double)</subtitle>
  <facts><fact>The worker called the test double</fact><fact>Parsing works</fact></facts>
  <narrative>The generation worker sent the event to the loopback test double and parsed this reply.</narrative>
  <concepts><concept>how-it-works</concept></concepts>
  <files_read><file>src/app.py</file></files_read>
  <files_modified><file>src/app.py</file></files_modified>
</observation>"""

_JOB_ID = re.compile(r"<generation_job_id>\s*([^<\s]+)\s*</generation_job_id>")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def build_completion(content: str = OBSERVATION_XML) -> dict[str, Any]:
    """An OpenAI chat.completion response carrying `content` (pure)."""
    return {"id": "test-double-1", "object": "chat.completion", "model": "test-double",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}


def find_uuids(prompt: str) -> list[str]:
    """Every UUID in a prompt, in order, without repeats (pure)."""
    return list(dict.fromkeys(_UUID.findall(prompt)))


def find_job_id(prompt: str) -> str | None:
    """The generation job a claude-mem observation prompt is for (<generation_job_id>) (pure)."""
    match = _JOB_ID.search(prompt)
    return match.group(1) if match else None


@dataclass(frozen=True)
class LlmRequest:
    """One request the double answered (or is holding)."""

    at: float
    path: str
    job_id: str | None
    uuids: tuple[str, ...]


HOLD_LIMIT_S = 120.0  # a held request is answered after this even if nobody releases it


class FakeLlm:
    """The test double; `base_url` is what CLAUDE_MEM_OPENROUTER_BASE_URL should be set to."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, latency_s: float = 0.0) -> None:
        self.latency_s = latency_s  # every answer comes this long after the request (a model's think time)
        self.requests: list[LlmRequest] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._release.set()
        self.holding = threading.Event()  # set while a request is held
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8", "replace")
                try:
                    body = json.loads(raw)
                    prompt = " ".join(str(m.get("content", "")) for m in body.get("messages", []))
                except (ValueError, AttributeError):
                    prompt = raw
                with double._lock:
                    double.requests.append(LlmRequest(time.time(), self.path, find_job_id(prompt),
                                                      tuple(find_uuids(prompt))))
                if double.latency_s > 0:
                    time.sleep(double.latency_s)  # simulated model latency (bench/throughput.py), not a wait
                if not double._release.is_set():
                    double.holding.set()
                    double._release.wait(HOLD_LIMIT_S)
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self.send_response(404)
                    self.end_headers()
                    return
                out = json.dumps(build_completion()).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the worker was killed while we held its request: expected in the tests

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-llm", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """The provider base URL (the worker appends /chat/completions)."""
        return f"http://127.0.0.1:{self.port}/api/v1"

    def worker_settings(self) -> dict[str, str]:
        """settings.json keys that point claude-mem's worker at this double."""
        return {"CLAUDE_MEM_SERVER_PROVIDER": "openrouter", "OPENROUTER_API_KEY": "test-double-key",
                "CLAUDE_MEM_OPENROUTER_BASE_URL": self.base_url}

    def hold(self) -> None:
        """From now on, keep every request waiting until release()."""
        self.holding.clear()
        self._release.clear()

    def release(self) -> None:
        """Answer the held requests and stop holding."""
        self._release.set()

    def count_for(self, ident: str) -> int:
        """How many requests mentioned `ident` (a job or event id) in their prompt."""
        with self._lock:
            return sum(1 for r in self.requests if ident in r.uuids)

    def job_counts(self) -> Counter[str]:
        """Requests per generation job id."""
        with self._lock:
            return Counter(r.job_id for r in self.requests if r.job_id)

    def close(self) -> None:
        """Stop serving (held requests are released first)."""
        self.release()
        self._server.shutdown()
        self._server.server_close()
