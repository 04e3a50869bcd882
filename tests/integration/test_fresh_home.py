"""A new user's HOME through the real CLI: commands with nothing to do create nothing; what is created is 0700."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from cmem_ops.paths import ensure_private_dir, private_lock
from tests.support import run_cli, user_env

pytestmark = pytest.mark.integration

NOTHING_TO_DO = (("store", "stop"), ("server", "stop"), ("worker", "stop"), ("postgres", "stop"), ("stack", "down"))


def tree(root: Path) -> list[str]:
    return sorted(f"{stat.S_IMODE(p.stat().st_mode):o} {p.relative_to(root)}" for p in root.rglob("*"))


@pytest.mark.parametrize("words", NOTHING_TO_DO, ids=" ".join)
def test_a_stop_on_a_fresh_home_creates_nothing(tmp_path, words):
    env = user_env(tmp_path)
    out = run_cli(env, *words)
    assert out.returncode == 0, out.stdout + out.stderr
    assert tree(Path(env["HOME"])) == [], f"`cmem-ops {' '.join(words)}` created files on a fresh HOME"


def test_directories_cmem_ops_creates_are_private_parents_included(tmp_path):
    deep = tmp_path / "a" / "b" / "c"
    assert ensure_private_dir(deep) == deep
    assert [f"{stat.S_IMODE(p.stat().st_mode):o}" for p in (tmp_path / "a", tmp_path / "a" / "b", deep)] == \
        ["700"] * 3
    with private_lock(tmp_path / "none" / ".lock", create=False) as locked:
        assert locked is False
    assert not (tmp_path / "none").exists()
    with private_lock(tmp_path / "run" / ".lock") as locked:
        assert locked is True
    assert stat.S_IMODE((tmp_path / "run").stat().st_mode) == 0o700


def test_a_store_started_on_a_fresh_home_keeps_its_directories_private(tmp_path):
    env = user_env(tmp_path)
    out = run_cli(env, "store", "start")
    if out.returncode == 4:
        pytest.skip(f"no server binary for the managed store: {out.stderr.strip()[:160]}")
    try:
        assert out.returncode == 0, out.stdout + out.stderr
        data = Path(env["CLAUDE_MEM_DATA_DIR"])
        ours = [data, data / "redis", data / "redis" / "data", data / "logs"]
        assert {str(p.relative_to(data)): f"{stat.S_IMODE(p.stat().st_mode):o}" for p in ours} == \
            {str(p.relative_to(data)): "700" for p in ours}
        files = [p for p in (data / "settings.json", data / "redis" / "redis.conf") if p.exists()]
        assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    finally:
        run_cli(env, "store", "stop")


def test_everything_under_the_data_dir_is_private_even_what_the_server_writes(tmp_path):
    """Under a umask of 022, Valkey's own appendonlydir, AOF, manifest and RDB come out 0700/0600 too."""
    import subprocess
    import sys

    import redis

    env = user_env(tmp_path)

    def cli(*words: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "cmem_ops", *words], env=env, capture_output=True, text=True,
                              timeout=60, check=False, umask=0o022)  # the usual login umask

    out = cli("store", "start")
    if out.returncode == 4:
        pytest.skip(f"no server binary for the managed store: {out.stderr.strip()[:160]}")
    data = Path(env["CLAUDE_MEM_DATA_DIR"])
    try:
        assert out.returncode == 0, out.stdout + out.stderr
        import json

        url = json.loads((data / "settings.json").read_text())["CLAUDE_MEM_REDIS_URL"]
        with redis.Redis.from_url(url, socket_timeout=5) as conn:
            conn.set("k", "v")  # an AOF write
            conn.bgrewriteaof()  # a new base file and manifest, written by the server's child
    finally:
        stop = cli("store", "stop")  # SHUTDOWN writes dump.rdb
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert (data / "redis" / "data" / "appendonlydir").is_dir()
    wrong = [line for line in tree(data) if line.split(" ", 1)[0] !=
             ("700" if (data / line.split(" ", 1)[1]).is_dir() else "600")]
    assert wrong == [], f"not private under {data}: {wrong}"
