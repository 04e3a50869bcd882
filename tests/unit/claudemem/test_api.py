import json
import socket
import threading
import time
from pathlib import Path

import pytest

from cmem_ops.claudemem.api import ApiClient, build_event, info_prefix, info_ready
from cmem_ops.e2e.fake_llm import FakeLlm
from cmem_ops.http_client import Failure, HttpError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "claude-mem"


def test_build_event():
    body = build_event("p1", payload={"a": 1}, session_id="s", occurred_at_ms=5)
    assert body == {"projectId": "p1", "sourceType": "api", "eventType": "tool_use", "occurredAtEpoch": 5,
                    "payload": {"a": 1}, "contentSessionId": "s"}
    assert isinstance(build_event("p")["occurredAtEpoch"], int)


def test_info_verdicts_on_captured_bodies():
    body = json.loads((FIXTURES / "v1-info.json").read_text())
    ready, summary = info_ready(body)
    assert ready and "queue bullmq active" in summary
    assert info_prefix(body) == body["boundaries"]["queueManager"]["details"]["prefix"]
    body["postgres"]["initialized"] = False
    assert info_ready(body) == (False, "Postgres is not initialized")
    disabled = {"postgres": {"initialized": True}, "boundaries": {"queueManager": {"status": "disabled"}}}
    assert not info_ready(disabled)[0]


def test_client_against_a_real_loopback_server():
    llm = FakeLlm()
    try:
        client = ApiClient(f"http://127.0.0.1:{llm.port}", "cmem_x")
        resp = client.post("/api/v1/chat/completions", {"messages": [{"content": "hi"}]})
        assert resp.status == 200 and resp.body["choices"][0]["message"]["content"].startswith("<observation>")
        assert client.post("/elsewhere").status == 404
    finally:
        llm.close()


def test_a_silent_listener_times_out_within_the_limit():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        t0 = time.monotonic()
        with pytest.raises(HttpError) as caught:
            ApiClient(f"http://127.0.0.1:{port}").info(timeout=0.3)
        assert caught.value.kind is Failure.TIMEOUT
        assert time.monotonic() - t0 < 2


def test_refused_connection_is_refused():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(HttpError) as caught:
        ApiClient(f"http://127.0.0.1:{port}").healthz(timeout=1)
    assert caught.value.kind is Failure.REFUSED


def test_fake_llm_finds_the_job_and_holds_requests():
    prompt = (FIXTURES / "llm-request-prompt.txt").read_text()
    from cmem_ops.e2e.fake_llm import find_job_id

    job = find_job_id(prompt)
    assert job and job in prompt and prompt.count(job) == 1
    llm = FakeLlm()
    try:
        client = ApiClient(llm.base_url.rsplit("/api/v1", 1)[0])
        llm.hold()
        answers = []
        thread = threading.Thread(target=lambda: answers.append(
            client.post("/api/v1/chat/completions", {"messages": [{"content": prompt}]})))
        thread.start()
        assert llm.holding.wait(5)
        assert not answers
        llm.release()
        thread.join(5)
        assert answers[0].status == 200
        assert llm.job_counts()[job] == 1
        assert llm.worker_settings()["CLAUDE_MEM_OPENROUTER_BASE_URL"] == llm.base_url
    finally:
        llm.close()
