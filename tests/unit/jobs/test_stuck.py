import os
import subprocess
import sys

from cmem_ops.jobs.recover import StuckReport, format_commands
from cmem_ops.jobs.stuck import (
    ProcessingJob,
    Verdict,
    assess,
    holder_alive,
    is_local,
    judge,
    lock_key,
    parse_locked_by,
    queue_of,
    row_to_job,
)
from cmem_ops.redis_url import RedisTarget
from tests.support import wait_exec

# The row captured after a worker was SIGKILLed mid-job (research run, db-stuck-processing).
ROW = {"id": "fecf3ca9-8d40-4b88-9075-d4c8cdeb7636", "project_id": "p", "team_id": "t", "source_type": "agent_event",
       "bullmq_job_id": "evt_a86e8e567c8adf37d5292187a4501eedf8bda5f8abe89a5b1b0d9fcb5eded469",
       "locked_by": "server-12523", "attempts": 1, "max_attempts": 3, "age_s": 2.7}


def job(**kw):
    return ProcessingJob(**{**vars(row_to_job(ROW)), **kw})


def test_lock_keys_and_lanes():
    assert queue_of("agent_event") == "server_beta_generate_event"
    assert queue_of("session_summary") == "server_beta_generate_summary"
    assert queue_of("observation_reindex") == "server_beta_generate_event"
    assert lock_key("claude_mem_37700", "agent_event", "evt_1") == \
        "claude_mem_37700:server_beta_generate_event:evt_1:lock"
    assert parse_locked_by("server-12523") == 12523
    assert parse_locked_by("worker-1") is None and parse_locked_by(None) is None


def test_the_verdicts():
    assert judge(job(), lock_held=True, holder_alive=True)[0] is Verdict.RUNNING
    assert judge(job(), lock_held=True, holder_alive=False)[0] is Verdict.STUCK
    assert judge(job(), lock_held=True, holder_alive=None)[0] is Verdict.UNKNOWN
    assert judge(job(age_s=2.0), lock_held=False, holder_alive=None)[0] is Verdict.RUNNING
    verdict, reason = judge(job(age_s=60.0), lock_held=False, holder_alive=None)
    assert verdict is Verdict.STUCK and "server-12523" in reason


def test_holder_alive_reads_proc_and_trusts_only_a_local_store():
    assert holder_alive(None, local=True) is None
    assert holder_alive(os.getpid(), local=False) is None
    assert holder_alive(os.getpid(), local=True) is False  # alive, but not claude-mem's bundle
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "server-service.cjs"])
    try:
        wait_exec(child.pid, "server-service.cjs")
        assert holder_alive(child.pid, local=True) is True
    finally:
        child.kill()
        child.wait()
    assert holder_alive(child.pid, local=True) is False
    assert is_local(RedisTarget("127.0.0.1", 1)) and not is_local(RedisTarget("10.0.0.5", 1))


def test_assess_and_the_exact_recovery_commands():
    dead = 2**22 + 12345  # above pid_max on most systems: no such process
    jobs = [job(locked_by=f"server-{dead}"), job(id="j2", bullmq_job_id="evt_2", age_s=120.0),
            job(id="j3", bullmq_job_id="evt_3", age_s=1.0)]
    locks = {lock_key("p", "agent_event", ROW["bullmq_job_id"]): True}
    states = assess(jobs, locks, "p", local=True)
    assert [s.verdict for s in states] == [Verdict.STUCK, Verdict.STUCK, Verdict.RUNNING]
    assert states[0].delete_lock and not states[1].delete_lock
    report = StuckReport(tuple(states), "http://127.0.0.1:29800", "p", True)
    commands = format_commands(report)
    assert commands[0].startswith("# KEY:")
    lock = f"p:server_beta_generate_event:{ROW['bullmq_job_id']}:lock"
    assert commands[1] == f"redis-cli -u \"$CLAUDE_MEM_REDIS_URL\" DEL {lock}"
    assert commands[2].endswith(f"http://127.0.0.1:29800/v1/jobs/{ROW['id']}/cancel")
    assert commands[3].endswith(f"/v1/jobs/{ROW['id']}/retry")
    assert commands[4].endswith("/v1/jobs/j2/cancel") and len(commands) == 6
    # a remote store: the holder cannot be proven dead, so the lock is never touched
    remote = assess(jobs[:1], locks, "p", local=False)
    assert remote[0].verdict is Verdict.UNKNOWN and not remote[0].delete_lock


def test_scan_names_the_side_that_failed_and_both_users_report_it():
    import socket

    import pytest

    from cmem_ops.errors import OpsError
    from cmem_ops.jobs.stuck import ScanError, ScanSide, format_recovery_commands, scan
    from cmem_ops.probes.base import Status
    from cmem_ops.probes.stack import probe_stuck_jobs

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://u:secret@127.0.0.1:{port}/db"
    target = RedisTarget(host="127.0.0.1", port=port)
    with pytest.raises(ScanError) as caught:
        scan(url, target, "p", timeout=1.0)
    assert caught.value.side is ScanSide.POSTGRES and "secret" not in caught.value.detail
    result = probe_stuck_jobs(url, target, "p", "http://127.0.0.1:1", timeout=1.0)
    assert result.status is Status.SKIP and result.summary.startswith("cannot read jobs:")
    assert format_recovery_commands([], "http://x") == []
    with pytest.raises(OpsError, match="cannot read generation jobs from Postgres"):
        raise_detect(url, port)


def raise_detect(url, port):
    """jobs stuck/recover's detect() over the same scan, through a context with those settings."""
    import tempfile

    from cmem_ops.context import build_context
    from cmem_ops.jobs.recover import detect

    with tempfile.TemporaryDirectory() as home:
        env = {"HOME": home, "CLAUDE_MEM_DATA_DIR": home + "/data", "CLAUDE_MEM_SERVER_DATABASE_URL": url,
               "CLAUDE_MEM_REDIS_URL": f"redis://127.0.0.1:{port}/0"}
        detect(build_context(env=env), timeout=1.0)


def test_docker_recovery_commands_run_inside_the_containers():
    jobs = [job(locked_by="server-1")]
    locks = {lock_key("p", "agent_event", ROW["bullmq_job_id"]): True}
    states = assess(jobs, locks, "p", local=False, alive_check=lambda _job, _pid: False)
    assert states[0].verdict is Verdict.STUCK and states[0].delete_lock
    commands = format_commands(StuckReport(tuple(states), "http://127.0.0.1:29800", "p", False, "cmem-ab12cd34"))
    assert "docker exec cmem-ab12cd34-claude-mem-server-1 /usr/local/bin/claude-mem-entrypoint server api-key " \
           "create" in commands[0]
    lock = f"p:server_beta_generate_event:{ROW['bullmq_job_id']}:lock"
    assert commands[1] == ("docker exec cmem-ab12cd34-valkey-1 sh -c 'REDISCLI_AUTH=\"$(cat /run/secrets/valkey-"
                           f"password)\" valkey-cli --no-auth-warning DEL {lock}'")
    assert commands[2].endswith(f"/v1/jobs/{ROW['id']}/cancel")
