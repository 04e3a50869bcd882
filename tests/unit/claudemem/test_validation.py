from pathlib import Path

from cmem_ops.claudemem.validation import (
    detect_docker,
    failures,
    format_refusal,
    validate_preflight,
    validate_server_env,
    validate_worker_env,
)
from cmem_ops.probes.base import Status

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "claude-mem"

GOOD = {"CLAUDE_MEM_RUNTIME": "server", "CLAUDE_MEM_SERVER_DATABASE_URL": "postgres://u:pw@127.0.0.1:5432/db",
        "CLAUDE_MEM_QUEUE_ENGINE": "bullmq", "CLAUDE_MEM_REDIS_URL": "redis://:pw@127.0.0.1:6379/0",
        "CLAUDE_MEM_QUEUE_REDIS_PREFIX": "claude_mem_37700", "CLAUDE_MEM_SERVER_HOST": "127.0.0.1",
        "CLAUDE_MEM_SERVER_PORT": "29800"}


def by_name(results):
    return {r.name: r for r in results}


def test_a_good_environment_passes_every_rule():
    results = validate_server_env(GOOD, docker=True)
    assert all(r.status is Status.OK for r in results), [(r.name, r.summary) for r in results if r.status != "ok"]
    assert "pw" not in " ".join(r.summary for r in results)  # URLs are redacted


def test_the_same_problems_claude_mem_reports_in_docker_are_refused_with_fixes():
    # claude-mem's own output for this environment (captured): three problems
    captured = (FIXTURES / "startup-invalid-docker.out").read_text()
    assert captured.count("\n  - ") == 3
    env = {"CLAUDE_MEM_DOCKER": "1", "CLAUDE_MEM_AUTH_MODE": "local-dev", "CLAUDE_MEM_QUEUE_ENGINE": "bullmq",
           "CLAUDE_MEM_RUNTIME": "server", "CLAUDE_MEM_SERVER_PORT": "29800"}
    failed = by_name(failures(validate_server_env(env, docker=detect_docker(env, Path("/nonexistent")))))
    assert set(failed) == {"database url", "redis url", "auth mode"}
    for key in ("CLAUDE_MEM_AUTH_MODE=local-dev", "CLAUDE_MEM_SERVER_DATABASE_URL", "CLAUDE_MEM_REDIS_URL"):
        assert key in captured
    assert all(r.hint for r in failed.values())
    assert failed["database url"].hint.startswith("cmem-ops postgres start")
    assert failed["redis url"].hint.startswith("cmem-ops store start")
    message = format_refusal("server", failed.values())
    assert message.splitlines()[0] == "server startup configuration is invalid:"
    assert message.count("\n  - ") == 3 and message.count("fix: ") == 3


def test_docker_rules_only_apply_in_docker():
    local_dev = {**GOOD, "CLAUDE_MEM_AUTH_MODE": "local-dev"}
    assert by_name(validate_server_env(local_dev, docker=True))["auth mode"].status is Status.FAIL
    assert by_name(validate_server_env(local_dev, docker=False))["auth mode"].status is Status.WARN
    bypass = {**local_dev, "CLAUDE_MEM_ALLOW_LOCAL_DEV_BYPASS": "1"}
    assert by_name(validate_server_env(bypass, docker=False))["auth mode"].status is Status.OK
    assert by_name(validate_server_env({**GOOD, "CLAUDE_MEM_ALLOW_LOCAL_DEV_BYPASS": "true"}, docker=True)
                   )["auth mode"].status is Status.FAIL


def test_detect_docker_reads_the_env_and_an_injected_root(tmp_path):
    assert not detect_docker({}, tmp_path)
    assert detect_docker({"CLAUDE_MEM_DOCKER": "true"}, tmp_path)
    (tmp_path / ".dockerenv").touch()
    assert detect_docker({}, tmp_path)


def test_engine_url_schemes_address_and_prefix():
    results = by_name(validate_server_env({**GOOD, "CLAUDE_MEM_QUEUE_ENGINE": "sqlite"}, docker=False))
    assert results["queue engine"].status is Status.FAIL and "bullmq" in results["queue engine"].hint
    results = by_name(validate_server_env({**GOOD, "CLAUDE_MEM_REDIS_URL": "http://x"}, docker=False))
    assert results["redis url"].status is Status.FAIL
    results = by_name(validate_server_env({**GOOD, "CLAUDE_MEM_SERVER_DATABASE_URL": "mysql://x"}, docker=False))
    assert results["database url"].status is Status.FAIL
    results = by_name(validate_server_env({**GOOD, "CLAUDE_MEM_SERVER_HOST": "0.0.0.0"}, docker=False))
    assert results["address"].status is Status.WARN
    results = by_name(validate_server_env({**GOOD, "CLAUDE_MEM_SERVER_PORT": "99999"}, docker=False))
    assert results["address"].status is Status.FAIL
    results = by_name(validate_server_env({**GOOD, "CLAUDE_MEM_QUEUE_REDIS_PREFIX": ""}, docker=False))
    assert results["queue prefix"].status is Status.WARN
    results = by_name(validate_server_env({**GOOD, "CLAUDE_MEM_RUNTIME": "worker"}, docker=False))
    assert results["runtime"].status is Status.FAIL


def test_worker_warns_without_a_provider_key():
    assert by_name(validate_worker_env(GOOD, docker=False))["provider"].status is Status.WARN
    env = {**GOOD, "CLAUDE_MEM_SERVER_PROVIDER": "openrouter"}
    assert "no API key" in by_name(validate_worker_env(env, docker=False))["provider"].summary
    env["OPENROUTER_API_KEY"] = "k"
    assert by_name(validate_worker_env(env, docker=False))["provider"].status is Status.OK


def test_preflight_checks_only_engine_and_auth():
    assert [r.name for r in validate_preflight({"CLAUDE_MEM_QUEUE_ENGINE": "bullmq"}, docker=False)] == \
        ["queue engine", "auth mode"]
    assert not failures(validate_preflight({"CLAUDE_MEM_QUEUE_ENGINE": "bullmq"}, docker=True))
