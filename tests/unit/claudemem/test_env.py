from pathlib import Path

from cmem_ops.claudemem.env import (
    CLI_IDLE_TIMEOUT_MS,
    StackConfig,
    build_cli_env,
    build_server_env,
    build_worker_env,
    default_prefix,
    default_server_port,
    provider_of,
    sanitize_prefix,
    settings_updates,
)


def config(**kw):
    base = dict(data_dir=Path("/d"), database_url="postgres://u:p@127.0.0.1:5/db", redis_url="redis://:pw@127.0.0.1:6/0",
                prefix="claude_mem_37700", port=29800, passthrough={"CLAUDE_MEM_SERVER_PROVIDER": "openrouter"})
    base.update(kw)
    return StackConfig(**base)


def test_server_env_has_every_key_claude_mem_reads_and_disables_generation():
    env = build_server_env(config())
    assert env == {
        "CLAUDE_MEM_SERVER_PROVIDER": "openrouter",
        "CLAUDE_MEM_DATA_DIR": "/d",
        "CLAUDE_MEM_RUNTIME": "server",
        "CLAUDE_MEM_QUEUE_ENGINE": "bullmq",
        "CLAUDE_MEM_QUEUE_REDIS_PREFIX": "claude_mem_37700",
        "CLAUDE_MEM_SERVER_HOST": "127.0.0.1",
        "CLAUDE_MEM_SERVER_PORT": "29800",
        "CLAUDE_MEM_POSTGRES_IDLE_TIMEOUT_MS": "10000",
        "CLAUDE_MEM_SERVER_DATABASE_URL": "postgres://u:p@127.0.0.1:5/db",
        "CLAUDE_MEM_REDIS_URL": "redis://:pw@127.0.0.1:6/0",
        "CLAUDE_MEM_GENERATION_DISABLED": "1",
    }
    assert "CLAUDE_MEM_GENERATION_DISABLED" not in build_server_env(config(), separate_workers=False)


def test_worker_and_server_share_the_prefix_and_the_worker_generates():
    server, worker = build_server_env(config()), build_worker_env(config())
    assert server["CLAUDE_MEM_QUEUE_REDIS_PREFIX"] == worker["CLAUDE_MEM_QUEUE_REDIS_PREFIX"]
    assert worker["CLAUDE_MEM_GENERATION_DISABLED"] == "0"
    assert {k: v for k, v in server.items() if k != "CLAUDE_MEM_GENERATION_DISABLED"} == \
        {k: v for k, v in worker.items() if k != "CLAUDE_MEM_GENERATION_DISABLED"}


def test_cli_env_exits_fast_and_missing_urls_are_left_out():
    assert build_cli_env(config())["CLAUDE_MEM_POSTGRES_IDLE_TIMEOUT_MS"] == CLI_IDLE_TIMEOUT_MS == "300"
    env = build_server_env(config(database_url=None, redis_url=None))
    assert "CLAUDE_MEM_SERVER_DATABASE_URL" not in env and "CLAUDE_MEM_REDIS_URL" not in env


def test_prefix_defaults_like_claude_mem():
    assert default_prefix(None, 0) == "claude_mem_37700"
    assert default_prefix("", 1042) == "claude_mem_37742"
    assert default_prefix("38000", 0) == "claude_mem_38000"
    assert sanitize_prefix("my prefix/1") == "my_prefix_1"
    assert sanitize_prefix("  ") == "claude_mem"
    assert default_server_port(1042) == 37919


def test_settings_updates_never_carry_the_database_url_or_the_generation_switch():
    updates = settings_updates(config())
    assert updates == {"CLAUDE_MEM_RUNTIME": "server", "CLAUDE_MEM_QUEUE_ENGINE": "bullmq",
                       "CLAUDE_MEM_QUEUE_REDIS_PREFIX": "claude_mem_37700", "CLAUDE_MEM_SERVER_HOST": "127.0.0.1",
                       "CLAUDE_MEM_SERVER_PORT": "29800", "CLAUDE_MEM_POSTGRES_IDLE_TIMEOUT_MS": "10000"}


def test_provider_needs_its_key():
    assert provider_of({}) == (None, False)
    assert provider_of({"CLAUDE_MEM_SERVER_PROVIDER": "OpenRouter"}) == ("openrouter", False)
    assert provider_of({"CLAUDE_MEM_SERVER_PROVIDER": "openrouter", "CLAUDE_MEM_OPENROUTER_API_KEY": "k"}) == \
        ("openrouter", True)
    assert provider_of({"CLAUDE_MEM_SERVER_PROVIDER": "anthropic", "ANTHROPIC_API_KEY": "k"}) == ("anthropic", True)


def test_base_url_brackets_ipv6():
    assert config().base_url == "http://127.0.0.1:29800"
    assert config(host="::1").base_url == "http://[::1]:29800"
