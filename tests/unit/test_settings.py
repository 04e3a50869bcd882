import json
import os
import stat

import pytest

from cmem_ops.errors import ConfigError
from cmem_ops.paths import Paths
from cmem_ops.settings import QueueEngine, RedisMode, load_settings, write_settings_keys


def make(tmp_path, env=None, file=None):
    paths = Paths(tmp_path / "data")
    paths.data_dir.mkdir(exist_ok=True)
    if file is not None:
        paths.settings_file.write_text(file if isinstance(file, str) else json.dumps(file))
    return load_settings(paths, env or {})


def test_environment_beats_settings_json_beats_default(tmp_path):
    s = make(tmp_path, {"CLAUDE_MEM_QUEUE_REDIS_PREFIX": "env_p"}, {"CLAUDE_MEM_QUEUE_REDIS_PREFIX": "file_p"})
    assert s.queue_prefix == "env_p"
    assert s.source("CLAUDE_MEM_QUEUE_REDIS_PREFIX") == "env CLAUDE_MEM_QUEUE_REDIS_PREFIX"
    s = make(tmp_path, {}, {"CLAUDE_MEM_QUEUE_REDIS_PREFIX": "file_p"})
    assert s.queue_prefix == "file_p"
    assert make(tmp_path, {}, {}).queue_engine is QueueEngine.BULLMQ


def test_legacy_server_beta_keys_are_fallbacks(tmp_path):
    s = make(tmp_path, {"CLAUDE_MEM_SERVER_BETA_DATABASE_URL": "postgres://legacy"})
    assert s.get("CLAUDE_MEM_SERVER_DATABASE_URL") == "postgres://legacy"
    s = make(tmp_path, {"CLAUDE_MEM_SERVER_BETA_DATABASE_URL": "postgres://legacy",
                        "CLAUDE_MEM_SERVER_DATABASE_URL": "postgres://new"})
    assert s.get("CLAUDE_MEM_SERVER_DATABASE_URL") == "postgres://new"
    s = make(tmp_path, {}, {"CLAUDE_MEM_SERVER_BETA_PORT": "38000"})
    assert s.get("CLAUDE_MEM_SERVER_PORT") == "38000"


def test_plain_redis_url_is_the_last_fallback(tmp_path):
    s = make(tmp_path, {"REDIS_URL": "redis://127.0.0.1:6390/0"})
    assert s.redis_url == "redis://127.0.0.1:6390/0"
    assert s.redis_mode is RedisMode.EXTERNAL
    s = make(tmp_path, {"REDIS_URL": "redis://x:1/0"}, {"CLAUDE_MEM_REDIS_URL": "redis://127.0.0.1:7000/0",
                                                         "CLAUDE_MEM_REDIS_MODE": "managed"})
    assert s.redis_url == "redis://127.0.0.1:7000/0"
    assert s.redis_mode is RedisMode.MANAGED


def test_mode_rules(tmp_path):
    assert make(tmp_path).redis_mode is RedisMode.MANAGED
    # a URL in the environment means "use this server" even when settings.json says managed
    s = make(tmp_path, {"CLAUDE_MEM_REDIS_URL": "redis://h:1/0"}, {"CLAUDE_MEM_REDIS_MODE": "managed"})
    assert s.redis_mode is RedisMode.EXTERNAL
    assert make(tmp_path, {"CLAUDE_MEM_REDIS_MODE": "Docker"}).redis_mode is RedisMode.DOCKER
    with pytest.raises(ConfigError, match="not one of managed, external, docker"):
        _ = make(tmp_path, {"CLAUDE_MEM_REDIS_MODE": "cluster"}).redis_mode


def test_url_with_password_and_db(tmp_path):
    s = make(tmp_path, {"CLAUDE_MEM_REDIS_URL": "rediss://user:p%40ss@cache.example:6380/3"})
    t = s.redis_target()
    assert (t.host, t.port, t.db, t.username, t.password, t.tls) == ("cache.example", 6380, 3, "user", "p@ss", True)


def test_malformed_settings_names_file_and_line(tmp_path):
    text = '{\n  "CLAUDE_MEM_MODEL": "x",\n  "CLAUDE_MEM_QUEUE_ENGINE": bullmq\n}\n'
    with pytest.raises(ConfigError) as err:
        make(tmp_path, file=text)
    assert "settings.json" in err.value.message and "line 3" in err.value.message
    paths = Paths(tmp_path / "data")
    with pytest.raises(ConfigError):
        write_settings_keys(paths, {"CLAUDE_MEM_REDIS_PORT": "1234"})
    assert paths.settings_file.read_text() == text  # never overwritten


def test_non_object_settings_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="JSON object"):
        make(tmp_path, file="[1, 2]")


def test_write_preserves_other_keys_atomically_and_privately(tmp_path):
    paths = Paths(tmp_path / "data")
    paths.data_dir.mkdir()
    paths.settings_file.write_text(json.dumps({"CLAUDE_MEM_MODEL": "claude-x", "nested": {"a": [1, 2]}}))
    write_settings_keys(paths, {"CLAUDE_MEM_REDIS_PORT": "24000", "CLAUDE_MEM_REDIS_URL": "redis://:pw@127.0.0.1:24000/0"})
    data = json.loads(paths.settings_file.read_text())
    assert data["CLAUDE_MEM_MODEL"] == "claude-x" and data["nested"] == {"a": [1, 2]}
    assert data["CLAUDE_MEM_REDIS_PORT"] == "24000"
    assert stat.S_IMODE(os.stat(paths.settings_file).st_mode) == 0o600
    write_settings_keys(paths, {"CLAUDE_MEM_REDIS_PORT": None})
    assert "CLAUDE_MEM_REDIS_PORT" not in json.loads(paths.settings_file.read_text())
    assert not [p for p in paths.data_dir.iterdir() if p.name.endswith(".tmp")]


def test_bad_persisted_port_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not a port number"):
        _ = make(tmp_path, {}, {"CLAUDE_MEM_REDIS_PORT": "abc"}).persisted_port


def test_data_dir_resolution():
    assert Paths.from_env({"CLAUDE_MEM_DATA_DIR": "/srv/cm"}).data_dir.as_posix() == "/srv/cm"
    assert Paths.from_env({"HOME": "/home/u"}).data_dir.as_posix() == "/home/u/.claude-mem"
