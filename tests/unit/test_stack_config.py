import json

import pytest

from cmem_ops.context import build_context
from cmem_ops.errors import ConfigError
from cmem_ops.lifecycle.stack_config import persist_config, plan_config
from cmem_ops.paths import Paths
from cmem_ops.settings import load_settings


def settings_with(tmp_path, file=None, env=None):
    paths = Paths(tmp_path / "data")
    paths.data_dir.mkdir(exist_ok=True)
    if file is not None:
        paths.settings_file.write_text(json.dumps(file))
    return load_settings(paths, env or {})


def test_port_is_picked_only_when_none_is_configured(tmp_path):
    picks = []
    cfg = plan_config(settings_with(tmp_path), None, 0, lambda: picks.append(1) or 24001)
    assert cfg.port == 24001 and picks == [1]
    cfg = plan_config(settings_with(tmp_path, {"CLAUDE_MEM_SERVER_PORT": "24555"}), None, 0, lambda: 1 / 0)
    assert cfg.port == 24555
    with pytest.raises(ConfigError):
        plan_config(settings_with(tmp_path, {"CLAUDE_MEM_SERVER_PORT": "http"}), None, 0, lambda: 1)


def test_prefix_is_claude_mems_default_unless_pinned_and_passthrough_is_resolved(tmp_path):
    cfg = plan_config(settings_with(tmp_path, {"OPENROUTER_API_KEY": "k"}), "postgres://x", 1042, lambda: 24001)
    assert cfg.prefix == "claude_mem_37742" and cfg.passthrough == {"OPENROUTER_API_KEY": "k"}
    cfg = plan_config(settings_with(tmp_path, {"CLAUDE_MEM_QUEUE_REDIS_PREFIX": "mine!"},
                                    {"CLAUDE_MEM_WORKER_PORT": "38000"}), None, 0, lambda: 24001)
    assert cfg.prefix == "mine_"
    cfg = plan_config(settings_with(tmp_path, {}, {"CLAUDE_MEM_WORKER_PORT": "38000"}), None, 0, lambda: 24001)
    assert cfg.prefix == "claude_mem_38000"


def test_persist_keeps_other_keys_and_never_copies_environment_values(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "settings.json").write_text(json.dumps({"CLAUDE_MEM_MODEL": "keep-me"}))
    ctx = build_context({"CLAUDE_MEM_DATA_DIR": str(data), "CLAUDE_MEM_SERVER_HOST": "127.0.0.1",
                         "HOME": str(tmp_path)})
    cfg = plan_config(ctx.settings, None, 0, lambda: 24002)
    persist_config(ctx, cfg)
    written = json.loads((data / "settings.json").read_text())
    assert written["CLAUDE_MEM_MODEL"] == "keep-me"
    assert written["CLAUDE_MEM_SERVER_PORT"] == "24002" and written["CLAUDE_MEM_RUNTIME"] == "server"
    assert written["CLAUDE_MEM_QUEUE_REDIS_PREFIX"] == cfg.prefix
    assert "CLAUDE_MEM_SERVER_HOST" not in written  # it came from the environment
    assert "CLAUDE_MEM_GENERATION_DISABLED" not in written


def test_node_extra_ca_certs_reaches_the_server_and_workers_from_settings_or_environment(tmp_path):
    from cmem_ops.claudemem.env import build_server_env, build_worker_env

    cfg = plan_config(settings_with(tmp_path, {"NODE_EXTRA_CA_CERTS": "/etc/cm/ca.pem"}), None, 0, lambda: 24001)
    assert build_server_env(cfg)["NODE_EXTRA_CA_CERTS"] == "/etc/cm/ca.pem"
    assert build_worker_env(cfg)["NODE_EXTRA_CA_CERTS"] == "/etc/cm/ca.pem"
    cfg = plan_config(settings_with(tmp_path, {}, {"NODE_EXTRA_CA_CERTS": "/env/ca.pem"}), None, 0, lambda: 24001)
    assert build_worker_env(cfg)["NODE_EXTRA_CA_CERTS"] == "/env/ca.pem"
