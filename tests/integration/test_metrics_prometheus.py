"""Debian's real Prometheus scrapes `cmem-ops metrics --serve`; promtool checks the shipped alert rules."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from cmem_ops.metrics.lanes import EVENT_QUEUE
from cmem_ops.wait import Deadline, poll
from tests.support import REPO, RunningServer, free_port, user_env

pytestmark = pytest.mark.integration
PREFIX = "claude_mem_prom"
TOKEN = "test-token-0123456789abcdef"
RULES = REPO / "docs" / "prometheus-alerts.yml"


def test_alert_rules_pass_promtool() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (apt-get install -y prometheus)")
    out = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60,
                         check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS: 8 rules found" in out.stdout


def test_alerts_fire_as_written() -> None:
    """promtool's rule unit tests: each alert fires on the series it is about, with its fix in the annotations."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (apt-get install -y prometheus)")
    cases = REPO / "tests" / "fixtures" / "prometheus" / "alerts-test.yml"
    out = subprocess.run([promtool, "test", "rules", str(cases)], capture_output=True, text=True, timeout=60,
                         check=False)
    assert out.returncode == 0 and "SUCCESS" in out.stdout, out.stdout + out.stderr


def add_waiting_jobs(url: str, n: int) -> None:
    bullmq = pytest.importorskip("bullmq", reason="Python bullmq is missing: pip install 'cmem-ops[bullmq]'")

    async def add() -> None:
        queue = bullmq.Queue(EVENT_QUEUE, {"connection": url, "prefix": PREFIX})
        for i in range(n):
            await queue.add("generate", {"i": i})
        await queue.close()

    asyncio.run(add())


def http_get(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_prometheus_scrapes_metrics_serve(tmp_path: Path, valkey: RunningServer) -> None:
    prometheus = shutil.which("prometheus")
    if prometheus is None:
        pytest.skip("prometheus is not installed (apt-get install -y prometheus)")
    add_waiting_jobs(valkey.url, 3)
    token_file = tmp_path / "metrics.token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=valkey.url, CLAUDE_MEM_QUEUE_REDIS_PREFIX=PREFIX)
    port = free_port()
    serve = subprocess.Popen([sys.executable, "-m", "cmem_ops", "metrics", "--serve", "--listen",
                              f"127.0.0.1:{port}", "--token-file", str(token_file)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    prom: subprocess.Popen[bytes] | None = None
    try:
        endpoint = f"http://127.0.0.1:{port}/metrics"
        status, _ = poll(lambda: http_get(endpoint), Deadline.after(30), what="metrics --serve to answer",
                         transient=(OSError,))
        assert status == 401  # a token file was given: every scrape must carry it
        status, body = http_get(endpoint, TOKEN)
        assert status == 200 and 'bullmq_job_count{queue="server_beta_generate_event",state="waiting"} 3.0' in body
        web = free_port()
        config = tmp_path / "prometheus.yml"
        config.write_text(json.dumps({  # JSON is YAML
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
            "rule_files": [str(RULES)],
            "scrape_configs": [{"job_name": "cmem-ops", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}],
                                "authorization": {"type": "Bearer", "credentials_file": str(token_file)}}]}))
        prom = subprocess.Popen([prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                                 f"--web.listen-address=127.0.0.1:{web}"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        query = urllib.parse.quote(f'bullmq_job_count{{queue="{EVENT_QUEUE}",state="waiting"}}')

        def series() -> list[dict[str, object]] | None:
            code, text = http_get(f"http://127.0.0.1:{web}/api/v1/query?query={query}")
            result = json.loads(text)["data"]["result"] if code == 200 else []
            return result or None

        result = poll(series, Deadline.after(60), what="Prometheus to scrape bullmq_job_count", transient=(OSError,))
        assert result[0]["metric"]["job"] == "cmem-ops" and result[0]["value"][1] == "3"  # type: ignore[index]
        code, text = http_get(f"http://127.0.0.1:{web}/api/v1/query?query=cmem_ops_store_up")
        assert json.loads(text)["data"]["result"][0]["value"][1] == "1"
        code, text = http_get(f"http://127.0.0.1:{web}/api/v1/rules")
        assert code == 200 and "ClaudeMemNoWorkerWithWorkWaiting" in text
    finally:
        if prom is not None:
            stop(prom)
        stop(serve)
    assert serve.returncode == 0, serve.stderr.read().decode() if serve.stderr else ""


def test_a_wide_listen_address_is_refused_without_flag_and_token(tmp_path: Path) -> None:
    from tests.support import run_cli

    env = user_env(tmp_path)
    out = run_cli(env, "metrics", "--serve", "--listen", "0.0.0.0:9464", timeout=30)
    assert out.returncode == 2 and "not a loopback address" in out.stderr and "--allow-remote" in out.stderr
    assert "Traceback" not in out.stderr
    out = run_cli(env, "metrics", "--serve", "--listen", "0.0.0.0:9464", "--allow-remote", timeout=30)
    assert out.returncode == 2 and "needs --token-file" in out.stderr
    short = tmp_path / "short.token"
    short.write_text("abc\n")
    out = run_cli(env, "metrics", "--serve", "--listen", "0.0.0.0:9464", "--allow-remote", "--token-file",
                  str(short), timeout=30)
    assert out.returncode == 3 and "shorter than 16 characters" in out.stderr
