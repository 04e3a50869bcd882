"""lifecycle/docker_stack_config.py and claudemem/docker_rules.py: what the docker stack is handed (pure)."""

from __future__ import annotations

import shlex
from pathlib import Path

from cmem_ops.claudemem.docker_rules import docker_violations, format_violations
from cmem_ops.lifecycle.docker_stack_config import (
    StackSecrets,
    StackState,
    build_compose_env,
    build_container_env,
    choose_images,
    format_state,
    parse_state,
    project_name,
    render_secret_files,
    shell_quote,
)
from cmem_ops.paths import Paths

SECRETS = StackSecrets("v" * 48, "p'q" + "x" * 20)


def test_images_come_from_the_variable_then_the_local_build_then_the_default() -> None:
    present = frozenset({"local/cmem-valkey:9.1", "local/claude-mem:13.25.3"})
    chosen = {c.part: (c.image, c.source) for c in choose_images({"CMEM_STACK_POSTGRES_IMAGE": "pg:16"}, present)}
    assert chosen == {"valkey": ("local/cmem-valkey:9.1", "local"), "postgres": ("pg:16", "env"),
                      "claude-mem": ("local/claude-mem:13.25.3", "local")}
    defaults = {c.part: c.image for c in choose_images({}, frozenset())}
    assert defaults["valkey"] == "valkey/valkey:9.1" and defaults["postgres"] == "postgres:17"


def test_secret_files_hold_the_passwords_and_the_compose_env_holds_none(tmp_path: Path) -> None:
    files = render_secret_files(SECRETS, {"OPENROUTER_API_KEY": "sk-test", "UNRELATED": "nope"})
    assert 'requirepass "' + "v" * 48 + '"' in files["valkey.conf"].splitlines()
    assert "maxmemory-policy noeviction" in files["valkey.conf"] and "appendonly yes" in files["valkey.conf"]
    assert files["valkey-password"] == "v" * 48 and files["postgres-password"] == SECRETS.postgres_password
    exported = dict(line.split("=", 1) for line in files["claude-mem.env"].splitlines())
    assert shlex.split(exported["CLAUDE_MEM_SERVER_DATABASE_URL"]) == [
        f"postgres://claude_mem:{SECRETS.postgres_password}@postgres:5432/claude_mem"]
    assert shlex.split(exported["OPENROUTER_API_KEY"]) == ["sk-test"] and "UNRELATED" not in exported
    env = build_compose_env(StackState("cmem-ab12cd34", 40123), Paths(tmp_path), choose_images({}, frozenset()),
                            auth_mode="api-key", provider="openrouter")
    assert env["CMEM_STACK_PROJECT"] == "cmem-ab12cd34" and env["CMEM_STACK_SERVER_PORT"] == "40123"
    assert env["CMEM_STACK_SECRETS_DIR"] == str(tmp_path / "docker-stack" / "secrets")
    assert not any(SECRETS.valkey_password in v or "sk-test" in v for v in env.values())


def test_shell_quote_survives_any_character() -> None:
    for value in ("plain", "it's", "a b $c `d` \"e\"", ""):
        assert shlex.split(shell_quote(value)) == [value]


def test_the_project_is_one_per_data_dir_and_the_state_round_trips(tmp_path: Path) -> None:
    a, b = project_name(tmp_path / "a"), project_name(tmp_path / "b")
    assert a != b and a.startswith("cmem-") and len(a) == 13 and project_name(tmp_path / "a") == a
    state = StackState(a, 40123, "claude_mem_stack")
    assert parse_state(format_state(state)) == state
    assert parse_state("not json") is None and parse_state('{"project": "x"}') is None


def test_claude_mems_docker_rules_in_its_own_words() -> None:
    assert docker_violations(build_container_env("api-key")) == []
    problems = docker_violations(build_container_env("local-dev", bypass="1"))
    assert problems == [
        "CLAUDE_MEM_AUTH_MODE=local-dev is not allowed in Docker. Set CLAUDE_MEM_AUTH_MODE=api-key and create a "
        "key with `claude-mem server api-key create`.",
        "CLAUDE_MEM_ALLOW_LOCAL_DEV_BYPASS is not allowed in Docker. Loopback bypass cannot be enforced inside a "
        "container; remove the variable."]
    assert format_violations(problems).startswith("server startup configuration is invalid:\n  - CLAUDE_MEM_AUTH")
    assert docker_violations({"CLAUDE_MEM_SERVER_DATABASE_URL": "postgres://x"}) == [
        'CLAUDE_MEM_QUEUE_ENGINE is required in Docker; set it to "bullmq".']
    assert 'Only "bullmq" is supported' in docker_violations({**build_container_env("api-key"),
                                                              "CLAUDE_MEM_QUEUE_ENGINE": "sqlite"})[0]


# --- opt-in loopback publication of the store and Postgres --------------------------------------

def test_publication_is_off_unless_asked_and_keeps_recorded_ports():
    from cmem_ops.lifecycle.docker_stack_config import (
        StackState,
        build_database_url,
        build_store_url,
        format_state,
        parse_state,
        plan_published_ports,
        wants_publish,
    )

    state = StackState("cmem-1234abcd", 40000)
    ports = iter([41001, 41002])
    assert not wants_publish(None) and not wants_publish("0") and wants_publish("1") and wants_publish("yes")
    off = plan_published_ports(state, False, (0, 0), lambda: next(ports))
    assert (off.store_port, off.postgres_port, off.published) == (0, 0, False)
    assert build_store_url(off, "pw") is None and build_database_url(off, "pw") is None
    on = plan_published_ports(state, True, (0, 0), lambda: next(ports))
    assert (on.store_port, on.postgres_port) == (41001, 41002)
    assert plan_published_ports(on, True, (1, 2), lambda: 9) == on  # recorded ports are kept
    assert plan_published_ports(state, True, (45001, 45002), lambda: 9).store_port == 45001
    assert parse_state(format_state(on)) == on
    assert parse_state('{"project": "p", "server_port": 1}') == StackState("p", 1)  # state.json before publication
    assert build_store_url(on, "pw") == "redis://:pw@127.0.0.1:41001/0"
    assert build_database_url(on, "pw") == "postgres://claude_mem:pw@127.0.0.1:41002/claude_mem"


def test_compose_env_carries_the_published_ports_only_when_published(tmp_path):
    from cmem_ops.lifecycle.docker_stack_config import StackState, build_compose_env
    from cmem_ops.paths import Paths

    paths = Paths(tmp_path)
    plain = build_compose_env(StackState("p", 1), paths, [], auth_mode="api-key")
    assert "CMEM_STACK_VALKEY_PORT" not in plain
    env = build_compose_env(StackState("p", 1, store_port=5, postgres_port=6), paths, [], auth_mode="api-key")
    assert (env["CMEM_STACK_VALKEY_PORT"], env["CMEM_STACK_POSTGRES_PORT"]) == ("5", "6")
