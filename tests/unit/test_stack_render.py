"""Text views and the JSON contract (the keys inside `data`) of the server, worker, stack, jobs and e2e commands."""

from cmem_ops.e2e.script import E2eReport, StepResult
from cmem_ops.jobs.recover import JobOutcome, RecoveryReport, StuckReport
from cmem_ops.lifecycle.postgres import PgStatus
from cmem_ops.lifecycle.server import Outcome, ServerStart, ServerStatus, ServerStop
from cmem_ops.lifecycle.stack import StackDown, StackStatus, StackUp, Step
from cmem_ops.lifecycle.store import StoreStatus
from cmem_ops.lifecycle.worker import WorkerLine, WorkerReport
from cmem_ops.render.e2e import format_step, format_verdict
from cmem_ops.render.jobs import format_recovery, format_stuck
from cmem_ops.render.server import format_server_start, format_server_status, format_server_stop, format_worker_report
from cmem_ops.render.stack import format_stack_down, format_stack_status, format_stack_up
from cmem_ops.result import build_envelope

RUNNING = ServerStatus(True, 41, "http://127.0.0.1:29800", True, True, "Postgres schema v1, queue bullmq active",
                       "claude_mem_37700", "13.25.3", 75, "missing")
WORKERS = WorkerReport((WorkerLine("worker-1", "running", 42, True, "claude_mem_37700", "13.25.3", 12),), 1.0)
START = ServerStart(Outcome.STARTED, 41, "http://127.0.0.1:29800", "claude_mem_37700", "13.25.3", 412.0)


def data(command, value):
    return build_envelope(command, True, value)["data"]


def test_server_views():
    lines = format_server_status(RUNNING)
    assert lines[0] == "Server: running on http://127.0.0.1:29800 (pid 41)"
    assert any("claude-mem's own .server-beta.pid is missing" in line for line in lines)
    down = ServerStatus(False, None, "http://127.0.0.1:29800", problem="not started by cmem-ops",
                        hint="cmem-ops server start")
    assert format_server_status(down) == ["Server: not running (http://127.0.0.1:29800)",
                                          "Problem: not started by cmem-ops", "Fix: cmem-ops server start"]
    assert "in 412 ms" in format_server_start(START)[0]
    assert format_server_stop(ServerStop(Outcome.STOPPED, 41, "terminated")) == \
        ["Stopped the claude-mem server (pid 41, terminated)."]
    assert format_worker_report(WORKERS) == ["Worker 1: running (pid 42, queue prefix claude_mem_37700, up 12s)"]
    assert format_worker_report(WorkerReport((), 0.0)) == ["No worker started by cmem-ops."]


def test_json_contract_server_and_worker():
    assert list(data("server.status", RUNNING)) == [
        "running", "pid", "url", "healthy", "ready", "info", "prefix", "version", "uptime_s", "claude_mem_pidfile",
        "problem", "hint"]
    assert list(data("server.start", START)) == ["outcome", "pid", "url", "prefix", "version", "elapsed_ms", "checks"]
    assert list(data("worker.status", WORKERS)) == ["workers", "elapsed_ms", "checks"]
    assert list(data("worker.status", WORKERS)["workers"][0]) == [
        "component", "outcome", "pid", "running", "prefix", "version", "uptime_s", "elapsed_ms", "note"]


def test_stack_views_and_contract():
    store = StoreStatus("managed", True, "redis://:***@127.0.0.1:1/0", "127.0.0.1", 1, "Valkey", "9.1.2")
    pg = PgStatus("managed", True, "postgres://cmem:***@127.0.0.1:2/claude_mem", 2, 7, "15.18", "/pg", None, None)
    status = StackStatus(store, pg, RUNNING, WORKERS, "13.25.3 (bun)")
    lines = format_stack_status(status)
    assert lines[0] == "Runtime: claude-mem 13.25.3 (bun)" and lines[-1] == "Stack: healthy"
    assert list(data("stack.status", status)) == ["store", "postgres", "server", "workers", "runtime", "problems"]
    up = StackUp((Step("queue store", "started", "managed, pid 1", 80.0),), START, WORKERS, (), 980.0)
    assert format_stack_up(up)[1].split() == ["queue", "store", "started", "80", "ms", "managed,", "pid", "1"]
    assert list(data("stack.up", up)) == ["steps", "server", "workers", "checks", "elapsed_ms"]
    down = StackDown((Step("workers", "stopped", "worker-1 pid 4 terminated", 20.0),), 200.0)
    assert format_stack_down(down)[-1] == "Done in 0.20 s; data kept."


def test_jobs_and_e2e_views():
    empty = StuckReport((), "http://127.0.0.1:29800", "p", True)
    assert format_stuck(empty) == ["No generation job is processing."]
    report = RecoveryReport(empty, (JobOutcome("j1", True, 200, 200, "completed"),), (), False, 1500.0)
    assert format_recovery(report) == ["No stuck generation job: nothing to recover."]
    assert list(data("jobs.recover", report)) == ["found", "outcomes", "commands", "dry_run", "elapsed_ms"]
    step = StepResult("revoke", "PASS", 1.04, "read 403, write 403")
    assert format_step(step) == "PASS  revoke (1.0 s): read 403, write 403"
    e2e = E2eReport((step, StepResult("down", "FAIL", 0.5, "x")), "/tmp/w", True, 20.0, "13.25.3")
    assert format_verdict(e2e) == ["e2e: 1 passed, 1 failed, 0 skipped in 20.0 s", "kept for a look: /tmp/w"]
    assert not e2e.ok
