import json
import subprocess
import sys
from pathlib import Path

from cmem_ops.paths import Paths
from cmem_ops.pidfile import PidRecord, read_proc, write_pidfile
from cmem_ops.probes.base import Group, ProbeResult, Status
from cmem_ops.probes.stack import explain_info_timeout, judge_prefixes, parse_consumer_prefixes, probe_processes
from tests.support import wait_exec

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "claude-mem"


def test_consumer_prefixes_from_a_real_client_list():
    text = (FIXTURES / "valkey-client-list.txt").read_text()
    assert parse_consumer_prefixes(text) == {"claude_mem_37700"}
    assert parse_consumer_prefixes("id=1 name=other:Zm9v flags=b\nid=2 name= flags=N") == set()


def test_prefix_verdicts():
    assert judge_prefixes("a", "a", ["a"], {"a"}).status is Status.OK
    drift = judge_prefixes("a", "a", ["b"], {"a", "b"})
    assert drift.status is Status.FAIL and "a worker of ours uses b" in drift.summary and drift.hint
    assert judge_prefixes("a", "b", [], None).status is Status.FAIL
    none_on_ours = judge_prefixes("a", "a", [], {"claude_mem_37700"})
    assert none_on_ours.status is Status.FAIL and "consumers use claude_mem_37700" in none_on_ours.summary
    assert judge_prefixes("a", "a", ["a"], {"a", "z"}).status is Status.WARN
    assert judge_prefixes(None, None, [], None).status is Status.SKIP
    assert judge_prefixes("a", None, [], set()).status is Status.OK


def test_a_hanging_info_is_blamed_on_a_silent_store():
    hung = ProbeResult("info", "x", Status.FAIL, "GET /v1/info: no answer within 4s", group=Group.SERVER)
    other = ProbeResult("healthz", "x", Status.OK, "ok", group=Group.SERVER)
    assert explain_info_timeout([hung, other], None, "cmem-ops store start") == [hung, other]
    out = explain_info_timeout([hung, other], "127.0.0.1:1: refused", "cmem-ops store start")
    assert out[0].status is Status.FAIL and "queue store (Valkey) does not answer" in out[0].summary
    assert out[0].hint == "cmem-ops store start" and out[1] == other


def test_processes_are_ours_only_with_the_token(tmp_path):
    paths = Paths(tmp_path / "data")
    assert probe_processes(paths)[0].status is Status.SKIP
    paths.run_dir.mkdir(parents=True)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "--cmem-ops-token=abc123"])
    try:
        wait_exec(child.pid, "--cmem-ops-token=abc123")
        info = read_proc(child.pid)
        write_pidfile(paths.run_dir / "server.json", PidRecord(child.pid, info.start_id, "abc123", "server",
                                                               extra={"prefix": "p"}))
        write_pidfile(paths.run_dir / "worker-1.json", PidRecord(child.pid, info.start_id, "not-in-cmdline",
                                                                 "worker-1"))
        results = {r.name: r for r in probe_processes(paths)}
        assert results["server"].status is Status.OK and "queue prefix p" in results["server"].summary
        assert "missing or stale" in results["server"].detail  # no claude-mem pid file here
        assert results["worker-1"].status is Status.FAIL and results["worker-1"].hint.startswith("cmem-ops worker")
        (paths.data_dir / ".server-beta.pid").write_text(json.dumps({"pid": child.pid}))
        assert not {r.name: r for r in probe_processes(paths)}["server"].detail
    finally:
        child.kill()
        child.wait()
